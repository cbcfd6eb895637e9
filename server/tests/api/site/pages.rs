use crate::helpers::{backends, spawn_app};

#[tokio::test]
async fn every_public_page_renders_the_practices_content() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let (status, headers, home) = app.get_html("/").await;
        assert_eq!(status, 200);
        assert!(headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html"));
        for expected in [
            "Harbor Street Medicine",
            "Dr. Elena Marsh",
            "MD, FACP",
            "American Board of Internal Medicine",
            "years caring for patients",
            "Diabetes and heart disease",
            "/images/dr-elena-marsh.svg",
            "Compare memberships",
            "214 Harbor Street, Suite 3",
            "Monday – Thursday",
        ] {
            assert!(
                home.contains(expected),
                "{}: home page lacks {expected:?}",
                app.backend
            );
        }

        let (status, _, services) = app.get_html("/services").await;
        assert_eq!(status, 200);
        for expected in [
            "In-person visits",
            "Video visits",
            "Preventive care",
            "Chronic disease management",
            "Home visits",
        ] {
            assert!(
                services.contains(expected),
                "services page lacks {expected:?}"
            );
        }

        let (status, _, memberships) = app.get_html("/memberships").await;
        assert_eq!(status, 200);
        for expected in [
            "Essential",
            "Complete",
            "Family",
            "$129",
            "$1,390",
            "$199",
            "$2,150",
            "$349",
            "$3,790",
            "6 visits a year",
            "Unlimited visits",
            "3-month commitment",
            "12-month commitment",
            "Compare memberships side by side",
            "Late visit cancellation",
            "Up to 4 dependents",
            "Cancel any time after the first 3 months",
        ] {
            assert!(
                memberships.contains(expected),
                "memberships page lacks {expected:?}"
            );
        }

        let (status, _, privacy) = app.get_html("/privacy").await;
        assert_eq!(status, 200);
        assert!(privacy.contains("Notice of privacy practices") && privacy.contains("Your rights"));

        let (status, _, contact) = app.get_html("/contact").await;
        assert_eq!(status, 200);
        assert!(contact.contains("<form") && contact.contains("action=\"/contact\""));
        app.stop().await;
    }
}

#[tokio::test]
async fn an_unknown_page_is_a_friendly_404() {
    let app = spawn_app(&backends()[0]).await;
    let (status, _, body) = app.get_html("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(body.contains("We could not find that page"));
    assert!(
        body.contains("Harbor Street Medicine"),
        "the 404 keeps the site's frame"
    );
    app.stop().await;
}

#[tokio::test]
async fn public_pages_load_no_webassembly_and_every_inline_script_carries_the_nonce() {
    let app = spawn_app(&backends()[0]).await;
    for path in ["/", "/services", "/memberships", "/contact", "/privacy"] {
        let (_, headers, html) = app.get_html(path).await;
        assert!(
            !html.contains(".wasm") && !html.contains("/pkg/bedside.js"),
            "{path} loads the bundle"
        );
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("nonce");
        // Leptos's small state scripts are inline: each must carry this response's nonce.
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').expect("tag end")];
            assert!(
                tag.contains("src=\"/site.js\"") || tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: {tag}"
            );
        }
        assert!(
            html.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\""),
            "{path} is installable"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_join_buttons_lead_to_the_enrollment_form_of_their_tier() {
    let app = spawn_app(&backends()[0]).await;
    let (_, _, memberships) = app.get_html("/memberships").await;
    assert!(memberships.contains("href=\"/join?tier=complete\""));
    let (status, _, form) = app.get_html("/join?tier=complete").await;
    assert_eq!(status, 200);
    assert!(form.contains("Join with the Complete membership"));
    assert!(form.contains("name=\"tier\" value=\"complete\""));
    // Complete covers one person: no household rows.
    assert!(!form.contains("dependent1_name"));
    let (_, _, family) = app.get_html("/join?tier=family&period=annual").await;
    assert!(family.contains("dependent4_name") && !family.contains("dependent5_name"));
    assert!(family
        .contains("id=\"period-annual\" type=\"radio\" name=\"period\" value=\"annual\" checked"));
    // An unknown tier offers the choice instead.
    let (_, _, choose) = app.get_html("/join?tier=platinum").await;
    assert!(choose.contains("Choose your membership"));
    // The contact form still takes a membership question with the topic chosen.
    let (_, _, contact) = app
        .get_html("/contact?topic=membership&tier=complete")
        .await;
    assert!(contact.contains("<option value=\"membership\" selected"));
    app.stop().await;
}

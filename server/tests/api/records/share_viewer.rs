//! Share links for people without an app (issue 14 §5): the address a patient sends opens the
//! practice's viewer page. Looking at it opens nothing; the person says who they are (and the
//! passcode) and the record shows; each use is kept and the patient sees it; a revoked link
//! says so, with 410. And the manifest answers browsers' cross-origin requests (SHL apps that
//! run in a browser).

use super::export::maria_with_a_record;
use crate::helpers::{backends, spawn_app, TestApp};
use app::records::share::model::{AccessOutcome, AccessVia, ShareCreated, ShareSummary};

/// The viewer's path in a link's address (`…/shl/{secret}/view#shlink:/…`).
pub(super) fn viewer_path(created: &ShareCreated) -> String {
    let (page, fragment) = created.address.split_once('#').expect("a fragment");
    assert_eq!(fragment, created.shlink, "the address carries the shlink");
    let path = &page[page.find("/shl/").expect("a viewer address")..];
    assert!(path.ends_with("/view"), "{path}");
    path.to_owned()
}

pub(super) async fn open(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let response = browser
        .post(format!("{}{path}", app.address))
        .form(form)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

async fn look(app: &TestApp, browser: &reqwest::Client, path: &str) -> (u16, String) {
    let response = app.get_with(browser, path).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

pub(super) async fn uses(app: &TestApp, mine: &reqwest::Client) -> Vec<ShareSummary> {
    let (_, links) = app
        .call::<Vec<ShareSummary>>(mine, "/api/records/shares", &[])
        .await;
    links.expect("her links")
}

#[tokio::test]
async fn a_recipient_without_an_app_opens_the_link_in_a_browser_and_the_patient_sees_it() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let (status, created) = app
            .call::<ShareCreated>(
                &record.mine,
                "/api/records/shares/create",
                &[
                    ("label", "For Dr. Ruiz, urgent care"),
                    ("chart", "1"),
                    ("notes", "1"),
                    ("documents", "1"),
                    ("days", "7"),
                    ("passcode", "harbor-42"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{}: {created:?}", app.backend);
        let created = created.expect("made");
        let path = viewer_path(&created);
        let recipient = app.new_browser();

        // Looking: the form, nothing of the record, nothing kept.
        let (status, page) = look(&app, &recipient, &path).await;
        assert_eq!(status, 200, "{}: {page}", app.backend);
        assert!(page.contains("For Dr. Ruiz, urgent care") && page.contains("Your name"));
        assert!(page.contains("name=\"passcode\""));
        assert!(
            !page.contains("Penicillin") && !page.contains("Maria"),
            "{page}"
        );
        assert!(uses(&app, &record.mine).await[0].accesses.is_empty());

        // No name: said so, nothing opened, nothing kept.
        let (status, _, page) = open(&app, &recipient, &path, &[("passcode", "harbor-42")]).await;
        assert_eq!(status, 422, "{}", app.backend);
        assert!(page.contains("Enter your name") && !page.contains("Penicillin"));
        // A wrong passcode: said so with what is left, kept.
        let form = [("recipient", "Dr. Ana Ruiz"), ("passcode", "harbor-43")];
        let (status, _, page) = open(&app, &recipient, &path, &form).await;
        assert_eq!(status, 401, "{}", app.backend);
        assert!(page.contains("9 more wrong passcodes"), "{page}");
        assert!(
            page.contains("value=\"Dr. Ana Ruiz\""),
            "what was typed stays"
        );
        assert!(!page.contains("Penicillin"));

        // The right one: the chart, the signed note, the documents' list; never a draft.
        let form = [("recipient", "Dr. Ana Ruiz"), ("passcode", "harbor-42")];
        let (status, headers, page) = open(&app, &recipient, &path, &form).await;
        assert_eq!(status, 200, "{}: {page}", app.backend);
        for shown in [
            "Maria Lopez",
            "Penicillin",
            "Migraine without aura",
            "Sumatriptan",
            "Lipid panel",
        ] {
            assert!(page.contains(shown), "{}: {shown} in {page}", app.backend);
        }
        assert!(!page.contains("DRAFT ONLY") && !page.contains("ecg.png"));
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(!page.contains("/pkg/bedside.js"), "no script on the viewer");

        // Maria sees both uses: who, how, what came of it. The opening is audited.
        let links = uses(&app, &record.mine).await;
        let kept: Vec<_> = links[0]
            .accesses
            .iter()
            .map(|a| (a.outcome, a.via, a.recipient.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                (
                    AccessOutcome::Opened,
                    Some(AccessVia::Browser),
                    "Dr. Ana Ruiz"
                ),
                (
                    AccessOutcome::WrongPasscode,
                    Some(AccessVia::Browser),
                    "Dr. Ana Ruiz"
                ),
            ],
            "{}",
            app.backend
        );
        assert!(app
            .audit_rows()
            .await
            .iter()
            .any(|r| r.action == "share_link.open"
                && r.patient_id.as_deref() == Some(record.patient.as_str())));

        // Revoked: the address says so, 410, both ways; the list says so too.
        let (status, _) = app
            .call::<()>(
                &record.mine,
                "/api/records/shares/revoke",
                &[("link", &created.public_id)],
            )
            .await;
        assert_eq!(status, 200);
        let (status, page) = look(&app, &recipient, &path).await;
        assert_eq!(status, 410, "{}", app.backend);
        assert!(page.contains("revoked") && !page.contains("Penicillin"));
        let (status, _, page) = open(&app, &recipient, &path, &form).await;
        assert_eq!(status, 410);
        assert!(!page.contains("Penicillin"));
        let links = uses(&app, &record.mine).await;
        assert_eq!(
            links[0].ended,
            Some(app::records::share::model::LinkEnded::Revoked)
        );
        assert_eq!(links[0].accesses[0].outcome, AccessOutcome::Closed);

        // An address that was never a link: 404, and nothing about anyone.
        let (status, _) = look(&app, &recipient, &format!("/shl/{}/view", "A".repeat(43))).await;
        assert_eq!(status, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_expired_link_says_so_and_a_link_without_a_passcode_asks_only_a_name() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let (_, created) = app
            .call::<ShareCreated>(
                &record.mine,
                "/api/records/shares/create",
                &[("label", "For my sister"), ("notes", "1"), ("days", "1")],
            )
            .await;
        let created = created.expect("made");
        let path = viewer_path(&created);
        let recipient = app.new_browser();
        let (status, page) = look(&app, &recipient, &path).await;
        assert_eq!(status, 200);
        assert!(!page.contains("name=\"passcode\""), "no passcode asked");
        let (status, _, page) =
            open(&app, &recipient, &path, &[("recipient", "Lucia Lopez")]).await;
        assert_eq!(status, 200, "{}: {page}", app.backend);
        // Only the notes were shared.
        assert!(page.contains("Migraine without aura") && !page.contains("Penicillin"));
        assert!(!page.contains("Lipid panel"));

        app.clock
            .set(app.clock_now() + chrono::Duration::days(1) + chrono::Duration::minutes(1));
        let (status, page) = look(&app, &recipient, &path).await;
        assert_eq!(status, 410, "{}", app.backend);
        assert!(page.contains("expired"));
        app.stop().await;
    }
}

#[tokio::test]
async fn the_manifest_answers_a_browser_apps_cross_origin_request() {
    let app = spawn_app(&backends()[0]).await;
    let record = maria_with_a_record(&app).await;
    let (_, created) = app
        .call::<ShareCreated>(
            &record.mine,
            "/api/records/shares/create",
            &[("label", "For an app"), ("chart", "1"), ("days", "3")],
        )
        .await;
    let created = created.expect("made");
    let manifest = viewer_path(&created).trim_end_matches("/view").to_owned();
    let plain = reqwest::Client::new();
    let preflight = plain
        .request(
            reqwest::Method::OPTIONS,
            format!("{}{manifest}", app.address),
        )
        .header("origin", "https://shl-viewer.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(preflight.status().as_u16(), 204);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-allow-methods"], "POST");
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    let answer = plain
        .post(format!("{}{manifest}", app.address))
        .header("origin", "https://shl-viewer.example")
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({ "recipient": "A browser app" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    // The viewer's form is this site's own: a cross-site post of it is refused.
    let refused = plain
        .post(format!("{}{manifest}/view", app.address))
        .header("origin", "https://shl-viewer.example")
        .form(&[("recipient", "x")])
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status().as_u16(), 403);
    app.stop().await;
}

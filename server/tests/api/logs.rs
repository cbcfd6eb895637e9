//! Logs carry no health data and no secrets (issue 12 §6): route templates instead of raw paths
//! (a calendar link's path is its token), and no patient's name, address or phone number, while
//! the main journeys run with the production log filter.

use crate::helpers::{location, spawn_app, TEST_PASSWORD};
use std::sync::{Arc, Mutex};

/// Everything logged on this thread, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut kept) = self.0.lock() {
            kept.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

#[tokio::test]
async fn the_main_journeys_log_routes_but_no_names_addresses_phone_numbers_or_tokens() {
    let captured = Captured::default();
    // The production filter and format (JSON with the request's span), on this test's thread:
    // the server's tasks run here too (a current-thread runtime).
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            bedside::telemetry::DEFAULT_FILTER,
        ))
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    let browser = app.signed_in(&maria).await;
    for page in [
        "/portal",
        "/portal/visits",
        "/portal/book?type=in_person",
        "/account/security",
    ] {
        assert_eq!(app.get_with(&browser, page).await.status(), 200, "{page}");
    }
    // A calendar link, fetched by a calendar app: its path is its token.
    let made = app
        .post_with(&browser, "/account/calendar", &[("change", "create")])
        .await
        .text()
        .await
        .expect("page");
    let start = made.find("/calendar/").expect("a link");
    let end = start + made[start..].find(".ics").expect(".ics") + 4;
    let feed_path = made[start..end].to_owned();
    assert_eq!(app.get(&feed_path).await.status(), 200);
    let token = feed_path
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics")
        .to_owned();
    // A wrong password, a reset request, a contact message with a name and a phone number.
    app.post_form(
        "/signin",
        &[
            ("email", "maria@example.com"),
            ("password", "not the password!"),
        ],
    )
    .await;
    app.post_form("/signin/forgot", &[("email", "maria@example.com")])
        .await;
    let sent = app
        .post_form(
            "/contact",
            &[
                ("name", "Ann Lee"),
                ("email", "ann@example.com"),
                ("phone", "(207) 555-0199"),
                ("topic", "membership"),
                ("message", "My knee hurts when I climb stairs."),
                ("website", ""),
            ],
        )
        .await;
    assert_eq!(location(&sent).as_deref(), Some("/contact?sent=1"));
    // A path that matches no route, carrying something that looks private.
    app.get("/portal/Maria-Lopez-555-0187").await;
    app.jobs.settle().await;

    let logs = captured.text();
    assert!(
        logs.contains("/calendar/{file}"),
        "requests are logged with their route template: {}",
        &logs[..logs.len().min(3000)]
    );
    for secret in [
        "Maria",
        "Lopez",
        "maria@example.com",
        "Ann Lee",
        "ann@example.com",
        "555-0187",
        "2075550187",
        "555-0199",
        "knee",
        token.as_str(),
        TEST_PASSWORD,
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}

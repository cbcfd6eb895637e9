//! The Twilio client against a fake Twilio the test starts: the request it makes, and how it
//! reads Twilio's answers.

use app::sms::{OutgoingSms, SmsError, SmsSender};
use axum::{extract::State, http::HeaderMap, routing::post, Form, Json, Router};
use bedside::settings::TwilioSettings;
use bedside::sms::TwilioSms;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: String,
    form: HashMap<String, String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Answers like Twilio: 201 for a good number, 400 with code 21211 for `+15005550001` (Twilio's
/// own invalid test number), 500 for `+15005550009`.
async fn fake_twilio() -> (String, Log) {
    async fn messages(
        State(log): State<Log>,
        axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
        headers: HeaderMap,
        Form(form): Form<HashMap<String, String>>,
    ) -> (axum::http::StatusCode, Json<serde_json::Value>) {
        let to = form.get("To").cloned().unwrap_or_default();
        log.lock().expect("log").push(Seen {
            path: uri.path().to_owned(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            form,
        });
        match to.as_str() {
            "+15005550001" => (
                axum::http::StatusCode::BAD_REQUEST,
                Json(
                    serde_json::json!({"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "status": 400}),
                ),
            ),
            "+15005550009" => (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"message": "internal"})),
            ),
            _ => (
                axum::http::StatusCode::CREATED,
                Json(serde_json::json!({"sid": "SM123", "status": "queued"})),
            ),
        }
    }
    let log: Log = Arc::default();
    let app = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(messages))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, log)
}

fn client(base_url: &str) -> TwilioSms {
    TwilioSms::new(
        &TwilioSettings {
            account_sid: "AC0123456789".into(),
            auth_token: Some(SecretString::from("token-xyz")),
            base_url: base_url.into(),
            timeout_seconds: 5,
        },
        "+12075550100",
    )
    .expect("client")
}

#[tokio::test]
async fn the_twilio_client_posts_the_message_form_with_basic_auth() {
    let (base, log) = fake_twilio().await;
    client(&base)
        .send(OutgoingSms {
            to: "+12075550187".into(),
            body: "Harbor Street Medicine: reminder".into(),
        })
        .await
        .expect("sent");
    let seen = log.lock().expect("log").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].path,
        "/2010-04-01/Accounts/AC0123456789/Messages.json"
    );
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode("AC0123456789:token-xyz");
    assert_eq!(seen[0].authorization, format!("Basic {expected}"));
    assert_eq!(
        seen[0].form.get("To").map(String::as_str),
        Some("+12075550187")
    );
    assert_eq!(
        seen[0].form.get("From").map(String::as_str),
        Some("+12075550100")
    );
    assert_eq!(
        seen[0].form.get("Body").map(String::as_str),
        Some("Harbor Street Medicine: reminder")
    );
}

#[tokio::test]
async fn an_undeliverable_number_is_final_and_a_provider_failure_is_worth_a_retry() {
    let (base, _log) = fake_twilio().await;
    let twilio = client(&base);
    let invalid = twilio
        .send(OutgoingSms {
            to: "+15005550001".into(),
            body: "x".into(),
        })
        .await;
    assert!(matches!(invalid, Err(SmsError::InvalidNumber(n)) if n == "+15005550001"));
    let down = twilio
        .send(OutgoingSms {
            to: "+15005550009".into(),
            body: "x".into(),
        })
        .await;
    assert!(
        matches!(down, Err(SmsError::Transport(ref m)) if m.contains("500")),
        "{down:?}"
    );
    // Nothing listens here: an error, not a silent success.
    let unreachable = client("http://127.0.0.1:9")
        .send(OutgoingSms {
            to: "+12075550187".into(),
            body: "x".into(),
        })
        .await;
    assert!(matches!(unreachable, Err(SmsError::Transport(_))));
}

#[test]
fn twilio_needs_its_credentials() {
    let error = TwilioSms::new(
        &TwilioSettings {
            account_sid: "AC1".into(),
            auth_token: None,
            base_url: "https://api.twilio.com".into(),
            timeout_seconds: 5,
        },
        "+12075550100",
    )
    .expect_err("no token");
    assert!(error.to_string().contains("sms.twilio.auth_token"));
}

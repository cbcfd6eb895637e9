use crate::helpers::{backends, spawn_app, spawn_app_with};
use sea_orm::EntityTrait;

#[tokio::test]
async fn health_and_readiness_answer_on_every_database() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        assert_eq!(app.get("/healthz").await.status(), 200, "{}", app.backend);
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 200, "{}", app.backend);
        assert_eq!(ready.text().await.expect("body"), "ready");
        app.stop().await;
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = spawn_app(&backends()[0]).await;
    for path in ["/", "/healthz", "/icons/icon.svg", "/no-such-page"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            csp.contains("'wasm-unsafe-eval'") && csp.contains("'nonce-"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(
            headers.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert!(headers.get("referrer-policy").is_some(), "{path}");
        assert!(headers.get("x-request-id").is_some(), "{path}");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn each_response_gets_its_own_nonce() {
    let app = spawn_app(&backends()[0]).await;
    let nonce = |csp: &str| {
        csp.split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .map(str::to_owned)
    };
    let first = app.get("/").await.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let second = app.get("/").await.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let (first, second) = (
        nonce(&first).expect("nonce"),
        nonce(&second).expect("nonce"),
    );
    assert!(first.len() >= 20, "a 128-bit nonce");
    assert_ne!(first, second);
    app.stop().await;
}

#[tokio::test]
async fn the_server_stops_accepting_after_the_shutdown_signal() {
    let app = spawn_app(&backends()[0]).await;
    let address = app.address.clone();
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
    let after = reqwest::Client::new()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "the listener is closed after shutdown");
}

#[tokio::test]
async fn tls_is_terminated_with_tls_1_2_and_1_3_and_hsts_is_sent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let app = spawn_app_with(&backends()[0], |settings| {
        settings.tls = Some(bedside::settings::TlsSettings {
            certificate: cert_path.clone(),
            private_key: key_path.clone(),
        });
    })
    .await;
    assert!(app.address.starts_with("https://"));
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).expect("root");
    let port = app.address.rsplit(':').next().expect("port").to_owned();
    for version in [
        reqwest::tls::Version::TLS_1_2,
        reqwest::tls::Version::TLS_1_3,
    ] {
        let client = reqwest::Client::builder()
            .add_root_certificate(root.clone())
            .min_tls_version(version)
            .max_tls_version(version)
            .resolve(
                "localhost",
                format!("127.0.0.1:{port}").parse().expect("addr"),
            )
            .build()
            .expect("client");
        let response = client
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .expect("TLS request");
        assert_eq!(response.status(), 200, "{version:?}");
        let hsts = response
            .headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(hsts.starts_with("max-age="), "{version:?}: {hsts}");
    }
    // Plain HTTP to the TLS port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    app.stop().await;
}

#[tokio::test]
async fn migrations_roll_back_and_apply_again_on_every_database() {
    use migrations::{Migrator, MigratorTrait};
    for backend in backends() {
        let mut app = spawn_app(&backend).await;
        app.stop_serving().await;
        // One connection for the schema changes, as `bedside migrate` does.
        let txn = sea_orm::TransactionTrait::begin(&app.db)
            .await
            .expect("begin");
        Migrator::down(&txn, None)
            .await
            .expect("every migration has a working down");
        txn.commit().await.expect("commit");
        assert!(Migrator::get_applied_migrations(&app.db)
            .await
            .expect("applied")
            .is_empty());
        bedside::db::migrate(&app.db)
            .await
            .expect("and applies again");
        assert_eq!(
            Migrator::get_pending_migrations(&app.db)
                .await
                .expect("pending")
                .len(),
            0
        );
    }
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_finished() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut app = spawn_app(&backends()[0]).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let body = "name=Ann+Lee&email=ann%40example.com&phone=&topic=visit&message=Sent+while+the+server+stops&website=";
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    // The request starts (headers sent, body not yet) ...
    let head = format!("POST /contact HTTP/1.1\r\nHost: {address}\r\nOrigin: http://{address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).await.expect("head");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // ... the server is told to stop while it waits for the body ...
    let stopping = tokio::spawn(async move {
        app.stop_serving().await;
        app
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // ... and the request still completes.
    stream.write_all(body.as_bytes()).await.expect("body");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response");
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    let app = stopping.await.expect("stopped");
    let stored = app::site::entity::contact_inquiry::Entity::find()
        .all(&app.db)
        .await
        .expect("inquiries");
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn the_binary_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bedside"))
        .arg("serve")
        .env("BEDSIDE_LISTEN", "127.0.0.1:0")
        .env(
            "BEDSIDE_DATABASE_URL",
            format!("sqlite://{}/b.db?mode=rwc", data.path().display()),
        )
        .env("BEDSIDE_DATA_DIR", data.path())
        .env(
            "BEDSIDE_LEPTOS_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml"),
        )
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start bedside");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("Bedside is running at ")
        .expect("prints its address")
        .to_owned();
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .expect("up")
            .status(),
        200
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_development_clock_is_not_served_by_default_and_refused_in_production() {
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let client = app.new_browser();
    let moved = app
        .post_with(&client, "/dev/clock", &[("to", "2030-01-01T00:00:00Z")])
        .await;
    assert_eq!(moved.status(), 404);
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::helpers::test_settings(data.path());
    settings.environment = bedside::settings::Environment::Production;
    settings.dev_clock_control = true;
    let refused = bedside::Application::build(settings).await;
    let error = refused.err().expect("refused").to_string();
    assert!(error.contains("development only"), "{error}");
}

#[tokio::test]
async fn the_development_clock_starts_at_the_instant_the_settings_name_and_runs_on_from_there() {
    let start = chrono::DateTime::parse_from_rfc3339("2027-03-14T01:59:30-05:00")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::helpers::test_settings(data.path());
    settings.dev_clock_control = true;
    settings.dev_clock_start = Some(start);
    let app = bedside::Application::build(settings.clone())
        .await
        .expect("built");
    let url = app.url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async move {
        let _ = stopped.await;
    }));
    let shown: serde_json::Value = crate::helpers::browser(&url)
        .get(format!("{url}/dev/clock"))
        .send()
        .await
        .expect("GET /dev/clock")
        .json()
        .await
        .expect("json");
    let now =
        chrono::DateTime::parse_from_rfc3339(shown["now"].as_str().expect("now")).expect("time");
    let ran = now.with_timezone(&chrono::Utc) - start;
    assert!(
        ran >= chrono::Duration::zero() && ran < chrono::Duration::seconds(30),
        "the clock reads {now}, {ran} after its start"
    );
    // The command-line tools (seed-demo, mfa-code) read the same clock.
    let tools = bedside::dev_clock::clock_for_tools(&settings).expect("clock");
    let ran = tools.now() - start;
    assert!(ran >= chrono::Duration::zero() && ran < chrono::Duration::seconds(30));
    let _ = stop.send(());
    server.await.expect("join").expect("served");

    // A start without the control would be ignored without a word: refused instead.
    settings.dev_clock_control = false;
    let refused = bedside::Application::build(settings).await;
    let error = refused.err().expect("refused").to_string();
    assert!(
        error.contains("dev_clock_start needs dev_clock_control"),
        "{error}"
    );
}

#[tokio::test]
async fn production_refuses_to_start_on_development_defaults_and_names_each_setting() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::helpers::test_settings(data.path());
    settings.environment = bedside::settings::Environment::Production;
    let error = bedside::Application::build(settings)
        .await
        .err()
        .expect("refused")
        .to_string();
    use bedside::production::UnsafeInProduction as Unsafe;
    for refusal in [
        Unsafe::TestPayments,
        Unsafe::MailOutbox,
        Unsafe::SmsOutbox,
        Unsafe::PlainHttp,
        Unsafe::NoEncryptionKey,
    ] {
        assert!(
            error.contains(refusal.message()),
            "{}: {error}",
            refusal.code()
        );
    }
    assert!(
        !data.path().join(bedside::keys::DEV_KEY_FILE).exists(),
        "no key was generated"
    );
}

#[tokio::test]
async fn hsts_is_sent_whenever_patients_reach_the_site_by_https_also_behind_a_proxy() {
    let app = crate::helpers::spawn_app_with(&crate::helpers::Backend::Sqlite, |s| {
        s.public_url = "https://harbor.example".into();
        s.behind_proxy = true;
    })
    .await;
    let response = app.get("/").await;
    let hsts = response
        .headers()
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(hsts.starts_with("max-age="), "{hsts:?}");
}

#[tokio::test]
async fn a_request_body_over_one_mebibyte_is_refused_with_413_everywhere() {
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let limit = bedside::security::MAX_REQUEST_BODY_BYTES;
    // Any server function but the uploads, which take 25 MB, and only as multipart (their own
    // tests, records::documents and messages::attachments). (The registry's order changes from
    // build to build.)
    let server_fn = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .find(|path| {
            path != app::records::documents::model::UPLOAD_PATH
                && path != app::messages::model::ATTACH_PATH
        })
        .expect("a server function");
    let form = |size: usize| format!("email=a%40example.com&message={}", "x".repeat(size));
    for path in [
        "/contact",
        "/signin",
        "/join",
        server_fn.as_str(),
        "/not/a/route",
    ] {
        let declared = app
            .client
            .post(format!("{}{path}", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(limit + 1))
            .send()
            .await
            .expect("POST");
        assert_eq!(declared.status(), 413, "{path} with Content-Length");
        // Without a declared length (chunked): reading stops at the limit.
        let chunks = futures::stream::iter(
            (0..40)
                .map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 64 * 1024]))),
        );
        let streamed = app
            .client
            .post(format!("{}{path}", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .expect("POST");
        assert_eq!(streamed.status(), 413, "{path} streamed");
    }
    // Within the limit, a form is read as usual (here: refused for its content, not its size).
    let fits = app
        .post_form(
            "/signin",
            &[
                ("email", "x@example.com"),
                ("password", &"p".repeat(200_000)),
            ],
        )
        .await;
    assert_ne!(fits.status(), 413);
}

/// A server function's refusal is answered with its own status, not "server error": a call
/// without a session is 401, a form that does not fit the function's arguments is 422 with a
/// field to fix, and another patient's chart is 403.
#[tokio::test]
async fn server_function_refusals_are_answered_with_their_own_status() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let stranger = app.new_browser();
        let (status, answer) = app
            .call::<app::auth::model::SessionStatus>(&stranger, "/api/keep_alive", &[])
            .await;
        assert_eq!(
            (status, answer),
            (401, Err(app::AppError::Unauthorized)),
            "{}",
            app.backend
        );
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.signed_in(&maria).await;
        let (status, answer) = app
            .call::<()>(&browser, "/api/records/chart/remove", &[("patient", "x")])
            .await;
        assert_eq!(status, 422, "{}", app.backend);
        match answer {
            Err(app::AppError::Validation(errors)) => assert!(errors.get("form").is_some()),
            other => panic!("{other:?}"),
        }
        app.stop().await;
    }
}

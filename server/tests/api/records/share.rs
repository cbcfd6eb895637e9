//! Share links (issue 14 §5): a patient shares parts of her record; a recipient's app posts
//! for the manifest and opens the file with the link's key; a passcode is asked for and wrong
//! ones are capped for the link's life, also when guessed in parallel; an expired or revoked
//! link opens nothing; every use is kept and audited. And the files' encryption against an
//! independent JOSE implementation (Python's jwcrypto, when the test command installed it):
//! what Bedside seals, jwcrypto opens; what jwcrypto seals, Bedside opens; a changed byte opens
//! in neither.

use super::export::maria_with_a_record;
use crate::helpers::{backends, spawn_app, TestApp};
use app::records::share::entity::share_link;
use app::records::share::jwe;
use app::records::share::link::ShlPayload;
use app::records::share::model::{AccessOutcome, ShareCreated, ShareSummary};
use app::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::EntityTrait;
use serde_json::Value;

async fn share(
    app: &TestApp,
    client: &reqwest::Client,
    form: &[(&str, &str)],
) -> (u16, Result<ShareCreated, AppError>) {
    app.call::<ShareCreated>(client, "/api/records/shares/create", form)
        .await
}

/// Posts for `link`'s manifest as a recipient's app does (at the test server: the link names
/// the configured public address): the status and the JSON answer.
async fn ask(app: &TestApp, link: &ShlPayload, body: Value) -> (u16, Value) {
    let path = &link.url[link.url.find("/shl/").expect("a manifest URL")..];
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The FHIR Bundle in a manifest's first file, opened with the link's key.
fn opened(link: &ShlPayload, manifest: &Value) -> Value {
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&link.key)
        .expect("base64url")
        .try_into()
        .expect("32 bytes");
    assert_eq!(manifest["files"][0]["contentType"], "application/fhir+json");
    let file = manifest["files"][0]["embedded"].as_str().expect("embedded");
    let (cty, plaintext) = jwe::decrypt(&key, file).expect("opens with the link's key");
    assert_eq!(cty.as_deref(), Some("application/fhir+json"));
    serde_json::from_slice(&plaintext).expect("a bundle")
}

#[tokio::test]
async fn a_patient_shares_part_of_her_record_and_the_recipients_app_opens_it() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let before = app.audit_count().await;
        let (status, created) = share(
            &app,
            &record.mine,
            &[
                ("label", "For Dr. Chen, neurology"),
                ("chart", "1"),
                ("notes", "1"),
                ("days", "7"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{}: {created:?}", app.backend);
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry to make it"
        );
        let created = created.expect("made");
        let link = ShlPayload::parse(&created.shlink).expect("a shlink");
        assert!(
            link.url.len() <= 128 && link.url.contains("/shl/"),
            "{}",
            link.url
        );
        let secret = link.url.rsplit('/').next().expect("secret");
        assert_eq!((secret.len(), link.key.len()), (43, 43), "256 bits each");
        assert_eq!(link.flag, None);
        assert_eq!(link.label.as_deref(), Some("For Dr. Chen, neurology"));
        let expires = link.exp.expect("exp") - app.clock_now().timestamp();
        assert_eq!(expires, 7 * 24 * 3600);
        // Stored: the secret only as its hash; what it shares sealed.
        let row = share_link::Entity::find()
            .one(&app.db)
            .await
            .expect("row")
            .expect("one");
        assert_ne!(row.secret_hash, secret);
        assert_eq!(row.secret_hash.len(), 64);

        // The recipient's app asks for the manifest and opens the file with the link's key.
        let (status, manifest) = ask(
            &app,
            &link,
            serde_json::json!({ "recipient": "Dr. Wei Chen" }),
        )
        .await;
        assert_eq!(status, 200, "{}: {manifest}", app.backend);
        let bundle = opened(&link, &manifest);
        let text = bundle.to_string();
        // The chart, and the signed note (its text travels base64 in a DocumentReference).
        assert!(
            text.contains("Penicillin") && text.contains("11506-3"),
            "{text}"
        );
        assert!(!text.contains("DRAFT ONLY"), "never a draft");
        assert!(!text.contains("Lipid panel"), "documents were not shared");
        if let Some(verdict) = super::fhir::independent_check(bundle.to_string().as_bytes()) {
            assert!(verdict.is_ok(), "{}: {verdict:?}", app.backend);
        }

        // Maria sees who opened it, when and from where; the open is in the audit log.
        let (_, links) = app
            .call::<Vec<ShareSummary>>(&record.mine, "/api/records/shares", &[])
            .await;
        let links = links.expect("her links");
        let uses = &links[0].accesses;
        assert_eq!(uses.len(), 1, "{}", app.backend);
        assert_eq!(
            (uses[0].outcome, uses[0].recipient.as_str()),
            (AccessOutcome::Opened, "Dr. Wei Chen")
        );
        assert!(uses[0].from.contains("127.0.0.1"));
        assert!(app
            .audit_rows()
            .await
            .iter()
            .any(|r| r.action == "share_link.open"
                && r.patient_id.as_deref() == Some(record.patient.as_str())));

        // Nothing ticked, or too long: said so, nothing made.
        let (status, _) = share(&app, &record.mine, &[("label", "x"), ("days", "7")]).await;
        assert_eq!(status, 422);
        let (status, _) = share(
            &app,
            &record.mine,
            &[("label", "x"), ("chart", "1"), ("days", "31")],
        )
        .await;
        assert_eq!(status, 422);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_passcode_is_asked_for_and_wrong_guesses_are_capped_for_life_even_in_parallel() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let (_, created) = share(
            &app,
            &record.mine,
            &[
                ("label", "For the ER"),
                ("chart", "1"),
                ("days", "2"),
                ("passcode", "harbor-42"),
            ],
        )
        .await;
        let link = ShlPayload::parse(&created.expect("made").shlink).expect("a shlink");
        assert_eq!(link.flag.as_deref(), Some("P"));
        let (status, answer) = ask(&app, &link, serde_json::json!({ "recipient": "ER" })).await;
        assert_eq!(
            (status, answer["remainingAttempts"].as_i64()),
            (401, Some(9)),
            "{}",
            app.backend
        );
        let wrong = serde_json::json!({ "recipient": "ER", "passcode": "harbor-43" });
        let (status, answer) = ask(&app, &link, wrong.clone()).await;
        assert_eq!(
            (status, answer["remainingAttempts"].as_i64()),
            (401, Some(8))
        );
        // The right one opens it, and costs nothing.
        let right = serde_json::json!({ "recipient": "ER", "passcode": "harbor-42" });
        let (status, manifest) = ask(&app, &link, right.clone()).await;
        assert_eq!(status, 200, "{}", app.backend);
        assert!(opened(&link, &manifest).to_string().contains("Penicillin"));
        // Twenty guesses at once: only the eight left are tried; then it opens for nobody.
        let guesses = (0..20).map(|_| ask(&app, &link, wrong.clone()));
        let answers = futures::future::join_all(guesses).await;
        let tried = answers.iter().filter(|(status, _)| *status == 401).count();
        let refused = answers.iter().filter(|(status, _)| *status == 404).count();
        assert_eq!((tried, refused), (8, 12), "{}", app.backend);
        let (status, _) = ask(&app, &link, right).await;
        assert_eq!(status, 404, "{}: locked for good", app.backend);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_expired_or_revoked_link_opens_nothing_and_only_its_patient_can_end_it() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let form = [("label", "For Dr. Chen"), ("chart", "1"), ("days", "1")];
        let (_, first) = share(&app, &record.mine, &form).await;
        let first = first.expect("made");
        let (_, second) = share(&app, &record.mine, &form).await;
        let second = ShlPayload::parse(&second.expect("made").shlink).expect("a shlink");

        // Another patient cannot end Maria's link; she can.
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let james = app.signed_in(&james).await;
        let (status, _) = app
            .call::<()>(
                &james,
                "/api/records/shares/revoke",
                &[("link", &first.public_id)],
            )
            .await;
        assert_eq!(status, 403, "{}", app.backend);
        let (status, _) = app
            .call::<()>(
                &record.mine,
                "/api/records/shares/revoke",
                &[("link", &first.public_id)],
            )
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let revoked = ShlPayload::parse(&first.shlink).expect("a shlink");
        let (status, _) = ask(
            &app,
            &revoked,
            serde_json::json!({ "recipient": "Dr. Chen" }),
        )
        .await;
        assert_eq!(status, 404, "{}", app.backend);

        // A day later the other has expired.
        app.clock
            .set(app.clock_now() + chrono::Duration::days(1) + chrono::Duration::minutes(1));
        let (status, _) = ask(
            &app,
            &second,
            serde_json::json!({ "recipient": "Dr. Chen" }),
        )
        .await;
        assert_eq!(status, 404, "{}", app.backend);
        // An unknown secret: the same answer.
        let mut unknown = second.clone();
        unknown.url = format!("{}/shl/{}", app.address, "A".repeat(43));
        let (status, _) = ask(&app, &unknown, serde_json::json!({ "recipient": "x" })).await;
        assert_eq!(status, 404);
        // Both refusals are in the links' logs and the audit log.
        let closed = app
            .audit_rows()
            .await
            .iter()
            .filter(|r| r.action == "share_link.closed")
            .count();
        assert_eq!(closed, 2, "{}", app.backend);
        app.stop().await;
    }
}

fn checker() -> Option<String> {
    let python = std::env::var("BEDSIDE_TEST_CHECKERS").ok();
    if python.is_none() {
        eprintln!("skipped: the test command installs the JOSE checker (BEDSIDE_TEST_CHECKERS)");
    }
    python
}

fn jose(python: &str, args: &[&str]) -> std::process::Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/jose_check.py");
    std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("run the JOSE checker")
}

#[test]
fn files_sealed_here_open_in_jwcrypto_and_the_other_way_round() {
    let Some(python) = checker() else { return };
    let key: [u8; 32] = rand::random();
    let key_text = URL_SAFE_NO_PAD.encode(key);
    let bundle = br#"{"resourceType":"Bundle","type":"collection","entry":[]}"#;

    // Sealed here, opened there.
    let sealed = jwe::encrypt(&key, "application/fhir+json", bundle);
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &sealed).expect("write");
    let path = file.path().to_str().expect("utf-8");
    let out = jose(&python, &["decrypt", &key_text, path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = [b"application/fhir+json\n".as_slice(), bundle].concat();
    assert_eq!(out.stdout, expected);

    // A changed byte: refused there too.
    let mut changed = sealed.clone().into_bytes();
    let last = changed.len() - 3;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    std::fs::write(file.path(), &changed).expect("write");
    assert!(!jose(&python, &["decrypt", &key_text, path])
        .status
        .success());

    // Sealed there, opened here.
    std::fs::write(file.path(), bundle).expect("write");
    let out = jose(
        &python,
        &["encrypt", &key_text, "application/fhir+json", path],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).expect("ascii");
    let (cty, plaintext) = jwe::decrypt(&key, &theirs).expect("opens here");
    assert_eq!(cty.as_deref(), Some("application/fhir+json"));
    assert_eq!(plaintext, bundle);
}

#[tokio::test]
async fn a_recipients_app_fetches_each_shared_file_by_its_location_for_an_hour() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let (_, created) = share(
            &app,
            &record.mine,
            &[("label", "For Dr. Chen"), ("documents", "1"), ("days", "7")],
        )
        .await;
        let link = ShlPayload::parse(&created.expect("made").shlink).expect("a shlink");
        let key: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&link.key)
            .expect("base64url")
            .try_into()
            .expect("32 bytes");
        let (status, manifest) = ask(
            &app,
            &link,
            serde_json::json!({ "recipient": "Dr. Wei Chen" }),
        )
        .await;
        assert_eq!(status, 200, "{}: {manifest}", app.backend);
        let bundle = opened(&link, &manifest);
        assert!(bundle.to_string().contains("Lipid panel"), "listed");
        // Her two lab reports by location (never the draft's attachment).
        let locations: Vec<String> = manifest["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter_map(|f| f["location"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(locations.len(), 2, "{}: {manifest}", app.backend);
        let address = app.address.clone();
        let fetch = |location: String| {
            let address = address.clone();
            async move {
                let path = &location[location.find("/shl/").expect("ours")..];
                let response = reqwest::Client::new()
                    .get(format!("{address}{path}"))
                    .header("Origin", "https://viewer.example")
                    .send()
                    .await
                    .expect("GET");
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                (status, headers, response.text().await.expect("body"))
            }
        };
        let (status, headers, jwe_text) = fetch(locations[0].clone()).await;
        assert_eq!(status, 200, "{}: {jwe_text}", app.backend);
        assert_eq!(headers["content-type"], "application/jose");
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(headers["cache-control"], "no-store");
        let (cty, plaintext) = jwe::decrypt(&key, &jwe_text).expect("opens with the link's key");
        assert_eq!(cty.as_deref(), Some("application/fhir+json"));
        let file: Value = serde_json::from_slice(&plaintext).expect("a bundle");
        let reference = &file["entry"][0]["resource"];
        assert_eq!(reference["resourceType"], "DocumentReference");
        let data = reference["content"][0]["attachment"]["data"]
            .as_str()
            .expect("the bytes inline");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        assert_eq!(bytes, record.report, "the file exactly as stored");
        if let Some(verdict) = super::fhir::independent_check(&plaintext) {
            assert!(verdict.is_ok(), "{}: {verdict:?}", app.backend);
        }
        // Maria sees which file the app fetched, for whom.
        let (_, links) = app
            .call::<Vec<ShareSummary>>(&record.mine, "/api/records/shares", &[])
            .await;
        let last = &links.expect("her links")[0].accesses[0];
        assert_eq!(
            (last.outcome, last.recipient.as_str(), last.file.as_deref()),
            (AccessOutcome::Opened, "Dr. Wei Chen", Some("Lipid panel"))
        );
        // A changed location, or an hour later: 404, nothing.
        let mut changed = locations[1].clone();
        let at = changed.len() - 5;
        let swap = if &changed[at..at + 1] == "A" {
            "B"
        } else {
            "A"
        };
        changed.replace_range(at..at + 1, swap);
        assert_eq!(fetch(changed).await.0, 404, "{}", app.backend);
        app.clock
            .set(app.clock_now() + chrono::Duration::minutes(61));
        assert_eq!(fetch(locations[1].clone()).await.0, 404, "{}", app.backend);
        app.stop().await;
    }
}

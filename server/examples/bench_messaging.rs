//! Messaging benchmark (not a test; run by `bench/messaging.sh`).
//!
//! Starts Bedside (release build) on a fresh PostgreSQL database with the demo practice and
//! 1,000 patients, each signed in with one live stream open (`GET /api/live`, 1,000 streams in
//! one process). The demo physician then writes to them through `POST /api/messages/send` at 50
//! messages a second, each to another patient; each message is timed from when it was due to
//! when its patient's stream heard it (target: p95 < 100 ms), and the process's resident size
//! is read before the streams open, with them open and after (target: < 300 MB; the load
//! generator shares the process, through one client, so the figure includes its end of the
//! 1,000 connections).
//!
//! Then search: 50,000 messages in 500 conversations are filed, and the physician searches her
//! messages (every conversation she may read opened and filtered in memory) 40 times through
//! `POST /api/messages/search` (target: p95 < 200 ms).

mod support;

use anyhow::Context;
use bedside::{settings::Settings, Application};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{client_side, percentile, spread};

const PATIENTS: usize = 1_000;
const RATE: f64 = 50.0;
const MESSAGES: usize = 1_000;
const SEARCH_CONVERSATIONS: usize = 500;
const SEARCH_PER_CONVERSATION: usize = 100;
const SEARCHES: usize = 40;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::on_fresh_postgres(
        |settings| {
            settings.sign_in.attempts_per_minute = 1_000_000;
        },
        run,
    )
    .await
}

fn resident_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The physician's browser.
fn browser() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let data_dir = settings.data_dir.clone();
    let db = bedside::db::connect(&settings).await?;
    bedside::db::migrate(&db).await?;
    bedside::demo::seed(&db).await?;
    let keyring = bedside::keys::load_keyring(&settings)?;
    let objects = bedside::storage::Objects::from_settings(&settings.storage, &data_dir)?;
    let app = Application::build(settings).await?;
    let identity = app.identity().clone();
    let accounts = bedside::demo::seed_accounts(&identity, &objects, &data_dir)
        .await?
        .context("a fresh database has no accounts")?;
    let address = app.url();
    tokio::spawn(app.serve(std::future::pending()));
    let stage = |what: &str| println!("  resident {:.0} MB {what}", resident_mb().0);
    stage("once started, with the demo practice");

    // 1,000 patients with records (one password hash, reused: hashing is not what is measured).
    let password = "harbor lantern violet 7";
    let prepared = identity
        .prepare_account(&app::auth::service::NewAccount {
            email: "bench-0@example.com".into(),
            display_name: "Bench Patient".into(),
            role: app::auth::Role::Patient,
            password: password.into(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let now = identity.now();
    let mut patients = Vec::with_capacity(PATIENTS);
    for i in 0..PATIENTS {
        let mut account = prepared.clone();
        account.email = format!("bench-{i}@example.com");
        let user = app::auth::service::Identity::insert_account(&db, &keyring, &account, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let record = app::patients::service::create(
            &db,
            &keyring,
            &app::patients::service::NewPatient {
                user_id: Some(user.id),
                legal_name: format!("Bench Patient {i}"),
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1970, 1, 1).context("date")?,
                phone: None,
            },
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        patients.push((account.email, record.public_id));
    }
    println!("{PATIENTS} patients made");
    stage("with them");

    // The physician signs in and starts a conversation with each (not timed).
    let physician = accounts
        .iter()
        .find(|a| a.role == app::auth::Role::Physician)
        .context("the demo physician")?;
    let doctor = browser()?;
    let first = doctor
        .post(format!("{address}/signin"))
        .header("Origin", &address)
        .form(&[
            ("email", physician.email.as_str()),
            ("password", physician.password.as_str()),
        ])
        .send()
        .await?;
    anyhow::ensure!(first.status() == 303, "sign-in: {}", first.status());
    let code = bedside::demo::current_mfa_code(&db, &keyring, &physician.email, chrono::Utc::now())
        .await?;
    let second = doctor
        .post(format!("{address}/signin/mfa"))
        .header("Origin", &address)
        .form(&[("code", code.as_str())])
        .send()
        .await?;
    anyhow::ensure!(second.status() == 303, "second factor: {}", second.status());
    let call = |client: &reqwest::Client, path: &str, form: Vec<(&'static str, String)>| {
        client
            .post(format!("{address}{path}"))
            .header("Origin", &address)
            .header("Accept", "application/json")
            .form(&form)
            .send()
    };
    let mut conversations = Vec::with_capacity(PATIENTS);
    for (_, patient) in &patients {
        let response = call(
            &doctor,
            "/api/messages/start",
            vec![
                ("patient", patient.clone()),
                ("subject", "Your results".into()),
                ("body", "Your results are in.".into()),
            ],
        )
        .await?;
        anyhow::ensure!(response.status() == 200, "start: {}", response.status());
        conversations.push(response.json::<String>().await?);
    }
    println!("{PATIENTS} conversations started");
    stage("after the 1,000 conversations were started");

    // Every patient signs in (16 at a time) and opens a stream, read on the load generator's
    // runtime through one client (each stream carries its own session cookie), so that the
    // resident size is the server's streams, not 1,000 clients; each stream reports when it
    // hears a message.
    let (heard_tx, mut heard_rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookies = futures::stream::iter(patients.iter().cloned())
        .map(|(email, _)| {
            let (address, plain) = (address.clone(), plain.clone());
            async move {
                let response = plain
                    .post(format!("{address}/signin"))
                    .header("Origin", &address)
                    .form(&[("email", email.as_str()), ("password", password)])
                    .send()
                    .await?;
                anyhow::ensure!(response.status() == 303, "sign-in: {}", response.status());
                let cookie = response
                    .headers()
                    .get_all(reqwest::header::SET_COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter_map(|v| v.split(';').next())
                    .find(|v| !v.ends_with('='))
                    .context("a session cookie")?
                    .to_owned();
                Ok::<_, anyhow::Error>(cookie)
            }
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await;
    stage("after the 1,000 sign-ins");
    let (rss_before, _) = resident_mb();
    let mut opened = 0;
    for cookie in cookies {
        let cookie = cookie?;
        let heard = heard_tx.clone();
        let url = format!("{address}/api/live");
        let plain = plain.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        client_side().spawn(async move {
            let Ok(response) = plain
                .get(url)
                .header(reqwest::header::COOKIE, cookie)
                .send()
                .await
            else {
                return;
            };
            let _ = ready_tx.send(response.status().as_u16());
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                let at = Instant::now();
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if block.contains("event: message\n") || block.contains("event:message\n") {
                        if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                            let _ = heard.send((data.trim().to_owned(), at));
                        }
                    }
                }
            }
        });
        anyhow::ensure!(ready_rx.await? == 200, "a stream was refused");
        opened += 1;
    }
    drop(heard_tx);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_open, _) = resident_mb();
    println!(
        "{opened} streams open; resident {rss_open:.0} MB ({rss_before:.0} MB before they opened: {:.0} KB a stream, both ends)",
        (rss_open - rss_before) * 1024.0 / opened as f64
    );

    // 50 messages a second, each to the next patient, timed from when it fell due.
    let doctor = Arc::new(doctor);
    let started = Instant::now();
    let mut due_at = std::collections::HashMap::new();
    let mut sends = Vec::with_capacity(MESSAGES);
    for (i, conversation) in conversations.iter().take(MESSAGES).enumerate() {
        let due = support::due(started, i, Some(RATE)).await;
        due_at.insert(
            serde_json::json!({ "conversation": conversation }).to_string(),
            due,
        );
        let doctor = doctor.clone();
        let address = address.clone();
        let conversation = conversation.clone();
        sends.push(client_side().spawn(async move {
            doctor
                .post(format!("{address}/api/messages/send"))
                .header("Origin", &address)
                .header("Accept", "application/json")
                .form(&[
                    ("conversation", conversation.as_str()),
                    ("body", "Please book a follow-up visit for next month."),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    let mut failed = 0;
    for send in sends {
        if send.await.ok().and_then(Result::ok) != Some(200) {
            failed += 1;
        }
    }
    let mut latencies = Vec::with_capacity(MESSAGES);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while latencies.len() < MESSAGES {
        match tokio::time::timeout_at(deadline, heard_rx.recv()).await {
            Ok(Some((about, at))) => {
                if let Some(due) = due_at.remove(&about) {
                    latencies.push(at.duration_since(due).as_secs_f64() * 1000.0);
                }
            }
            _ => break,
        }
    }
    let (rss_after, peak) = resident_mb();
    latencies.sort_by(f64::total_cmp);
    println!(
        "messages at {RATE}/s to {PATIENTS} open streams: {} sent ({failed} failed), {} heard; latency from due to heard {}",
        MESSAGES,
        latencies.len(),
        spread(&latencies)
    );
    println!(
        "  p95 {:.1} ms (target < 100 ms); resident {rss_after:.0} MB, peak {peak:.0} MB (target < 300 MB, the load generator's end included)",
        percentile(&latencies, 95.0)
    );

    // Search over 50,000 messages.
    let physician_id = app::auth::entity::user_account::Entity::find()
        .filter(app::auth::entity::user_account::Column::Email.eq(physician.email.as_str()))
        .one(&db)
        .await?
        .context("the physician's account")?
        .id;
    let records: Vec<app::patients::entity::patient::Model> =
        app::patients::entity::patient::Entity::find()
            .filter(app::patients::entity::patient::Column::UserId.is_not_null())
            .all(&db)
            .await?;
    let filed = Instant::now();
    for c in 0..SEARCH_CONVERSATIONS {
        let patient = &records[c % records.len()];
        let from = patient.user_id.context("an account")?;
        let start = now - chrono::Duration::days(400);
        let words: Vec<String> = (0..SEARCH_PER_CONVERSATION)
            .map(|m| {
                if (c * SEARCH_PER_CONVERSATION + m) % 100 == 7 {
                    format!("Message {m}: my ankle is swollen again after the walk.")
                } else {
                    format!("Message {m}: thank you, the new dose seems to be working well so far.")
                }
            })
            .collect();
        let messages: Vec<(i32, &str, chrono::DateTime<chrono::Utc>)> = words
            .iter()
            .enumerate()
            .map(|(m, w)| {
                let sender = if m % 2 == 0 { from } else { physician_id };
                (
                    sender,
                    w.as_str(),
                    start + chrono::Duration::hours((c * 100 + m) as i64),
                )
            })
            .collect();
        app::messages::service::file(&db, &keyring, patient.id, "Follow-up", &messages)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let total: u64 = app::messages::entity::message::Entity::find()
        .count(&db)
        .await?;
    println!(
        "{total} messages in all ({} filed in {:.0} s)",
        SEARCH_CONVERSATIONS * SEARCH_PER_CONVERSATION,
        filed.elapsed().as_secs_f64()
    );
    let mut timings = Vec::with_capacity(SEARCHES);
    let mut found = 0;
    for i in 0..SEARCHES + 3 {
        let at = Instant::now();
        let response = call(&doctor, "/api/messages/search", vec![("q", "ankle".into())]).await?;
        anyhow::ensure!(response.status() == 200, "search: {}", response.status());
        let hits: Vec<app::messages::model::SearchHit> = response.json().await?;
        found = hits.len();
        if i >= 3 {
            timings.push(at.elapsed().as_secs_f64() * 1000.0);
        }
    }
    timings.sort_by(f64::total_cmp);
    println!(
        "search over {total} messages, {SEARCHES} times ({found} shown each): {}",
        spread(&timings)
    );
    println!(
        "  p95 {:.1} ms (target < 200 ms)",
        percentile(&timings, 95.0)
    );
    Ok(())
}

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

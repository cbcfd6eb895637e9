//! Messaging benchmark (not a test; run by `bench/messaging.sh`).
//!
//! Bedside runs as users run it: the release `bedside serve`, its own process, on a fresh
//! PostgreSQL database with the demo practice and 1,000 patients, each signed in with one live
//! stream open (`GET /api/live`, 1,000 streams). The demo physician then writes to them through
//! `POST /api/messages/send` at 50 messages a second, each to another patient; each message is
//! timed from when it was due to when its patient's stream heard it (target: p95 < 100 ms), and
//! the server process's resident size is read at each stage (target: < 300 MB). This process is
//! only the load generator; its own size is printed apart.
//!
//! Beside it, in the same run, an outside reference: plain axum serving the same event stream
//! format (`bench_messaging --reference`, its own process: one broadcast channel per listener,
//! no sessions, database or audit) takes the same 1,000 streams and the same 50 messages a
//! second; its latency and size are the floor Bedside's are read against.
//!
//! Then search: 50,000 messages in 500 conversations are filed, and the physician searches her
//! messages (every conversation she may read opened and filtered in memory) 40 times through
//! `POST /api/messages/search` (target: p95 < 200 ms).

mod support;

use anyhow::Context;
use bedside::{settings::Settings, Application};
use futures::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
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
    if let Some(port) = reference_mode() {
        return reference::serve(port).await;
    }
    support::on_fresh_postgres(
        |settings| {
            settings.sign_in.attempts_per_minute = 1_000_000;
        },
        run,
    )
    .await
}

/// `--reference <port>`: this process is the outside reference server.
fn reference_mode() -> Option<u16> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--reference") => args.get(2).and_then(|p| p.parse().ok()),
        _ => None,
    }
}

/// Resident and peak size of process `pid` (this one: `self`), in MB.
fn resident_mb(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
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
    let database_url = settings.database_url.clone();
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
    // The practice is made; Bedside itself runs as `bedside serve`, as a user runs it.
    drop(app);
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let server = Server::start(
        std::process::Command::new(sibling("bedside")?)
            .arg("serve")
            .env("BEDSIDE_DATABASE_URL", &database_url)
            .env("BEDSIDE_DATA_DIR", &data_dir)
            .env("BEDSIDE_LISTEN", format!("127.0.0.1:{port}"))
            .env("BEDSIDE_PUBLIC_URL", &address)
            .env("BEDSIDE_SIGN_IN__ATTEMPTS_PER_MINUTE", "1000000"),
        &address,
    )
    .await?;
    let pid = server.pid();
    let stage = |what: &str| println!("  resident {:.0} MB {what}", resident_mb(&pid).0);
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
    let (rss_before, _) = resident_mb(&pid);
    let mut streams = Vec::with_capacity(PATIENTS);
    for cookie in cookies {
        streams.push((format!("{address}/api/live"), Some(cookie?)));
    }
    let heard_rx = open_streams(&plain, streams).await?;
    let (rss_open, _) = resident_mb(&pid);
    println!(
        "{PATIENTS} streams open; resident {rss_open:.0} MB ({rss_before:.0} MB before they opened: {:.0} KB a stream)",
        (rss_open - rss_before) * 1024.0 / PATIENTS as f64
    );

    // 50 messages a second, each to the next patient, timed from when it fell due.
    let doctor = Arc::new(doctor);
    let sends = conversations
        .iter()
        .take(MESSAGES)
        .cloned()
        .map(|conversation| {
            let (doctor, address) = (doctor.clone(), address.clone());
            move || async move {
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
            }
        });
    let keys = conversations
        .iter()
        .take(MESSAGES)
        .map(|c| about(c))
        .collect();
    let bedside = fan_out(sends.collect(), keys, heard_rx).await;
    let (rss_after, peak) = resident_mb(&pid);
    let (own, _) = resident_mb("self");
    println!(
        "messages at {RATE}/s to {PATIENTS} open streams: {MESSAGES} sent ({} failed), {} heard; latency from due to heard {}",
        bedside.failed,
        bedside.latencies.len(),
        spread(&bedside.latencies)
    );
    println!(
        "  p95 {:.1} ms (target < 100 ms); Bedside's process resident {rss_after:.0} MB, peak {peak:.0} MB (target < 300 MB); the load generator's own {own:.0} MB",
        percentile(&bedside.latencies, 95.0)
    );

    // The outside reference: plain axum, the same streams and messages.
    let reference = reference_run(&plain).await?;
    println!("side by side, {PATIENTS} streams, {MESSAGES} messages at {RATE}/s:");
    println!(
        "  {:<46} p50 {:>6.1} ms  p95 {:>6.1} ms  resident {:>4.0} MB",
        "Bedside (sessions, database, audit, PostgreSQL)",
        percentile(&bedside.latencies, 50.0),
        percentile(&bedside.latencies, 95.0),
        rss_after
    );
    println!(
        "  {:<46} p50 {:>6.1} ms  p95 {:>6.1} ms  resident {:>4.0} MB",
        "plain axum SSE fan-out (reference)",
        percentile(&reference.0.latencies, 50.0),
        percentile(&reference.0.latencies, 95.0),
        reference.1
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

/// The key a heard event is matched by: its data.
fn about(conversation: &str) -> String {
    serde_json::json!({ "conversation": conversation }).to_string()
}

/// A port free now on loopback.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A binary built beside this one (`target/release/<name>`).
fn sibling(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let me = std::env::current_exe()?;
    let release = me
        .parent()
        .and_then(|examples| examples.parent())
        .context("the build folder")?;
    let path = release.join(name);
    anyhow::ensure!(
        path.exists(),
        "{} is not built (cargo build --release -p bedside)",
        path.display()
    );
    Ok(path)
}

/// A server in its own process, stopped when this is dropped.
struct Server(std::process::Child);

impl Server {
    async fn start(command: &mut std::process::Command, address: &str) -> anyhow::Result<Self> {
        let child = command
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting a server")?;
        let server = Server(child);
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(response) = client.get(format!("{address}/readyz")).send().await {
                if response.status().is_success() {
                    return Ok(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("{address} did not answer within a minute")
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Opens `streams` (address, session cookie) one after the other on the load generator's
/// runtime, through one client; each reports every `message` event it hears (its data, when).
async fn open_streams(
    client: &reqwest::Client,
    streams: Vec<(String, Option<String>)>,
) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>> {
    let (heard_tx, heard_rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    for (url, cookie) in streams {
        let heard = heard_tx.clone();
        let client = client.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        client_side().spawn(async move {
            let mut request = client.get(url);
            if let Some(cookie) = cookie {
                request = request.header(reqwest::header::COOKIE, cookie);
            }
            let Ok(response) = request.send().await else {
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
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(heard_rx)
}

/// What sending at [`RATE`] came to.
struct FanOut {
    failed: usize,
    /// From due to heard, sorted, in ms.
    latencies: Vec<f64>,
}

/// Sends `sends[i]` when it falls due at [`RATE`] a second, and times each from then until its
/// stream hears `keys[i]`.
async fn fan_out<S, F>(
    sends: Vec<S>,
    keys: Vec<String>,
    mut heard_rx: tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
) -> FanOut
where
    S: FnOnce() -> F + Send + 'static,
    F: std::future::Future<Output = reqwest::Result<u16>> + Send + 'static,
{
    let count = sends.len();
    let started = Instant::now();
    let mut due_at = std::collections::HashMap::new();
    let mut running = Vec::with_capacity(count);
    for (i, (send, key)) in sends.into_iter().zip(keys).enumerate() {
        let due = support::due(started, i, Some(RATE)).await;
        due_at.insert(key, due);
        running.push(client_side().spawn(send()));
    }
    let mut failed = 0;
    for send in running {
        if send.await.ok().and_then(Result::ok) != Some(200) {
            failed += 1;
        }
    }
    let mut latencies = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while latencies.len() < count {
        match tokio::time::timeout_at(deadline, heard_rx.recv()).await {
            Ok(Some((about, at))) => {
                if let Some(due) = due_at.remove(&about) {
                    latencies.push(at.duration_since(due).as_secs_f64() * 1000.0);
                }
            }
            _ => break,
        }
    }
    latencies.sort_by(f64::total_cmp);
    FanOut { failed, latencies }
}

/// Starts the reference in its own process and puts it through the same load: its figures and
/// its resident size with the streams open after the messages.
async fn reference_run(client: &reqwest::Client) -> anyhow::Result<(FanOut, f64)> {
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let server = Server::start(
        std::process::Command::new(std::env::current_exe()?)
            .arg("--reference")
            .arg(port.to_string()),
        &address,
    )
    .await?;
    let streams = (0..PATIENTS)
        .map(|i| (format!("{address}/events?id={i}"), None))
        .collect();
    let heard = open_streams(client, streams).await?;
    let sends = (0..MESSAGES).map(|i| {
        let (client, address) = (client.clone(), address.clone());
        move || async move {
            client
                .post(format!("{address}/send?to={}", i % PATIENTS))
                .body(about(&format!("reference-{i}")))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    let keys = (0..MESSAGES)
        .map(|i| about(&format!("reference-{i}")))
        .collect();
    let figures = fan_out(sends.collect(), keys, heard).await;
    let (rss, _) = resident_mb(&server.pid());
    println!(
        "reference (plain axum SSE): {} heard of {MESSAGES}; latency from due to heard {}; resident {rss:.0} MB",
        figures.latencies.len(),
        spread(&figures.latencies)
    );
    Ok((figures, rss))
}

/// The outside reference: plain axum serving `text/event-stream` to listeners `/events?id=N`,
/// one broadcast channel each, and `POST /send?to=N` (the body is the event's data). No
/// sessions, database, audit or numbering: the floor of "a write reaches an open stream".
mod reference {
    use axum::extract::{Query, State};
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::routing::{get, post};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio::sync::broadcast;

    type Listeners = Arc<Mutex<HashMap<u32, broadcast::Sender<String>>>>;

    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<u32>,
        to: Option<u32>,
    }

    fn channel(listeners: &Listeners, id: u32) -> broadcast::Sender<String> {
        let mut map = listeners.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id)
            .or_insert_with(|| broadcast::channel(16).0)
            .clone()
    }

    pub async fn serve(port: u16) -> anyhow::Result<()> {
        let listeners: Listeners = Arc::default();
        let app = axum::Router::new()
            .route("/readyz", get(|| async { "ready" }))
            .route(
                "/events",
                get(|State(listeners): State<Listeners>, Query(q): Query<Id>| async move {
                    let receiver = channel(&listeners, q.id.unwrap_or(0)).subscribe();
                    let events = futures::stream::unfold(receiver, |mut receiver| async move {
                        loop {
                            match receiver.recv().await {
                                Ok(data) => {
                                    let event = Event::default().event("message").data(data);
                                    return Some((Ok::<_, std::convert::Infallible>(event), receiver));
                                }
                                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                                Err(broadcast::error::RecvError::Closed) => return None,
                            }
                        }
                    });
                    Sse::new(events).keep_alive(KeepAlive::default())
                }),
            )
            .route(
                "/send",
                post(
                    |State(listeners): State<Listeners>, Query(q): Query<Id>, body: String| async move {
                        let _ = channel(&listeners, q.to.unwrap_or(0)).send(body);
                        "sent"
                    },
                ),
            )
            .with_state(listeners);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await?;
        Ok(())
    }
}

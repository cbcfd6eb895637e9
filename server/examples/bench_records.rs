//! Records benchmark (not a test; run by `bench/records.sh`).
//!
//! Starts Bedside (release build) on a fresh PostgreSQL database with the demo practice, signs
//! the demo physician in (password and second factor) and fetches the demo patients' charts
//! through `POST /api/records/chart` from 64 connections, each fetch a full one: session, policy,
//! the patient's row, every current chart entry decrypted, one audit entry appended, the answer
//! as JSON.
//!
//! Side by side, in the same run and from the same load generator, a plain axum server in the
//! same process answers the same route with the same bytes (each chart's answer, captured
//! first): the ceiling for this machine's HTTP and load generator, the outside reference.
//!
//! Two figures answer the target (>= 1,500 req/s with p95 < 20 ms at 64 connections):
//! - capacity: every connection fetches again as soon as its last fetch answers (closed loop);
//! - latency at 1,500 req/s: fetches fall due on a fixed schedule over the 64 connections, each
//!   timed from when it was due (open loop, as wrk2 measures).
//!
//! Then memory: a 25 MB PDF uploaded (streamed from the load generator, never whole in memory on
//! either side) and downloaded again, each after the process's peak resident size is reset
//! (`/proc/self/clear_refs`); the figure is how far the peak rose above the size before (target:
//! < 32 MB each). The download is checked byte for byte against what was sent.
//!
//! Last, the database's own ceiling for what every audited read adds: pgbench appends one entry
//! per transaction to the same database's audit chain, as Bedside's append does.

mod support;

use anyhow::Context;
use bedside::{settings::Settings, Application};
use bytes::Bytes;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};
use std::time::Instant;
use support::{client_side, due, Phase};

const CONNECTIONS: usize = 64;
/// Fetches per measured phase.
const REQUESTS: usize = 15_000;
const WARM_UP: usize = 2_000;
/// The target rate for the latency figure (fetches per second).
const RATE: f64 = 1_500.0;
/// The file for the memory figures: 25 MB, the largest the record takes.
const FILE_BYTES: u64 = app::records::documents::model::MAX_BYTES;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::on_fresh_postgres(
        |settings| {
            settings.sign_in.attempts_per_minute = 1_000_000;
            settings.database_max_connections = std::env::var("BEDSIDE_DATABASE_MAX_CONNECTIONS")
                .ok()
                .and_then(|n| n.parse().ok());
        },
        run,
    )
    .await
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let settings_url = settings.database_url.clone();
    let pool_size = bedside::db::max_connections(&settings);
    let data_dir = settings.data_dir.clone();
    let db = bedside::db::connect(&settings).await?;
    bedside::db::migrate(&db).await?;
    bedside::demo::seed(&db).await?;
    let keyring = bedside::keys::load_keyring(&settings)?;
    let objects = bedside::storage::Objects::from_settings(&settings.storage, &data_dir)?;
    let app = Application::build(settings).await?;
    let accounts = bedside::demo::seed_accounts(app.identity(), &objects, &data_dir)
        .await?
        .context("a fresh database has no accounts")?;
    let address = app.url();
    tokio::spawn(app.serve(std::future::pending()));
    println!(
        "PostgreSQL at {}; {} pooled connections",
        bedside::db::redact(&settings_url),
        pool_size
    );

    let physician = accounts
        .iter()
        .find(|a| a.role == app::auth::Role::Physician)
        .context("the demo physician")?;
    let client = sign_in(&db, &keyring, &address, physician).await?;
    let patients: Vec<String> = app::patients::entity::patient::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|p| p.public_id)
        .collect();
    anyhow::ensure!(!patients.is_empty(), "the demo has patients");

    // Each chart's answer, as the reference serves it.
    let mut answers = HashMap::new();
    let mut entries = 0;
    for patient in &patients {
        let response = fetch(&client, &address, patient).await?;
        anyhow::ensure!(response.status() == 200, "chart: {}", response.status());
        let body = response.bytes().await?;
        let chart: app::records::model::Chart = serde_json::from_slice(&body)?;
        entries += chart.entries.len();
        answers.insert(patient.clone(), body);
    }
    println!(
        "{} demo charts, {entries} entries in all, {} bytes of JSON each on average",
        patients.len(),
        answers.values().map(Bytes::len).sum::<usize>() / answers.len()
    );
    let reference = reference_server(answers).await?;

    let bedside = Load {
        address: address.clone(),
        client: client.clone(),
        patients: Arc::new(patients.clone()),
    };
    let plain = Load {
        address: reference,
        client: reqwest::Client::new(),
        patients: Arc::new(patients),
    };
    // Warm-up (not counted): the pool's connections, PostgreSQL's caches.
    bedside.run(WARM_UP, None).await?;
    plain.run(WARM_UP, None).await?;

    let paced = bedside.run(REQUESTS, Some(RATE)).await?;
    let plain_paced = plain.run(REQUESTS, Some(RATE)).await?;
    let saturated = bedside.run(REQUESTS, None).await?;
    let plain_saturated = plain.run(REQUESTS, None).await?;
    println!(
        "Bedside, chart fetches due at 1500/s (open loop): {}",
        paced.summary("fetches")
    );
    println!(
        "plain axum, same bytes, due at 1500/s: {}",
        plain_paced.summary("fetches")
    );
    println!(
        "Bedside, capacity (closed loop): {}",
        saturated.summary("fetches")
    );
    println!(
        "plain axum, same bytes, capacity: {}",
        plain_saturated.summary("fetches")
    );
    println!(
        "chart targets: >= 1500 req/s (capacity {:.0} req/s, {:.0}% of plain axum's) and p95 < 20 ms at 1500 req/s (p95 {:.1} ms)",
        saturated.per_second(),
        100.0 * saturated.per_second() / plain_saturated.per_second(),
        paced.percentile(95.0)
    );
    use app::audit::entity::audit_event;
    let reads = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("chart.read"))
        .count(&db)
        .await?;
    // The warm-up, the two measured phases and the captures for the reference.
    let fetched = WARM_UP + 2 * REQUESTS + bedside.patients.len();
    anyhow::ensure!(
        reads as usize == fetched,
        "{fetched} charts fetched but {reads} chart reads in the audit log"
    );
    println!("audit: exactly one entry per fetch ({reads})");

    memory(&client, &address, &bedside.patients[0]).await?;
    chain_reference(&settings_url)
}

/// What appending to the audit chain costs the database alone: pgbench, on the same database
/// and from 64 connections, appends one entry per transaction exactly as Bedside's append does
/// (the head locked, the next hash computed, the row and its seal inserted, committed). This is
/// the ceiling for reads that each commit their own entry; Bedside's reads share commits
/// (`audit::group`), so they can pass it.
fn chain_reference(database_url: &str) -> anyhow::Result<()> {
    const SCRIPT: &str = r"BEGIN;
WITH old AS (SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE), new AS (UPDATE audit_chain_head AS head SET seq = old.seq + 1, hash = encode(sha256(''::bytea || int8send(octet_length(old.hash)::bigint) || convert_to(old.hash, 'UTF8') || int8send(octet_length((old.seq + 1)::text)::bigint) || convert_to((old.seq + 1)::text, 'UTF8') || ''::bytea), 'hex') FROM old WHERE head.id = 1 RETURNING head.seq, head.hash, old.hash AS prev_hash) INSERT INTO audit_event (seq, at, actor_user_id, actor_role, session_ref, action, resource_type, resource_id, patient_id, ip, user_agent, outcome, detail, prev_hash, hash) SELECT new.seq, now(), 1, 'physician', 'pgbench', 'chart.read', 'patient_chart', '1', 'pgbench', '127.0.0.1', NULL, 'allowed', NULL, new.prev_hash, new.hash FROM new RETURNING seq \gset
INSERT INTO audit_seal (seq, seal) VALUES (:seq, 'pgbench');
COMMIT;
";
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("pgbench"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|version| version.path().join("bin/pgbench")),
        )
        .find(|p| p.is_file());
    let Some(pgbench) = found else {
        println!("pgbench: not found (Debian: postgresql-client); the database's own ceiling not measured");
        return Ok(());
    };
    let script = std::env::temp_dir().join(format!("bedside-chain-{}.sql", std::process::id()));
    std::fs::write(&script, SCRIPT)?;
    let output = std::process::Command::new(&pgbench)
        .args(["-n", "-c", "64", "-j", "2", "-T", "10", "-f"])
        .arg(&script)
        .arg(database_url)
        .output()?;
    std::fs::remove_file(&script).ok();
    let text = String::from_utf8_lossy(&output.stdout);
    let tps = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok());
    let latency = text
        .lines()
        .find_map(|l| l.strip_prefix("latency average = "))
        .unwrap_or("?");
    match tps {
        Some(tps) => println!(
            "pgbench, same database, one audit entry appended per transaction from 64 connections: {tps:.0} tps, latency average {latency}"
        ),
        None => println!(
            "pgbench did not run: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
    Ok(())
}

async fn sign_in(
    db: &sea_orm::DatabaseConnection,
    keyring: &app::crypto::Keyring,
    address: &str,
    account: &bedside::demo::DemoAccount,
) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let first = client
        .post(format!("{address}/signin"))
        .header("Origin", address)
        .form(&[
            ("email", account.email.as_str()),
            ("password", account.password.as_str()),
        ])
        .send()
        .await?;
    anyhow::ensure!(first.status() == 303, "sign-in: {}", first.status());
    let code =
        bedside::demo::current_mfa_code(db, keyring, &account.email, chrono::Utc::now()).await?;
    let second = client
        .post(format!("{address}/signin/mfa"))
        .header("Origin", address)
        .form(&[("code", code.as_str())])
        .send()
        .await?;
    anyhow::ensure!(second.status() == 303, "second factor: {}", second.status());
    Ok(client)
}

async fn fetch(
    client: &reqwest::Client,
    address: &str,
    patient: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{address}/api/records/chart"))
        .header("Origin", address)
        .header("Accept", "application/json")
        .form(&[("patient", patient)])
        .send()
        .await
}

/// Plain axum answering `POST /api/records/chart` with the captured bytes of the chart asked
/// for: no session, no database, no decryption. Its address.
async fn reference_server(answers: HashMap<String, Bytes>) -> anyhow::Result<String> {
    use axum::{extract::State, http::header, response::IntoResponse, routing::post, Form};
    #[derive(serde::Deserialize)]
    struct Asked {
        patient: String,
    }
    async fn chart(
        State(answers): State<Arc<HashMap<String, Bytes>>>,
        Form(asked): Form<Asked>,
    ) -> axum::response::Response {
        match answers.get(&asked.patient) {
            Some(body) => {
                ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
            }
            None => axum::http::StatusCode::NOT_FOUND.into_response(),
        }
    }
    let router = axum::Router::new()
        .route("/api/records/chart", post(chart))
        .with_state(Arc::new(answers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(address)
}

/// One server and the charts to ask it for.
struct Load {
    address: String,
    client: reqwest::Client,
    patients: Arc<Vec<String>>,
}

impl Load {
    /// `count` fetches over 64 connections: as fast as answers come back (`rate: None`), or the
    /// i-th due at i / rate seconds from the start, timed from when it was due.
    async fn run(&self, count: usize, rate: Option<f64>) -> anyhow::Result<Phase> {
        let issued = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                let (client, issued, address, patients) = (
                    self.client.clone(),
                    issued.clone(),
                    self.address.clone(),
                    self.patients.clone(),
                );
                client_side().spawn(async move {
                    let mut out = Vec::new();
                    loop {
                        let i = issued.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        let due = due(started, i, rate).await;
                        let patient = &patients[i % patients.len()];
                        let status = match fetch(&client, &address, patient).await {
                            // The whole answer read, as a browser would.
                            Ok(response) => {
                                let status = response.status().as_u16();
                                match response.bytes().await {
                                    Ok(_) => status,
                                    Err(_) => 0,
                                }
                            }
                            Err(_) => 0,
                        };
                        out.push((status, due.elapsed().as_secs_f64() * 1000.0));
                    }
                    out
                })
            })
            .collect();
        let mut results = Vec::with_capacity(count);
        for worker in workers {
            results.extend(worker.await?);
        }
        let phase = Phase {
            results,
            seconds: started.elapsed().as_secs_f64(),
        };
        let answered = phase.answered(200);
        anyhow::ensure!(
            answered == count,
            "every fetch must answer 200 with the chart: {answered} of {count} did"
        );
        Ok(phase)
    }
}

/// The 25 MB upload and download, each with the process's peak resident size reset first.
async fn memory(client: &reqwest::Client, address: &str, patient: &str) -> anyhow::Result<()> {
    // A first small upload and download (not counted): buffers and connections in place.
    let small = upload(client, address, patient, 1024 * 1024).await?;
    download(client, address, &small, 1024 * 1024).await?;

    let before = reset_peak()?;
    let id = upload(client, address, patient, FILE_BYTES).await?;
    let rose_up = peak()?.saturating_sub(before);
    let before_down = reset_peak()?;
    download(client, address, &id, FILE_BYTES).await?;
    let rose_down = peak()?.saturating_sub(before_down);
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "memory: a 25 MB upload raised the peak resident size by {:.1} MB, its download by {:.1} MB (from {:.0} MB and {:.0} MB; target < 32 MB each)",
        mb(rose_up),
        mb(rose_down),
        mb(before),
        mb(before_down)
    );
    Ok(())
}

/// The file's bytes: a PDF header, then a pattern that does not compress, from its offset.
fn byte_at(offset: u64) -> u8 {
    const HEADER: &[u8] = b"%PDF-1.7\n";
    if offset < HEADER.len() as u64 {
        HEADER[offset as usize]
    } else {
        (offset.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
    }
}

fn chunk(from: u64, to: u64) -> Bytes {
    (from..to).map(byte_at).collect::<Vec<u8>>().into()
}

/// Uploads a `size`-byte PDF to `patient`'s documents, sent in 64 KiB pieces as they are made.
async fn upload(
    client: &reqwest::Client,
    address: &str,
    patient: &str,
    size: u64,
) -> anyhow::Result<String> {
    const PIECE: u64 = 64 * 1024;
    let pieces = futures::stream::iter(
        (0..size.div_ceil(PIECE))
            .map(move |i| Ok::<_, std::io::Error>(chunk(i * PIECE, ((i + 1) * PIECE).min(size)))),
    );
    let file =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(pieces), size)
            .file_name("large-scan.pdf")
            .mime_str("application/pdf")?;
    let form = reqwest::multipart::Form::new()
        .text("patient", patient.to_owned())
        .text("kind", "imaging")
        .text("date", "2026-11-30")
        .text("title", "Benchmark scan")
        .part("file", file);
    let response = client
        .post(format!(
            "{address}{}",
            app::records::documents::model::UPLOAD_PATH
        ))
        .header("Origin", address)
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    anyhow::ensure!(status == 200, "upload: {status} {body}");
    Ok(serde_json::from_str(&body)?)
}

/// Downloads document `id` piece by piece, checking every byte against what was sent.
async fn download(
    client: &reqwest::Client,
    address: &str,
    id: &str,
    size: u64,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let response = client
        .get(format!("{address}/dashboard/documents/{id}"))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "download: {}", response.status());
    let mut stream = response.bytes_stream();
    let mut offset = 0u64;
    while let Some(piece) = stream.next().await {
        let piece = piece?;
        for byte in piece.iter() {
            anyhow::ensure!(*byte == byte_at(offset), "byte {offset} differs");
            offset += 1;
        }
    }
    anyhow::ensure!(offset == size, "{offset} bytes downloaded of {size}");
    Ok(())
}

/// Resets the process's peak resident size to its current size; returns that size in KiB.
fn reset_peak() -> anyhow::Result<u64> {
    std::fs::write("/proc/self/clear_refs", "5").context("resetting the peak resident size")?;
    status_kib("VmRSS")
}

/// The process's peak resident size since the last reset, in KiB.
fn peak() -> anyhow::Result<u64> {
    status_kib("VmHWM")
}

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/self/status"))
}

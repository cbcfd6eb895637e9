//! Page-render soak (not a test; run by `bench/render.sh`).
//!
//! Starts Bedside on SQLite with the demo practice, as the README's run command does, signs in
//! the demo patient, physician and admin, and renders their signed-in pages `RENDERS` times
//! (default 100,000) from `CONNECTIONS` connections (default 32). Every render must answer 200
//! within one second; the slowest renders are listed, and the run fails if any was slower or
//! any failed.
//!
//! It is the proof for DECISIONS #33: a signed-in page once in a few thousand never finished
//! rendering. The cause was Leptos's route-list generation, which switches resource loading off
//! for the whole process while it runs; another application of the same process rendering at
//! that moment waited for ever. `BUILD_APPS_MEANWHILE=1` builds a second application (with its
//! own database) over and over during the run, as the API tests do, to show that doing so no
//! longer stalls a render.

// This soak runs on SQLite, as the README's run command does: the PostgreSQL helper is unused.
#[allow(dead_code)]
mod support;

use anyhow::Context;
use bedside::{settings::Settings, Application};
use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};
use std::time::{Duration, Instant};
use support::spread;

/// No render may take longer than this.
const LIMIT: Duration = Duration::from_secs(1);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sqlite_settings(data: &std::path::Path) -> anyhow::Result<Settings> {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data.to_path_buf(),
        database_url: format!("sqlite://{}/bedside.db?mode=rwc", data.display()),
        leptos_config: std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../Leptos.toml"
        )),
        ..Settings::default()
    };
    settings.jobs.poll_seconds = 0;
    settings.sign_in.attempts_per_minute = 1_000_000;
    Ok(settings)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let renders = env_number("RENDERS", 100_000);
    // The mechanism alone: hold Leptos's process-wide "resources do not load" flag, as route
    // generation does, for 2 ms every 20 ms while pages render (a render that starts then hangs).
    let suppress_meanwhile = std::env::var("SUPPRESS_MEANWHILE").is_ok_and(|v| v == "1");
    let connections = env_number("CONNECTIONS", 32);
    let build_meanwhile = std::env::var("BUILD_APPS_MEANWHILE").is_ok_and(|v| v == "1");

    let data = tempfile::tempdir()?;
    let settings = sqlite_settings(data.path())?;
    let db = bedside::db::connect(&settings).await?;
    bedside::db::migrate(&db).await?;
    bedside::demo::seed(&db).await?;
    let keyring = bedside::keys::load_keyring(&settings)?;
    let objects = bedside::storage::Objects::from_settings(&settings.storage, data.path())?;
    let app = Application::build(settings).await?;
    let accounts = bedside::demo::seed_accounts(app.identity(), &objects, data.path())
        .await?
        .context("a fresh database has no accounts")?;
    let address = app.url();
    tokio::spawn(app.serve(std::future::pending()));

    // Each role's signed-in pages, as its menu links them.
    let mut browsers = Vec::new();
    for (role, pages) in [
        (
            app::auth::Role::Patient,
            &[
                "/portal",
                "/portal/book",
                "/portal/visits",
                "/portal/notifications",
                "/portal/membership",
                "/account/security",
            ][..],
        ),
        (
            app::auth::Role::Physician,
            &[
                "/dashboard",
                "/dashboard/agenda",
                "/dashboard/schedule",
                "/account/security",
            ][..],
        ),
        (
            app::auth::Role::Admin,
            &["/admin/audit", "/admin/billing"][..],
        ),
    ] {
        let account = accounts
            .iter()
            .find(|a| a.role == role)
            .context("a demo account for each role")?;
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let signed_in = client
            .post(format!("{address}/signin"))
            .header("Origin", &address)
            .form(&[
                ("email", account.email.as_str()),
                ("password", account.password.as_str()),
            ])
            .send()
            .await?;
        anyhow::ensure!(signed_in.status() == 303, "sign-in of {}", account.email);
        if account.mfa_key.is_some() {
            let code =
                bedside::demo::current_mfa_code(&db, &keyring, &account.email, chrono::Utc::now())
                    .await?;
            let second = client
                .post(format!("{address}/signin/mfa"))
                .header("Origin", &address)
                .form(&[("code", code.as_str())])
                .send()
                .await?;
            anyhow::ensure!(second.status() == 303, "second factor of {}", account.email);
        }
        for page in pages {
            let first = client.get(format!("{address}{page}")).send().await?;
            anyhow::ensure!(
                first.status() == 200,
                "{page} as {role:?}: {}",
                first.status()
            );
            browsers.push((client.clone(), format!("{address}{page}")));
        }
    }
    let browsers = Arc::new(browsers);

    let done = Arc::new(AtomicBool::new(false));
    let building = build_meanwhile.then(|| {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut built = 0usize;
            while !done.load(Ordering::Relaxed) {
                let data = tempfile::tempdir()?;
                drop(Application::build(sqlite_settings(data.path())?).await?);
                built += 1;
            }
            anyhow::Ok(built)
        })
    });

    let suppressing = suppress_meanwhile.then(|| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let flag = leptos::server::SuppressResourceLoad::new();
                std::thread::sleep(Duration::from_millis(2));
                drop(flag);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    });

    println!(
        "Rendering {renders} signed-in pages ({} kinds, three roles) from {connections} connections…",
        browsers.len()
    );
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let next = Arc::clone(&next);
        let browsers = Arc::clone(&browsers);
        workers.push(tokio::spawn(async move {
            let mut timings: Vec<(f64, String)> = Vec::new();
            let mut failures: Vec<String> = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= renders {
                    break;
                }
                let (client, url) = &browsers[n % browsers.len()];
                let start = Instant::now();
                let answer = tokio::time::timeout(Duration::from_secs(60), async {
                    let response = client.get(url).send().await?;
                    let status = response.status();
                    let body = response.bytes().await?;
                    anyhow::Ok((status, body.len()))
                })
                .await;
                let took = start.elapsed().as_secs_f64() * 1000.0;
                match answer {
                    Ok(Ok((status, _))) if status == 200 => {}
                    Ok(Ok((status, _))) => failures.push(format!("{url}: {status}")),
                    Ok(Err(e)) => failures.push(format!("{url}: {e}")),
                    Err(_) => failures.push(format!("{url}: no answer in 60 s")),
                }
                timings.push((took, url.clone()));
            }
            (timings, failures)
        }));
    }
    let mut timings = Vec::new();
    let mut failures = Vec::new();
    for worker in workers {
        let (t, f) = worker.await?;
        timings.extend(t);
        failures.extend(f);
    }
    let elapsed = began.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    if let Some(suppressing) = suppressing {
        suppressing.join().ok();
    }
    if let Some(building) = building {
        println!(
            "{} other applications were built in this process meanwhile",
            building.await??
        );
    }

    timings.sort_by(|a, b| a.0.total_cmp(&b.0));
    let millis: Vec<f64> = timings.iter().map(|t| t.0).collect();
    let slow: Vec<&(f64, String)> = timings
        .iter()
        .filter(|t| t.0 > LIMIT.as_secs_f64() * 1000.0)
        .collect();
    println!(
        "{} renders in {elapsed:.1} s ({:.0}/s); {}, max {:.1} ms",
        millis.len(),
        millis.len() as f64 / elapsed,
        spread(&millis),
        millis.last().copied().unwrap_or(0.0),
    );
    println!("slowest five:");
    for (ms, url) in timings.iter().rev().take(5) {
        println!("  {ms:8.1} ms  {}", url.trim_start_matches(&address));
    }
    println!(
        "renders over {} s: {}; failed: {}",
        LIMIT.as_secs(),
        slow.len(),
        failures.len()
    );
    for failure in failures.iter().take(10) {
        println!("  {failure}");
    }
    anyhow::ensure!(
        slow.is_empty() && failures.is_empty(),
        "{} slow and {} failed renders",
        slow.len(),
        failures.len()
    );
    Ok(())
}

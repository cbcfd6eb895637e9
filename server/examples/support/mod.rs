//! What the benchmarks share: a fresh PostgreSQL database and settings for a Bedside on it,
//! dropped afterwards, and percentiles.

use anyhow::Context;
use bedside::settings::Settings;
use sea_orm::{ConnectionTrait, Database};
use std::future::Future;

/// The value at percentile `p` of `sorted` (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// "p50 … ms, p95 … ms, p99 … ms" of `sorted` latencies in milliseconds.
pub fn spread(sorted: &[f64]) -> String {
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        percentile(sorted, 50.0),
        percentile(sorted, 95.0),
        percentile(sorted, 99.0)
    )
}

/// Runs `bench` with settings for a new database on the PostgreSQL server at `DATABASE_URL`
/// (port 0, a temporary data folder, no job worker), then drops the database and the folder.
pub async fn on_fresh_postgres<F, Fut>(
    configure: impl FnOnce(&mut Settings),
    bench: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    anyhow::ensure!(
        server_url.starts_with("postgres"),
        "DATABASE_URL must name a PostgreSQL server (the targets are for PostgreSQL)"
    );
    let name = format!("bedside_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&server_url)
        .await
        .context("connecting to PostgreSQL")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    // The same server, another database; options after `?` (a socket, sslmode) kept.
    let (address, options) = match server_url.split_once('?') {
        Some((address, options)) => (address, format!("?{options}")),
        None => (server_url.as_str(), String::new()),
    };
    let base = address.rsplit_once('/').map_or(address, |(base, _)| base);
    let data = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&data)?;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data.clone(),
        database_url: format!("{base}/{name}{options}"),
        leptos_config: std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../Leptos.toml"
        )),
        ..Settings::default()
    };
    settings.jobs.poll_seconds = 0;
    configure(&mut settings);
    let result = bench(settings).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
    std::fs::remove_dir_all(&data).ok();
    result
}

/// The load generator's own runtime (one thread): its connections, timers and timing do not
/// queue behind the server's tasks, as they would not on another machine. It still shares the
/// two cores with the server and PostgreSQL.
#[allow(dead_code)]
pub fn client_side() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("load-generator")
            .enable_all()
            .build()
            .expect("the load generator's runtime")
    })
}

/// When request `i` of a phase started at `started` falls due, waiting until then: at once
/// (`rate: None`, closed loop), or at i / rate seconds from the start (open loop: each request
/// is timed from when it was due, so a stall counts against every request it delays).
#[allow(dead_code)]
pub async fn due(started: std::time::Instant, i: usize, rate: Option<f64>) -> std::time::Instant {
    match rate {
        Some(rate) => {
            let due = started + std::time::Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
            due
        }
        None => std::time::Instant::now(),
    }
}

/// What one phase of a load measured: (HTTP status, milliseconds) of each request, and how
/// long the phase took.
#[allow(dead_code)]
pub struct Phase {
    pub results: Vec<(u16, f64)>,
    pub seconds: f64,
}

#[allow(dead_code)]
impl Phase {
    pub fn per_second(&self) -> f64 {
        self.results.len() as f64 / self.seconds
    }

    /// How many answered `status`.
    pub fn answered(&self, status: u16) -> usize {
        self.results.iter().filter(|(s, _)| *s == status).count()
    }

    pub fn statuses(&self) -> std::collections::BTreeMap<u16, usize> {
        let mut statuses = std::collections::BTreeMap::new();
        for (status, _) in &self.results {
            *statuses.entry(*status).or_insert(0) += 1;
        }
        statuses
    }

    fn sorted(&self) -> Vec<f64> {
        let mut latencies: Vec<f64> = self.results.iter().map(|(_, ms)| *ms).collect();
        latencies.sort_by(f64::total_cmp);
        latencies
    }

    pub fn percentile(&self, p: f64) -> f64 {
        percentile(&self.sorted(), p)
    }

    /// "3000 bookings in 9.8 s = 306 req/s; latency p50 …".
    pub fn summary(&self, noun: &str) -> String {
        format!(
            "{} {noun} in {:.1} s = {:.0} req/s; latency {}",
            self.results.len(),
            self.seconds,
            self.per_second(),
            spread(&self.sorted())
        )
    }
}

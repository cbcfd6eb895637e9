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

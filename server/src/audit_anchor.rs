//! The audit chain's sealed head, kept outside the database: a JSON line appended to a file
//! (and written to the log) on a schedule and by `bedside audit anchor`. Whoever can write to
//! the database can delete the newest entries and move the chain's head back, and the chain
//! alone cannot show it; an anchor taken before can (`bedside audit verify --anchor FILE`).

use crate::settings::Settings;
use anyhow::Context as _;
use app::audit::service::{self as audit, Anchor};
use app::crypto::AuditSeal;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where anchors go: the configured file, or `data_dir/audit-anchors.jsonl`.
pub fn anchor_file(settings: &Settings) -> PathBuf {
    settings
        .audit_anchor_file
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("audit-anchors.jsonl"))
}

/// Takes the chain's head now, appends it to `file` as one JSON line and logs it.
pub async fn export(
    db: &DatabaseConnection,
    seal: &AuditSeal,
    file: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Anchor> {
    let anchor = audit::anchor(db, seal, now).await?;
    let line = serde_json::to_string(&anchor)?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    writeln!(out, "{line}").with_context(|| format!("writing {}", file.display()))?;
    out.sync_all()?;
    tracing::info!(seq = anchor.seq, hash = %anchor.hash, seal = %anchor.seal, "audit chain anchored");
    Ok(anchor)
}

/// The newest anchor in `file` (its last line).
pub fn newest(file: &Path) -> anyhow::Result<Anchor> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("{} holds no anchor", file.display()))?;
    serde_json::from_str(line)
        .with_context(|| format!("the last line of {} is not an anchor", file.display()))
}

/// Exports an anchor every `minutes` while the server runs.
pub async fn export_periodically(
    db: DatabaseConnection,
    seal: AuditSeal,
    file: PathBuf,
    clock: app::clock::SharedClock,
    minutes: u64,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(minutes.max(1) * 60));
    loop {
        tick.tick().await;
        if let Err(error) = export(&db, &seal, &file, clock.now()).await {
            tracing::error!(%error, "could not export the audit chain's head");
        }
    }
}

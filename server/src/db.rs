//! The database connection: SQLite or PostgreSQL, chosen by the URL.

use crate::settings::Settings;
use anyhow::Context;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait};
use std::time::Duration;

/// Connects (creating the SQLite file's folder when needed) and returns the pool.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = &settings.database_url;
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or_default();
        if !path.is_empty() && path != ":memory:" {
            if let Some(parent) = std::path::Path::new(path).parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
        }
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(max_connections(settings))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(
            settings.database_acquire_timeout_seconds.max(1),
        ))
        .sqlx_logging(false);
    // Per-connection SQLite settings: WAL lets readers go on while one writer commits, foreign
    // keys are off unless asked for, and a busy writer is waited for instead of failing.
    options.map_sqlx_sqlite_opts(|opts| {
        opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
    });
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(url)))?;
    Ok(db)
}

/// The pool's size. SQLite writes one at a time, so a few connections serve it. PostgreSQL does
/// most with about as many busy connections as it has cores to run them (more only queue
/// inside the database, switching between them); a few per core cover those waiting on the
/// network or on a lock.
pub fn max_connections(settings: &Settings) -> u32 {
    if let Some(n) = settings.database_max_connections {
        return n.max(1);
    }
    if settings.database_url.starts_with("sqlite:") {
        return 8;
    }
    let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
    u32::try_from(cores * 4).unwrap_or(32).clamp(8, 32)
}

/// Applies every pending migration in one transaction on one connection: an upgrade applies
/// whole or not at all, and SQLite never sees schema changes from two pooled connections.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = db
        .begin()
        .await
        .context("starting the migration transaction")?;
    Migrator::up(&txn, None)
        .await
        .context("applying migrations")?;
    txn.commit().await.context("committing migrations")
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            super::redact("postgres://bed:s3cret@db:5432/x"),
            "postgres://bed:***@db:5432/x"
        );
        assert_eq!(
            super::redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            super::redact("sqlite://data/bedside.db"),
            "sqlite://data/bedside.db"
        );
        // Redis URLs carry their password the same way (a bad one is named in start-up errors).
        assert_eq!(
            super::redact("redis://:s3cret@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
    }
}

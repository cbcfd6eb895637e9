//! Structured logs: readable lines in development, JSON in production.

use crate::settings::LogFormat;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// What is logged unless `RUST_LOG` says otherwise. The database drivers stay at `warn`: at
/// `debug` they print statements with their values (addresses, names).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,tower_http=info";

/// Installs the global subscriber; `RUST_LOG` overrides the default filter. Calling it twice
/// (as tests do) keeps the first. Logs go to stderr: stdout is the commands' own output
/// (`bedside outbox`, the address `serve` prints).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Pretty => registry
            .with(fmt::layer().compact().with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
}

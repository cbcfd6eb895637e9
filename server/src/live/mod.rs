//! Live events, the server's half (issue 15 §1): the stream each open tab reads them from
//! (`stream`, `GET /api/live`), fed by the process's bus (`crate::bus`), and the hourly pruning
//! of events older than `live.keep_hours`. The services announce events with
//! `app::live::service::publish` inside their transactions.

pub mod stream;

pub use stream::STREAM_PATH;

use crate::state::AppState;

pub fn routes() -> crate::area::Area {
    crate::area::Area::new().get(STREAM_PATH, stream::stream)
}

/// Every hour, forgets events older than `live.keep_hours` (a stream that was away longer
/// reloads what its page shows).
pub async fn prune_periodically(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let keep = chrono::Duration::hours(state.settings.live.keep_hours.max(1) as i64);
        let before = state.identity.now() - keep;
        if let Err(error) = app::live::service::prune(&state.db, before).await {
            tracing::warn!(%error, "could not prune old live events");
        }
    }
}

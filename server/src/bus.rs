//! The live-event bus: hands each committed live event to the streams of its person open in this process.
//!
//! On PostgreSQL one connection per process `LISTEN`s on `app::live::service::CHANNEL`; the
//! database delivers a `pg_notify` sent inside a writing transaction to every listening
//! process when (and only if) it commits, so a write through any process reaches the streams
//! of all. When that connection is lost the bus connects again, listens, and then tells every
//! stream to refill from the database (`Signal::Resync`): what was announced meanwhile is in
//! `live_event`. On SQLite (one process) the writer tells the bus the event's row id at once
//! (`app::live::service::local_wakes`); the bus looks for the row until it has committed (or
//! gives up on it after [`GIVE_UP`], the transaction having been rolled back).

use app::live::model::LiveEvent;
use app::live::service as live;
use sea_orm::{DatabaseConnection, DbBackend};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What a person's streams hear.
#[derive(Debug, Clone)]
pub enum Signal {
    /// An event, committed.
    Event(LiveEvent),
    /// Events may have gone by unheard: read them from the database.
    Resync,
}

/// Events queued per person before a slow stream is told to refill instead.
const PER_PERSON: usize = 256;
/// How long the one-process bus looks for an announced row before taking it as rolled back:
/// longer than any request may run (30 s).
const GIVE_UP: Duration = Duration::from_secs(35);

/// The streams open in this process, by person.
#[derive(Default)]
pub struct Bus {
    people: Mutex<HashMap<i32, broadcast::Sender<Signal>>>,
}

impl Bus {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// What `user_id`'s events will be sent to from now on.
    pub fn subscribe(&self, user_id: i32) -> broadcast::Receiver<Signal> {
        let mut people = self.people.lock().unwrap_or_else(PoisonError::into_inner);
        people.retain(|_, sender| sender.receiver_count() > 0);
        people
            .entry(user_id)
            .or_insert_with(|| broadcast::channel(PER_PERSON).0)
            .subscribe()
    }

    /// How many people have a stream open here.
    pub fn people(&self) -> usize {
        let people = self.people.lock().unwrap_or_else(PoisonError::into_inner);
        people.values().filter(|s| s.receiver_count() > 0).count()
    }

    pub fn deliver(&self, event: LiveEvent) {
        let people = self.people.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = people.get(&event.user_id) {
            // No receiver left: the entry goes at the next subscribe.
            let _ = sender.send(Signal::Event(event));
        }
    }

    pub fn resync_everyone(&self) {
        let people = self.people.lock().unwrap_or_else(PoisonError::into_inner);
        for sender in people.values() {
            let _ = sender.send(Signal::Resync);
        }
    }

    /// Starts hearing `db`'s events: the task runs until aborted.
    pub fn start(self: &Arc<Self>, db: DatabaseConnection) -> JoinHandle<()> {
        let bus = self.clone();
        match db.get_database_backend() {
            DbBackend::Postgres => tokio::spawn(listen(bus, db)),
            _ => tokio::spawn(watch_local(bus, db)),
        }
    }
}

/// PostgreSQL: one listening connection, connected again (and everyone resynced) when lost.
/// It is a connection of its own (a one-connection pool with the same options), not one of the
/// requests' connections held for ever.
async fn listen(bus: Arc<Bus>, db: DatabaseConnection) {
    use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    let mut pause = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(live::CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        let mut listener = match connected {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "live events: cannot listen; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        pause = Duration::from_millis(100);
        // Listening again: whatever was announced while nobody listened is in the database.
        bus.resync_everyone();
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) => match serde_json::from_str::<LiveEvent>(notice.payload()) {
                    Ok(event) => bus.deliver(event),
                    Err(error) => tracing::warn!(%error, "live events: a notice not understood"),
                },
                Ok(None) => {
                    tracing::warn!("live events: the listening connection was lost; reconnecting");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "live events: listening failed; reconnecting");
                    break;
                }
            }
        }
    }
}

/// SQLite: the rows this process announced, told once they are committed.
async fn watch_local(bus: Arc<Bus>, db: DatabaseConnection) {
    let mut wakes = live::local_wakes().subscribe();
    let mut pending: Vec<(String, Instant)> = Vec::new();
    let mut pause = Duration::from_millis(2);
    loop {
        let woken = if pending.is_empty() {
            Some(wakes.recv().await)
        } else {
            tokio::time::timeout(pause, wakes.recv()).await.ok()
        };
        let mut heard = |woken: Result<String, broadcast::error::RecvError>| match woken {
            Ok(id) => {
                pending.push((id, Instant::now() + GIVE_UP));
                true
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                bus.resync_everyone();
                true
            }
            Err(broadcast::error::RecvError::Closed) => false,
        };
        match woken {
            Some(woken) => {
                if !heard(woken) {
                    return;
                }
                while let Ok(id) = wakes.try_recv() {
                    heard(Ok(id));
                }
                // A new row: its transaction is about to commit, look again soon.
                pause = Duration::from_millis(2);
            }
            None => pause = (pause * 2).min(Duration::from_millis(250)),
        }
        if bus.people() == 0 {
            // Nobody to tell; a stream opened later reads its events from the database.
            pending.clear();
            continue;
        }
        let ids: Vec<String> = pending.iter().map(|(id, _)| id.clone()).collect();
        match live::committed(&db, &ids).await {
            Ok(mut found) => {
                // In each person's order, so no stream takes the first for a gap.
                found.sort_by_key(|(_, event)| (event.user_id, event.seq));
                for (id, event) in found {
                    pending.retain(|(waiting, _)| *waiting != id);
                    bus.deliver(event);
                }
            }
            Err(error) => tracing::warn!(%error, "live events: cannot read announced events"),
        }
        let now = Instant::now();
        pending.retain(|(_, until)| *until > now);
    }
}

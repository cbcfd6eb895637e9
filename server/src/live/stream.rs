//! `GET /api/live`: one server-sent-events stream per tab, for the signed-in person.
//!
//! Each event carries its number in the person's events as its SSE id. A page that reconnects
//! (the browser does it by itself) sends `Last-Event-ID`, and the stream first sends what came
//! after it, from the database; a number skipped on the way (a slow stream, a lost listening
//! connection) is refilled the same way, so a page misses nothing. Too old to refill (past
//! `live.keep_hours`, or more than `REFILL_LIMIT`): `resync`, and the page reloads what it shows.
//!
//! What the page hears: `unread` (`{count, latest}`: the notification count) and `messages`
//! (`{unread}`: messages waiting), each sent at the start and after events that change it;
//! `message` and `messages_read` (`{conversation}`: refetch it); `resync` (refetch
//! everything); `signed_out` when the session ends. The
//! session is checked again every `live.session_check_seconds` and before every delivery,
//! never counting as activity (the gate's `PASSIVE_PATHS`): the stream ends with the session
//! and never keeps it alive (P8).

use crate::bus::Signal;
use crate::state::AppState;
use app::auth::service::Authenticated;
use app::live::model::{LiveEvent, LiveKind};
use app::live::service::{self as live, REFILL_LIMIT};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

pub const STREAM_PATH: &str = "/api/live";

/// What the page hears about its notifications.
#[derive(Debug, serde::Serialize)]
struct Unread {
    count: u64,
    /// The newest unread notification's title, to announce.
    latest: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    headers: HeaderMap,
) -> Response {
    let signed_in = auth.filter(|Extension(a)| a.current_user().fully_signed_in);
    let token = crate::auth::cookie::session_token(&headers, state.settings.https());
    let (Some(Extension(auth)), Some(token)) = (signed_in, token) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0);
    // Subscribed before anything is read: an event committed from now on is heard, and one
    // committed before is in the database.
    let signals = state.bus.subscribe(auth.user_id);
    let (out, events) = mpsc::channel::<Event>(64);
    let page = Page {
        state: state.clone(),
        user_id: auth.user_id,
        token,
        out,
    };
    tokio::spawn(page.run(last_seen, signals));
    let events = futures::stream::unfold(events, |mut events| async move {
        events
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), events))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response()
}

/// One open stream.
struct Page {
    state: AppState,
    user_id: i32,
    token: app::auth::session::SessionToken,
    out: mpsc::Sender<Event>,
}

/// Why a stream stopped.
enum Ended {
    /// The page went away.
    Gone,
    /// The session ended; the page was told.
    SignedOut,
}

impl Page {
    async fn run(self, last_seen: Option<i64>, mut signals: broadcast::Receiver<Signal>) {
        let _ = self.serve(last_seen, &mut signals).await;
    }

    async fn serve(
        &self,
        last_seen: Option<i64>,
        signals: &mut broadcast::Receiver<Signal>,
    ) -> Result<(), Ended> {
        let db = &self.state.db;
        let mut sent = match last_seen {
            Some(seen) => self.refill(seen).await?,
            None => {
                self.check_session().await?;
                let newest = live::newest(db, self.user_id).await.unwrap_or(0);
                self.send_counts(newest).await?;
                newest
            }
        };
        let every = Duration::from_secs(self.state.settings.live.session_check_seconds.max(1));
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                _ = self.out.closed() => return Err(Ended::Gone),
                _ = check.tick() => self.check_session().await?,
                signal = signals.recv() => match signal {
                    Ok(Signal::Event(event)) if event.seq <= sent => {}
                    Ok(Signal::Event(event)) if event.seq == sent + 1 => {
                        self.check_session().await?;
                        sent = self.send(&[event]).await?;
                    }
                    // A number skipped, a listener lost, or this stream too slow.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        sent = self.refill(sent).await?;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err(Ended::Gone),
                },
            }
        }
    }

    /// Sends what came after `after` from the database; returns the number now sent.
    async fn refill(&self, after: i64) -> Result<i64, Ended> {
        self.check_session().await?;
        let db = &self.state.db;
        let newest = match live::newest(db, self.user_id).await {
            Ok(newest) => newest,
            Err(_) => return Ok(after),
        };
        if newest == after {
            return Ok(after);
        }
        let events = live::since(db, self.user_id, after)
            .await
            .unwrap_or_default();
        let complete = after < newest
            && events.first().is_some_and(|e| e.seq == after + 1)
            && (events.len() as u64) < REFILL_LIMIT;
        if !complete {
            // Pruned, too many, or a number from another database: start over.
            self.emit(
                Event::default()
                    .event("resync")
                    .id(newest.to_string())
                    .data("{}"),
            )
            .await?;
            self.send_counts(newest).await?;
            return Ok(newest);
        }
        self.send(&events).await
    }

    /// Sends `events` (in number order) as the page hears them; returns the last number.
    async fn send(&self, events: &[LiveEvent]) -> Result<i64, Ended> {
        let Some(last) = events.last() else {
            return Ok(0);
        };
        // Each count once, after the last event that changes it.
        let last_of = |kinds: &[LiveKind]| {
            events
                .iter()
                .rev()
                .find(|e| kinds.contains(&e.kind))
                .map(|e| e.seq)
        };
        let notifications = last_of(&[LiveKind::Notification, LiveKind::NotificationsRead]);
        let messages = last_of(&[LiveKind::Message, LiveKind::MessagesRead]);
        for event in events {
            match event.kind {
                LiveKind::Notification | LiveKind::NotificationsRead => {
                    if Some(event.seq) == notifications {
                        self.send_unread(event.seq).await?;
                    }
                }
                LiveKind::Message | LiveKind::MessagesRead => {
                    let about = serde_json::json!({ "conversation": event.subject });
                    self.emit(
                        Event::default()
                            .event(event.kind.as_str())
                            .id(event.seq.to_string())
                            .data(about.to_string()),
                    )
                    .await?;
                    if Some(event.seq) == messages {
                        self.send_messages_unread(event.seq).await?;
                    }
                }
            }
        }
        Ok(last.seq)
    }

    /// Both counts, as a page starting (or starting over) needs them.
    async fn send_counts(&self, seq: i64) -> Result<(), Ended> {
        self.send_unread(seq).await?;
        self.send_messages_unread(seq).await
    }

    async fn send_unread(&self, seq: i64) -> Result<(), Ended> {
        let unread = match unread(&self.state, self.user_id).await {
            Ok(unread) => unread,
            Err(error) => {
                tracing::warn!(%error, "could not read the unread notifications");
                return Ok(());
            }
        };
        let event = Event::default()
            .event("unread")
            .id(seq.to_string())
            .json_data(&unread)
            .unwrap_or_else(|_| Event::default().event("unread").data("{}"));
        self.emit(event).await
    }

    /// `messages`: `{unread}`, the messages waiting for this person (the header's count).
    async fn send_messages_unread(&self, seq: i64) -> Result<(), Ended> {
        let now = self.state.identity.now();
        let count =
            match app::messages::reading::unread_total(&self.state.db, self.user_id, now).await {
                Ok(count) => count,
                Err(error) => {
                    tracing::warn!(%error, "could not count the unread messages");
                    return Ok(());
                }
            };
        let about = serde_json::json!({ "unread": count });
        self.emit(
            Event::default()
                .event("messages")
                .id(seq.to_string())
                .data(about.to_string()),
        )
        .await
    }

    async fn emit(&self, event: Event) -> Result<(), Ended> {
        self.out.send(event).await.map_err(|_| Ended::Gone)
    }

    /// The session still open, not counting this as activity; else the page is told and the
    /// stream ends.
    async fn check_session(&self) -> Result<(), Ended> {
        let alive = matches!(
            self.state.identity.authenticate_with(&self.token, false).await,
            Ok(Some(auth)) if auth.current_user().fully_signed_in && auth.user_id == self.user_id
        );
        if alive {
            return Ok(());
        }
        let _ = self
            .out
            .send(Event::default().event("signed_out").data("{}"))
            .await;
        Err(Ended::SignedOut)
    }
}

async fn unread(state: &AppState, user_id: i32) -> Result<Unread, app::AppError> {
    use app::notifications::service;
    let count = service::unread_count(&state.db, user_id).await?;
    let latest = if count > 0 {
        service::newest_unread_title(&state.db, &state.keyring, user_id).await?
    } else {
        None
    };
    Ok(Unread { count, latest })
}

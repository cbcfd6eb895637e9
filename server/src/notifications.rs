//! `GET /api/notifications/live`: the signed-in person's unread count, pushed as server-sent
//! events when it changes, so a notification arrives while the portal is open.
//!
//! Each connection looks at the count every `notifications.live_poll_seconds` (one indexed
//! query), which works the same with one process or several behind a load balancer, with no
//! broker. Before every look the session is checked again *without* counting as activity: the
//! stream ends (`signed_out`) as soon as the session does (P8), and an open tab never keeps a
//! session alive.

use crate::state::AppState;
use app::auth::service::Authenticated;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Extension,
};
use futures::stream::{self, StreamExt};
use std::time::Duration;

pub const LIVE_PATH: &str = "/api/notifications/live";

/// What the page hears.
#[derive(Debug, serde::Serialize)]
struct Unread {
    count: u64,
    /// The newest unread notification's title, to announce.
    latest: Option<String>,
}

pub async fn live(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    headers: HeaderMap,
) -> Response {
    let signed_in = auth.is_some_and(|Extension(a)| a.current_user().fully_signed_in);
    let token = crate::auth::cookie::session_token(&headers, state.settings.https());
    let (true, Some(token)) = (signed_in, token) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let every = Duration::from_secs(state.settings.notifications.live_poll_seconds.max(1));
    // (last count sent, first round, ended)
    let events = stream::unfold((None::<u64>, true, false), move |(last, first, ended)| {
        let state = state.clone();
        let token = token.clone();
        async move {
            if ended {
                return None;
            }
            if !first {
                tokio::time::sleep(every).await;
            }
            let auth = match state.identity.authenticate_with(&token, false).await {
                Ok(Some(auth)) if auth.current_user().fully_signed_in => auth,
                _ => {
                    let event = Event::default().event("signed_out").data("{}");
                    return Some((Some(event), (last, false, true)));
                }
            };
            match latest_unread(&state, auth.user_id).await {
                Ok(unread) if Some(unread.count) != last => {
                    let count = unread.count;
                    let event = Event::default()
                        .event("unread")
                        .json_data(&unread)
                        .unwrap_or_else(|_| Event::default().event("unread").data("{}"));
                    Some((Some(event), (Some(count), false, false)))
                }
                Ok(_) => Some((None, (last, false, false))),
                Err(error) => {
                    tracing::warn!(%error, "could not read the unread notifications");
                    Some((None, (last, false, false)))
                }
            }
        }
    })
    .filter_map(|event| async move { event.map(Ok::<_, std::convert::Infallible>) });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response()
}

async fn latest_unread(state: &AppState, user_id: i32) -> Result<Unread, app::AppError> {
    use app::notifications::service;
    let count = service::unread_count(&state.db, user_id).await?;
    let latest = if count > 0 {
        service::newest_unread_title(&state.db, &state.keyring, user_id).await?
    } else {
        None
    };
    Ok(Unread { count, latest })
}

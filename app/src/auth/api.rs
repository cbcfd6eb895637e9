//! Identity's server functions.

use super::model::{AppFrame, MfaSetup, SecurityOverview, SessionStatus};
use crate::AppError;
use leptos::prelude::*;

/// Reading the request's identity inside a server function or a server-rendered page.
#[cfg(feature = "ssr")]
pub use super::context;

/// The signed-in person, if any, and the practice's name.
#[server]
pub async fn get_app_frame() -> Result<AppFrame, AppError> {
    let practice_name = context::practice_name();
    let auth = context::authenticated();
    let (unread_notifications, unread_messages) = match &auth {
        Some(a) if a.current_user().fully_signed_in => {
            let identity = context::identity()?;
            let db = identity.db();
            (
                crate::notifications::service::unread_count(db, a.user_id).await?,
                crate::messages::reading::unread_total(db, a.user_id, identity.now()).await?,
            )
        }
        _ => (0, 0),
    };
    Ok(AppFrame {
        user: auth.map(|a| a.current_user()),
        practice_name,
        unread_notifications,
        unread_messages,
    })
}

/// Counts as activity (the gate touched the session on the way in): "stay signed in".
#[server(endpoint = "keep_alive")]
pub async fn keep_alive() -> Result<SessionStatus, AppError> {
    let auth = context::authenticated().ok_or(AppError::Unauthorized)?;
    Ok(SessionStatus {
        signed_in: true,
        seconds_left: auth.idle_timeout_seconds,
    })
}

/// How long until an idle sign-out, without counting as activity (the gate does not touch the
/// session for this endpoint).
#[server(endpoint = "session_status")]
pub async fn check_session_status() -> Result<SessionStatus, AppError> {
    let Some(auth) = context::authenticated() else {
        return Ok(SessionStatus {
            signed_in: false,
            seconds_left: 0,
        });
    };
    let identity = context::identity()?;
    let idle = (identity.now() - auth.session.last_seen_at).num_seconds();
    Ok(SessionStatus {
        signed_in: true,
        seconds_left: (auth.idle_timeout_seconds - idle).max(0),
    })
}

/// Password, MFA and sessions of the signed-in person.
#[server]
pub async fn load_security_overview() -> Result<SecurityOverview, AppError> {
    use crate::appointments::feeds;
    let me = context::signed_in()?;
    let calendar = if feeds::offered_to(me.auth.role) {
        Some(
            feeds::active_since(me.db(), me.auth.user_id)
                .await?
                .map(|at| at.format("%B %-d, %Y").to_string()),
        )
    } else {
        None
    };
    Ok(SecurityOverview {
        user: me.auth.current_user(),
        sessions: me.identity().list_sessions(&me.auth).await?,
        recovery_codes_left: me.identity().recovery_codes_left(me.auth.user_id).await?,
        calendar,
    })
}

/// Starts setting up an authenticator app (allowed before MFA exists, which is the point).
#[server]
pub async fn start_mfa_setup() -> Result<MfaSetup, AppError> {
    let auth = context::authenticated().ok_or(AppError::Unauthorized)?;
    let identity = context::identity()?;
    let enrollment = identity.begin_mfa_enrollment(&auth).await?;
    Ok(MfaSetup {
        qr_svg: enrollment.qr_svg,
        manual_key: enrollment.manual_key,
        otpauth_url: enrollment.otpauth_url,
    })
}

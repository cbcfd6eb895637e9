//! Identity's server functions, and the request context every server function starts from.

use super::model::{AppFrame, MfaSetup, SecurityOverview, SessionStatus};
use crate::AppError;
use leptos::prelude::*;

/// Reading the request's identity inside a server function or a server-rendered page.
#[cfg(feature = "ssr")]
pub mod context {
    use crate::audit::service::ClientInfo;
    use crate::auth::guard::Caller;
    use crate::auth::service::{Authenticated, Identity};
    use crate::AppError;
    use leptos::prelude::use_context;

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    /// The session the gate found on this request, whatever its stage.
    pub fn authenticated() -> Option<Authenticated> {
        parts()?.extensions.get::<Authenticated>().cloned()
    }

    pub fn client() -> ClientInfo {
        parts()
            .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
            .unwrap_or_default()
    }

    pub fn identity() -> Result<Identity, AppError> {
        use_context::<Identity>()
            .ok_or_else(|| AppError::internal("identity is not in the context"))
    }

    pub fn keyring() -> Result<crate::crypto::Keyring, AppError> {
        use_context::<crate::crypto::Keyring>()
            .ok_or_else(|| AppError::internal("the keyring is not in the context"))
    }

    /// The fully signed-in caller, or `Unauthorized`.
    pub fn caller() -> Result<(Identity, Authenticated, Caller), AppError> {
        let auth = authenticated().ok_or(AppError::Unauthorized)?;
        let caller = auth.caller(&client()).ok_or(AppError::Unauthorized)?;
        Ok((identity()?, auth, caller))
    }

    /// Sets the page's HTTP status (a 403 page is a 403 response).
    pub fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }
}

/// The signed-in person, if any, and the practice's name.
#[server]
pub async fn get_app_frame() -> Result<AppFrame, AppError> {
    let practice_name = use_context::<std::sync::Arc<crate::site::model::SiteContent>>()
        .map_or_else(|| "Bedside".to_owned(), |site| site.practice.name.clone());
    let auth = context::authenticated();
    let unread_notifications = match &auth {
        Some(a) if a.current_user().fully_signed_in => {
            crate::notifications::service::unread_count(context::identity()?.db(), a.user_id)
                .await?
        }
        _ => 0,
    };
    Ok(AppFrame {
        user: auth.map(|a| a.current_user()),
        practice_name,
        unread_notifications,
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
    let (identity, auth, _) = context::caller()?;
    let calendar = if feeds::offered_to(auth.role) {
        Some(
            feeds::active_since(identity.db(), auth.user_id)
                .await?
                .map(|at| at.format("%B %-d, %Y").to_string()),
        )
    } else {
        None
    };
    Ok(SecurityOverview {
        user: auth.current_user(),
        sessions: identity.list_sessions(&auth).await?,
        recovery_codes_left: identity.recovery_codes_left(auth.user_id).await?,
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

//! The request context every server function and server-rendered page starts from: who is
//! signed in ([`SignedIn`]), and what the server put in the Leptos context for the request.

use crate::audit::service::ClientInfo;
use crate::auth::guard::Caller;
use crate::auth::service::{Authenticated, Identity};
use crate::AppError;
use chrono::{DateTime, Utc};
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
    use_context::<Identity>().ok_or_else(|| AppError::internal("identity is not in the context"))
}

/// The address patients reach the site at (`https://harbor.example`), as configured.
#[derive(Debug, Clone)]
pub struct SiteAddress(pub String);

/// The site's address, from the request's context.
pub fn site_address() -> Result<String, AppError> {
    use_context::<SiteAddress>()
        .map(|a| a.0)
        .ok_or_else(|| AppError::internal("the site's address is not in the context"))
}

pub fn keyring() -> Result<crate::crypto::Keyring, AppError> {
    use_context::<crate::crypto::Keyring>()
        .ok_or_else(|| AppError::internal("the keyring is not in the context"))
}

/// A fully signed-in person (password and, where required, second factor) and what every
/// service acting for them needs: the database, the clock, the keyring, the audit identity.
/// Server functions start with [`signed_in`]; services take `&SignedIn` instead of a row of
/// arguments.
#[derive(Clone)]
pub struct SignedIn {
    /// The session and the person behind it (role, patient record).
    pub auth: Authenticated,
    /// Who the audit log names for what this request does.
    pub caller: Caller,
    identity: Identity,
    soon: Option<crate::jobs::Soon>,
}

impl SignedIn {
    /// `None` unless `auth` is fully signed in. `soon` starts a job at once (the server's
    /// scheduler); without it, the worker sends jobs when they are due.
    pub fn new(
        identity: Identity,
        auth: Authenticated,
        client: &ClientInfo,
        soon: Option<crate::jobs::Soon>,
    ) -> Option<Self> {
        let caller = auth.caller(client)?;
        Some(Self {
            auth,
            caller,
            identity,
            soon,
        })
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        self.identity.db()
    }

    /// The time every rule reads (the test's clock in tests).
    pub fn now(&self) -> DateTime<Utc> {
        self.identity.now()
    }

    pub fn keyring(&self) -> &crate::crypto::Keyring {
        self.identity.keyring()
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Runs the jobs due now and waits (see [`crate::jobs::RunSoon::run_due_now`]); without a
    /// runner, the worker runs them.
    pub async fn run_due_now(&self) {
        match &self.soon {
            Some(soon) => soon.run_due_now().await,
            None => tracing::debug!("no runner here; the worker runs the due jobs"),
        }
    }

    /// Starts `job` now in the background (see [`crate::jobs::RunSoon`]); without a runner,
    /// the worker sends it when it is due.
    pub fn run_soon(&self, job: i32, what: &'static str) {
        match &self.soon {
            Some(soon) => soon.run_soon(job, what),
            None => tracing::debug!(job, what, "no runner here; the worker sends it when due"),
        }
    }
}

impl crate::jobs::RunSoon for SignedIn {
    fn run_soon(&self, job: i32, what: &'static str) {
        SignedIn::run_soon(self, job, what);
    }

    fn run_due_now(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(SignedIn::run_due_now(self))
    }
}

/// The practice's name, as its published content says ("Bedside" before that is loaded).
pub fn practice_name() -> String {
    use_context::<std::sync::Arc<crate::site::model::SiteContent>>()
        .map_or_else(|| "Bedside".to_owned(), |site| site.practice.name.clone())
}

/// Where patients pay, as the server configured it (the built-in test-mode processor or
/// Stripe).
pub fn payments() -> Result<crate::billing::processor::Payments, AppError> {
    use_context::<crate::billing::processor::Payments>()
        .ok_or_else(|| AppError::internal("the payment processor is not in the context"))
}

/// Counts an attempt against each of `keys` (the server's attempt limits, shared across
/// processes): `RateLimited` when one is spent. Without limits in the context the attempt is
/// refused: deny when in doubt.
pub async fn limit(keys: &[String]) -> Result<(), AppError> {
    let limits = use_context::<AttemptLimit>()
        .ok_or_else(|| AppError::internal("the attempt limits are not in the context"))?;
    limits
        .check(keys)
        .await
        .map_err(|retry_after_seconds| AppError::RateLimited {
            retry_after_seconds,
        })
}

/// The server's attempt limits, lent to server functions.
pub trait AttemptLimiter: Send + Sync {
    /// `Err(seconds to wait)` when any key is spent.
    fn check<'a>(
        &'a self,
        keys: &'a [String],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), u64>> + Send + 'a>>;
}

/// The request's [`AttemptLimiter`], as server functions find it in their context.
pub type AttemptLimit = std::sync::Arc<dyn AttemptLimiter>;

/// The fully signed-in person of this request, or `Unauthorized` (the page links to sign-in).
pub fn signed_in() -> Result<SignedIn, AppError> {
    let auth = authenticated().ok_or(AppError::Unauthorized)?;
    let soon = use_context::<crate::jobs::Soon>();
    SignedIn::new(identity()?, auth, &client(), soon).ok_or(AppError::Unauthorized)
}

/// Sets the page's HTTP status (a 403 page is a 403 response).
pub fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// Whether this request is a plain form post (no JavaScript): the browser asks for HTML. A call
/// from a hydrated page (Leptos's server-function client) asks for JSON.
pub fn is_plain_form_post() -> bool {
    parts()
        .and_then(|p| p.headers.get(http::header::ACCEPT).cloned())
        .and_then(|v| v.to_str().map(|v| v.contains("text/html")).ok())
        .unwrap_or(false)
}

/// How a write's server function answers, for both ways it is called.
///
/// - A plain form post (no JavaScript) is sent on (post/redirect/get): to `done(value)` when the
///   write went through, to `refused(error)` when it did not, so the page it lands on says the
///   outcome from its address. Nothing the person typed goes into the address.
/// - A call from the hydrated page keeps the value or the error; the page updates in place. An
///   error also sets its HTTP status (403, 409, 422), for any other client.
pub fn answer_write<T>(
    result: Result<T, AppError>,
    done: impl FnOnce(&T) -> String,
    refused: impl FnOnce(&AppError) -> String,
) -> Result<T, AppError> {
    if is_plain_form_post() {
        let to = match &result {
            Ok(value) => done(value),
            Err(error) => refused(error),
        };
        leptos_axum::redirect(&to);
        // "See other": the page to show is fetched with GET (post/redirect/get).
        set_status(http::StatusCode::SEE_OTHER);
    } else if let Err(error) = &result {
        set_status(error.status());
    }
    result
}

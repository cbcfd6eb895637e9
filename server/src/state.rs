//! What every handler can reach ([`AppState`]), what every rendered page finds in its Leptos
//! context, and the one way a plain form's page is rendered again ([`render_page`]). The areas
//! build on this; `startup` assembles it.

use crate::auth::limits::AttemptLimits;
use crate::security::CspNonce;
use crate::settings::Settings;
use crate::site::limit::ContactRateLimit;
use app::site::service::SiteContentStore;
use app::{auth::service::Identity, clock::SharedClock, crypto::Keyring, mail::Mailer};
use axum::{body::Bytes, extract::FromRef};
use leptos::{config::LeptosOptions, prelude::*};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What every handler can reach. Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
    pub site: SiteContentStore,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn app::sms::SmsSender>,
    pub contact_limit: ContactRateLimit,
    /// Keys for health data at rest (see `keys.rs`).
    pub keyring: Keyring,
    /// Accounts, sessions and sign-in.
    pub identity: Identity,
    pub attempt_limits: AttemptLimits,
    /// The time every rule reads (a fake one in tests).
    pub clock: SharedClock,
    /// The durable job scheduler (emails now; payment retries and reminders later).
    pub jobs: Arc<crate::jobs::Scheduler>,
    /// Where patients pay (the built-in test-mode processor until Stripe is connected).
    pub payments: Arc<dyn app::billing::processor::PaymentProcessor>,
    /// The built-in processor, whose checkout pages this server shows.
    pub local_payments: Option<crate::billing::local::LocalProcessor>,
    /// The secret payment events are signed with.
    pub webhook_secret: Arc<Vec<u8>>,
    /// The practice's schedule, kept while the database says it is current.
    pub schedules: app::appointments::service::schedule::ScheduleCache,
    /// The record's files, sealed (`storage.rs`).
    pub objects: crate::storage::Objects,
    /// Live events heard in this process, by person (`bus::Bus`).
    pub bus: std::sync::Arc<crate::bus::Bus>,
    pub(crate) baseline: Option<Bytes>,
    /// Development only: the clock `POST /dev/clock` moves.
    pub(crate) dev_clock: Option<crate::dev_clock::ShiftedClock>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// What every rendered page finds in its Leptos context: this response's CSP nonce and
    /// the practice's public content.
    pub fn leptos_context(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let site = self.site.clone();
        let identity = self.identity.clone();
        let keyring = self.keyring.clone();
        let schedules = self.schedules.clone();
        let objects = self.objects.clone();
        let address = app::auth::context::SiteAddress(self.settings.public_url.clone());
        let soon = self.jobs.soon();
        let payments: app::billing::processor::Payments = self.payments.clone();
        let limits: app::auth::context::AttemptLimit = Arc::new(self.attempt_limits.clone());
        move || {
            provide_context(identity.clone());
            provide_context(soon.clone());
            provide_context(payments.clone());
            provide_context(limits.clone());
            provide_context(keyring.clone());
            provide_context(schedules.clone());
            provide_context(objects.clone());
            provide_context(address.clone());
            if let Some(parts) = use_context::<http::request::Parts>() {
                if let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>() {
                    provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
                }
            }
            if let Some(content) = site.current() {
                provide_context(content);
            }
        }
    }

    /// The document shell, as leptos_axum's handlers want it.
    pub fn shell(&self) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
        let options = self.leptos_options.clone();
        move || app::shell(options.clone()).into_any()
    }
}

/// Renders the page at `parts`' path with `page` in its context (a form shown again with its
/// messages, or a result shown once).
pub async fn render_page<T: Clone + Send + Sync + 'static>(
    state: &AppState,
    parts: http::request::Parts,
    page: T,
    status: http::StatusCode,
) -> axum::response::Response {
    let mut parts = parts;
    parts.method = http::Method::GET;
    let context = state.leptos_context();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            context();
            provide_context(page.clone());
        },
        state.shell(),
    );
    let mut response = render(http::Request::from_parts(parts, axum::body::Body::empty())).await;
    *response.status_mut() = status;
    response
}

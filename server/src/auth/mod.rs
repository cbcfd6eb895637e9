//! Identity on the HTTP side: the session gate (middleware), the sign-in and account forms,
//! attempt limits, and the Redis session store.

pub mod address_in_use;
pub mod cookie;
pub mod gate;
pub mod handlers;
pub mod limits;
pub mod password_reset;
pub mod redis_store;

use crate::area::Area;

/// The sign-in and account forms (their pages do not hydrate: DECISIONS #1, #9).
pub fn routes() -> Area {
    Area::new()
        .post("/signin", handlers::sign_in)
        .post("/signin/mfa", handlers::second_factor)
        .post("/signin/forgot", handlers::forgot)
        .post("/signin/reset", handlers::reset)
        .post("/signout", handlers::sign_out)
        .post("/account/mfa/setup", handlers::confirm_mfa)
        .post("/account/password", handlers::change_password)
        .post("/account/sessions/revoke", handlers::revoke_session)
        .post("/account/recovery-codes", handlers::new_recovery_codes)
        .post("/account/calendar", handlers::calendar_feed)
}

/// What the account emails need: the accounts, the mail, the practice's name and address.
pub struct AccountMail {
    pub identity: app::auth::service::Identity,
    pub mailer: std::sync::Arc<dyn app::mail::Mailer>,
    pub site: app::site::service::SiteContentStore,
    pub public_url: String,
}

impl AccountMail {
    fn new(services: &crate::jobs::JobServices) -> Self {
        AccountMail {
            identity: services.identity.clone(),
            mailer: services.mailer.clone(),
            site: services.site.clone(),
            public_url: services.public_url.clone(),
        }
    }

    /// Bedside's address followed by `path`, for a link in an email.
    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }

    async fn send(&self, email: app::mail::OutgoingEmail) -> Result<(), crate::jobs::JobError> {
        self.mailer
            .send(email)
            .await
            .map_err(|e| crate::jobs::JobError::Retry(e.to_string()))
    }
}

/// Identity's jobs: the password-reset email and the "someone tried to join with your address"
/// email.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    use std::sync::Arc;
    scheduler.register(
        address_in_use::KIND,
        Arc::new(address_in_use::EmailAddressInUse(AccountMail::new(
            services,
        ))),
    );
    scheduler.register(
        password_reset::KIND,
        Arc::new(password_reset::SendPasswordReset(AccountMail::new(
            services,
        ))),
    );
}

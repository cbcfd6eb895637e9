//! The two real [`Mailer`]s: SMTP through lettre, and the local outbox table.

pub mod outbox;
mod smtp;

pub use outbox::OutboxMailer;
pub use smtp::SmtpMailer;

use crate::settings::{MailSettings, MailTransport};
use app::mail::Mailer;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The mailer the configuration asks for.
pub fn from_settings(
    settings: &MailSettings,
    db: DatabaseConnection,
    keyring: &app::crypto::Keyring,
) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match settings.transport {
        MailTransport::Outbox => Arc::new(OutboxMailer::new(
            db,
            keyring.clone(),
            settings.from.clone(),
        )),
        MailTransport::Smtp => Arc::new(SmtpMailer::new(&settings.smtp, &settings.from)?),
    })
}

//! Outgoing email: the [`Mailer`] trait every feature sends through.
//!
//! The trait lives here, beside the server functions that call it; its implementations (SMTP
//! through lettre, and the local outbox table) live in the `bedside` server crate, which picks
//! one from configuration.

pub mod outbox_email;

use std::fmt;

/// One plain-text email. Reminder and notice texts must carry no health information: an email
/// crosses servers Bedside does not control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text_body: String,
}

/// Why an email could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address {0:?}")]
    InvalidAddress(String),
    #[error("mail transport: {0}")]
    Transport(String),
}

/// Sends email. Implementations: `SmtpMailer` and `OutboxMailer` in the server crate.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError>;
}

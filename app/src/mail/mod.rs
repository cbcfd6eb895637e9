//! Outgoing email: the [`Mailer`] trait every feature sends through.
//!
//! The trait lives here, beside the server functions that call it; its implementations (SMTP
//! through lettre, and the local outbox table) live in the `bedside` server crate, which picks
//! one from configuration.

pub mod outbox_attachment;
pub mod outbox_email;

use std::fmt;

/// One plain-text email, with files attached if any. Reminder and notice texts must carry no
/// health information: an email crosses servers Bedside does not control.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub attachments: Vec<Attachment>,
}

/// A file sent with an email (a visit's calendar entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type, e.g. `text/calendar; method=PUBLISH; charset=utf-8`.
    pub content_type: String,
    pub content: Vec<u8>,
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

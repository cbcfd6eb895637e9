//! Text messages: the [`SmsSender`] trait every feature sends through.
//!
//! Implementations live in the server crate: the Twilio REST client, and the local outbox
//! table (the default, which needs no account). A text message crosses a carrier's network and
//! sits on a phone's lock screen: it carries no health information, only the date, time and
//! practice name.

pub mod outbox_sms;

use std::fmt;

/// One text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// E.164, e.g. `+12075550143`.
    pub to: String,
    pub body: String,
}

/// Why a text could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The provider refused the number: trying again will not help.
    #[error("the number {0} cannot receive text messages")]
    InvalidNumber(String),
    /// The provider could not be reached or refused for now: worth another try.
    #[error("text message provider: {0}")]
    Transport(String),
    /// The practice sends no texts (`sms.transport = "off"`).
    #[error("text messages are turned off for this practice")]
    TurnedOff,
}

/// Sends text messages.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync + fmt::Debug {
    async fn send(&self, sms: OutgoingSms) -> Result<(), SmsError>;

    /// False when the practice sends no texts: what would be a text goes by email instead.
    fn sends_texts(&self) -> bool {
        true
    }
}

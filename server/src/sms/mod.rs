//! The two real [`SmsSender`]s: Twilio's REST API, and the local outbox table.

pub mod outbox;
mod twilio;

pub use outbox::OutboxSms;
pub use twilio::TwilioSms;

use crate::settings::{SmsSettings, SmsTransport};
use app::sms::SmsSender;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The sender the configuration asks for.
pub fn from_settings(
    settings: &SmsSettings,
    db: DatabaseConnection,
    keyring: &app::crypto::Keyring,
) -> anyhow::Result<Arc<dyn SmsSender>> {
    Ok(match settings.transport {
        SmsTransport::Outbox => {
            Arc::new(OutboxSms::new(db, keyring.clone(), settings.from.clone()))
        }
        SmsTransport::Twilio => Arc::new(TwilioSms::new(&settings.twilio, &settings.from)?),
        SmsTransport::Off => Arc::new(NoTexts),
    })
}

/// The practice sends no texts (`sms.transport = "off"`): what would be a text goes by email
/// (`SmsSender::sends_texts` is false), and a text that is sent anyway is refused, not dropped.
#[derive(Debug, Clone, Copy)]
pub struct NoTexts;

#[async_trait::async_trait]
impl SmsSender for NoTexts {
    async fn send(&self, _sms: app::sms::OutgoingSms) -> Result<(), app::sms::SmsError> {
        Err(app::sms::SmsError::TurnedOff)
    }

    fn sends_texts(&self) -> bool {
        false
    }
}

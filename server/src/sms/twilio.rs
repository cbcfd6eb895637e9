//! Twilio's Messages API over HTTPS with reqwest: one form POST per text.

use crate::settings::TwilioSettings;
use app::sms::{OutgoingSms, SmsError, SmsSender};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Sends through Twilio (`POST /2010-04-01/Accounts/{sid}/Messages.json`).
pub struct TwilioSms {
    client: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: SecretString,
    from: String,
}

impl std::fmt::Debug for TwilioSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSms")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Twilio error codes that mean "this number will never get a text from us": not worth a retry.
/// 21211 invalid 'To', 21408 region not enabled, 21610 the recipient replied STOP, 21614 not a
/// mobile number.
const UNDELIVERABLE: [u32; 4] = [21211, 21408, 21610, 21614];

#[derive(serde::Deserialize)]
struct TwilioError {
    code: Option<u32>,
    message: Option<String>,
}

impl TwilioSms {
    pub fn new(settings: &TwilioSettings, from: &str) -> anyhow::Result<Self> {
        let auth_token = settings
            .auth_token
            .clone()
            .filter(|t| !t.expose_secret().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("sms.twilio.auth_token is required with sms.transport = \"twilio\"")
            })?;
        if settings.account_sid.is_empty() {
            anyhow::bail!("sms.twilio.account_sid is required with sms.transport = \"twilio\"");
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds))
            .build()?;
        Ok(TwilioSms {
            client,
            endpoint: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.base_url.trim_end_matches('/'),
                settings.account_sid
            ),
            account_sid: settings.account_sid.clone(),
            auth_token,
            from: from.to_owned(),
        })
    }
}

#[async_trait::async_trait]
impl SmsSender for TwilioSms {
    async fn send(&self, sms: OutgoingSms) -> Result<(), SmsError> {
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&[
                ("To", sms.to.as_str()),
                ("From", &self.from),
                ("Body", &sms.body),
            ])
            .send()
            .await
            .map_err(|e| SmsError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let error: Option<TwilioError> = response.json().await.ok();
        let code = error.as_ref().and_then(|e| e.code);
        let message = error
            .and_then(|e| e.message)
            .unwrap_or_else(|| status.to_string());
        match code {
            Some(code) if status.is_client_error() && UNDELIVERABLE.contains(&code) => {
                Err(SmsError::InvalidNumber(sms.to))
            }
            _ => Err(SmsError::Transport(format!(
                "Twilio answered {status}{}: {message}",
                code.map(|c| format!(" (code {c})")).unwrap_or_default()
            ))),
        }
    }
}

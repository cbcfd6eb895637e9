//! Production fails closed: a configuration that would quietly fake something a practice relies
//! on (payments, email, texts, TLS, keys, the time) is refused at start-up, with the setting to
//! change named. A development default that is fine on a laptop is a hole with real patients.

use crate::settings::{Environment, MailTransport, PaymentProcessorKind, Settings, SmsTransport};

/// A setting that a production configuration must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsafeInProduction {
    /// The built-in test processor takes Stripe's test cards; no money moves.
    TestPayments,
    /// Email kept in the local outbox table: nobody receives confirmations or reset links.
    MailOutbox,
    /// Texts kept in the local outbox table: nobody gets the day-before reminder.
    SmsOutbox,
    /// `public_url` is not `https://`: cookies and health data would travel in clear text.
    PlainHttp,
    /// No configured encryption key: a generated key would sit beside the data it protects.
    NoEncryptionKey,
    /// The development clock moves the server's time.
    DevClock,
}

impl UnsafeInProduction {
    /// Every refusal, for tests and documentation.
    pub const ALL: [UnsafeInProduction; 6] = [
        UnsafeInProduction::TestPayments,
        UnsafeInProduction::MailOutbox,
        UnsafeInProduction::SmsOutbox,
        UnsafeInProduction::PlainHttp,
        UnsafeInProduction::NoEncryptionKey,
        UnsafeInProduction::DevClock,
    ];

    /// A stable code (logs, tests).
    pub fn code(self) -> &'static str {
        match self {
            UnsafeInProduction::TestPayments => "test_payments",
            UnsafeInProduction::MailOutbox => "mail_outbox",
            UnsafeInProduction::SmsOutbox => "sms_outbox",
            UnsafeInProduction::PlainHttp => "plain_http",
            UnsafeInProduction::NoEncryptionKey => "no_encryption_key",
            UnsafeInProduction::DevClock => "dev_clock",
        }
    }

    /// What is wrong and which setting fixes it.
    pub fn message(self) -> &'static str {
        match self {
            UnsafeInProduction::TestPayments => {
                "payments.processor is \"local\", the built-in TEST processor (no money moves): \
                 set payments.processor = \"stripe\" (BEDSIDE_PAYMENTS__PROCESSOR) with its keys"
            }
            UnsafeInProduction::MailOutbox => {
                "mail.transport is \"outbox\" (emails stay in the database): set mail.transport = \
                 \"smtp\" (BEDSIDE_MAIL__TRANSPORT) and mail.smtp"
            }
            UnsafeInProduction::SmsOutbox => {
                "sms.transport is \"outbox\" (texts stay in the database): set sms.transport = \
                 \"twilio\" with sms.twilio, or \"off\" to send the day-before reminder by email \
                 (BEDSIDE_SMS__TRANSPORT)"
            }
            UnsafeInProduction::PlainHttp => {
                "public_url is not https://: set public_url (BEDSIDE_PUBLIC_URL) to the https \
                 address patients use"
            }
            UnsafeInProduction::NoEncryptionKey => {
                "no encryption key is configured: set encryption.keys (BEDSIDE_ENCRYPTION__KEYS, \
                 generate one with `openssl rand -base64 32`)"
            }
            UnsafeInProduction::DevClock => {
                "dev_clock_control moves the server's time: it is for development only; remove \
                 dev_clock_control and dev_clock_start"
            }
        }
    }
}

/// What a production configuration must change (nothing outside production).
pub fn unsafe_settings(settings: &Settings) -> Vec<UnsafeInProduction> {
    if settings.environment != Environment::Production {
        return Vec::new();
    }
    let checks = [
        (
            UnsafeInProduction::TestPayments,
            settings.payments.processor == PaymentProcessorKind::Local,
        ),
        (
            UnsafeInProduction::MailOutbox,
            settings.mail.transport == MailTransport::Outbox,
        ),
        (
            UnsafeInProduction::SmsOutbox,
            settings.sms.transport == SmsTransport::Outbox,
        ),
        (
            UnsafeInProduction::PlainHttp,
            !settings.public_url.starts_with("https://"),
        ),
        (
            UnsafeInProduction::NoEncryptionKey,
            settings.encryption.keys.is_empty(),
        ),
        (
            UnsafeInProduction::DevClock,
            settings.dev_clock_control || settings.dev_clock_start.is_some(),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, unsafe_here)| *unsafe_here)
        .map(|(refusal, _)| refusal)
        .collect()
}

/// Refuses a production configuration with anything [`unsafe_settings`] finds, naming each.
pub fn refuse_unsafe(settings: &Settings) -> anyhow::Result<()> {
    let found = unsafe_settings(settings);
    if found.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = found
        .iter()
        .map(|refusal| format!("  - {}", refusal.message()))
        .collect();
    anyhow::bail!(
        "refusing to start in production with {} unsafe setting(s):\n{}",
        found.len(),
        lines.join("\n")
    )
}

/// Development tools (`seed-demo`, `mfa-code`) refuse a production configuration.
pub fn refuse_in_production(settings: &Settings, tool: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.environment != Environment::Production,
        "{tool} is for development and demos only; this configuration is production"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ConfiguredKey;

    /// A configuration production accepts.
    fn safe() -> Settings {
        let mut settings = Settings {
            environment: Environment::Production,
            public_url: "https://harbor.example".into(),
            ..Settings::default()
        };
        settings.payments.processor = PaymentProcessorKind::Stripe;
        settings.mail.transport = MailTransport::Smtp;
        settings.sms.transport = SmsTransport::Off;
        settings.encryption.keys = vec![ConfiguredKey {
            id: 1,
            key: Some("a2V5".to_owned().into()),
        }];
        settings
    }

    /// Makes `settings` unsafe in exactly the way `refusal` names.
    fn break_it(settings: &mut Settings, refusal: UnsafeInProduction) {
        match refusal {
            UnsafeInProduction::TestPayments => {
                settings.payments.processor = PaymentProcessorKind::Local
            }
            UnsafeInProduction::MailOutbox => settings.mail.transport = MailTransport::Outbox,
            UnsafeInProduction::SmsOutbox => settings.sms.transport = SmsTransport::Outbox,
            UnsafeInProduction::PlainHttp => settings.public_url = "http://harbor.example".into(),
            UnsafeInProduction::NoEncryptionKey => settings.encryption.keys.clear(),
            UnsafeInProduction::DevClock => settings.dev_clock_control = true,
        }
    }

    #[test]
    fn a_safe_production_configuration_starts() {
        assert_eq!(unsafe_settings(&safe()), vec![]);
        assert!(refuse_unsafe(&safe()).is_ok());
    }

    #[test]
    fn each_unsafe_setting_alone_is_refused_with_the_setting_named() {
        for refusal in UnsafeInProduction::ALL {
            let mut settings = safe();
            break_it(&mut settings, refusal);
            assert_eq!(
                unsafe_settings(&settings),
                vec![refusal],
                "{}",
                refusal.code()
            );
            let error = refuse_unsafe(&settings).expect_err("refused").to_string();
            assert!(error.contains(refusal.message()), "{error}");
        }
    }

    #[test]
    fn development_accepts_every_default_and_the_tools_refuse_production() {
        assert_eq!(unsafe_settings(&Settings::default()), vec![]);
        assert!(refuse_in_production(&Settings::default(), "seed-demo").is_ok());
        let error = refuse_in_production(&safe(), "seed-demo").expect_err("refused");
        assert!(error.to_string().contains("seed-demo is for development"));
    }
}

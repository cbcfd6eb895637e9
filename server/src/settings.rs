//! Typed configuration: defaults, then an optional TOML file, then `BEDSIDE_*` variables
//! (nested keys with `__`, e.g. `BEDSIDE_MAIL__SMTP__HOST`). Secrets are [`SecretString`]s,
//! so a `Debug` of the settings never prints them.

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub environment: Environment,
    /// Address to listen on; port 0 picks a free port (the tests use it).
    pub listen: SocketAddr,
    /// The address patients use, for links in emails.
    pub public_url: String,
    /// `sqlite://…` or `postgres://…`; the backend follows the URL.
    pub database_url: String,
    /// How long a request waits for a free database connection before it fails.
    pub database_acquire_timeout_seconds: u64,
    /// Connections this process keeps to the database at most; `None`: 8 for SQLite, and for
    /// PostgreSQL four per CPU core (between 8 and 32).
    pub database_max_connections: Option<u32>,
    /// Where local state lives (the SQLite file, local files, the development key).
    pub data_dir: PathBuf,
    /// Leptos's site options (where the built site and bundle are): see README, "Leptos.toml".
    pub leptos_config: PathBuf,
    /// `None` means the format follows the environment: pretty in development, JSON in production.
    pub log_format: Option<LogFormat>,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    pub shutdown_grace_seconds: u64,
    /// Trust the last `X-Forwarded-For` hop as the client address (behind a reverse proxy).
    pub behind_proxy: bool,
    pub tls: Option<TlsSettings>,
    pub mail: MailSettings,
    pub sms: SmsSettings,
    pub contact: ContactSettings,
    pub encryption: EncryptionSettings,
    pub sessions: SessionSettings,
    pub sign_in: SignInSettings,
    pub jobs: JobSettings,
    pub live: LiveSettings,
    pub payments: PaymentSettings,
    /// Where the record's files are kept: a local folder, or an S3-compatible bucket
    /// (`BEDSIDE_STORAGE__BACKEND=s3`, `…__BUCKET`, `…__ENDPOINT`, `…__REGION`,
    /// `…__ACCESS_KEY_ID`, `…__SECRET_ACCESS_KEY`).
    pub storage: crate::storage::StorageSettings,
    /// `redis://127.0.0.1:6379`: keep sessions in Redis (shared by several processes) instead
    /// of the database. `BEDSIDE_REDIS_URL`.
    pub redis_url: Option<String>,
    /// Prepended to every Redis key (several installations can share one Redis).
    pub redis_key_prefix: String,
    /// Serve this file at `/__baseline` (the benchmark's static-HTML baseline). Off by default.
    pub bench_baseline_file: Option<PathBuf>,
    /// Where the audit chain's sealed head is appended on a schedule (`bedside audit verify
    /// --anchor` reads it); `None`: `data_dir/audit-anchors.jsonl`. Keep it somewhere the
    /// database's users cannot write (another disk, a log shipper, an object store's sync).
    pub audit_anchor_file: Option<PathBuf>,
    /// How often the audit chain's head is exported, in minutes; 0 turns it off.
    pub audit_anchor_minutes: u64,
    /// Development only: serve `POST /dev/clock`, which moves this server's time (the browser
    /// tests of late cancellations and payment retries). Refused in production.
    pub dev_clock_control: bool,
    /// Development only, with `dev_clock_control`: the instant the server's clock (and the
    /// `seed-demo` and `mfa-code` commands' clock) starts at, RFC 3339. The browser tests start
    /// both of their servers at a fixed instant this way, so they pass on any day.
    /// `BEDSIDE_DEV_CLOCK_START`.
    pub dev_clock_start: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TlsSettings {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Keep every email in the `outbox_email` table (read with `bedside outbox`).
    Outbox,
    Smtp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The sender of every email, e.g. `Harbor Street Medicine <hello@example.com>`.
    pub from: String,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refuses to send without it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host (and for tests).
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransport {
    /// Keep every text in the `outbox_sms` table (read with `bedside outbox`).
    Outbox,
    Twilio,
    /// No texts: the day-before reminder goes by email instead (a practice without a text
    /// provider).
    Off,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsSettings {
    pub transport: SmsTransport,
    /// The number texts come from (E.164, e.g. `+12075550100`): one the provider gave the
    /// practice.
    pub from: String,
    pub twilio: TwilioSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwilioSettings {
    pub account_sid: String,
    #[serde(skip_serializing)]
    pub auth_token: Option<SecretString>,
    /// Twilio's API; the tests point it at a local fake.
    pub base_url: String,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProcessorKind {
    /// The built-in test-mode processor (Stripe's test cards, no money moves): the demo and a
    /// fresh machine.
    Local,
    Stripe,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentSettings {
    pub processor: PaymentProcessorKind,
    pub stripe: StripeSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StripeSettings {
    /// `sk_live_…` or `sk_test_…`. `BEDSIDE_PAYMENTS__STRIPE__SECRET_KEY`.
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// The webhook endpoint's signing secret, `whsec_…`.
    #[serde(skip_serializing)]
    pub webhook_secret: Option<SecretString>,
    /// Stripe's API; the tests point it at a local fake.
    pub api_base: String,
    pub timeout_seconds: u64,
}

/// Keys for health data at rest. Several may be configured (old ones still decrypt); new
/// values are encrypted under `active`. With none configured, development creates
/// `data_dir/dev-master.key`; production refuses to start.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EncryptionSettings {
    pub keys: Vec<ConfiguredKey>,
    /// Defaults to the highest configured id.
    pub active: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfiguredKey {
    pub id: u32,
    /// 32 random bytes, standard base64 (`openssl rand -base64 32`).
    #[serde(skip_serializing)]
    pub key: Option<SecretString>,
}

/// How long a signed-in session lasts without activity, and at most.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionSettings {
    /// Physician, staff and admin.
    pub practice_idle_minutes: i64,
    pub patient_idle_minutes: i64,
    pub absolute_hours: i64,
}

/// The background job worker.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct JobSettings {
    /// How often this process looks for due jobs; `0` runs no background worker here (a
    /// web-only process when others run the jobs, and the tests, which run jobs by hand).
    pub poll_seconds: u64,
}

/// Live events (`server/src/live`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LiveSettings {
    /// How often an open stream checks that its session is still open (it ends with the
    /// session; events themselves arrive as they happen, without looking).
    pub session_check_seconds: u64,
    /// How long events are kept for streams that reconnect (`Last-Event-ID`).
    pub keep_hours: u64,
}

/// Limits on guessing passwords and codes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SignInSettings {
    /// Attempts (sign-in, code, reset) per client address and per account, per minute.
    pub attempts_per_minute: u32,
    /// Wrong passwords, from anywhere, that lock an account to clients it does not know.
    pub lockout_after: i32,
    pub lockout_minutes: i64,
    /// Threads that check passwords (argon2id, ~19 MiB each while working); default: the cores.
    pub hashing_threads: Option<usize>,
    /// Password checks that may wait or run at once; past it sign-in answers 503 with
    /// Retry-After. Default: 64 per thread.
    pub hashing_queue: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactSettings {
    /// Messages one client address may send per hour before it is asked to wait.
    pub messages_per_hour: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            environment: Environment::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: "http://127.0.0.1:3000".into(),
            database_url: "sqlite://data/bedside.db?mode=rwc".into(),
            database_acquire_timeout_seconds: 10,
            database_max_connections: None,
            data_dir: PathBuf::from("data"),
            audit_anchor_file: None,
            audit_anchor_minutes: 60,
            leptos_config: PathBuf::from("Leptos.toml"),
            log_format: None,
            shutdown_grace_seconds: 20,
            behind_proxy: false,
            tls: None,
            mail: MailSettings {
                transport: MailTransport::Outbox,
                from: "Bedside <no-reply@localhost>".into(),
                smtp: SmtpSettings {
                    host: "localhost".into(),
                    port: 587,
                    security: SmtpSecurity::Starttls,
                    username: None,
                    password: None,
                    timeout_seconds: 15,
                },
            },
            storage: Default::default(),
            sms: SmsSettings {
                transport: SmsTransport::Outbox,
                from: "+10000000000".into(),
                twilio: TwilioSettings {
                    account_sid: String::new(),
                    auth_token: None,
                    base_url: "https://api.twilio.com".into(),
                    timeout_seconds: 15,
                },
            },
            encryption: EncryptionSettings::default(),
            contact: ContactSettings {
                messages_per_hour: 5,
            },
            sessions: SessionSettings {
                practice_idle_minutes: 15,
                patient_idle_minutes: 30,
                absolute_hours: 12,
            },
            sign_in: SignInSettings {
                attempts_per_minute: 10,
                lockout_after: 20,
                lockout_minutes: 30,
                hashing_threads: None,
                hashing_queue: None,
            },
            jobs: JobSettings { poll_seconds: 5 },
            live: LiveSettings {
                session_check_seconds: 15,
                keep_hours: 24,
            },
            payments: PaymentSettings {
                processor: PaymentProcessorKind::Local,
                stripe: StripeSettings {
                    secret_key: None,
                    webhook_secret: None,
                    api_base: "https://api.stripe.com".into(),
                    timeout_seconds: 20,
                },
            },
            redis_url: None,
            redis_key_prefix: "bedside:".into(),
            bench_baseline_file: None,
            dev_clock_control: false,
            dev_clock_start: None,
        }
    }
}

impl Settings {
    /// Defaults, then `file` (or `bedside.toml` when it exists), then `BEDSIDE_*` variables.
    /// The error names the setting that is wrong and why.
    pub fn load(file: Option<&std::path::Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("bedside.toml")),
        }
        figment
            .merge(Env::prefixed("BEDSIDE_").split("__"))
            .extract()
            .map_err(Box::new)
    }

    /// Whether browsers reach Bedside over HTTPS (this process's TLS, or a proxy's): then the
    /// session cookie is `Secure` and carries the `__Host-` prefix.
    pub fn https(&self) -> bool {
        self.tls.is_some() || self.public_url.starts_with("https://")
    }

    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(match self.environment {
            Environment::Development => LogFormat::Pretty,
            Environment::Production => LogFormat::Json,
        })
    }
}

#[cfg(test)]
// figment::Jail's closures return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_fresh_checkout_needs_no_configuration() {
        figment::Jail::expect_with(|_| {
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert!(settings.database_url.starts_with("sqlite://"));
            assert_eq!(settings.mail.transport, MailTransport::Outbox);
            assert_eq!(settings.log_format(), LogFormat::Pretty);
            Ok(())
        });
    }

    #[test]
    fn a_file_and_then_the_environment_override_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("custom.toml", "environment = \"production\"\n[mail]\ntransport = \"smtp\"\n[mail.smtp]\nhost = \"smtp.example.com\"\n")?;
            jail.set_env("BEDSIDE_MAIL__SMTP__HOST", "relay.example.com");
            jail.set_env("BEDSIDE_MAIL__SMTP__PASSWORD", "hunter2-but-longer");
            let settings =
                Settings::load(Some(std::path::Path::new("custom.toml"))).map_err(|e| *e)?;
            assert_eq!(settings.environment, Environment::Production);
            assert_eq!(settings.log_format(), LogFormat::Json);
            assert_eq!(settings.mail.transport, MailTransport::Smtp);
            assert_eq!(settings.mail.smtp.host, "relay.example.com");
            let password = settings
                .mail
                .smtp
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned());
            assert_eq!(password.as_deref(), Some("hunter2-but-longer"));
            assert!(
                !format!("{settings:?}").contains("hunter2"),
                "secrets must not reach logs"
            );
            Ok(())
        });
    }
}

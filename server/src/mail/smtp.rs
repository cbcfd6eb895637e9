use crate::settings::{SmtpSecurity, SmtpSettings};
use app::mail::{MailError, Mailer, OutgoingEmail};
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;
use std::time::Duration;

/// Sends through an SMTP server (SendGrid, Postmark, the practice's own relay) with lettre.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(settings: &SmtpSettings, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from {from:?}: {e}"))?;
        let builder = match settings.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)?,
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.timeout_seconds)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .parse()
        .map_err(|_| MailError::InvalidAddress(address.to_owned()))
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(mailbox(&email.to)?)
            .subject(email.subject);
        if let Some(reply_to) = &email.reply_to {
            builder = builder.reply_to(mailbox(reply_to)?);
        }
        let message = if email.attachments.is_empty() {
            builder
                .header(ContentType::TEXT_PLAIN)
                .body(email.text_body)
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(email.text_body));
            for file in email.attachments {
                let content_type = ContentType::parse(&file.content_type)
                    .map_err(|e| MailError::Transport(format!("{}: {e}", file.content_type)))?;
                parts = parts.singlepart(
                    lettre::message::Attachment::new(file.filename)
                        .body(file.content, content_type),
                );
            }
            builder.multipart(parts)
        }
        .map_err(|e| MailError::Transport(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Transport(e.to_string()))
    }
}

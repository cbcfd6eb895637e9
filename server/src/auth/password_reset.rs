//! `auth.password_reset_email`: the reset link, made and sent from the queue. The forgot-password
//! form adds this job for every address it is given, known or not, and answers at once: the
//! same work and the same time whatever the address. Whether an account exists, and the link
//! itself, are decided here, after the answer has gone.

use crate::jobs::{JobError, JobHandler};
use app::audit::service::ClientInfo;
use app::jobs::entity::job;
use app::mail::OutgoingEmail;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub const KIND: &str = "auth.password_reset_email";

/// The address as typed (normalised) and who asked (for the audit entry).
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub email: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct SendPasswordReset(pub super::AccountMail);

#[async_trait]
impl JobHandler for SendPasswordReset {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: Payload = crate::jobs::payload(job)?;
        let mail = &self.0;
        let client = ClientInfo {
            ip: payload.ip,
            user_agent: payload.user_agent,
        };
        let asked = mail
            .identity
            .request_password_reset(&payload.email, &client)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        let Some((user, token)) = asked else {
            // No account, or a disabled one: nothing is sent, and the form said the same.
            return Ok(());
        };
        let practice = mail.site.practice_name();
        let link = mail.link(&format!("/signin/reset?token={token}"));
        let email = OutgoingEmail {
            to: user.email.clone(),
            reply_to: None,
            subject: format!("Reset your password — {practice}"),
            text_body: format!(
                "Hello {name},\n\nSomeone (we hope you) asked to reset the password of your {practice} account.\n\
                 Choose a new password here within the next hour:\n\n{link}\n\n\
                 The link works once. If you did not ask for this, ignore this email: your password stays as it is.\n",
                name = app::auth::service::display_name(mail.identity.keyring(), &user)
                    .map_err(|e| JobError::Retry(e.to_string()))?,
            ),
            ..Default::default()
        };
        mail.send(email).await
    }
}

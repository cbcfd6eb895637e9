//! `memberships.address_in_use_email`: someone tried to join with an address that already has an
//! account. The join form answers exactly as it does for a new address ("check your email"), so
//! the page does not tell a stranger who is a patient here; the owner hears about it by email
//! instead, with how to sign in or reset the password. At most one such email per account per
//! hour (the job's key), so the form cannot be used to flood a member's inbox.

use crate::jobs::{JobError, JobHandler};
use app::jobs::entity::job;
use app::mail::OutgoingEmail;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const KIND: &str = "memberships.address_in_use_email";

/// The account only: no address, name or anything typed is kept in the queue.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub user_id: i32,
}

/// One email per account per hour, however often the form is sent.
pub fn dedupe_key(user_id: i32, now: DateTime<Utc>) -> String {
    format!("address-in-use:{user_id}:{}", now.format("%Y-%m-%dT%H"))
}

pub struct EmailAddressInUse(pub super::AccountMail);

#[async_trait]
impl JobHandler for EmailAddressInUse {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: Payload = crate::jobs::payload(job)?;
        let mail = &self.0;
        let Some((email, name)) = mail
            .identity
            .address_of(payload.user_id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
        else {
            // The account was removed or disabled since: nothing to tell.
            return Ok(());
        };
        let practice = mail.site.practice_name();
        let (sign_in, forgot) = (mail.link("/signin"), mail.link("/signin/forgot"));
        let message = OutgoingEmail {
            to: email,
            reply_to: None,
            subject: format!("You already have an account with {practice}"),
            text_body: format!(
                "Hello {name},\n\nSomeone, we hope you, just tried to join {practice} with this email address. \
                 You already have an account with us, so nothing was changed and no second account was made.\n\n\
                 Sign in here: {sign_in}\n\
                 Forgot your password? Choose a new one here: {forgot}\n\n\
                 If this was not you, you can ignore this email: your account and your password stay as they are.\n"
            ),
            ..Default::default()
        };
        mail.send(message).await
    }
}

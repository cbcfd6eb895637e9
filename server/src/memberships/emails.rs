//! `membership.email`: the membership's emails (confirmation, welcome, receipts, failed
//! payments, suspension, refunds), as a job.

use crate::jobs::{JobError, JobHandler, JobServices, Scheduler};
use app::jobs::entity::job;
use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Registers the membership's emails with `scheduler`.
pub fn register(services: &JobServices, scheduler: &mut Scheduler) {
    scheduler.register(
        app::memberships::notices::JOB_KIND,
        Arc::new(SendMembershipEmail {
            db: services.db.clone(),
            keyring: services.keyring.clone(),
            identity: services.identity.clone(),
            mailer: services.mailer.clone(),
            site: services.site.clone(),
            public_url: services.public_url.clone(),
            clock: services.clock.clone(),
        }),
    );
}

/// `membership.email`: the membership's emails.
pub struct SendMembershipEmail {
    pub db: DatabaseConnection,
    pub keyring: app::crypto::Keyring,
    pub identity: app::auth::service::Identity,
    pub mailer: Arc<dyn app::mail::Mailer>,
    pub site: app::site::service::SiteContentStore,
    pub public_url: String,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for SendMembershipEmail {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        use app::appointments::notices::DeliveryError;
        use app::memberships::notices::{self, EmailSenders, MembershipEmail};
        let email: MembershipEmail = crate::jobs::payload(job)?;
        let (site, time_zone) = crate::jobs::practice_and_zone(&self.site, &self.db).await?;
        let senders = EmailSenders {
            db: &self.db,
            keyring: &self.keyring,
            identity: &self.identity,
            mailer: self.mailer.as_ref(),
            practice: &site.practice,
            public_url: &self.public_url,
            time_zone,
        };
        notices::deliver(&senders, &email, self.clock.now())
            .await
            .map_err(|e| match e {
                DeliveryError::Retry(why) => JobError::Retry(why),
                DeliveryError::Permanent(why) => JobError::Permanent(why),
            })
    }
}

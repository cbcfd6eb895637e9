//! Messaging's jobs: `message.notice` tells a person a secure message waits for them, with no
//! health data (`app::messages::notices`). The pages and server functions are the app's.

use crate::jobs::{JobError, JobHandler};
use app::jobs::entity::job;
use app::messages::notices::{self, Delivered, NoticeJob, Senders};
use async_trait::async_trait;
use std::sync::Arc;

pub struct MessageNotice {
    pub db: sea_orm::DatabaseConnection,
    pub keyring: app::crypto::Keyring,
    pub mailer: Arc<dyn app::mail::Mailer>,
    pub sms: Arc<dyn app::sms::SmsSender>,
    pub site: app::site::service::SiteContentStore,
    pub public_url: String,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for MessageNotice {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: NoticeJob = crate::jobs::payload(job)?;
        let site = self
            .site
            .current()
            .ok_or_else(|| JobError::Retry("the practice's content is not loaded yet".into()))?;
        let senders = Senders {
            keyring: &self.keyring,
            mailer: self.mailer.as_ref(),
            sms: self.sms.as_ref(),
            practice: &site.practice.name,
            public_url: &self.public_url,
        };
        let now = self.clock.now();
        match notices::deliver(&self.db, &senders, &payload, now).await {
            Ok(Delivered::Sent(channels)) => {
                tracing::info!(job = job.id, channels = ?channels, "message notice sent");
                Ok(())
            }
            Ok(Delivered::Skipped(why)) => {
                tracing::info!(job = job.id, why, "message notice not needed");
                Ok(())
            }
            Err(error) => Err(JobError::Retry(error.to_string())),
        }
    }
}

/// Registers messaging's jobs.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    scheduler.register(
        notices::NOTICE_JOB_KIND,
        Arc::new(MessageNotice {
            db: services.db.clone(),
            keyring: services.keyring.clone(),
            mailer: services.mailer.clone(),
            sms: services.sms.clone(),
            site: services.site.clone(),
            public_url: services.public_url.clone(),
            clock: services.clock.clone(),
        }),
    );
}

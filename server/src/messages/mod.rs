//! Messaging's jobs: `message.notice` tells a person a secure message waits for them, with no
//! health data (`app::messages::notices`); `communication.send` sends what the practice wrote
//! from a chart by email or text (`app::messages::hub`). The pages and server functions are the
//! app's.

use crate::jobs::{JobError, JobHandler};
use app::jobs::entity::job;
use app::messages::hub::service as hub;
use app::messages::notices::{self, Delivered, NoticeJob};
use async_trait::async_trait;
use std::sync::Arc;

/// What both jobs send with: the database, the keys, email and text, the practice's name.
#[derive(Clone)]
pub struct Outgoing {
    pub db: sea_orm::DatabaseConnection,
    pub keyring: app::crypto::Keyring,
    pub mailer: Arc<dyn app::mail::Mailer>,
    pub sms: Arc<dyn app::sms::SmsSender>,
    pub site: app::site::service::SiteContentStore,
    pub public_url: String,
    pub clock: app::clock::SharedClock,
}

impl Outgoing {
    /// The practice's content (its name), once loaded.
    fn site(&self) -> Result<Arc<app::site::model::SiteContent>, JobError> {
        self.site
            .current()
            .ok_or_else(|| JobError::Retry("the practice's content is not loaded yet".into()))
    }
}

/// `message.notice`.
pub struct MessageNotice(pub Outgoing);

#[async_trait]
impl JobHandler for MessageNotice {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let out = &self.0;
        let payload: NoticeJob = crate::jobs::payload(job)?;
        let site = out.site()?;
        let senders = notices::Senders {
            keyring: &out.keyring,
            mailer: out.mailer.as_ref(),
            sms: out.sms.as_ref(),
            practice: &site.practice.name,
            public_url: &out.public_url,
        };
        match notices::deliver(&out.db, &senders, &payload, out.clock.now()).await {
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

/// `communication.send`.
pub struct SendCommunication(pub Outgoing);

#[async_trait]
impl JobHandler for SendCommunication {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let out = &self.0;
        let payload: hub::SendJob = crate::jobs::payload(job)?;
        let site = out.site()?;
        let senders = hub::Senders {
            keyring: &out.keyring,
            mailer: out.mailer.as_ref(),
            sms: out.sms.as_ref(),
            practice: &site.practice.name,
            public_url: &out.public_url,
        };
        hub::deliver(&out.db, &senders, &payload, out.clock.now())
            .await
            .map_err(|error| JobError::Retry(error.to_string()))
    }
}

/// Registers messaging's jobs.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    let out = Outgoing {
        db: services.db.clone(),
        keyring: services.keyring.clone(),
        mailer: services.mailer.clone(),
        sms: services.sms.clone(),
        site: services.site.clone(),
        public_url: services.public_url.clone(),
        clock: services.clock.clone(),
    };
    scheduler.register(
        notices::NOTICE_JOB_KIND,
        Arc::new(MessageNotice(out.clone())),
    );
    scheduler.register(hub::SEND_JOB_KIND, Arc::new(SendCommunication(out)));
}

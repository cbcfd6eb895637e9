//! `visit.notice`: a visit's confirmation and reminders (see `app::appointments::notices`).

use crate::jobs::{JobError, JobHandler};
use app::appointments::notices::{self, DeliveryError, NoticeJob, NoticeSenders};
use app::crypto::Keyring;
use app::jobs::entity::job;
use app::mail::Mailer;
use app::site::service::SiteContentStore;
use app::sms::SmsSender;
use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use notices::JOB_KIND as KIND;

pub struct DeliverVisitNotice {
    pub db: DatabaseConnection,
    pub keyring: Keyring,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub site: SiteContentStore,
    pub public_url: String,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for DeliverVisitNotice {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: NoticeJob = crate::jobs::payload(job)?;
        let (site, time_zone) = crate::jobs::practice_and_zone(&self.site, &self.db).await?;
        let senders = NoticeSenders {
            db: &self.db,
            keyring: &self.keyring,
            mailer: self.mailer.as_ref(),
            sms: self.sms.as_ref(),
            practice: &site.practice,
            time_zone,
            public_url: &self.public_url,
        };
        match notices::deliver(&senders, &payload, self.clock.now()).await {
            Ok(delivery) => {
                tracing::info!(job = job.id, visit = %payload.appointment, kind = payload.kind.as_str(), ?delivery, "visit notice");
                Ok(())
            }
            Err(DeliveryError::Retry(why)) => Err(JobError::Retry(why)),
            Err(DeliveryError::Permanent(why)) => Err(JobError::Permanent(why)),
        }
    }
}

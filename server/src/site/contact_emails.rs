//! `contact.notify`: the emails about a contact inquiry (to the practice, and the visitor's
//! acknowledgement), retried until both have gone out.

use crate::jobs::{JobError, JobHandler};
use app::crypto::Keyring;
use app::jobs::entity::job;
use app::mail::Mailer;
use app::site::entity::contact_inquiry;
use app::site::model::{ContactForm, ContactInquiry};
use app::site::service::{self, SiteContentStore};
use async_trait::async_trait;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const KIND: &str = "contact.notify";

/// Names the inquiry; its content stays sealed in its own table.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub inquiry_id: i32,
}

pub struct NotifyAboutInquiry {
    pub db: DatabaseConnection,
    pub keyring: Keyring,
    pub mailer: Arc<dyn Mailer>,
    pub site: SiteContentStore,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for NotifyAboutInquiry {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: Payload = crate::jobs::payload(job)?;
        let row = contact_inquiry::Entity::find_by_id(payload.inquiry_id)
            .one(&self.db)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .ok_or_else(|| {
                JobError::Permanent(format!("inquiry {} is gone", payload.inquiry_id))
            })?;
        let details = service::open_inquiry(&self.keyring, &row)
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let form = ContactForm {
            name: details.name,
            email: details.email,
            phone: details.phone.unwrap_or_default(),
            topic: row.topic.clone(),
            message: details.message,
            ..Default::default()
        };
        let inquiry = ContactInquiry::parse(&form)
            .map_err(|e| JobError::Permanent(format!("stored inquiry does not parse: {e:?}")))?;
        let site = self
            .site
            .current()
            .ok_or_else(|| JobError::Retry("the practice's content is not loaded yet".into()))?;
        let sent = service::notify_about_inquiry(
            &self.db,
            self.mailer.as_ref(),
            &site.practice,
            &row,
            &inquiry,
            self.clock.now(),
        )
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
        if sent {
            Ok(())
        } else {
            Err(JobError::Retry("an email could not be sent".into()))
        }
    }
}

/// The contact form's emails, as a job.
pub fn register(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    scheduler.register(
        KIND,
        Arc::new(NotifyAboutInquiry {
            db: services.db.clone(),
            keyring: services.keyring.clone(),
            mailer: services.mailer.clone(),
            site: services.site.clone(),
            clock: services.clock.clone(),
        }),
    );
}

//! The waitlist's jobs: `waitlist.offer_email` tells the first in line a time is held for them;
//! `waitlist.expire` ends an offer nobody answered and offers the time to the next in line.

use crate::jobs::{JobError, JobHandler};
use app::appointments::entity::{appointment, waitlist_entry};
use app::appointments::waitlist::{self, entry_status, EntryJob};
use app::auth::entity::user_account;
use app::crypto::Keyring;
use app::jobs::entity::job;
use app::mail::{Mailer, OutgoingEmail};
use app::patients::entity::patient;
use app::site::service::SiteContentStore;
use async_trait::async_trait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::sync::Arc;

fn retry(error: impl std::fmt::Display) -> JobError {
    JobError::Retry(error.to_string())
}

pub struct EmailWaitlistOffer {
    pub db: DatabaseConnection,
    pub keyring: app::crypto::Keyring,
    pub mailer: Arc<dyn Mailer>,
    pub site: SiteContentStore,
    pub public_url: String,
}

#[async_trait]
impl JobHandler for EmailWaitlistOffer {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: EntryJob = crate::jobs::payload(job)?;
        let Some(entry) = waitlist_entry::Entity::find()
            .filter(waitlist_entry::Column::PublicId.eq(payload.entry.as_str()))
            .one(&self.db)
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        // Only an offer still standing is announced.
        if entry.status != entry_status::OFFERED
            || entry.appointment_id != Some(payload.appointment)
        {
            return Ok(());
        }
        let (Some(held), Some(until)) = (
            appointment::Entity::find_by_id(payload.appointment)
                .one(&self.db)
                .await
                .map_err(retry)?,
            entry.offered_until,
        ) else {
            return Ok(());
        };
        let user = match patient::Entity::find_by_id(entry.patient_id)
            .one(&self.db)
            .await
            .map_err(retry)?
            .and_then(|p| p.user_id)
        {
            Some(user_id) => user_account::Entity::find_by_id(user_id)
                .one(&self.db)
                .await
                .map_err(retry)?,
            None => None,
        };
        let Some(user) = user else {
            return Ok(());
        };
        let (site, time_zone) = crate::jobs::practice_and_zone(&self.site, &self.db).await?;
        let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&time_zone);
        let kind = held.visit_type;
        let practice = &site.practice.name;
        // The date, time and kind of visit only: nothing clinical in an email.
        let text_body = format!(
            "Hello {name},\n\nA time opened up on the day you are waiting for:\n\n  {kind} on {when}\n\nIt is held for you until {until}. Book it or let it go here:\n{url}/portal/visits#waitlist\n\nAfter that it goes to the next person waiting.\n\n{practice}\n",
            name = app::auth::service::display_name(&self.keyring, &user)
                .map_err(|e| JobError::Retry(e.to_string()))?,
            kind = kind.label(),
            when = local(held.starts_at).format("%A, %B %-d at %-I:%M %P"),
            until = local(until).format("%-I:%M %P"),
            url = self.public_url.trim_end_matches('/'),
        );
        self.mailer
            .send(OutgoingEmail {
                to: user.email,
                reply_to: None,
                subject: format!("A time opened up for you at {practice}"),
                text_body,
                attachments: Vec::new(),
            })
            .await
            .map_err(retry)
    }
}

pub struct ExpireWaitlistOffer {
    pub db: DatabaseConnection,
    pub keyring: Keyring,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for ExpireWaitlistOffer {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let payload: EntryJob = crate::jobs::payload(job)?;
        let Some(schedule) = app::appointments::service::schedule::load_schedule(&self.db)
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        // The next offer's email is its own job, run by the worker.
        waitlist::expire(
            &self.db,
            &self.keyring,
            self.clock.now(),
            &schedule,
            &payload,
        )
        .await
        .map(|_| ())
        .map_err(retry)
    }
}

//! What a booked visit tells its patient, and when (R2.3, R10.1–R10.3, P10).
//!
//! Booking enqueues, in its own transaction, one job per notice: the confirmation (now, with a
//! calendar entry), an email 7 days before, a text 24 hours before and an in-app reminder 2
//! hours before; a reminder whose time has already passed at booking is not planned (the
//! confirmation has just told the patient). Each job has a key naming the visit, the notice and
//! the visit's start, so a notice is planned once per start; cancelling withdraws the keys, and
//! moving a visit withdraws the old start's and plans the new one's (with a "moved" email in
//! place of the confirmation).
//!
//! Delivery re-checks everything at run time: nothing goes out for a cancelled or moved visit or
//! once the visit has started, and a `visit_notice` row per visit, notice and start records how
//! it went, so a job that runs again (after a crash, or a retry) does not send twice.
//!
//! Every text here is deliberately bare: the date, the time, the practice's name and a link.
//! No reason, no visit type beyond "visit": email and texts cross systems Bedside does not
//! control and texts show on lock screens.

use super::entity::{appointment, visit_notice};
use super::model::VisitType;
use super::service::schedule::zone_label;
use crate::auth::entity::user_account;
use crate::crypto::{FieldContext, Keyring};
use crate::jobs::{self, NewJob};
use crate::mail::{Attachment, Mailer, OutgoingEmail};
use crate::notifications::service as notifications;
use crate::patients::entity::patient;
use crate::site::model::Practice;
use crate::sms::{OutgoingSms, SmsError, SmsSender};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde::{Deserialize, Serialize};

/// The job kind every visit notice runs as.
pub const JOB_KIND: &str = "visit.notice";

pub use super::notice_kind::{Channel, NoticeKind, NoticeStatus};

/// The reminders to plan for a visit starting at `starts_at`, booked at `now`: each at its lead
/// time before the start, leaving out those whose time has already passed.
pub fn reminder_plan(
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(NoticeKind, DateTime<Utc>)> {
    NoticeKind::REMINDERS
        .into_iter()
        .filter_map(|kind| {
            let at = starts_at - kind.lead()?;
            (at > now).then_some((kind, at))
        })
        .collect()
}

/// A notice job's payload: which visit, which notice, about which start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticeJob {
    pub appointment: String,
    pub kind: NoticeKind,
    pub starts_at: DateTime<Utc>,
    /// The calendar entry's `SEQUENCE` (0 at booking, higher at each move).
    #[serde(default)]
    pub sequence: i64,
    /// For the follow-up: the physician's "see you again in N weeks".
    #[serde(default)]
    pub follow_up_weeks: Option<u32>,
}

/// Plans the first email (the confirmation, or "moved" when `sequence` > 0) and the reminders
/// of a visit starting at `starts_at`, in the booking's (or the move's) transaction. Returns the
/// first email's job id (the request runs it at once).
pub async fn plan(
    conn: &impl ConnectionTrait,
    appointment_public_id: &str,
    starts_at: DateTime<Utc>,
    sequence: i64,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let first = if sequence == 0 {
        NoticeKind::Confirmation
    } else {
        NoticeKind::Moved
    };
    let payload = |kind| NoticeJob {
        appointment: appointment_public_id.to_owned(),
        kind,
        starts_at,
        sequence,
        follow_up_weeks: None,
    };
    fn job(payload: &NoticeJob, run_at: DateTime<Utc>) -> NewJob<'_, NoticeJob> {
        NewJob {
            kind: JOB_KIND,
            payload,
            run_at,
            dedupe_key: Some(
                payload
                    .kind
                    .job_key(&payload.appointment, payload.starts_at),
            ),
            max_attempts: 5,
        }
    }
    // The first email and the reminders in one statement; the email's job id is returned, to
    // send it at once.
    let mut planned = vec![(payload(first), now)];
    planned.extend(
        reminder_plan(starts_at, now)
            .into_iter()
            .map(|(kind, run_at)| (payload(kind), run_at)),
    );
    let first_key = first.job_key(appointment_public_id, starts_at);
    let jobs = planned
        .iter()
        .map(|(payload, run_at)| job(payload, *run_at))
        .collect();
    jobs::enqueue_all_finding(conn, jobs, &first_key, now).await
}

/// Plans the follow-up email of a visit just completed (in the completion's transaction).
pub async fn plan_follow_up(
    conn: &impl ConnectionTrait,
    appointment_public_id: &str,
    starts_at: DateTime<Utc>,
    follow_up_weeks: Option<u32>,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let kind = NoticeKind::FollowUp;
    jobs::enqueue(
        conn,
        NewJob {
            kind: JOB_KIND,
            payload: &NoticeJob {
                appointment: appointment_public_id.to_owned(),
                kind,
                starts_at,
                sequence: 0,
                follow_up_weeks,
            },
            run_at: now,
            dedupe_key: Some(kind.job_key(appointment_public_id, starts_at)),
            max_attempts: 5,
        },
        now,
    )
    .await
}

/// The first free time of `visit_type` from `weeks` after `visited` on (within two weeks of
/// that day), for the follow-up suggestion.
pub async fn suggested_follow_up(
    db: &DatabaseConnection,
    visit_type: VisitType,
    visited: DateTime<Utc>,
    weeks: u32,
    now: DateTime<Utc>,
) -> Result<(chrono::NaiveDate, Option<DateTime<Utc>>), AppError> {
    use super::service::{calendar, schedule};
    let Some(schedule) = schedule::load_schedule(db).await? else {
        return Ok((visited.date_naive(), None));
    };
    let from =
        visited.with_timezone(&schedule.time_zone).date_naive() + Duration::weeks(i64::from(weeks));
    let start =
        super::availability::instant(schedule.time_zone, from.and_time(chrono::NaiveTime::MIN))
            .unwrap_or(visited);
    let busy = calendar::busy_between(db, &schedule, start, start + Duration::days(15)).await?;
    let first = super::availability::free_slots(
        &schedule,
        visit_type,
        from,
        from + Duration::days(14),
        &busy,
        now + Duration::hours(calendar::MINIMUM_NOTICE_HOURS),
    )
    .into_iter()
    .next()
    .map(|slot| slot.starts_at);
    Ok((from, first))
}

/// Withdraws the reminders still planned for a visit's start (it was cancelled or moved).
pub async fn withdraw(
    conn: &impl ConnectionTrait,
    appointment_public_id: &str,
    starts_at: DateTime<Utc>,
) -> Result<u64, AppError> {
    let mut withdrawn = 0;
    for kind in NoticeKind::REMINDERS {
        withdrawn += jobs::cancel(conn, &kind.job_key(appointment_public_id, starts_at)).await?;
    }
    Ok(withdrawn)
}

/// "Friday, December 4 at 10:00 AM Eastern Time"
pub fn when_text(starts_at: DateTime<Utc>, time_zone: chrono_tz::Tz) -> String {
    let local = starts_at.with_timezone(&time_zone);
    format!(
        "{} at {} {}",
        local.format("%A, %B %-d"),
        local.format("%-I:%M %p"),
        zone_label(time_zone)
    )
}

/// Where the patient goes: the office, their home, or the video room.
fn place(visit_type: VisitType, practice: &Practice) -> String {
    match visit_type {
        VisitType::InPerson => format!(
            "{}, {}",
            practice.address.street,
            practice.address.second_line()
        ),
        VisitType::Telemedicine => {
            "Video visit: the practice will contact you before it with how to join".into()
        }
        VisitType::HomeVisit => "At your home".into(),
    }
}

/// The calendar entry (RFC 5545) attached to the confirmation. Its UID is the visit's and its
/// `SEQUENCE` grows with each move, so an update replaces the entry instead of adding another.
pub fn calendar_entry(
    visit: &appointment::Model,
    visit_type: VisitType,
    practice: &Practice,
    visits_url: &str,
    sequence: i64,
    now: DateTime<Utc>,
) -> String {
    use icalendar::{Component, Event, EventLike, EventStatus};
    let event = Event::new()
        .uid(&format!("{}@bedside", visit.public_id))
        .add_property("DTSTAMP", now.format("%Y%m%dT%H%M%SZ").to_string())
        .add_property("SEQUENCE", sequence.to_string())
        .summary(&format!("{} with {}", visit_type.label(), practice.name))
        .starts(visit.starts_at)
        .ends(visit.ends_at)
        .location(&place(visit_type, practice))
        .description(&format!(
            "To change or cancel this visit: {visits_url}\nQuestions: {}",
            practice.phone
        ))
        .url(visits_url)
        .status(EventStatus::Confirmed)
        .done();
    let mut calendar = super::ics::new_calendar();
    calendar.append_property(("METHOD", "PUBLISH"));
    calendar.push(event);
    calendar.to_string()
}

/// What one delivery attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Recorded as not sent, for good (the visit was cancelled or has started, the patient has
    /// no mobile number).
    Skipped(String),
    /// Sent (or skipped) by an earlier run.
    AlreadyDone,
}

/// Why a delivery did not happen this time.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Try again later (a mail server or SMS provider that did not answer).
    #[error("{0}")]
    Retry(String),
    /// Will never work (the visit is gone).
    #[error("{0}")]
    Permanent(String),
}

impl From<sea_orm::DbErr> for DeliveryError {
    fn from(error: sea_orm::DbErr) -> Self {
        DeliveryError::Retry(error.to_string())
    }
}

/// What delivering needs.
pub struct NoticeSenders<'a> {
    pub db: &'a DatabaseConnection,
    pub keyring: &'a Keyring,
    pub mailer: &'a dyn Mailer,
    pub sms: &'a dyn SmsSender,
    pub practice: &'a Practice,
    pub time_zone: chrono_tz::Tz,
    /// `https://practice.example` (links in the texts).
    pub public_url: &'a str,
}

/// How a notice went, by the names the delivery uses.
pub mod status {
    use super::super::notice_kind::NoticeStatus;
    pub const SENT: NoticeStatus = NoticeStatus::Sent;
    pub const SKIPPED: NoticeStatus = NoticeStatus::Skipped;
    pub const FAILED: NoticeStatus = NoticeStatus::Failed;
}

/// One try at delivering a notice, whose outcome is recorded against the visit.
struct Attempt<'a> {
    visit: &'a appointment::Model,
    job: &'a NoticeJob,
    attempts: i32,
    now: DateTime<Utc>,
}

impl Attempt<'_> {
    /// Records how the notice went (one row per visit, kind and start).
    async fn record(
        &self,
        conn: &impl ConnectionTrait,
        status: NoticeStatus,
        detail: Option<String>,
    ) -> Result<(), sea_orm::DbErr> {
        let kind = self.job.kind;
        visit_notice::Entity::insert(visit_notice::ActiveModel {
            appointment_id: Set(self.visit.id),
            kind: Set(kind),
            visit_starts_at: Set(self.job.starts_at),
            channel: Set(kind.channel()),
            status: Set(status),
            attempts: Set(self.attempts),
            detail: Set(detail),
            updated_at: Set(self.now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                visit_notice::Column::AppointmentId,
                visit_notice::Column::Kind,
                visit_notice::Column::VisitStartsAt,
            ])
            .update_columns([
                visit_notice::Column::Status,
                visit_notice::Column::Attempts,
                visit_notice::Column::Detail,
                visit_notice::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec(conn)
        .await
        .map(|_| ())
    }

    /// Not sent, and never will be, because of `why`.
    async fn skip(
        &self,
        conn: &impl ConnectionTrait,
        why: impl Into<String>,
    ) -> Result<Delivery, sea_orm::DbErr> {
        let why = why.into();
        self.record(conn, status::SKIPPED, Some(why.clone()))
            .await?;
        Ok(Delivery::Skipped(why))
    }
}

/// Delivers notice `job` if it is still due: the visit booked, not started, not already told.
pub async fn deliver(
    senders: &NoticeSenders<'_>,
    job: &NoticeJob,
    now: DateTime<Utc>,
) -> Result<Delivery, DeliveryError> {
    let db = senders.db;
    // The visit, its patient and their account, in one query.
    let found = appointment::Entity::find()
        .filter(appointment::Column::PublicId.eq(job.appointment.as_str()))
        .find_also_related(patient::Entity)
        .and_also_related(user_account::Entity)
        .one(db)
        .await?;
    let Some((visit, patient, account)) = found else {
        return Err(DeliveryError::Permanent(format!(
            "visit {} is gone",
            job.appointment
        )));
    };
    let kind = job.kind;
    let earlier = visit_notice::Entity::find()
        .filter(visit_notice::Column::AppointmentId.eq(visit.id))
        .filter(visit_notice::Column::Kind.eq(kind))
        .filter(visit_notice::Column::VisitStartsAt.eq(job.starts_at))
        .one(db)
        .await?;
    if earlier
        .as_ref()
        .is_some_and(|n| n.status == status::SENT || n.status == status::SKIPPED)
    {
        return Ok(Delivery::AlreadyDone);
    }
    let attempts = earlier.as_ref().map_or(0, |n| n.attempts) + 1;
    let attempt = Attempt {
        visit: &visit,
        job,
        attempts,
        now,
    };
    use super::service::calendar::status as visit_status;
    let skip = if kind == NoticeKind::FollowUp {
        (visit.status != visit_status::COMPLETED).then_some("the visit was not completed")
    } else if visit.status != visit_status::BOOKED {
        Some("the visit is no longer booked")
    } else if visit.starts_at != job.starts_at {
        Some("the visit was moved")
    } else if now >= visit.starts_at {
        Some("the visit had started")
    } else {
        None
    };
    if let Some(why) = skip {
        return Ok(attempt.skip(db, why).await?);
    }
    let Some(patient) = patient else {
        return Err(DeliveryError::Permanent(
            "the visit's patient is gone".into(),
        ));
    };
    let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
        let why = "the patient has no active account";
        return Ok(attempt.skip(db, why).await?);
    };
    let visit_type = visit.visit_type;
    let when = when_text(visit.starts_at, senders.time_zone);
    let practice = &senders.practice.name;
    let visits_url = format!("{}/portal/visits", senders.public_url.trim_end_matches('/'));
    let first_name = crate::auth::service::display_name(senders.keyring, &account)
        .map_err(|e| DeliveryError::Retry(e.to_string()))?
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let sent: Result<(), String> = match kind {
        NoticeKind::Confirmation | NoticeKind::Moved | NoticeKind::WeekAhead => {
            let email = if kind != NoticeKind::WeekAhead {
                let (subject, opening, calendar) = if kind == NoticeKind::Moved {
                    (
                        "Your visit was moved",
                        "has moved to",
                        "updates the visit in",
                    )
                } else {
                    ("Your visit is booked", "is booked for", "adds the visit to")
                };
                OutgoingEmail {
                    to: account.email.clone(),
                    subject: format!("{subject}: {when}"),
                    text_body: format!(
                        "Dear {first_name},\n\nYour visit with {practice} {opening} {when}.\n\
                         Where: {place}\n\n\
                         The attached calendar entry {calendar} your calendar.\n\
                         To change or cancel it: {visits_url}\n\
                         Cancelling is free up to 24 hours before the visit.\n\n\
                         {practice}\n{phone}\n",
                        place = place(visit_type, senders.practice),
                        phone = senders.practice.phone,
                    ),
                    attachments: vec![Attachment {
                        filename: "visit.ics".into(),
                        content_type: "text/calendar; method=PUBLISH; charset=utf-8".into(),
                        content: calendar_entry(
                            &visit,
                            visit_type,
                            senders.practice,
                            &visits_url,
                            job.sequence,
                            now,
                        )
                        .into_bytes(),
                    }],
                    ..Default::default()
                }
            } else {
                OutgoingEmail {
                    to: account.email.clone(),
                    subject: format!("Reminder: your visit on {}", when),
                    text_body: format!(
                        "Dear {first_name},\n\nA reminder that your visit with {practice} is in one week: {when}.\n\n\
                         To change or cancel it: {visits_url}\n\
                         Cancelling is free up to 24 hours before the visit.\n\n\
                         {practice}\n{phone}\n",
                        phone = senders.practice.phone,
                    ),
                    ..Default::default()
                }
            };
            senders.mailer.send(email).await.map_err(|e| e.to_string())
        }
        NoticeKind::DayAhead if !senders.sms.sends_texts() => {
            // The practice sends no texts (`sms.transport = "off"`): the same reminder by email.
            let email = OutgoingEmail {
                to: account.email.clone(),
                subject: format!("Reminder: your visit tomorrow, {when}"),
                text_body: format!(
                    "Dear {first_name},\n\nA reminder that your visit with {practice} is tomorrow, {when}.\n\n\
                     To change or cancel it: {visits_url}\n\n\
                     {practice}\n{phone}\n",
                    phone = senders.practice.phone,
                ),
                ..Default::default()
            };
            senders.mailer.send(email).await.map_err(|e| e.to_string())
        }
        NoticeKind::DayAhead => {
            let number = match &patient.phone {
                Some(sealed) => sealed
                    .open(
                        senders.keyring,
                        &FieldContext {
                            table: "patient",
                            column: "phone",
                            row: &patient.public_id,
                        },
                    )
                    .map_err(|e| DeliveryError::Permanent(format!("opening the phone: {e}")))?,
                None => String::new(),
            };
            let Some(to) = crate::domain::PhoneNumber::parse(&number)
                .ok()
                .and_then(|p| p.e164())
            else {
                let why = "no mobile number on file";
                return Ok(attempt.skip(db, why).await?);
            };
            let body = format!(
                "{practice}: reminder of your visit tomorrow, {when}. To change or cancel: {visits_url}"
            );
            match senders.sms.send(OutgoingSms { to, body }).await {
                Ok(()) => Ok(()),
                Err(SmsError::InvalidNumber(number)) => {
                    let why = format!("{number} cannot receive text messages");
                    return Ok(attempt.skip(db, why).await?);
                }
                Err(other) => Err(other.to_string()),
            }
        }
        NoticeKind::FollowUp => {
            let public = senders.public_url.trim_end_matches('/');
            let suggestion = match job.follow_up_weeks {
                Some(weeks) => {
                    let (from, first) =
                        suggested_follow_up(db, visit_type, visit.starts_at, weeks, now)
                            .await
                            .map_err(|e| DeliveryError::Retry(e.to_string()))?;
                    let mut link = format!(
                        "/portal/book?type={}&from={}",
                        visit_type.as_str(),
                        from.format("%Y-%m-%d")
                    );
                    if let Some(at) = first {
                        link.push_str(&format!(
                            "&suggested={}",
                            crate::ui::url_encode(&at.to_rfc3339())
                        ));
                    }
                    let around = match first {
                        Some(at) => format!(
                            "The first free time then is {}.",
                            when_text(at, senders.time_zone)
                        ),
                        None => "Please choose a time that suits you.".to_owned(),
                    };
                    Some((weeks, link, around))
                }
                None => None,
            };
            let follow_up_text = match &suggestion {
                Some((weeks, link, around)) => format!(
                    "Your physician would like to see you again in {weeks} {unit}. {around}\n\
                     Book it with one click here: {public}{link}\n\n",
                    unit = if *weeks == 1 { "week" } else { "weeks" },
                ),
                None => String::new(),
            };
            let email = OutgoingEmail {
                to: account.email.clone(),
                subject: format!("Thank you for your visit — {practice}"),
                text_body: format!(
                    "Dear {first_name},\n\nThank you for your visit. Your physician's note and plan \
                     from it are in your health record: {public}/portal/notes\n\nIf anything comes \
                     up, or you have a question about what we discussed, call us at {phone}.\n\n\
                     {follow_up_text}Your visits: {visits_url}\n\n{practice}\n",
                    phone = senders.practice.phone,
                ),
                ..Default::default()
            };
            if let Some((weeks, link, around)) = &suggestion {
                // The suggestion also waits in the portal, and is recorded with the email's
                // outcome below (a retry does not add a second notification).
                if earlier.is_none() {
                    let txn = db.begin().await?;
                    notifications::create(
                        &txn,
                        senders.keyring,
                        account.id,
                        "Book your follow-up visit",
                        &format!(
                            "Your physician would like to see you again in {weeks} {}. {around}",
                            if *weeks == 1 { "week" } else { "weeks" }
                        ),
                        Some(link),
                        now,
                    )
                    .await
                    .map_err(|e| DeliveryError::Retry(e.to_string()))?;
                    txn.commit().await?;
                }
            }
            senders.mailer.send(email).await.map_err(|e| e.to_string())
        }
        NoticeKind::HoursAhead => {
            // The notification and its record commit together: exactly once.
            let txn = db.begin().await?;
            notifications::create(
                &txn,
                senders.keyring,
                account.id,
                "Your visit is coming up",
                &format!("Your visit with {practice} is today, {when}."),
                Some("/portal/visits"),
                now,
            )
            .await
            .map_err(|e| DeliveryError::Retry(e.to_string()))?;
            attempt.record(&txn, status::SENT, None).await?;
            txn.commit().await?;
            return Ok(Delivery::Sent);
        }
    };
    match sent {
        Ok(()) => {
            attempt.record(db, status::SENT, None).await?;
            Ok(Delivery::Sent)
        }
        Err(why) => {
            attempt
                .record(db, status::FAILED, Some(why.clone()))
                .await?;
            Err(DeliveryError::Retry(why))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("valid")
            + Duration::minutes(minutes)
    }

    proptest! {
        /// P10, planning: each reminder is planned at most once, exactly at its lead time before
        /// the start, never at or before the booking and never after the start; a reminder is
        /// left out only when its time had passed at booking.
        #[test]
        fn p10_reminders_are_planned_once_each_before_the_visit(
            booked in 0i64..60 * 24 * 30,
            ahead in 1i64..60 * 24 * 20,
        ) {
            let now = at(booked);
            let starts_at = now + Duration::minutes(ahead);
            let plan = reminder_plan(starts_at, now);
            let mut kinds: Vec<_> = plan.iter().map(|(k, _)| *k).collect();
            kinds.dedup();
            prop_assert_eq!(kinds.len(), plan.len());
            for kind in NoticeKind::REMINDERS {
                let due = starts_at - kind.lead().expect("a reminder has a lead");
                match plan.iter().find(|(k, _)| *k == kind) {
                    Some((_, run_at)) => {
                        prop_assert_eq!(*run_at, due);
                        prop_assert!(*run_at > now && *run_at < starts_at);
                    }
                    None => prop_assert!(due <= now),
                }
            }
        }
    }

    #[test]
    fn times_read_in_the_practices_zone_with_its_name() {
        let starts = Utc
            .with_ymd_and_hms(2026, 12, 4, 15, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            when_text(starts, chrono_tz::America::New_York),
            "Friday, December 4 at 10:00 AM Eastern Time"
        );
    }
}

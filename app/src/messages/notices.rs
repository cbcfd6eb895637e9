//! Telling people a secure message waits (issue 15 §3, R5.2), without health data (server
//! only). A message plans one `message.notice` job per person it waits for, some minutes on
//! ([`NOTICE_AFTER`]); when it runs, the person is told only if a message in that conversation
//! still waits unread for them, they were not told of that conversation in the last
//! [`QUIET_FOR`], and by the ways they chose: an email, and a text if they asked for one. The
//! words are always [`notice_text`]: no subject, no content, no names.

use super::entity::{conversation, message_notice, message_preference};
use crate::audit::{service as audit, Outcome};
use crate::auth::entity::user_account;
use crate::auth::Role;
use crate::crypto::{FieldContext, Keyring};
use crate::jobs::NewJob;
use crate::mail::{Mailer, OutgoingEmail};
use crate::patients::entity::patient;
use crate::sms::{OutgoingSms, SmsSender};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

pub const NOTICE_JOB_KIND: &str = "message.notice";
/// How long a message waits unread before its reader is told.
pub const NOTICE_AFTER: Duration = Duration::minutes(5);
/// At most one notice per conversation and person in this long.
pub const QUIET_FOR: Duration = Duration::minutes(15);

/// The job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticeJob {
    pub conversation: String,
    pub user: i32,
}

/// The whole of a notice's words: the practice's name and where to sign in, nothing else.
pub fn notice_text(practice: &str, public_url: &str) -> String {
    format!(
        "You have a new secure message from {practice}. Sign in to read it: {}/signin",
        public_url.trim_end_matches('/')
    )
}

/// How `user_id` wants to hear of waiting messages: (email, text). By email only unless they
/// chose otherwise.
pub async fn preferences(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<(bool, bool), AppError> {
    Ok(message_preference::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .map_or((true, false), |p| (p.by_email, p.by_text)))
}

/// Keeps `user_id`'s choice.
pub async fn set_preferences(
    db: &impl ConnectionTrait,
    user_id: i32,
    by_email: bool,
    by_text: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use sea_orm::sea_query::OnConflict;
    message_preference::Entity::insert(message_preference::ActiveModel {
        user_id: Set(user_id),
        by_email: Set(by_email),
        by_text: Set(by_text),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(message_preference::Column::UserId)
            .update_columns([
                message_preference::Column::ByEmail,
                message_preference::Column::ByText,
                message_preference::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Plans the notices of a message in `conversation` to `readers`, in the message's transaction.
pub async fn plan(
    conn: &impl ConnectionTrait,
    conversation: &str,
    readers: &[i32],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let at = now + NOTICE_AFTER;
    let window = at.timestamp() / QUIET_FOR.num_seconds();
    let payloads: Vec<NoticeJob> = readers
        .iter()
        .map(|user| NoticeJob {
            conversation: conversation.to_owned(),
            user: *user,
        })
        .collect();
    let jobs = payloads
        .iter()
        .map(|payload| NewJob {
            kind: NOTICE_JOB_KIND,
            payload,
            run_at: at,
            // Many messages in a few minutes: one job.
            dedupe_key: Some(format!(
                "{NOTICE_JOB_KIND}:{conversation}:{}:{window}",
                payload.user
            )),
            max_attempts: 5,
        })
        .collect();
    crate::jobs::enqueue_all(conn, jobs, now).await
}

/// What the job needs to send.
pub struct Senders<'a> {
    pub keyring: &'a Keyring,
    pub mailer: &'a dyn Mailer,
    pub sms: &'a dyn SmsSender,
    pub practice: &'a str,
    pub public_url: &'a str,
}

/// What became of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Told, by these channels.
    Sent(Vec<&'static str>),
    /// Not told, and why (read meanwhile, told recently, chose neither, gone).
    Skipped(&'static str),
}

/// Runs one notice job at `now`.
pub async fn deliver(
    db: &DatabaseConnection,
    senders: &Senders<'_>,
    job: &NoticeJob,
    now: DateTime<Utc>,
) -> Result<Delivered, AppError> {
    let Some(conversation) = conversation::Entity::find()
        .filter(conversation::Column::PublicId.eq(job.conversation.as_str()))
        .one(db)
        .await?
    else {
        return Ok(Delivered::Skipped("the conversation is gone"));
    };
    let Some(user) = user_account::Entity::find_by_id(job.user).one(db).await? else {
        return Ok(Delivered::Skipped("the account is gone"));
    };
    if user.disabled_at.is_some() {
        return Ok(Delivered::Skipped("the account is disabled"));
    }
    // Still in the conversation (a grant may have ended).
    let patient = patient::Entity::find_by_id(conversation.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a conversation without its patient"))?;
    let people = super::people::everyone(db, patient.id, patient.user_id, now).await?;
    if !people.contains(&user.id) {
        return Ok(Delivered::Skipped("no longer in the conversation"));
    }
    if super::unread::waiting_in(db, conversation.id, user.id, user.role).await? == 0 {
        return Ok(Delivered::Skipped("read meanwhile"));
    }
    let told_lately = message_notice::Entity::find()
        .filter(message_notice::Column::ConversationId.eq(conversation.id))
        .filter(message_notice::Column::UserId.eq(user.id))
        .filter(message_notice::Column::SentAt.gt(now - QUIET_FOR))
        .count(db)
        .await?;
    if told_lately > 0 {
        return Ok(Delivered::Skipped(
            "told of this conversation within 15 minutes",
        ));
    }
    let (by_email, by_text) = preferences(db, user.id).await?;
    let text = notice_text(senders.practice, senders.public_url);
    let mut channels = Vec::new();
    if by_email {
        senders
            .mailer
            .send(OutgoingEmail {
                to: user.email.clone(),
                subject: format!("A new secure message from {}", senders.practice),
                text_body: format!("{text}\n\n{}\n", senders.practice),
                ..Default::default()
            })
            .await
            .map_err(|e| AppError::internal(format_args!("the message notice email: {e}")))?;
        channels.push("email");
    }
    if by_text && user.role == Role::Patient {
        if let Some(to) = mobile(senders.keyring, &patient)? {
            senders
                .sms
                .send(OutgoingSms { to, body: text })
                .await
                .map_err(|e| AppError::internal(format_args!("the message notice text: {e}")))?;
            channels.push("text");
        }
    }
    if channels.is_empty() {
        return Ok(Delivered::Skipped("chose not to be told"));
    }
    let txn = db.begin().await?;
    for channel in &channels {
        message_notice::Entity::insert(message_notice::ActiveModel {
            conversation_id: Set(conversation.id),
            user_id: Set(user.id),
            channel: Set((*channel).to_owned()),
            sent_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    // Every communication is audited: to whom, by which channels, when; by the system.
    let mut event = audit::event(
        None,
        "message.notice",
        "messages",
        Some(user.public_id.clone()),
        Some(patient.public_id.clone()),
        Outcome::Allowed,
    );
    event.detail = Some(format!("notice by {}", channels.join(" and ")));
    let seal = senders.keyring.audit_seal().clone();
    audit::record_alone(db, &seal, now, &audit::ClientInfo::default(), &event).await?;
    Ok(Delivered::Sent(channels))
}

/// The patient's mobile number, if one is on file and can take texts.
pub(super) fn mobile(
    keyring: &Keyring,
    patient: &patient::Model,
) -> Result<Option<String>, AppError> {
    let Some(sealed) = &patient.phone else {
        return Ok(None);
    };
    let number = sealed
        .open(
            keyring,
            &FieldContext {
                table: "patient",
                column: "phone",
                row: &patient.public_id,
            },
        )
        .map_err(|e| AppError::internal(format_args!("opening a phone number: {e}")))?;
    Ok(crate::domain::PhoneNumber::parse(&number)
        .ok()
        .and_then(|p| p.e164()))
}

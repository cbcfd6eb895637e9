//! The communication hub's rules (server only): what the chart's composer sends, and the
//! patient's communication history.
//!
//! A secure message starts a conversation (messaging's own write). An email or a text is one
//! audited write on the patient's `Messages`: its copy (to whom, subject, words) sealed in
//! `communication`, and a `communication.send` job that sends it once committed (retried if the
//! provider fails; the history says so). Reading the history is one audited read.

use super::entity::communication::{self, Copy, QUEUED, RETRYING, SENT};
use super::model::{Channel, Composed, HistoryEntry, Hub, HubRefusal};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{can, Action};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::jobs::NewJob;
use crate::mail::{Mailer, OutgoingEmail};
use crate::messages::entity::{conversation, message};
use crate::messages::model::NewConversation;
use crate::messages::service::messages;
use crate::patients::entity::patient;
use crate::patients::service::{legal_name, open_patient, OpenPatient};
use crate::sms::{OutgoingSms, SmsSender};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

pub const SEND_JOB_KIND: &str = "communication.send";

/// The job's payload: which communication to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendJob {
    pub communication: String,
}

fn copy_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "communication",
        column: "copy",
        row: public_id,
    }
}

fn sealing(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing a communication: {e}"))
}

fn opening(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("opening a communication: {e}"))
}

/// The address a patient's email goes to: their account's.
async fn email_of(
    conn: &impl ConnectionTrait,
    patient: &patient::Model,
) -> Result<Option<String>, AppError> {
    let Some(user) = patient.user_id else {
        return Ok(None);
    };
    Ok(user_account::Entity::find_by_id(user)
        .one(conn)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .map(|u| u.email))
}

fn first_name(full: &str) -> String {
    full.split_whitespace().next().unwrap_or(full).to_owned()
}

/// The hub on patient `patient`'s chart, for whoever may write to them (`None` for anyone
/// else, who is shown nothing): one audited read.
pub async fn hub(me: &SignedIn, patient: &str) -> Result<Option<Hub>, AppError> {
    let Some(row) = crate::patients::service::find(me.db(), patient).await? else {
        return Ok(None);
    };
    if !can(&me.caller.actor, Action::Write, &messages(row.id)) {
        return Ok(None);
    }
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Read, messages, "communication.history").await?;
    let txn = permit.txn();
    let keyring = me.keyring();
    let hub = Hub {
        first_name: first_name(&legal_name(keyring, &row)?),
        email: email_of(txn, &row).await?,
        mobile: crate::messages::notices::mobile(keyring, &row)?,
        portal: row.user_id.is_some(),
        templates: super::templates::all(txn).await?,
        history: history(txn, keyring, &row).await?,
    };
    permit.commit().await?;
    Ok(Some(hub))
}

/// Everything the practice and the patient wrote to each other, newest first: emails and
/// texts from the chart, and secure conversations (by their first message).
async fn history(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient: &patient::Model,
) -> Result<Vec<HistoryEntry>, AppError> {
    let tz = crate::appointments::service::schedule::practice_time_zone(conn).await?;
    let sent = communication::Entity::find()
        .filter(communication::Column::PatientId.eq(patient.id))
        .all(conn)
        .await?;
    let conversations = conversation::Entity::find()
        .filter(conversation::Column::PatientId.eq(patient.id))
        .all(conn)
        .await?;
    let firsts = message::Entity::find()
        .filter(message::Column::ConversationId.is_in(conversations.iter().map(|c| c.id)))
        .filter(message::Column::Seq.eq(1))
        .all(conn)
        .await?;
    let names = crate::records::service::names_of(
        conn,
        keyring,
        sent.iter()
            .map(|c| c.sent_by)
            .chain(conversations.iter().map(|c| c.started_by)),
    )
    .await?;
    let patient_name = legal_name(keyring, patient)?;
    let name = |id: i32| {
        if Some(id) == patient.user_id {
            patient_name.clone()
        } else {
            names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "A former account".into())
        }
    };
    let mut entries: Vec<(DateTime<Utc>, HistoryEntry)> = Vec::new();
    for row in &sent {
        let copy = row
            .copy
            .open(keyring, &copy_context(&row.public_id))
            .map_err(opening)?;
        let status = match row.status.as_str() {
            SENT => "Sent",
            RETRYING => "Not sent yet: trying again",
            _ => "Waiting to be sent",
        };
        entries.push((
            row.created_at,
            HistoryEntry {
                channel: row.channel,
                at: crate::messages::reading::moment(tz, row.created_at),
                by: name(row.sent_by),
                to: copy.to,
                subject: copy.subject,
                body: copy.body,
                status: status.to_owned(),
                link: None,
            },
        ));
    }
    for row in &conversations {
        let first = firsts.iter().find(|m| m.conversation_id == row.id);
        let body = match first {
            Some(m) => {
                let bound = message::bound_to(&row.public_id, &m.public_id);
                m.body
                    .open(keyring, &crate::messages::writing::body_context(&bound))
                    .map_err(crate::messages::reading::opening)?
            }
            None => String::new(),
        };
        let count = row.last_seq;
        entries.push((
            row.created_at,
            HistoryEntry {
                channel: Channel::Message,
                at: crate::messages::reading::moment(tz, row.created_at),
                by: name(row.started_by),
                to: "The portal".to_owned(),
                subject: crate::messages::reading::subject_of(keyring, row)?,
                body,
                status: if count == 1 {
                    "1 message".to_owned()
                } else {
                    format!("{count} messages")
                },
                link: Some(crate::messages::api::conversation_page(
                    false,
                    &row.public_id,
                )),
            },
        ));
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

/// Sends `composed` to patient `patient` from the chart. Returns where to go next: the new
/// conversation's page for a secure message, else the chart's history.
pub async fn send(me: &SignedIn, patient: &str, composed: &Composed) -> Result<String, AppError> {
    if composed.channel == Channel::Message {
        let found = crate::patients::service::find(me.db(), patient).await?;
        if found.as_ref().is_some_and(|p| p.user_id.is_none()) {
            return Err(HubRefusal::NoPortal.into());
        }
        let new = NewConversation::parse(&composed.subject, &composed.body)?;
        let id = crate::messages::service::start(me, patient, &new).await?;
        return Ok(crate::messages::api::conversation_page(false, &id));
    }
    let verb = match composed.channel {
        Channel::Email => "communication.email",
        _ => "communication.text",
    };
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Write, messages, verb).await?;
    let txn = permit.txn();
    let to = match composed.channel {
        Channel::Email => email_of(txn, &row).await?.ok_or(HubRefusal::NoEmail)?,
        _ => crate::messages::notices::mobile(me.keyring(), &row)?.ok_or(HubRefusal::NoMobile)?,
    };
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let copy = Copy {
        to,
        subject: composed.subject.clone(),
        body: composed.body.clone(),
    };
    let now = me.now();
    communication::Entity::insert(communication::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(row.id),
        channel: Set(composed.channel),
        sent_by: Set(me.auth.user_id),
        created_at: Set(now),
        copy: Set(
            Encrypted::seal(me.keyring(), &copy_context(&public_id), &copy).map_err(sealing)?,
        ),
        status: Set(QUEUED.to_owned()),
        sent_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    let payload = SendJob {
        communication: public_id.clone(),
    };
    let job = crate::jobs::enqueue(
        txn,
        NewJob {
            kind: SEND_JOB_KIND,
            payload: &payload,
            run_at: now,
            dedupe_key: Some(format!("{SEND_JOB_KIND}:{public_id}")),
            max_attempts: 8,
        },
        now,
    )
    .await?;
    permit.commit().await?;
    me.run_soon(job, SEND_JOB_KIND);
    Ok(format!(
        "/dashboard/patients/{}#communication",
        crate::ui::url_encode(&row.public_id)
    ))
}

/// What the send job needs.
pub struct Senders<'a> {
    pub keyring: &'a Keyring,
    pub mailer: &'a dyn Mailer,
    pub sms: &'a dyn SmsSender,
    /// The practice's name, signed under an email.
    pub practice: &'a str,
    pub public_url: &'a str,
}

/// The words under every email from the chart: email is not the place for health details.
pub fn email_footer(practice: &str, public_url: &str) -> String {
    format!(
        "{practice}\n\nPlease do not reply with health details: email is not secure. Sign in to send us a secure message: {}/signin",
        public_url.trim_end_matches('/')
    )
}

/// Sends communication `job.communication` (once: a sent one is not sent again).
pub async fn deliver(
    db: &DatabaseConnection,
    senders: &Senders<'_>,
    job: &SendJob,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(row) = communication::Entity::find()
        .filter(communication::Column::PublicId.eq(job.communication.as_str()))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if row.status == SENT {
        return Ok(());
    }
    let copy = row
        .copy
        .open(senders.keyring, &copy_context(&row.public_id))
        .map_err(opening)?;
    let sent = match row.channel {
        Channel::Email => senders
            .mailer
            .send(OutgoingEmail {
                to: copy.to.clone(),
                subject: copy.subject.clone(),
                text_body: format!(
                    "{}\n\n--\n{}\n",
                    copy.body,
                    email_footer(senders.practice, senders.public_url)
                ),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string()),
        Channel::Text => senders
            .sms
            .send(OutgoingSms {
                to: copy.to.clone(),
                body: format!("{} ({})", copy.body, senders.practice),
            })
            .await
            .map_err(|e| e.to_string()),
        Channel::Message => Ok(()),
    };
    let (status, sent_at) = match &sent {
        Ok(()) => (SENT, Some(now)),
        Err(_) => (RETRYING, None),
    };
    communication::Entity::update_many()
        .col_expr(
            communication::Column::Status,
            sea_orm::sea_query::Expr::val(status),
        )
        .col_expr(
            communication::Column::SentAt,
            sea_orm::sea_query::Expr::val(sent_at),
        )
        .filter(communication::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    sent.map_err(|e| AppError::internal(format_args!("sending a communication: {e}")))
}

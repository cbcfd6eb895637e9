//! Writing messages (server only): a new conversation, a reply. Each is one permit on the
//! patient's `Messages` and one audit entry; the subject and body are sealed before they are
//! written; the message takes the next number of its conversation by updating the
//! conversation's row (held until commit), so messages are in the server's order, never a
//! client's clock; everyone in the conversation hears of it once it commits (`live`).

use super::entity::conversation;
use super::model::{MessageText, NewConversation};
use super::people;
pub(super) use super::writing::{body_context, subject_context};
use super::writing::{next_seq, write_message};
use crate::auth::context::SignedIn;
use crate::auth::guard::Permit;
use crate::auth::{guard, Action, Resource, Role};
use crate::crypto::{Encrypted, Keyring};
use crate::live::model::LiveKind;
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, open_patient_by_id, OpenPatient};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

pub(super) fn messages(patient_id: i32) -> Resource {
    Resource::Messages { patient_id }
}

pub(super) fn sealing(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing a message: {e}"))
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A conversation found by its public id, or the refusal (audited) for one that is not there.
pub(super) async fn find(
    me: &SignedIn,
    public_id: &str,
    verb: &str,
) -> Result<conversation::Model, AppError> {
    let found = conversation::Entity::find()
        .filter(conversation::Column::PublicId.eq(public_id))
        .one(me.db())
        .await?;
    match found {
        Some(row) => Ok(row),
        None => {
            guard::record_missing(me.db(), me.now(), &me.caller, verb, "messages", public_id)
                .await?;
            Err(match me.caller.actor.role {
                Role::Patient | Role::Admin => AppError::Forbidden,
                Role::Physician | Role::Staff => AppError::NotFound("That conversation".into()),
            })
        }
    }
}

/// Starts a conversation about patient `patient` (the patient's own, or the practice writing
/// to them) with its first message. Returns the conversation's public id.
pub async fn start(
    me: &SignedIn,
    patient: &str,
    new: &NewConversation,
) -> Result<String, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Write, messages, "message.start").await?;
    let now = me.now();
    let public_id = new_id();
    let subject = Encrypted::seal(me.keyring(), &subject_context(&public_id), &new.subject)
        .map_err(sealing)?;
    let inserted = conversation::Entity::insert(conversation::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(row.id),
        subject: Set(subject),
        started_by: Set(me.auth.user_id),
        created_at: Set(now),
        last_message_at: Set(now),
        last_seq: Set(0),
        assigned_to: Set(None),
        done_at: Set(None),
        ..Default::default()
    })
    .exec(permit.txn())
    .await?;
    let conversation = conversation::Entity::find_by_id(inserted.last_insert_id)
        .one(permit.txn())
        .await?
        .ok_or_else(|| AppError::internal("a conversation just written is missing"))?;
    append(me, &permit, &conversation, &row, &new.first, now).await?;
    permit.commit().await?;
    Ok(public_id)
}

/// Adds `text` to conversation `public_id`. Returns the message's number there.
pub async fn reply(me: &SignedIn, public_id: &str, text: &MessageText) -> Result<i64, AppError> {
    let conversation = find(me, public_id, "message.send").await?;
    reply_in(me, &conversation, text, None).await
}

/// Adds `text` (and `file`, already sealed into storage) to `conversation`. Returns the
/// message's number there. The message, the file's document and their link are one write.
pub(super) async fn reply_in(
    me: &SignedIn,
    conversation: &conversation::Model,
    text: &MessageText,
    file: Option<&super::files::Attached>,
) -> Result<i64, AppError> {
    let OpenPatient { row, permit } = open_patient_by_id(
        me,
        conversation.patient_id,
        Action::Write,
        messages,
        "message.send",
    )
    .await?;
    let (seq, message) = append(me, &permit, conversation, &row, text, me.now()).await?;
    if let Some(file) = file {
        super::files::file_with(permit.txn(), me, &row, message, file).await?;
    }
    permit.commit().await?;
    Ok(seq)
}

/// Writes message `text` from the caller as the next of `conversation`, and tells everyone in
/// it. A conversation marked done opens again. Returns its number and row id.
async fn append(
    me: &SignedIn,
    permit: &Permit,
    conversation: &conversation::Model,
    patient: &patient::Model,
    text: &MessageText,
    now: DateTime<Utc>,
) -> Result<(i64, i32), AppError> {
    let txn = permit.txn();
    let seq = next_seq(txn, conversation.id, now).await?;
    let written = write_message(
        txn,
        me.keyring(),
        conversation,
        me.auth.user_id,
        seq,
        text.as_str(),
        false,
        now,
    )
    .await?;
    if Some(me.auth.user_id) == patient.user_id {
        super::auto_reply::reply_if_closed(txn, me.keyring(), conversation, now).await?;
    }
    let everyone = people::everyone(txn, patient.id, patient.user_id, now).await?;
    let readers: Vec<i32> = everyone
        .iter()
        .copied()
        .filter(|person| *person != me.auth.user_id)
        .collect();
    super::notices::plan(txn, &conversation.public_id, &readers, now).await?;
    crate::live::service::publish_to(
        txn,
        &everyone,
        LiveKind::Message,
        Some(&conversation.public_id),
        now,
    )
    .await?;
    Ok((seq, written))
}

/// Files a conversation as it happened, for the demo practice: `messages` are (sender, words,
/// when), oldest first; every one but the last read by the other side an hour after it came.
/// Returns the conversation's public id.
pub async fn file(
    db: &sea_orm::DatabaseConnection,
    keyring: &Keyring,
    patient_id: i32,
    subject: &str,
    messages: &[(i32, &str, DateTime<Utc>)],
) -> Result<String, AppError> {
    use super::entity::message_receipt;
    use sea_orm::TransactionTrait;
    let Some((first, _, started)) = messages.first().copied() else {
        return Err(AppError::internal("a conversation without messages"));
    };
    let last_at = messages.last().map_or(started, |m| m.2);
    let txn = db.begin().await?;
    let public_id = new_id();
    let sealed = Encrypted::seal(keyring, &subject_context(&public_id), &subject.to_owned())
        .map_err(sealing)?;
    let inserted = conversation::Entity::insert(conversation::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(patient_id),
        subject: Set(sealed),
        started_by: Set(first),
        created_at: Set(started),
        last_message_at: Set(last_at),
        last_seq: Set(messages.len() as i64),
        assigned_to: Set(None),
        done_at: Set(None),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let row = conversation::Entity::find_by_id(inserted.last_insert_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("a conversation just written is missing"))?;
    for (i, (sender, words, at)) in messages.iter().enumerate() {
        let message = write_message(
            &txn,
            keyring,
            &row,
            *sender,
            i as i64 + 1,
            words,
            false,
            *at,
        )
        .await?;
        let reader = messages.iter().map(|m| m.0).find(|s| s != sender);
        if let (Some(reader), true) = (reader, i + 1 < messages.len()) {
            message_receipt::Entity::insert(message_receipt::ActiveModel {
                message_id: Set(message),
                user_id: Set(reader),
                read_at: Set(*at + chrono::Duration::hours(1)),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(public_id)
}

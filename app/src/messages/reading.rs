//! Reading messages (server only): a patient's conversations, the practice's inbox, one
//! conversation opened (which marks its messages read and tells the sender), unread counts.
//! Each list or conversation is one audited read (the inbox: one entry per patient shown, P9).

use super::entity::{conversation, message, message_receipt};
use super::model::{ConversationSummary, ConversationView, MessageView, Receipt};
use super::people;
use super::service::{body_context, find, messages, subject_context};
pub use super::unread::unread_total;
use super::unread::{from_patients, unread_by};
use crate::audit::{service as audit, Outcome};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{guard, Action, Resource, Role};
use crate::crypto::Keyring;
use crate::live::model::LiveKind;
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, open_patient_by_id, OpenPatient};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use std::collections::{HashMap, HashSet};

pub(super) fn opening(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("opening a message: {e}"))
}

pub(super) fn subject_of(keyring: &Keyring, row: &conversation::Model) -> Result<String, AppError> {
    row.subject
        .open(keyring, &subject_context(&row.public_id))
        .map_err(opening)
}

/// Unread messages for `me` per conversation, among `ids`.
async fn unread_in(
    conn: &impl ConnectionTrait,
    me: &SignedIn,
    ids: &[i32],
) -> Result<HashMap<i32, u64>, AppError> {
    let mut query = message::Entity::find()
        .filter(message::Column::ConversationId.is_in(ids.iter().copied()))
        .filter(unread_by(me.auth.user_id));
    if me.auth.role != Role::Patient {
        query = query.filter(from_patients());
    }
    let mut counts = HashMap::new();
    for row in query.all(conn).await? {
        *counts.entry(row.conversation_id).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Names of accounts, by id ("a former account" for one gone).
async fn names(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, AppError> {
    let ids: HashSet<i32> = ids.into_iter().collect();
    let mut out = HashMap::new();
    for user in user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(ids))
        .all(conn)
        .await?
    {
        out.insert(user.id, crate::auth::service::display_name(keyring, &user)?);
    }
    Ok(out)
}

pub(super) fn moment(tz: chrono_tz::Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz)
        .format("%b %-d, %-I:%M %P")
        .to_string()
}

/// `rows` as a list shows them, to `me`; `with` names the other side of each.
async fn summaries(
    conn: &impl ConnectionTrait,
    me: &SignedIn,
    rows: Vec<conversation::Model>,
    with: impl Fn(&conversation::Model) -> Result<(String, String), AppError>,
) -> Result<Vec<ConversationSummary>, AppError> {
    let keyring = me.keyring();
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let unread = unread_in(conn, me, &ids).await?;
    let assigned = names(conn, keyring, rows.iter().filter_map(|r| r.assigned_to)).await?;
    let tz = crate::appointments::service::schedule::practice_time_zone(conn).await?;
    rows.iter()
        .map(|row| {
            let (name, patient) = with(row)?;
            Ok(ConversationSummary {
                public_id: row.public_id.clone(),
                subject: subject_of(keyring, row)?,
                with: name,
                patient,
                last_at: moment(tz, row.last_message_at),
                unread: unread.get(&row.id).copied().unwrap_or(0),
                assigned_to: row.assigned_to.and_then(|id| assigned.get(&id).cloned()),
                mine: row.assigned_to == Some(me.auth.user_id),
                done: row.done_at.is_some(),
            })
        })
        .collect()
}

/// The signed-in patient's conversations with the practice, the latest first.
pub async fn mine(me: &SignedIn) -> Result<Vec<ConversationSummary>, AppError> {
    let Some(patient) = me.auth.patient_public_id.clone() else {
        return Err(AppError::Forbidden);
    };
    let OpenPatient { row, permit } =
        open_patient(me, &patient, Action::Read, messages, "message.list").await?;
    let txn = permit.txn();
    let rows = conversation::Entity::find()
        .filter(conversation::Column::PatientId.eq(row.id))
        .order_by_desc(conversation::Column::LastMessageAt)
        .order_by_desc(conversation::Column::Id)
        .all(txn)
        .await?;
    let practice = crate::auth::context::practice_name();
    let out = summaries(txn, me, rows, |_| {
        Ok((practice.clone(), row.public_id.clone()))
    })
    .await?;
    permit.commit().await?;
    Ok(out)
}

/// The practice's inbox: every conversation the caller may read, the latest first (staff: of
/// the patients they hold a grant for), as `show` narrows it, and to patients whose name holds
/// `narrow.patient` and conversations with a message since `narrow.since`. One audit entry for
/// the inbox and one per patient shown.
pub async fn inbox(
    me: &SignedIn,
    show: super::model::InboxFilter,
    narrow: &super::model::InboxNarrowing,
) -> Result<Vec<ConversationSummary>, AppError> {
    use super::model::InboxFilter;
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let mut permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Inbox,
        None,
        "message.inbox",
    )
    .await?;
    let txn = permit.txn();
    let mut query = conversation::Entity::find()
        .order_by_desc(conversation::Column::LastMessageAt)
        .order_by_desc(conversation::Column::Id);
    if let Some(since) = narrow.since {
        // From the start of that day in the practice's time zone.
        let tz = crate::appointments::service::schedule::practice_time_zone(txn).await?;
        let start = since
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| AppError::field("since", "That day does not exist here."))?;
        query = query.filter(conversation::Column::LastMessageAt.gte(start));
    }
    if me.auth.role == Role::Staff {
        let granted = super::people::granted_patients(txn, me.auth.user_id, now).await?;
        query = query.filter(conversation::Column::PatientId.is_in(granted));
    }
    query = match show {
        InboxFilter::Open | InboxFilter::Unread => {
            query.filter(conversation::Column::DoneAt.is_null())
        }
        InboxFilter::Mine => query.filter(conversation::Column::AssignedTo.eq(me.auth.user_id)),
        InboxFilter::Done => query.filter(conversation::Column::DoneAt.is_not_null()),
        InboxFilter::All => query,
    };
    let mut rows = query.all(txn).await?;
    if show == InboxFilter::Unread {
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let unread = unread_in(txn, me, &ids).await?;
        rows.retain(|r| unread.get(&r.id).is_some_and(|n| *n > 0));
    }
    let mut patients: HashMap<i32, patient::Model> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(rows.iter().map(|r| r.patient_id)))
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let keyring = me.keyring();
    if let Some(needle) = narrow.patient.as_deref() {
        // Names are sealed: opened and matched here, never by the database.
        let mut keep = std::collections::HashSet::new();
        for (id, patient) in &patients {
            let name = crate::patients::service::legal_name(keyring, patient)?;
            if name.to_lowercase().contains(needle) {
                keep.insert(*id);
            }
        }
        rows.retain(|r| keep.contains(&r.patient_id));
        patients.retain(|id, _| keep.contains(id));
    }
    let out = summaries(txn, me, rows, |row| {
        let patient = patients
            .get(&row.patient_id)
            .ok_or_else(|| AppError::internal("a conversation without its patient"))?;
        Ok((
            crate::patients::service::legal_name(keyring, patient)?,
            patient.public_id.clone(),
        ))
    })
    .await?;
    let mut shown: Vec<&patient::Model> = patients.values().collect();
    shown.sort_by_key(|p| p.id);
    for patient in shown {
        permit.record_also(audit::event(
            Some(caller.audit_actor()),
            "message.list",
            "messages",
            None,
            Some(patient.public_id.clone()),
            Outcome::Allowed,
        ));
    }
    permit.commit().await?;
    Ok(out)
}

/// Conversation `public_id`, opened by `me`: every message in the server's order, and for
/// `me`'s own, who has read it. The messages written to `me` are then marked read, and the
/// people in the conversation hear it (the sender sees the receipt).
pub async fn open(me: &SignedIn, public_id: &str) -> Result<ConversationView, AppError> {
    let conversation = find(me, public_id, "message.read").await?;
    let OpenPatient { row, permit } = open_patient_by_id(
        me,
        conversation.patient_id,
        Action::Read,
        messages,
        "message.read",
    )
    .await?;
    let txn = permit.txn();
    let keyring = me.keyring();
    let rows = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation.id))
        .order_by_asc(message::Column::Seq)
        .all(txn)
        .await?;
    let receipts = message_receipt::Entity::find()
        .filter(message_receipt::Column::MessageId.is_in(rows.iter().map(|m| m.id)))
        .order_by_asc(message_receipt::Column::ReadAt)
        .all(txn)
        .await?;
    let mut people = names(
        txn,
        keyring,
        rows.iter()
            .map(|m| m.sender_id)
            .chain(receipts.iter().map(|r| r.user_id))
            .chain(conversation.assigned_to),
    )
    .await?;
    // The patient by the name in their record (their account's is how they sign in).
    if let Some(user) = row.user_id {
        people.insert(user, crate::patients::service::legal_name(keyring, &row)?);
    }
    let tz = crate::appointments::service::schedule::practice_time_zone(txn).await?;
    let mut files =
        super::files::files_of(txn, keyring, rows.iter().map(|m| m.id).collect()).await?;
    let me_id = me.auth.user_id;
    let name = |id: i32| {
        people
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "A former account".into())
    };
    let mut views = Vec::with_capacity(rows.len());
    for m in &rows {
        let bound = message::bound_to(&conversation.public_id, &m.public_id);
        let body = m
            .body
            .open(keyring, &body_context(&bound))
            .map_err(opening)?;
        let mine = m.sender_id == me_id && !m.automatic;
        let read_by = if mine {
            receipts
                .iter()
                .filter(|r| r.message_id == m.id && r.user_id != me_id)
                .map(|r| Receipt {
                    who: name(r.user_id),
                    at: moment(tz, r.read_at),
                })
                .collect()
        } else {
            Vec::new()
        };
        views.push(MessageView {
            public_id: m.public_id.clone(),
            seq: m.seq,
            from: if m.automatic {
                crate::auth::context::practice_name()
            } else {
                name(m.sender_id)
            },
            mine,
            body,
            at: moment(tz, m.created_at),
            automatic: m.automatic,
            read_by,
            files: files.remove(&m.id).unwrap_or_default(),
        });
    }
    // For the practice: who may look after it (and who does).
    let (colleagues, assigned_to_id) = if me.auth.role == Role::Patient {
        (Vec::new(), None)
    } else {
        let ids = people::practice_side(txn, row.id, me.now()).await?;
        let accounts = user_account::Entity::find()
            .filter(
                user_account::Column::Id.is_in(ids.iter().copied().chain(conversation.assigned_to)),
            )
            .all(txn)
            .await?;
        let mut colleagues = Vec::new();
        for user in accounts.iter().filter(|u| ids.contains(&u.id)) {
            colleagues.push(super::model::Colleague {
                public_id: user.public_id.clone(),
                name: crate::auth::service::display_name(keyring, user)?,
            });
        }
        colleagues.sort_by(|a, b| a.name.cmp(&b.name));
        let assigned = conversation
            .assigned_to
            .and_then(|id| accounts.iter().find(|u| u.id == id))
            .map(|u| u.public_id.clone());
        (colleagues, assigned)
    };
    let view = ConversationView {
        public_id: conversation.public_id.clone(),
        subject: subject_of(keyring, &conversation)?,
        with: if me.auth.role == Role::Patient {
            crate::auth::context::practice_name()
        } else {
            crate::patients::service::legal_name(keyring, &row)?
        },
        patient: row.public_id.clone(),
        messages: views,
        done: conversation.done_at.is_some(),
        assigned_to: conversation.assigned_to.map(name),
        colleagues,
        assigned_to_id,
    };
    permit.commit().await?;
    let read_now: Vec<i32> = rows
        .iter()
        .filter(|m| m.sender_id != me_id)
        .filter(|m| {
            !receipts
                .iter()
                .any(|r| r.message_id == m.id && r.user_id == me_id)
        })
        .map(|m| m.id)
        .collect();
    mark_read(me, &conversation, &row, &read_now).await?;
    Ok(view)
}

/// Receipts for `ids` by `me`, and the conversation's people told.
async fn mark_read(
    me: &SignedIn,
    conversation: &conversation::Model,
    patient: &patient::Model,
    ids: &[i32],
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = me.now();
    let txn = me.db().begin().await?;
    message_receipt::Entity::insert_many(ids.iter().map(|id| message_receipt::ActiveModel {
        message_id: Set(*id),
        user_id: Set(me.auth.user_id),
        read_at: Set(now),
    }))
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    let everyone = people::everyone(&txn, patient.id, patient.user_id, now).await?;
    crate::live::service::publish_to(
        &txn,
        &everyone,
        LiveKind::MessagesRead,
        Some(&conversation.public_id),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

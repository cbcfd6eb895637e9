//! Searching one's own messages (issue 15 §2, server only). There is no index of the words on
//! disk: the conversations the caller may read are opened and filtered in memory, subjects
//! and bodies alike. One audit entry for the search, and one per patient whose messages it
//! shows.

use super::entity::{conversation, message};
use super::model::{excerpt, SearchHit, SEARCH_MAX};
use super::service::{body_context, subject_context};
use crate::audit::{service as audit, Outcome};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{guard, Action, Resource, Role};
use crate::patients::entity::patient;
use crate::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeSet, HashMap};

/// The most hits shown.
pub const MAX_HITS: usize = 50;

/// The caller's messages whose words or conversation's subject contain `query` (any case),
/// newest first.
pub async fn search(me: &SignedIn, query: &str) -> Result<Vec<SearchHit>, AppError> {
    let needle: String = query.trim().chars().flat_map(char::to_lowercase).collect();
    if needle.chars().count() < 2 {
        return Err(AppError::field("q", "Search for at least two letters."));
    }
    if needle.chars().count() > SEARCH_MAX {
        return Err(AppError::field(
            "q",
            format!("Search for at most {SEARCH_MAX} characters."),
        ));
    }
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    // Whose conversations: the patient's own; the practice's as its inbox allows.
    let (resource, own) = match me.auth.role {
        Role::Patient => {
            let own = me.auth.patient_id.ok_or(AppError::Forbidden)?;
            (Resource::Messages { patient_id: own }, Some(own))
        }
        _ => (Resource::Inbox, None),
    };
    let mut permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        resource,
        me.auth.patient_public_id.clone(),
        "message.search",
    )
    .await?;
    let txn = permit.txn();
    let mut conversations = conversation::Entity::find();
    if let Some(own) = own {
        conversations = conversations.filter(conversation::Column::PatientId.eq(own));
    } else if me.auth.role == Role::Staff {
        let granted = super::people::granted_patients(txn, me.auth.user_id, now).await?;
        conversations = conversations.filter(conversation::Column::PatientId.is_in(granted));
    }
    let conversations: HashMap<i32, conversation::Model> = conversations
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let rows = message::Entity::find()
        .filter(message::Column::ConversationId.is_in(conversations.keys().copied()))
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .all(txn)
        .await?;
    let keyring = me.keyring();
    let opening = |e: crate::crypto::CryptoError| {
        AppError::internal(format_args!("opening a message to search it: {e}"))
    };
    let mut subjects: HashMap<i32, String> = HashMap::new();
    for c in conversations.values() {
        subjects.insert(
            c.id,
            c.subject
                .open(keyring, &subject_context(&c.public_id))
                .map_err(opening)?,
        );
    }
    let mut found = Vec::new();
    for m in &rows {
        let c = &conversations[&m.conversation_id];
        let bound = message::bound_to(&c.public_id, &m.public_id);
        let body: String = m
            .body
            .open(keyring, &body_context(&bound))
            .map_err(opening)?;
        let subject = &subjects[&c.id];
        let in_body = body.to_lowercase().contains(&needle);
        if in_body || subject.to_lowercase().contains(&needle) {
            found.push((
                m,
                c,
                excerpt(&body, if in_body { &needle } else { "" }, 140),
            ));
            if found.len() == MAX_HITS {
                break;
            }
        }
    }
    // Names: the patients (for the practice) and the senders.
    let patients: HashMap<i32, patient::Model> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(found.iter().map(|(_, c, _)| c.patient_id)))
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let senders: HashMap<i32, user_account::Model> = user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(found.iter().map(|(m, _, _)| m.sender_id)))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let tz = crate::appointments::service::schedule::practice_time_zone(txn).await?;
    let practice = crate::auth::context::practice_name();
    let mut hits = Vec::with_capacity(found.len());
    let mut shown = BTreeSet::new();
    for (m, c, excerpt) in found {
        let patient = patients
            .get(&c.patient_id)
            .ok_or_else(|| AppError::internal("a conversation without its patient"))?;
        shown.insert(patient.public_id.clone());
        let from = if m.sender_id == me.auth.user_id {
            "You".to_owned()
        } else if Some(m.sender_id) == patient.user_id {
            crate::patients::service::legal_name(keyring, patient)?
        } else {
            match senders.get(&m.sender_id) {
                Some(u) => crate::auth::service::display_name(keyring, u)?,
                None => practice.clone(),
            }
        };
        hits.push(SearchHit {
            conversation: c.public_id.clone(),
            subject: subjects[&c.id].clone(),
            with: if own.is_some() {
                practice.clone()
            } else {
                crate::patients::service::legal_name(keyring, patient)?
            },
            from,
            at: m
                .created_at
                .with_timezone(&tz)
                .format("%b %-d, %-I:%M %P")
                .to_string(),
            excerpt,
        });
    }
    if own.is_none() {
        for patient in shown {
            permit.record_also(audit::event(
                Some(caller.audit_actor()),
                "message.search",
                "messages",
                None,
                Some(patient),
                Outcome::Allowed,
            ));
        }
    }
    permit.commit().await?;
    Ok(hits)
}

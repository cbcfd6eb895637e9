//! What waits unread for whom (server only): the header's count, a conversation's waiting
//! messages for the notices. For a patient, what the practice wrote them; for the practice,
//! what patients wrote (a colleague's reply is not waiting for anyone). Counts only: no names,
//! no words, so these are not reads of anyone's messages.

use super::entity::{conversation, message, message_receipt};
use crate::auth::entity::user_account;
use crate::auth::Role;
use crate::patients::entity::patient;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Messages not sent by `user_id` and not yet read by them (a filter on `message`).
pub(super) fn unread_by(user_id: i32) -> sea_orm::Condition {
    let receipt = Query::select()
        .expr(Expr::val(1))
        .from(message_receipt::Entity)
        .and_where(
            Expr::col((message_receipt::Entity, message_receipt::Column::MessageId))
                .equals((message::Entity, message::Column::Id)),
        )
        .and_where(
            Expr::col((message_receipt::Entity, message_receipt::Column::UserId)).eq(user_id),
        )
        .to_owned();
    sea_orm::Condition::all()
        .add(message::Column::SenderId.ne(user_id))
        .add(Expr::exists(receipt).not())
}

/// Messages written by patients (for the practice, what is unread is what patients wrote).
pub(super) fn from_patients() -> sea_orm::Condition {
    sea_orm::Condition::all().add(
        message::Column::SenderId.in_subquery(
            Query::select()
                .column(user_account::Column::Id)
                .from(user_account::Entity)
                .and_where(user_account::Column::Role.eq(Role::Patient))
                .to_owned(),
        ),
    )
}

/// How many messages wait unread for the account `user_id` (the header's count): for a
/// patient, what the practice wrote them; for the physician, what patients wrote; for staff,
/// what the patients they hold a grant for wrote. Not a read of anyone's messages: no names,
/// no words.
pub async fn unread_total(
    conn: &impl ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let Some(user) = user_account::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(0);
    };
    let mut query = message::Entity::find().filter(unread_by(user_id));
    let in_conversations_of = |patients: Vec<i32>| {
        message::Column::ConversationId.in_subquery(
            Query::select()
                .column(conversation::Column::Id)
                .from(conversation::Entity)
                .and_where(conversation::Column::PatientId.is_in(patients))
                .to_owned(),
        )
    };
    match user.role {
        Role::Patient => {
            let mine: Vec<i32> = patient::Entity::find()
                .filter(patient::Column::UserId.eq(user_id))
                .all(conn)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            query = query.filter(in_conversations_of(mine));
        }
        Role::Physician => query = query.filter(from_patients()),
        Role::Staff => {
            let granted = super::people::granted_patients(conn, user_id, now).await?;
            query = query
                .filter(from_patients())
                .filter(in_conversations_of(granted));
        }
        Role::Admin => return Ok(0),
    }
    Ok(query.count(conn).await?)
}

/// Messages in conversation `conversation_id` waiting unread for `user_id` (of role `role`:
/// for the practice, what the patient wrote).
pub async fn waiting_in(
    conn: &impl ConnectionTrait,
    conversation_id: i32,
    user_id: i32,
    role: Role,
) -> Result<u64, AppError> {
    let mut query = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(unread_by(user_id));
    if role != Role::Patient {
        query = query.filter(from_patients());
    }
    Ok(query.count(conn).await?)
}

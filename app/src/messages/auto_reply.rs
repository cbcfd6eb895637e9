//! The practice's automatic reply out of office hours (issue 15 §2, server only). When it is
//! on and a patient writes while the practice is not working (no visit window of the schedule,
//! in the practice's time zone, holds the moment), the conversation gets the reply at once,
//! marked as automatic; at most one per conversation in [`QUIET_FOR`]. Only the physician sets
//! it (one audited write on the schedule: it is about when the practice works).

use super::entity::{conversation, message, message_auto_reply};
use super::model::{AutoReply, AUTO_REPLY_MAX, DEFAULT_AUTO_REPLY};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{guard, Action, Resource, Role};
use crate::crypto::Keyring;
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

/// At most one automatic reply per conversation in this long.
pub const QUIET_FOR: Duration = Duration::hours(12);

/// The practice's setting (off, with the default words, until set).
pub async fn current(conn: &impl ConnectionTrait) -> Result<AutoReply, AppError> {
    Ok(message_auto_reply::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map_or_else(
            || AutoReply {
                enabled: false,
                text: DEFAULT_AUTO_REPLY.to_owned(),
            },
            |row| AutoReply {
                enabled: row.enabled,
                text: row.body,
            },
        ))
}

/// Sets the reply: on or off, and its words (the default when left empty).
pub async fn save(me: &SignedIn, enabled: bool, text: &str) -> Result<(), AppError> {
    let text = match text.trim() {
        "" => DEFAULT_AUTO_REPLY.to_owned(),
        words if words.chars().count() > AUTO_REPLY_MAX => {
            return Err(AppError::field(
                "text",
                format!("The reply can be at most {AUTO_REPLY_MAX} characters."),
            ))
        }
        words => words.to_owned(),
    };
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Write,
        Resource::Schedule,
        None,
        "message.auto_reply",
    )
    .await?;
    message_auto_reply::Entity::insert(message_auto_reply::ActiveModel {
        id: Set(1),
        enabled: Set(enabled),
        body: Set(text),
        updated_by: Set(Some(me.auth.user_id)),
        updated_at: Set(me.now()),
    })
    .on_conflict(
        OnConflict::column(message_auto_reply::Column::Id)
            .update_columns([
                message_auto_reply::Column::Enabled,
                message_auto_reply::Column::Body,
                message_auto_reply::Column::UpdatedBy,
                message_auto_reply::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(permit.txn())
    .await?;
    permit.commit().await
}

/// After a patient's message in `conversation` at `now`: the automatic reply, as the
/// conversation's next message, when it is on, the practice is closed and none was sent lately.
/// Returns whether it was written.
pub async fn reply_if_closed(
    txn: &DatabaseTransaction,
    keyring: &Keyring,
    conversation: &conversation::Model,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let setting = current(txn).await?;
    if !setting.enabled {
        return Ok(false);
    }
    let Some(schedule) = crate::appointments::service::schedule::load_schedule(txn).await? else {
        return Ok(false);
    };
    if schedule.working_at(now.with_timezone(&schedule.time_zone).naive_local()) {
        return Ok(false);
    }
    let lately = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation.id))
        .filter(message::Column::Automatic.eq(true))
        .filter(message::Column::CreatedAt.gt(now - QUIET_FOR))
        .count(txn)
        .await?;
    if lately > 0 {
        return Ok(false);
    }
    // Written in the physician's name, shown as the practice's.
    let Some(physician) = user_account::Entity::find()
        .filter(user_account::Column::Role.eq(Role::Physician))
        .filter(user_account::Column::DisabledAt.is_null())
        .one(txn)
        .await?
    else {
        return Ok(false);
    };
    let seq = super::writing::next_seq(txn, conversation.id, now).await?;
    super::writing::write_message(
        txn,
        keyring,
        conversation,
        physician.id,
        seq,
        &setting.text,
        true,
        now,
    )
    .await?;
    Ok(true)
}

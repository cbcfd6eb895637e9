//! Announcing live events, and reading them back (server only).
//!
//! [`publish`] runs inside the writer's transaction: it takes the person's next number (the
//! `live_cursor` row stays locked until that transaction ends, so one person's events commit in
//! number order and a rolled-back number is taken again), keeps the event in `live_event`, and
//! on PostgreSQL sends `pg_notify` on [`CHANNEL`], which the database delivers to every
//! listening process only if and when the transaction commits. On SQLite (one process) it tells
//! this process's bus the row's id through [`local_wakes`]; the bus tells no one until it finds
//! that row committed. Either way nothing rolled back is ever announced.

use super::entity::{live_cursor, live_event};
use super::model::{LiveEvent, LiveKind};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use std::sync::OnceLock;
use tokio::sync::broadcast;

/// The PostgreSQL channel every process listens on.
pub const CHANNEL: &str = "bedside_live";

/// The most events a stream is refilled with at once; past it, the page reloads what it shows.
pub const REFILL_LIMIT: u64 = 500;

/// Announces `kind` (about `subject`) to `user_id`, as part of `txn`: sent when and only if it
/// commits. Call it before the transaction's audit row (which is written last).
pub async fn publish(
    txn: &DatabaseTransaction,
    user_id: i32,
    kind: LiveKind,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<LiveEvent, AppError> {
    let seq = next_seq(txn, user_id).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    live_event::Entity::insert(live_event::ActiveModel {
        id: Set(id.clone()),
        user_id: Set(user_id),
        seq: Set(seq),
        kind: Set(kind),
        subject: Set(subject.map(str::to_owned)),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    let event = LiveEvent {
        user_id,
        seq,
        kind,
        subject: subject.map(str::to_owned),
    };
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            let payload = serde_json::to_string(&event)
                .map_err(|e| AppError::internal(format_args!("live event: {e}")))?;
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        _ => {
            // No receiver (no stream open in this process) is not an error.
            let _ = local_wakes().send(id);
        }
    }
    Ok(event)
}

/// [`publish`] to several people, their numbers taken in the order of their ids (so two
/// transactions announcing to the same people never wait on each other in a circle).
pub async fn publish_to(
    txn: &DatabaseTransaction,
    users: &[i32],
    kind: LiveKind,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<LiveEvent>, AppError> {
    let mut users = users.to_vec();
    users.sort_unstable();
    users.dedup();
    let mut events = Vec::with_capacity(users.len());
    for user in users {
        events.push(publish(txn, user, kind, subject, now).await?);
    }
    Ok(events)
}

/// The person's next number, their cursor row locked until `txn` ends.
async fn next_seq(txn: &DatabaseTransaction, user_id: i32) -> Result<i64, AppError> {
    live_cursor::Entity::insert(live_cursor::ActiveModel {
        user_id: Set(user_id),
        seq: Set(1),
    })
    .on_conflict(
        OnConflict::column(live_cursor::Column::UserId)
            .value(
                live_cursor::Column::Seq,
                Expr::col((live_cursor::Entity, live_cursor::Column::Seq)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let cursor = live_cursor::Entity::find_by_id(user_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("the live cursor row is missing"))?;
    Ok(cursor.seq)
}

/// This process's announcements on SQLite: the ids of `live_event` rows written by
/// transactions that may not have committed yet.
pub fn local_wakes() -> &'static broadcast::Sender<String> {
    static WAKES: OnceLock<broadcast::Sender<String>> = OnceLock::new();
    WAKES.get_or_init(|| broadcast::channel(4096).0)
}

fn event_of(row: live_event::Model) -> LiveEvent {
    LiveEvent {
        user_id: row.user_id,
        seq: row.seq,
        kind: row.kind,
        subject: row.subject,
    }
}

/// `user_id`'s events after number `after`, oldest first, at most [`REFILL_LIMIT`].
pub async fn since(
    conn: &impl ConnectionTrait,
    user_id: i32,
    after: i64,
) -> Result<Vec<LiveEvent>, AppError> {
    Ok(live_event::Entity::find()
        .filter(live_event::Column::UserId.eq(user_id))
        .filter(live_event::Column::Seq.gt(after))
        .order_by_asc(live_event::Column::Seq)
        .limit(REFILL_LIMIT)
        .all(conn)
        .await?
        .into_iter()
        .map(event_of)
        .collect())
}

/// The number of `user_id`'s newest event (0 before the first).
pub async fn newest(conn: &impl ConnectionTrait, user_id: i32) -> Result<i64, AppError> {
    Ok(live_cursor::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .map_or(0, |c| c.seq))
}

/// The committed events among the rows `ids` (for the one-process bus).
pub async fn committed(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<(String, LiveEvent)>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(live_event::Entity::find()
        .filter(live_event::Column::Id.is_in(ids.iter().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), event_of(row)))
        .collect())
}

/// Forgets events written before `before` (the cursors stay, so numbers never repeat).
pub async fn prune(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(live_event::Entity::delete_many()
        .filter(live_event::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}

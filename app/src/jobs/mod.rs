//! The durable job queue, as features use it: [`enqueue`] inside the transaction that makes
//! the work necessary (so a booking and its reminders commit together). The scheduler that runs
//! jobs lives in the server crate (`server/src/jobs`).

pub mod entity;

use crate::AppError;
use chrono::{DateTime, Utc};
use entity::job;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, TryInsertResult,
};
use serde::Serialize;

/// Where a job is in its life (`job.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum JobStatus {
    Pending,
    Running,
    Done,
    /// Gave up after its last attempt.
    Failed,
    /// Withdrawn before it ran (a cancelled appointment's reminder).
    Cancelled,
}

crate::stored_words!(JobStatus, "job status", {
    Pending => "pending",
    Running => "running",
    Done => "done",
    Failed => "failed",
    Cancelled => "cancelled",
});

/// Where a job is in its life, by the names the scheduler uses.
pub mod status {
    use super::JobStatus;
    pub const PENDING: JobStatus = JobStatus::Pending;
    pub const RUNNING: JobStatus = JobStatus::Running;
    pub const DONE: JobStatus = JobStatus::Done;
    pub const FAILED: JobStatus = JobStatus::Failed;
    pub const CANCELLED: JobStatus = JobStatus::Cancelled;
}

/// Starts a job at once in the background: the email a person expects right after what they
/// did (a confirmation, a waitlist offer). The server's scheduler provides it in every request's
/// context; if it cannot run the job now, the worker retries it like any due job.
pub trait RunSoon: Send + Sync {
    fn run_soon(&self, job: i32, what: &'static str);

    /// Runs every job due now and waits for them: what a write set in motion that its page
    /// shows at once (the local processor's payment events after a plan change). A failure is
    /// logged; the worker runs what is left.
    fn run_due_now(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>>;
}

/// The request's [`RunSoon`], as server functions find it in their context.
pub type Soon = std::sync::Arc<dyn RunSoon>;

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob<'a, P: Serialize> {
    pub kind: &'a str,
    pub payload: &'a P,
    pub run_at: DateTime<Utc>,
    /// With a key, the job is added at most once (until it is cancelled): enqueueing it again
    /// returns the existing job. "One reminder per appointment" is a key, not a hope.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
}

/// Adds a job, in the caller's transaction. Returns its id (the existing job's for a key that
/// was used already).
pub async fn enqueue<P: Serialize>(
    conn: &impl ConnectionTrait,
    new: NewJob<'_, P>,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let key = new.dedupe_key.clone();
    // One statement in the usual case: a key already used is a conflict that inserts nothing
    // (and, unlike a unique violation, leaves a PostgreSQL transaction usable).
    let inserted = job::Entity::insert(row(new, now)?)
        .on_conflict_do_nothing_on([job::Column::DedupeKey])
        .exec(conn)
        .await?;
    match (inserted, key) {
        (TryInsertResult::Inserted(result), _) => Ok(result.last_insert_id),
        (TryInsertResult::Conflicted, Some(key)) => id_with_key(conn, &key).await,
        _ => Err(AppError::internal("a job was not added")),
    }
}

/// Adds several jobs in one statement, in the caller's transaction; a job whose key was used
/// already is skipped.
pub async fn enqueue_all<P: Serialize>(
    conn: &impl ConnectionTrait,
    jobs: Vec<NewJob<'_, P>>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let rows = rows(jobs, now)?;
    if rows.is_empty() {
        return Ok(());
    }
    job::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([job::Column::DedupeKey])
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// As [`enqueue_all`], and returns the id of the job keyed `key` (added now, or before). Where
/// the database returns what it inserted (PostgreSQL), that is one statement.
pub async fn enqueue_all_finding<P: Serialize>(
    conn: &impl ConnectionTrait,
    jobs: Vec<NewJob<'_, P>>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    if conn.support_returning() {
        let inserted = job::Entity::insert_many(rows(jobs, now)?)
            .on_conflict_do_nothing_on([job::Column::DedupeKey])
            .exec_with_returning_many(conn)
            .await?;
        if let TryInsertResult::Inserted(added) = inserted {
            if let Some(job) = added.iter().find(|j| j.dedupe_key.as_deref() == Some(key)) {
                return Ok(job.id);
            }
        }
    } else {
        enqueue_all(conn, jobs, now).await?;
    }
    id_with_key(conn, key).await
}

/// The id of the job that holds `key` (one added before, when adding it again conflicted).
async fn id_with_key(conn: &impl ConnectionTrait, key: &str) -> Result<i32, AppError> {
    job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(job::Column::DedupeKey.eq(key))
        .into_tuple()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(format_args!("no job has the key {key}")))
}

fn rows<P: Serialize>(
    jobs: Vec<NewJob<'_, P>>,
    now: DateTime<Utc>,
) -> Result<Vec<job::ActiveModel>, AppError> {
    jobs.into_iter().map(|new| row(new, now)).collect()
}

fn row<P: Serialize>(new: NewJob<'_, P>, now: DateTime<Utc>) -> Result<job::ActiveModel, AppError> {
    let payload = serde_json::to_string(new.payload)
        .map_err(|e| AppError::internal(format_args!("job payload: {e}")))?;
    Ok(job::ActiveModel {
        kind: Set(new.kind.to_owned()),
        payload: Set(payload),
        dedupe_key: Set(new.dedupe_key),
        status: Set(status::PENDING),
        run_at: Set(new.run_at),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts.max(1)),
        created_at: Set(now),
        ..Default::default()
    })
}

/// Withdraws pending jobs with `dedupe_key` (they will not run); returns how many.
pub async fn cancel(conn: &impl ConnectionTrait, dedupe_key: &str) -> Result<u64, AppError> {
    Ok(job::Entity::update_many()
        .col_expr(job::Column::Status, status::CANCELLED.into())
        .col_expr(job::Column::DedupeKey, Option::<String>::None.into())
        .filter(job::Column::DedupeKey.eq(dedupe_key))
        .filter(job::Column::Status.eq(status::PENDING))
        .exec(conn)
        .await?
        .rows_affected)
}

//! The durable job scheduler: jobs in the `job` table, claimed with a lease so several Bedside
//! processes never run one job at the same time, retried with back-off, surviving restarts.
//!
//! Claiming is one conditional `UPDATE … WHERE id = ? AND <still claimable>` per job: on
//! PostgreSQL the row lock makes concurrent claimers re-check the condition, on SQLite writes are
//! serialized, so exactly one claimer sees `rows_affected = 1`. A job whose process died keeps
//! its lease until `leased_until`, then becomes claimable again. Handlers are therefore
//! at-least-once and must be idempotent (the contact emails record which went out).
//!
//! Every time rule reads the injected clock: tests move it and call [`Scheduler::run_due`].

use app::clock::SharedClock;
use app::jobs::{entity::job, status};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::{collections::HashMap, sync::Arc};

/// What the areas' jobs are made from: each area's `jobs()` registers its handlers with the
/// services they use.
#[derive(Clone)]
pub struct JobServices {
    pub db: DatabaseConnection,
    pub keyring: app::crypto::Keyring,
    pub identity: app::auth::service::Identity,
    pub mailer: Arc<dyn app::mail::Mailer>,
    pub sms: Arc<dyn app::sms::SmsSender>,
    pub site: app::site::service::SiteContentStore,
    /// `https://practice.example`: the links in emails and texts.
    pub public_url: String,
    pub clock: SharedClock,
    /// Where patients pay.
    pub payments: Arc<dyn app::billing::processor::PaymentProcessor>,
    /// The built-in processor, when it is the one in use (its own jobs run then).
    pub local_payments: Option<crate::billing::local::LocalProcessor>,
    /// The secret payment events are signed with.
    pub webhook_secret: Arc<Vec<u8>>,
}

/// What a job that writes to a patient needs of the practice: its content and its time zone.
pub async fn practice_and_zone(
    site: &app::site::service::SiteContentStore,
    db: &DatabaseConnection,
) -> Result<(Arc<app::site::model::SiteContent>, chrono_tz::Tz), JobError> {
    let content = site
        .current()
        .ok_or_else(|| JobError::Retry("the practice's content is not loaded yet".into()))?;
    let time_zone = app::appointments::service::schedule::practice_time_zone(db)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    Ok((content, time_zone))
}

/// Reads a job's payload; an unreadable one will never work.
pub fn payload<T: serde::de::DeserializeOwned>(job: &job::Model) -> Result<T, JobError> {
    serde_json::from_str(&job.payload).map_err(|e| JobError::Permanent(format!("bad payload: {e}")))
}

/// How a run of a job ended, when not well.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another try later (a mail server that did not answer).
    #[error("{0}")]
    Retry(String),
    /// Will never work (the record it names is gone).
    #[error("{0}")]
    Permanent(String),
}

/// Runs one kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, job: &job::Model) -> Result<(), JobError>;
}

/// What one pass over the due jobs did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub done: u32,
    pub retried: u32,
    pub failed: u32,
}

pub struct Scheduler {
    db: DatabaseConnection,
    clock: SharedClock,
    /// This process's name on the leases it holds.
    owner: String,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    /// Longer than any job takes; a job still leased is never claimed by another process.
    lease: Duration,
    batch: u64,
    /// Jobs started by [`run_soon`](Self::run_soon) and not finished yet.
    background: tokio_util::task::TaskTracker,
    /// How many of them run at once: a burst of bookings queues its emails here instead of
    /// competing with the bookings for the database.
    background_slots: Arc<tokio::sync::Semaphore>,
}

/// Jobs [`Scheduler::run_soon`] runs at the same time.
const BACKGROUND_AT_ONCE: usize = 4;

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("owner", &self.owner)
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Minutes before the next try after `attempts` failed ones: 1, 2, 4, … capped at 6 hours.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(9);
    Duration::minutes((1i64 << exponent).min(360))
}

fn claimable(now: DateTime<Utc>, kinds: &[String]) -> Condition {
    // Only kinds this process can run: during a rolling upgrade, a job of a kind only the newer
    // version knows waits for a newer process instead of failing here.
    let due = Condition::any()
        .add(
            Condition::all()
                .add(job::Column::Status.eq(status::PENDING))
                .add(job::Column::RunAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(job::Column::Status.eq(status::RUNNING))
                .add(job::Column::LeasedUntil.lt(now)),
        );
    Condition::all()
        .add(job::Column::Kind.is_in(kinds.iter().map(String::as_str)))
        .add(due)
}

impl Scheduler {
    pub fn new(db: DatabaseConnection, clock: SharedClock) -> Self {
        Scheduler {
            db,
            clock,
            owner: format!("bedside-{}", uuid::Uuid::new_v4().simple()),
            handlers: HashMap::new(),
            lease: Duration::minutes(5),
            batch: 20,
            background: tokio_util::task::TaskTracker::new(),
            background_slots: Arc::new(tokio::sync::Semaphore::new(BACKGROUND_AT_ONCE)),
        }
    }

    pub fn register(&mut self, kind: &str, handler: Arc<dyn JobHandler>) {
        self.handlers.insert(kind.to_owned(), handler);
    }

    fn kinds(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }

    /// Claims `id` for this process if it is due (or its lease ran out). The returned row is as
    /// claimed.
    async fn claim(&self, id: i32, now: DateTime<Utc>) -> Result<Option<job::Model>, DbErr> {
        let claim = job::Entity::update_many()
            .col_expr(job::Column::Status, status::RUNNING.into())
            .col_expr(job::Column::LeaseOwner, Some(self.owner.clone()).into())
            .col_expr(job::Column::LeasedUntil, Some(now + self.lease).into())
            .col_expr(
                job::Column::Attempts,
                sea_orm::sea_query::ExprTrait::add(
                    sea_orm::sea_query::Expr::col(job::Column::Attempts),
                    1,
                ),
            )
            .filter(job::Column::Id.eq(id))
            .filter(claimable(now, &self.kinds()));
        if self.db.support_returning() {
            // The claimed row comes back with the claim (one statement).
            return Ok(claim.exec_with_returning(&self.db).await?.pop());
        }
        if claim.exec(&self.db).await?.rows_affected != 1 {
            return Ok(None);
        }
        job::Entity::find_by_id(id).one(&self.db).await
    }

    /// Runs every job due now (claimed by this process); returns what happened.
    pub async fn run_due(&self) -> Result<RunReport, DbErr> {
        let mut report = RunReport::default();
        let mut idle_rounds = 0;
        loop {
            let now = self.clock.now();
            let due: Vec<i32> = job::Entity::find()
                .select_only()
                .column(job::Column::Id)
                .filter(claimable(now, &self.kinds()))
                .order_by_asc(job::Column::RunAt)
                .order_by_asc(job::Column::Id)
                .limit(self.batch)
                .into_tuple()
                .all(&self.db)
                .await?;
            if due.is_empty() {
                return Ok(report);
            }
            // Jobs another process claims meanwhile are skipped here and, leased, are not
            // selected again; the loop ends when nothing due is left.
            let mut claimed_any = false;
            for id in due {
                if let Some(job) = self.claim(id, now).await? {
                    claimed_any = true;
                    self.execute(job, &mut report).await?;
                }
            }
            if !claimed_any {
                idle_rounds += 1;
                if idle_rounds > 3 {
                    return Ok(report);
                }
                tokio::task::yield_now().await;
            } else {
                idle_rounds = 0;
            }
        }
    }

    /// Runs one job now if it is due, without waiting for the next pass (a request that just
    /// enqueued it). Another process may have it already; then this does nothing.
    pub async fn run_now(&self, id: i32) -> Result<RunReport, DbErr> {
        let mut report = RunReport::default();
        if let Some(job) = self.claim(id, self.clock.now()).await? {
            self.execute(job, &mut report).await?;
        }
        Ok(report)
    }

    /// Starts job `id` now in the background (an email the person expects at once), so the
    /// request that added it answers without waiting for the mail server. If it cannot run now,
    /// the worker retries it like any due job.
    pub fn run_soon(self: &Arc<Self>, id: i32, what: &'static str) {
        let scheduler = self.clone();
        let slots = self.background_slots.clone();
        self.background.spawn(async move {
            let Ok(_slot) = slots.acquire().await else {
                return;
            };
            if let Err(error) = scheduler.run_now(id).await {
                tracing::warn!(%error, what, "could not run a job now; the worker will retry it");
            }
        });
    }

    /// This scheduler as the [`app::jobs::RunSoon`] that server functions find in their context.
    pub fn soon(self: &Arc<Self>) -> app::jobs::Soon {
        Arc::new(Soon(self.clone()))
    }

    /// Waits for every job [`run_soon`](Self::run_soon) started so far (tests read the outbox
    /// after it; shutdown lets them finish).
    pub async fn settle(&self) {
        self.background.close();
        self.background.wait().await;
        self.background.reopen();
    }

    async fn execute(&self, job: job::Model, report: &mut RunReport) -> Result<(), DbErr> {
        let outcome = match self.handlers.get(&job.kind) {
            Some(handler) => handler.run(&job).await,
            None => Err(JobError::Permanent(format!(
                "no handler for jobs of kind {}",
                job.kind
            ))),
        };
        let now = self.clock.now();
        let mut update = job::Entity::update_many()
            .col_expr(job::Column::LeaseOwner, Option::<String>::None.into())
            .col_expr(
                job::Column::LeasedUntil,
                Option::<DateTime<Utc>>::None.into(),
            );
        match &outcome {
            Ok(()) => {
                update = update
                    .col_expr(job::Column::Status, status::DONE.into())
                    .col_expr(job::Column::FinishedAt, Some(now).into());
                report.done += 1;
            }
            Err(JobError::Retry(why)) if job.attempts < job.max_attempts => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %why, "job failed; will retry");
                update = update
                    .col_expr(job::Column::Status, status::PENDING.into())
                    .col_expr(job::Column::RunAt, (now + backoff(job.attempts)).into())
                    .col_expr(job::Column::LastError, Some(why.clone()).into());
                report.retried += 1;
            }
            Err(error) => {
                tracing::error!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed for good");
                update = update
                    .col_expr(job::Column::Status, status::FAILED.into())
                    .col_expr(job::Column::FinishedAt, Some(now).into())
                    .col_expr(job::Column::LastError, Some(error.to_string()).into());
                report.failed += 1;
            }
        }
        // Only while we still hold the lease: if it ran out and another process took the job,
        // that process's result stands.
        update
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::LeaseOwner.eq(self.owner.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Runs due jobs every `every` until the task is aborted.
    pub fn spawn(self: Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(error) = self.run_due().await {
                    tracing::warn!(%error, "could not run due jobs; trying again shortly");
                }
            }
        })
    }
}

/// The scheduler behind [`app::jobs::RunSoon`].
struct Soon(Arc<Scheduler>);

impl app::jobs::RunSoon for Soon {
    fn run_soon(&self, job: i32, what: &'static str) {
        self.0.run_soon(job, what);
    }

    fn run_due_now(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Err(error) = self.0.run_due().await {
                tracing::warn!(%error, "could not run the due jobs now; the worker will");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use chrono::Duration;

    #[test]
    fn retries_back_off_exponentially_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(4), Duration::minutes(8));
        assert_eq!(backoff(20), Duration::minutes(360));
    }
}

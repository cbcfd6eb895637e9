//! The durable job scheduler: due jobs run once, future ones wait, failures back off, two
//! processes never run one job twice, a dead process's job is picked up after its lease.

use crate::helpers::{backends, spawn_app, TestApp};
use app::jobs::{enqueue, entity::job, status, NewJob};
use async_trait::async_trait;
use bedside::jobs::{JobError, JobHandler, Scheduler};
use chrono::Duration;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use std::sync::{Arc, Mutex};

/// Records the payloads it ran; fails the first `fail_first` runs with a retryable error.
#[derive(Default)]
struct Recorder {
    ran: Mutex<Vec<String>>,
    fail_first: Mutex<u32>,
}

#[async_trait]
impl JobHandler for Recorder {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        {
            let mut failures = self.fail_first.lock().expect("lock");
            if *failures > 0 {
                *failures -= 1;
                return Err(JobError::Retry("the mail server did not answer".into()));
            }
        }
        // A little work, so concurrent claimers overlap.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.ran.lock().expect("lock").push(job.payload.clone());
        Ok(())
    }
}

fn scheduler(app: &TestApp, recorder: &Arc<Recorder>) -> Scheduler {
    let mut scheduler = Scheduler::new(app.db.clone(), Arc::new(app.clock.clone()));
    scheduler.register("test.record", recorder.clone());
    scheduler
}

async fn add(app: &TestApp, payload: &str, in_minutes: i64, key: Option<String>) -> i32 {
    enqueue(
        &app.db,
        NewJob {
            kind: "test.record",
            payload: &payload,
            run_at: app.clock_now() + Duration::minutes(in_minutes),
            dedupe_key: key,
            max_attempts: 3,
        },
        app.clock_now(),
    )
    .await
    .expect("enqueue")
}

async fn status_of(app: &TestApp, id: i32) -> job::Model {
    job::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("job")
}

#[tokio::test]
async fn a_due_job_runs_once_and_a_future_one_waits_for_its_time() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let recorder = Arc::new(Recorder::default());
        let jobs = scheduler(&app, &recorder);
        let now_job = add(&app, "now", 0, None).await;
        let later = add(&app, "in an hour", 60, None).await;
        assert_eq!(
            jobs.run_due().await.expect("run").done,
            1,
            "{}",
            app.backend
        );
        assert_eq!(
            jobs.run_due().await.expect("run").done,
            0,
            "done jobs do not run again"
        );
        assert_eq!(status_of(&app, now_job).await.status, status::DONE);
        assert_eq!(status_of(&app, later).await.status, status::PENDING);
        app.clock.advance(Duration::minutes(60));
        assert_eq!(jobs.run_due().await.expect("run").done, 1);
        assert_eq!(
            *recorder.ran.lock().expect("lock"),
            vec!["\"now\"", "\"in an hour\""]
        );
    }
}

#[tokio::test]
async fn a_key_adds_a_job_at_most_once_until_it_is_cancelled() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let key = Some("reminder:email:appointment-42".to_owned());
        let first = add(&app, "a", 10, key.clone()).await;
        let again = add(&app, "b", 10, key.clone()).await;
        assert_eq!(first, again, "{}", app.backend);
        assert_eq!(
            app::jobs::cancel(&app.db, "reminder:email:appointment-42")
                .await
                .expect("cancel"),
            1
        );
        assert_eq!(status_of(&app, first).await.status, status::CANCELLED);
        let recorder = Arc::new(Recorder::default());
        app.clock.advance(Duration::minutes(10));
        assert_eq!(
            scheduler(&app, &recorder)
                .run_due()
                .await
                .expect("run")
                .done,
            0,
            "a cancelled job does not run"
        );
        let renewed = add(&app, "c", 10, key).await;
        assert_ne!(
            renewed, first,
            "after cancelling, the key can be used again"
        );
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_with_back_off_then_given_up() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let recorder = Arc::new(Recorder {
            fail_first: Mutex::new(5),
            ..Default::default()
        });
        let jobs = scheduler(&app, &recorder);
        let id = add(&app, "flaky", 0, None).await;
        assert_eq!(
            jobs.run_due().await.expect("run").retried,
            1,
            "{}",
            app.backend
        );
        assert_eq!(
            jobs.run_due().await.expect("run").retried,
            0,
            "not due again yet"
        );
        let after_one = status_of(&app, id).await;
        assert_eq!(after_one.status, status::PENDING);
        assert_eq!(after_one.attempts, 1);
        assert_eq!(after_one.run_at, app.clock_now() + Duration::minutes(1));
        assert!(after_one
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("did not answer"));
        app.clock.advance(Duration::minutes(1));
        assert_eq!(jobs.run_due().await.expect("run").retried, 1);
        app.clock.advance(Duration::minutes(2));
        assert_eq!(
            jobs.run_due().await.expect("run").failed,
            1,
            "three attempts, then it gives up"
        );
        assert_eq!(status_of(&app, id).await.status, status::FAILED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_sharing_the_queue_never_run_a_job_twice() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let recorder = Arc::new(Recorder::default());
        for i in 0..60 {
            add(&app, &format!("job {i}"), 0, None).await;
        }
        let first = Arc::new(scheduler(&app, &recorder));
        let second = Arc::new(scheduler(&app, &recorder));
        let a = tokio::spawn({
            let s = first.clone();
            async move { s.run_due().await }
        });
        let b = tokio::spawn({
            let s = second.clone();
            async move { s.run_due().await }
        });
        let (a, b) = (
            a.await.expect("task").expect("run"),
            b.await.expect("task").expect("run"),
        );
        assert_eq!(a.done + b.done, 60, "{}: {a:?} {b:?}", app.backend);
        let mut ran = recorder.ran.lock().expect("lock").clone();
        assert_eq!(ran.len(), 60);
        ran.sort();
        ran.dedup();
        assert_eq!(ran.len(), 60, "no job ran twice");
    }
}

#[tokio::test]
async fn a_job_held_by_a_process_that_died_runs_after_its_lease_runs_out() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let recorder = Arc::new(Recorder::default());
        let id = add(&app, "orphan", 0, None).await;
        // Another process claimed it and died.
        let mut row: job::ActiveModel = status_of(&app, id).await.into();
        row.status = Set(status::RUNNING.to_owned());
        row.lease_owner = Set(Some("bedside-dead".into()));
        row.leased_until = Set(Some(app.clock_now() + Duration::minutes(5)));
        row.attempts = Set(1);
        row.update(&app.db).await.expect("claim");
        // A restarted process (a new scheduler) leaves it alone while the lease holds...
        let restarted = scheduler(&app, &recorder);
        assert_eq!(
            restarted.run_due().await.expect("run").done,
            0,
            "{}",
            app.backend
        );
        // ...and runs it once the lease has run out.
        app.clock.advance(Duration::minutes(6));
        assert_eq!(restarted.run_due().await.expect("run").done, 1);
        let done = status_of(&app, id).await;
        assert_eq!(done.status, status::DONE);
        assert_eq!(done.attempts, 2);
        assert_eq!(done.lease_owner, None);
    }
}

/// A mailer that refuses the visitor's acknowledgement `failures` times, then writes every
/// email to the outbox.
#[derive(Debug)]
struct FlakyMailer {
    failures: Mutex<u32>,
    outbox: Arc<dyn app::mail::Mailer>,
}

#[async_trait]
impl app::mail::Mailer for FlakyMailer {
    async fn send(&self, email: app::mail::OutgoingEmail) -> Result<(), app::mail::MailError> {
        if email.subject.starts_with("We received your message") {
            let mut failures = self.failures.lock().expect("lock");
            if *failures > 0 {
                *failures -= 1;
                return Err(app::mail::MailError::Transport("connection refused".into()));
            }
        }
        self.outbox.send(email).await
    }
}

#[tokio::test]
async fn a_contact_email_that_fails_is_retried_and_each_email_goes_out_once() {
    use sea_orm::PaginatorTrait;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let form = app::site::model::ContactForm {
            name: "Ann Lee".into(),
            email: "ann@example.com".into(),
            topic: "membership".into(),
            message: "Are you accepting new members?".into(),
            ..Default::default()
        };
        let inquiry = app::site::model::ContactInquiry::parse(&form).expect("valid");
        let id = app::site::service::record_inquiry(
            &app.db,
            &app.keyring,
            &inquiry,
            None,
            app.clock_now(),
        )
        .await
        .expect("stored");
        let site = app::site::service::SiteContentStore::default();
        site.refresh(&app.db, app.clock_now())
            .await
            .expect("content");
        let mailer = Arc::new(FlakyMailer {
            failures: Mutex::new(1),
            outbox: Arc::new(bedside::mail::outbox::OutboxMailer::new(
                app.db.clone(),
                app.keyring.clone(),
                "Harbor Street Medicine <hello@harbor.test>".into(),
            )),
        });
        let mut jobs = Scheduler::new(app.db.clone(), Arc::new(app.clock.clone()));
        jobs.register(
            bedside::site::contact_emails::KIND,
            Arc::new(bedside::site::contact_emails::NotifyAboutInquiry {
                db: app.db.clone(),
                keyring: app.keyring.clone(),
                mailer,
                site,
                clock: Arc::new(app.clock.clone()),
            }),
        );
        let job_id = enqueue(
            &app.db,
            NewJob {
                kind: bedside::site::contact_emails::KIND,
                payload: &bedside::site::contact_emails::Payload { inquiry_id: id },
                run_at: app.clock_now(),
                dedupe_key: None,
                max_attempts: 5,
            },
            app.clock_now(),
        )
        .await
        .expect("enqueue");
        let emails = || async {
            app::mail::outbox_email::Entity::find()
                .count(&app.db)
                .await
                .expect("count")
        };
        assert_eq!(
            jobs.run_now(job_id).await.expect("run").retried,
            1,
            "{}",
            app.backend
        );
        assert_eq!(
            emails().await,
            1,
            "the practice's email went out, the acknowledgement did not"
        );
        app.clock.advance(Duration::minutes(1));
        assert_eq!(jobs.run_due().await.expect("run").done, 1);
        assert_eq!(emails().await, 2, "the retry sent only the missing email");
        let row = app::site::entity::contact_inquiry::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("row");
        assert!(row.practice_notified_at.is_some() && row.acknowledged_at.is_some());
        assert_eq!(status_of(&app, job_id).await.status, status::DONE);
    }
}

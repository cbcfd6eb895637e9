//! Booking benchmark (not a test; run by `bench/booking.sh`).
//!
//! Starts Bedside (release build) on a fresh PostgreSQL database with the demo practice and a
//! schedule roomy enough for thousands of bookings (video visits of five minutes, no buffer, all
//! day, every day), signs in 64 patients (Complete members), and books distinct free times from
//! 64 connections through `POST /portal/book` (JSON), each booking a full one: session, policy
//! check, membership rules, audit entry, sealed reason, holds, the confirmation and reminders
//! planned, the confirmation sent to the outbox.
//!
//! Two figures answer the target (>= 300 bookings/s, p95 < 50 ms at 64 connections):
//! - capacity: every connection books again as soon as its last booking answers (closed loop);
//! - latency at 300 bookings/s: bookings fall due on a fixed schedule over the 64 connections,
//!   each timed from when it was due (open loop, as wrk2 measures), so a stall counts against
//!   every booking it delays.
//!
//! Then times availability: 30 days of free times for one kind of visit (the booked times read
//! from the database and the slots laid out), 200 times (target: p95 < 20 ms).
//!
//! The load generator runs in the same process, on a runtime of its own, and on the same two
//! cores as the server and PostgreSQL, so the figures are conservative.

mod support;

use anyhow::Context;
use app::appointments::VisitType;
use bedside::{settings::Settings, Application};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};
use std::time::Instant;
use support::{client_side, due, percentile, Phase};

const CONNECTIONS: usize = 64;
/// Bookings per measured phase.
const REQUESTS: usize = 3000;
const WARM_UP: usize = 256;
/// The target rate for the latency figure (bookings per second).
const RATE: f64 = 300.0;
const PASSWORD: &str = "harbor lantern violet 7";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::on_fresh_postgres(
        |settings| {
            settings.sign_in.attempts_per_minute = 1_000_000;
            // The worker runs, as in production: it sends what the requests left to it.
            settings.jobs.poll_seconds = 1;
            // To compare pool sizes; the default is the server's own.
            settings.database_max_connections = std::env::var("BEDSIDE_DATABASE_MAX_CONNECTIONS")
                .ok()
                .and_then(|n| n.parse().ok());
        },
        run,
    )
    .await
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let settings_url = settings.database_url.clone();
    let pool_size = bedside::db::max_connections(&settings);
    let db = bedside::db::connect(&settings).await?;
    bedside::db::migrate(&db).await?;
    bedside::demo::seed(&db).await?;
    roomy_schedule(&db).await?;
    let keyring = bedside::keys::load_keyring(&settings)?;
    let app = Application::build(settings).await?;
    let identity = app.identity().clone();
    let address = app.url();
    tokio::spawn(app.serve(std::future::pending()));

    println!(
        "PostgreSQL at {}; {} pooled connections",
        bedside::db::redact(&settings_url),
        pool_size
    );
    println!("Signing in {CONNECTIONS} patients…");
    let mut browsers = Vec::new();
    for i in 0..CONNECTIONS {
        let email = format!("bench{i}@example.com");
        let user = identity
            .create_account(&app::auth::service::NewAccount {
                email: email.clone(),
                display_name: format!("Bench Patient {i}"),
                role: app::auth::Role::Patient,
                password: PASSWORD.into(),
            })
            .await?;
        let patient = app::patients::service::create(
            &db,
            &keyring,
            &app::patients::service::NewPatient {
                user_id: Some(user.id),
                legal_name: format!("Bench Patient {i}"),
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 1, 1).context("date")?,
                phone: app::domain::PhoneNumber::parse("(207) 555-0100").ok(),
            },
            Utc::now(),
        )
        .await?;
        // Booking is for members (R2.5): Complete books same-day, unlimited, 60 days ahead.
        bedside::demo::active_membership(&db, patient.id, "complete", Utc::now()).await?;
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let request = client
            .post(format!("{address}/signin"))
            .header("Origin", &address)
            .form(&[("email", email.as_str()), ("password", PASSWORD)]);
        let signed_in = client_side().spawn(request.send()).await??;
        anyhow::ensure!(signed_in.status() == 303, "sign-in: {}", signed_in.status());
        browsers.push(client);
    }

    let schedule = app::appointments::service::schedule::load_schedule(&db)
        .await?
        .context("schedule")?;
    let now = Utc::now();
    let today = now.with_timezone(&schedule.time_zone).date_naive();
    // Complete members book up to 60 days ahead: 45 days of five-minute times is enough for
    // every phase to book a time nobody holds.
    let slots: Vec<String> = app::appointments::availability::free_slots(
        &schedule,
        VisitType::Telemedicine,
        today,
        today + Duration::days(45),
        &[],
        now + Duration::hours(3),
    )
    .into_iter()
    .map(|s| s.starts_at.to_rfc3339())
    .collect();
    let load = Load {
        slots: Arc::new(slots),
        next_slot: Arc::new(AtomicUsize::new(0)),
        address: address.clone(),
        browsers,
    };
    println!(
        "{} distinct times to book from {CONNECTIONS} connections",
        load.slots.len()
    );

    // Warm-up (not counted): the pool's connections, PostgreSQL's caches.
    load.run(WARM_UP, None).await?;
    drain(&db).await?;

    // Latency at the target rate: bookings start on a fixed schedule of RATE per second,
    // spread over the 64 connections; each is timed from when it was due, so a stall delays
    // the ones behind it and counts against them too (no coordinated omission). Their
    // confirmations go out meanwhile, as they would in a busy hour.
    let paced = load.run(REQUESTS, Some(RATE)).await?;
    println!(
        "booking, at {RATE:.0} bookings/s (open loop, 64 connections): {}",
        paced.summary("bookings")
    );
    println!(
        "  confirmations: all sent {:.1} s after the last booking answered",
        drain(&db).await?
    );

    // Capacity: every connection books again as soon as its last booking answers. This
    // overloads the server on purpose, so its emails queue up behind it; the phase starts
    // with none waiting.
    let saturated = load.run(REQUESTS, None).await?;
    println!(
        "booking, capacity (closed loop, 64 connections): {}",
        saturated.summary("bookings")
    );
    println!(
        "  (at saturation, latency is queueing: 64 requests always in flight take 64 / throughput on average)"
    );
    println!(
        "  confirmations: all sent {:.1} s after the last booking answered",
        drain(&db).await?
    );
    println!(
        "booking targets: >= 300 req/s (capacity {:.0} req/s) and p95 < 50 ms at 300 req/s (p95 {:.1} ms)",
        saturated.per_second(),
        paced.percentile(95.0)
    );
    let created = saturated.answered(200) + paced.answered(200) + WARM_UP;
    // Exactly one confirmation per visit (reminders of visits a week away may have fallen due
    // during the run; they are not counted here).
    let sent = app::mail::outbox_email::Entity::find()
        .filter(app::mail::outbox_email::Column::Subject.starts_with("Your visit is booked"))
        .count(&db)
        .await?;
    anyhow::ensure!(
        sent as usize == created,
        "{created} visits booked but {sent} confirmations in the outbox"
    );

    // Availability: 30 days of free office-visit times, as the booking page computes them.
    let mut timings = Vec::new();
    for _ in 0..200 {
        let began = Instant::now();
        let now = Utc::now();
        let busy = app::appointments::service::calendar::busy_between(
            &db,
            &schedule,
            now,
            now + Duration::days(31),
        )
        .await?;
        let free = app::appointments::availability::free_slots(
            &schedule,
            VisitType::InPerson,
            today,
            today + Duration::days(30),
            &busy,
            now + Duration::hours(2),
        );
        std::hint::black_box(free);
        timings.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    timings.sort_by(f64::total_cmp);
    println!(
        "availability (30 days, with {} booked visits): p50 {:.2} ms, p95 {:.2} ms (target: p95 < 20 ms)",
        created,
        percentile(&timings, 50.0),
        percentile(&timings, 95.0)
    );
    Ok(())
}

/// Waits until every visit email due has been sent (each booking's confirmation goes out
/// right after its answer, in the background, at most a few at once, the rest by the worker);
/// returns how many seconds that took.
async fn drain(db: &sea_orm::DatabaseConnection) -> anyhow::Result<f64> {
    use app::jobs::{entity::job, status};
    let waiting = Instant::now();
    loop {
        let unsent = job::Entity::find()
            .filter(job::Column::Kind.eq(app::appointments::notices::JOB_KIND))
            .filter(job::Column::Status.is_in([status::PENDING, status::RUNNING]))
            .filter(job::Column::RunAt.lte(Utc::now()))
            .count(db)
            .await?;
        if unsent == 0 {
            return Ok(waiting.elapsed().as_secs_f64());
        }
        anyhow::ensure!(
            waiting.elapsed().as_secs() < 300,
            "{unsent} confirmations still unsent after 5 minutes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The signed-in patients and the times still free for them to book.
struct Load {
    slots: Arc<Vec<String>>,
    next_slot: Arc<AtomicUsize>,
    address: String,
    browsers: Vec<reqwest::Client>,
}

impl Load {
    /// Books `count` distinct times over every connection: as fast as answers come back
    /// (`rate: None`), or the i-th booking due at i / rate seconds from the start.
    async fn run(&self, count: usize, rate: Option<f64>) -> anyhow::Result<Phase> {
        let first = self.next_slot.fetch_add(count, Ordering::Relaxed);
        anyhow::ensure!(first + count <= self.slots.len(), "not enough free times");
        let issued = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let workers: Vec<_> = self
            .browsers
            .iter()
            .cloned()
            .map(|client| {
                let (slots, issued, address) =
                    (self.slots.clone(), issued.clone(), self.address.clone());
                client_side().spawn(async move {
                    let mut out = Vec::new();
                    loop {
                        let i = issued.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        let due = due(started, i, rate).await;
                        let status = client
                            .post(format!("{address}/api/visits/book"))
                            .header("Origin", &address)
                            .header("Accept", "application/json")
                            .form(&[
                                ("visit_type", "telemedicine"),
                                ("starts_at", slots[first + i].as_str()),
                                ("reason", "Benchmark visit"),
                            ])
                            .send()
                            .await
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0);
                        out.push((status, due.elapsed().as_secs_f64() * 1000.0));
                    }
                    out
                })
            })
            .collect();
        let mut results = Vec::with_capacity(count);
        for worker in workers {
            results.extend(worker.await?);
        }
        let phase = Phase {
            results,
            seconds: started.elapsed().as_secs_f64(),
        };
        anyhow::ensure!(
            phase.answered(200) == count,
            "every booking in the benchmark must be a real one (200): {:?}",
            phase.statuses()
        );
        Ok(phase)
    }
}

/// Video visits of five minutes, no buffer, around the clock every day: room for thousands of
/// distinct bookings, so every request in the benchmark is a real booking, not a conflict.
async fn roomy_schedule(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    use app::appointments::entity::{visit_length, weekly_hours};
    let mut length: visit_length::ActiveModel =
        visit_length::Entity::find_by_id(VisitType::Telemedicine)
            .one(db)
            .await?
            .context("the demo's video visit length")?
            .into();
    length.minutes = Set(5);
    length.buffer_minutes = Set(0);
    length.update(db).await?;
    weekly_hours::Entity::delete_many()
        .filter(weekly_hours::Column::VisitType.eq(VisitType::Telemedicine))
        .exec(db)
        .await?;
    for weekday in 0..7i16 {
        weekly_hours::ActiveModel {
            visit_type: Set(VisitType::Telemedicine),
            weekday: Set(weekday),
            start_minute: Set(0),
            end_minute: Set(24 * 60),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

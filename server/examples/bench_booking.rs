//! Booking benchmark (not a test; run by `bench/booking.sh`).
//!
//! Starts Bedside (release build) on a fresh PostgreSQL database with the demo practice and a
//! schedule roomy enough for thousands of bookings (video visits of five minutes, no buffer, all
//! day, every day), signs in 64 patients, and books distinct free times from 64 connections at
//! once through `POST /portal/book` (JSON), each booking a full one: policy check, audit entry,
//! sealed reason, holds, the confirmation and reminders planned, the confirmation sent to the
//! outbox. Prints bookings/s and latency percentiles (target: ≥ 300/s, p95 < 50 ms).
//!
//! Then times availability: 30 days of free times for one kind of visit (the booked times read
//! from the database and the slots laid out), 200 times (target: p95 < 20 ms).
//!
//! The load generator runs in the same process as the server, so the figures are conservative.

mod support;

use anyhow::Context;
use app::appointments::VisitType;
use bedside::{settings::Settings, Application};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};
use std::time::Instant;
use support::percentile;

const CONNECTIONS: usize = 64;
const PASSWORD: &str = "harbor lantern violet 7";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::on_fresh_postgres(
        |settings| settings.sign_in.attempts_per_minute = 1_000_000,
        run,
    )
    .await
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let db = bedside::db::connect(&settings).await?;
    bedside::db::migrate(&db).await?;
    bedside::demo::seed(&db).await?;
    roomy_schedule(&db).await?;
    let keyring = bedside::keys::load_keyring(&settings)?;
    let app = Application::build(settings).await?;
    let identity = app.identity().clone();
    let address = app.url();
    tokio::spawn(app.serve(std::future::pending()));

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
        let signed_in = client
            .post(format!("{address}/signin"))
            .header("Origin", &address)
            .form(&[("email", email.as_str()), ("password", PASSWORD)])
            .send()
            .await?;
        anyhow::ensure!(signed_in.status() == 303, "sign-in: {}", signed_in.status());
        browsers.push(client);
    }

    let schedule = app::appointments::service::load_schedule(&db)
        .await?
        .context("schedule")?;
    let now = Utc::now();
    let today = now.with_timezone(&schedule.time_zone).date_naive();
    let slots: Vec<String> = app::appointments::availability::free_slots(
        &schedule,
        VisitType::Telemedicine,
        today,
        today + Duration::days(13),
        &[],
        now + Duration::hours(3),
    )
    .into_iter()
    .map(|s| s.starts_at.to_rfc3339())
    .collect();
    let slots = Arc::new(slots);
    println!(
        "Booking up to {} distinct times from {CONNECTIONS} connections…",
        slots.len()
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = browsers
        .into_iter()
        .map(|client| {
            let (slots, next, address) = (slots.clone(), next.clone(), address.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(when) = slots.get(i) else { break };
                    let began = Instant::now();
                    let status = client
                        .post(format!("{address}/portal/book"))
                        .header("Origin", &address)
                        .header("Accept", "application/json")
                        .form(&[
                            ("visit_type", "telemedicine"),
                            ("starts_at", when.as_str()),
                            ("reason", "Benchmark visit"),
                        ])
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    out.push((status, began.elapsed().as_secs_f64() * 1000.0));
                }
                out
            })
        })
        .collect();
    let mut results = Vec::new();
    for worker in workers {
        results.extend(worker.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = results.iter().map(|(_, ms)| *ms).collect();
    latencies.sort_by(f64::total_cmp);
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let mut statuses = std::collections::BTreeMap::new();
    for (status, _) in &results {
        *statuses.entry(*status).or_insert(0) += 1;
    }
    println!(
        "booking: {} requests in {elapsed:.1} s = {:.0} req/s; {created} booked; statuses {statuses:?}",
        results.len(),
        results.len() as f64 / elapsed
    );
    println!(
        "booking latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms (target: >= 300 req/s, p95 < 50 ms)",
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0)
    );

    // Availability: 30 days of free office-visit times, as the booking page computes them.
    let mut timings = Vec::new();
    for _ in 0..200 {
        let began = Instant::now();
        let now = Utc::now();
        let busy =
            app::appointments::service::busy_between(&db, &schedule, now, now + Duration::days(31))
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

/// Video visits of five minutes, no buffer, around the clock every day: room for thousands of
/// distinct bookings, so every request in the benchmark is a real booking, not a conflict.
async fn roomy_schedule(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    use app::appointments::entity::{visit_length, weekly_hours};
    let mut length: visit_length::ActiveModel =
        visit_length::Entity::find_by_id("telemedicine".to_owned())
            .one(db)
            .await?
            .context("the demo's video visit length")?
            .into();
    length.minutes = Set(5);
    length.buffer_minutes = Set(0);
    length.update(db).await?;
    weekly_hours::Entity::delete_many()
        .filter(weekly_hours::Column::VisitType.eq("telemedicine"))
        .exec(db)
        .await?;
    for weekday in 0..7i16 {
        weekly_hours::ActiveModel {
            visit_type: Set("telemedicine".into()),
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

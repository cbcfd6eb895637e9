//! Billing benchmark (not a test; run by `bench/billing.sh`).
//!
//! Starts Bedside (release build) on a fresh PostgreSQL database with the demo practice, then:
//!
//! 1. Enrollment: 400 visitors' enrollments, 16 at a time, each a full one — the form checked,
//!    then the account, patient, sealed profile, pending membership, consents, confirmation
//!    email job and audit entry in one transaction. The password is hashed once beforehand and
//!    reused, because the target excludes hashing (argon2id is slow on purpose).
//!    Target: p95 < 150 ms.
//! 2. Webhooks: 4,000 signed `invoice.paid` events (distinct invoices of 400 memberships) posted
//!    to `POST /webhooks/stripe` from 32 connections: signature check, event recorded once,
//!    invoice and lines created, membership paid through, receipt job planned.
//!    Target: >= 500 events/s.
//!
//! The load generator shares the machine (and here its two cores) with the server and
//! PostgreSQL, so the figures are conservative.

mod support;

use anyhow::Context;
use app::auth::service::NewAccount;
use app::auth::Role;
use app::memberships::model::{Enrollment, EnrollmentForm};
use app::memberships::service::{enroll, ConsentContext};
use bedside::{settings::Settings, Application};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};
use std::time::Instant;
use support::{percentile, spread};

const ENROLLMENTS: usize = 400;
const ENROLLING_AT_ONCE: usize = 16;
const EVENTS: usize = 4_000;
const CONNECTIONS: usize = 32;
const PASSWORD: &str = "lantern harbor quietly 42";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::on_fresh_postgres(|_| {}, run).await
}

fn form(i: usize) -> EnrollmentForm {
    EnrollmentForm {
        tier: "complete".into(),
        period: "monthly".into(),
        legal_name: format!("Bench Member {i}"),
        date_of_birth: "1980-02-29".into(),
        email: format!("bench{i}@example.com"),
        phone: "(207) 555-0101".into(),
        street: "12 Pine St".into(),
        city: "Portland".into(),
        region: "ME".into(),
        postal_code: "04101".into(),
        emergency_name: "Luis Ruiz".into(),
        emergency_relationship: "Husband".into(),
        emergency_phone: "207-555-0102".into(),
        agree_membership: Some("on".into()),
        agree_privacy: Some("on".into()),
        password: PASSWORD.into(),
        ..Default::default()
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let db = bedside::db::connect(&settings).await?;
    bedside::db::migrate(&db).await?;
    bedside::demo::seed(&db).await?;
    let keyring = bedside::keys::load_keyring(&settings)?;
    let secret = bedside::billing::webhook_secret(&settings.data_dir)?;
    let app = Application::build(settings).await?;
    let identity = app.identity().clone();
    let address = app.url();
    tokio::spawn(app.serve(std::future::pending()));
    let site = app::site::service::load_site_content(&db, chrono::Utc::now())
        .await?
        .context("the demo practice")?;
    let tier = site
        .tiers
        .iter()
        .find(|t| t.slug == "complete")
        .cloned()
        .context("the Complete tier")?;
    let template = identity
        .prepare_account(&NewAccount {
            email: "template@example.com".into(),
            display_name: "Template".into(),
            role: Role::Patient,
            password: PASSWORD.into(),
        })
        .await?;

    println!("Enrolling {ENROLLMENTS} members, {ENROLLING_AT_ONCE} at a time…");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..ENROLLING_AT_ONCE)
        .map(|_| {
            let (next, db, keyring, template, tier) = (
                next.clone(),
                db.clone(),
                keyring.clone(),
                template.clone(),
                tier.clone(),
            );
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= ENROLLMENTS {
                        break;
                    }
                    let began = Instant::now();
                    let now = chrono::Utc::now();
                    let typed = form(i);
                    let enrollment = match Enrollment::parse(&typed, &tier, now.date_naive()) {
                        Ok(enrollment) => enrollment,
                        Err(errors) => return Err(anyhow::anyhow!("form refused: {errors:?}")),
                    };
                    let mut account = template.clone();
                    account.email = typed.email.clone();
                    let enrolled = enroll(
                        &db,
                        &keyring,
                        &account,
                        &enrollment,
                        &ConsentContext {
                            membership_agreement_version: "2026-11-01".into(),
                            privacy_notice_version: "2026-11-01".into(),
                            ..Default::default()
                        },
                        now,
                        |_| Ok(()),
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("enrollment {i}: {e:?}"))?;
                    out.push((
                        enrolled.membership_public_id,
                        began.elapsed().as_secs_f64() * 1000.0,
                    ));
                }
                Ok::<_, anyhow::Error>(out)
            })
        })
        .collect();
    let mut enrolled = Vec::new();
    for worker in workers {
        enrolled.extend(worker.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = enrolled.iter().map(|(_, ms)| *ms).collect();
    latencies.sort_by(f64::total_cmp);
    println!(
        "enrollment: {} in {elapsed:.1} s = {:.0}/s; {} (target: p95 < 150 ms, hashing excluded)",
        enrolled.len(),
        enrolled.len() as f64 / elapsed,
        spread(&latencies)
    );

    let memberships: Arc<Vec<String>> = Arc::new(enrolled.into_iter().map(|(m, _)| m).collect());
    let secret = Arc::new(secret);
    println!("Posting {EVENTS} signed payment events from {CONNECTIONS} connections…");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start_ts = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, next, address, memberships, secret) = (
                client.clone(),
                next.clone(),
                address.clone(),
                memberships.clone(),
                secret.clone(),
            );
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= EVENTS {
                        break;
                    }
                    let membership = &memberships[i % memberships.len()];
                    let period = (i / memberships.len()) as i64;
                    let start = start_ts + period * 30 * 86_400;
                    let body = serde_json::json!({
                        "id": format!("evt_bench_{i}"),
                        "type": "invoice.paid",
                        "data": {"object": {
                            "id": format!("in_bench_{i}"),
                            "customer": format!("cus_{membership}"),
                            "currency": "usd",
                            "amount_due": 19_900,
                            "amount_paid": 19_900,
                            "attempt_count": 1,
                            "parent": {"subscription_details": {
                                "subscription": format!("sub_{membership}"),
                                "metadata": {"membership": membership}
                            }},
                            "lines": {"data": [{
                                "description": "Complete membership",
                                "amount": 19_900,
                                "period": {"start": start, "end": start + 30 * 86_400}
                            }]}
                        }}
                    })
                    .to_string();
                    let signature = app::billing::signature::sign(
                        &secret,
                        chrono::Utc::now().timestamp(),
                        body.as_bytes(),
                    );
                    let began = Instant::now();
                    let status = client
                        .post(format!("{address}/webhooks/stripe"))
                        .header("stripe-signature", signature)
                        .header("content-type", "application/json")
                        .body(body)
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
    let mut statuses = std::collections::BTreeMap::new();
    for (status, _) in &results {
        *statuses.entry(*status).or_insert(0) += 1;
    }
    println!(
        "webhooks: {} events in {elapsed:.1} s = {:.0} events/s; statuses {statuses:?}; p50 {:.1} ms, p95 {:.1} ms (target: >= 500 events/s)",
        results.len(),
        results.len() as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0)
    );
    Ok(())
}

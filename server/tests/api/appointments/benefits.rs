//! Membership benefits when booking (R2.5), the late-cancellation policy (R2.4, P3) and the
//! per-visit charges that follow (R6.1): each rule on both databases, and P3 as a property.

use crate::helpers::{backends, location, spawn_app_with_clock, Backend, TestApp, TestUser};
use app::appointments::benefits;
use app::appointments::entity::{allowance_use, appointment, appointment_hold};
use app::appointments::model::LateOutcome;
use app::appointments::service::booking;
use app::appointments::service::calendar::BookedVisit;
use app::appointments::service::changes::{self, Cancelled};
use app::appointments::service::schedule;
use app::appointments::VisitType;
use app::auth::Role;
use app::billing::entity::{invoice, invoice_line, visit_charge};
use app::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// Monday, November 30, 2026, 7:00 am in the practice's time zone (New York).
pub(crate) fn monday_morning() -> DateTime<Utc> {
    let local = NaiveDate::from_ymd_opt(2026, 11, 30)
        .expect("date")
        .and_hms_opt(7, 0, 0)
        .expect("time");
    app::appointments::availability::instant(chrono_tz::America::New_York, local).expect("exists")
}

fn at_local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    let local = NaiveDate::from_ymd_opt(y, m, d)
        .expect("date")
        .and_hms_opt(h, min, 0)
        .expect("time");
    app::appointments::availability::instant(chrono_tz::America::New_York, local).expect("exists")
}

pub(crate) async fn spawn(backend: &Backend) -> TestApp {
    spawn_app_with_clock(backend, app::clock::FakeClock::at(monday_morning()), |_| {}).await
}

pub(crate) async fn patient_id(app: &TestApp, user: &TestUser) -> i32 {
    app.patient_row_id(user.patient_public_id.as_deref().expect("a patient"))
        .await
}

/// The times the booking page offers `visit_type` from `from` (today when `None`): to `user`
/// within their membership's rules, or whatever the membership when `user` is `None`.
async fn times(
    app: &TestApp,
    user: Option<&TestUser>,
    visit_type: VisitType,
    from: Option<NaiveDate>,
) -> Vec<DateTime<Utc>> {
    let schedule = schedule::load_schedule(&app.db)
        .await
        .expect("schedule")
        .expect("set up");
    // Without a member, whatever the membership: as the practice's staff see the schedule.
    let viewer = match user {
        Some(user) => app.acting_as(user).await,
        None => {
            let email = format!("staff-{}@example.com", uuid::Uuid::new_v4().simple());
            app.acting_as(&app.create_user(Role::Staff, &email).await)
                .await
        }
    };
    booking::booking_options(&viewer, &schedule, visit_type, from, schedule.time_zone)
        .await
        .expect("options")
        .days
        .into_iter()
        .flat_map(|d| d.slots)
        .map(|s| s.starts_at)
        .collect()
}

/// The times the booking page would offer `user` for `visit_type`.
pub(crate) async fn free_times(
    app: &TestApp,
    user: &TestUser,
    visit_type: VisitType,
) -> Vec<DateTime<Utc>> {
    times(app, Some(user), visit_type, None).await
}

/// The times the schedule offers from `from` (today when `None`), whatever the membership.
async fn offered_times(
    app: &TestApp,
    visit_type: VisitType,
    from: Option<NaiveDate>,
) -> Vec<DateTime<Utc>> {
    times(app, None, visit_type, from).await
}

pub(crate) async fn book_as(
    app: &TestApp,
    user: &TestUser,
    visit_type: VisitType,
    starts_at: DateTime<Utc>,
    accepted_fee_cents: Option<i64>,
) -> Result<BookedVisit, AppError> {
    app.book(
        user,
        visit_type,
        starts_at,
        "A check-up",
        accepted_fee_cents,
    )
    .await
}

/// The membership rule that refused a booking: its code and what the patient reads.
fn refused_by(result: Result<BookedVisit, AppError>) -> String {
    match result {
        Err(AppError::Refused(app::Refusal::Booking(refusal))) => {
            format!("{}: {}", refusal.code(), refusal.message())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn allowance_rows(app: &TestApp) -> u64 {
    allowance_use::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

async fn visit(app: &TestApp, public_id: &str) -> appointment::Model {
    appointment::Entity::find()
        .filter(appointment::Column::PublicId.eq(public_id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the visit")
}

/// One time on each of the first `n` days offered.
fn one_a_day(times: &[DateTime<Utc>], n: usize) -> Vec<DateTime<Utc>> {
    let mut days = Vec::new();
    let mut picked = Vec::new();
    for at in times {
        let day = at.with_timezone(&chrono_tz::America::New_York).date_naive();
        if !days.contains(&day) {
            days.push(day);
            picked.push(*at);
        }
    }
    picked.truncate(n);
    assert_eq!(picked.len(), n, "{n} days with free times");
    picked
}

async fn cancel_with_terms(app: &TestApp, user: &TestUser, public_id: &str) -> Cancelled {
    let row = visit(app, public_id).await;
    let (effect, _) = changes::late_terms_of(&app.db, &row).await.expect("terms");
    let me = app.acting_as(user).await;
    changes::cancel(&me, public_id, Some(&benefits::late_token(effect)))
        .await
        .expect("cancelled")
}

#[tokio::test]
async fn an_essential_member_books_from_tomorrow_within_30_days_six_visits_a_year_then_at_the_fee_shown(
) {
    for backend in backends() {
        let app = spawn(&backend).await;
        let ana = app
            .create_member("ana@example.com", "Ana Ruiz", Some("essential"))
            .await;
        let today = monday_morning()
            .with_timezone(&chrono_tz::America::New_York)
            .date_naive();
        let times = free_times(&app, &ana, VisitType::InPerson).await;
        assert!(!times.is_empty());
        assert!(
            times
                .iter()
                .all(|t| t.with_timezone(&chrono_tz::America::New_York).date_naive() > today),
            "no times today for a tier without same-day visits"
        );
        // Today, beyond 30 days, and a home visit: each refused by its rule, in words.
        let this_morning = offered_times(&app, VisitType::InPerson, None).await[0];
        assert!(this_morning < at_local(2026, 11, 30, 12, 0));
        let same_day =
            refused_by(book_as(&app, &ana, VisitType::InPerson, this_morning, None).await);
        assert!(
            same_day.starts_with("same_day: Essential members book from tomorrow on"),
            "{same_day}"
        );
        let in_january = offered_times(
            &app,
            VisitType::InPerson,
            NaiveDate::from_ymd_opt(2027, 1, 4),
        )
        .await[0];
        assert!(in_january >= at_local(2027, 1, 4, 0, 0));
        let far = refused_by(book_as(&app, &ana, VisitType::InPerson, in_january, None).await);
        assert!(
            far.starts_with("horizon: Essential members can book up to 30 days ahead"),
            "{far}"
        );
        let home_at = offered_times(&app, VisitType::HomeVisit, None).await[0];
        let home = refused_by(book_as(&app, &ana, VisitType::HomeVisit, home_at, None).await);
        assert!(
            home.starts_with("not_included: Home visits are not part of the Essential membership"),
            "{home}"
        );

        // Six included visits, numbered 1 to 6.
        let six = one_a_day(&times, 7);
        let mut booked = Vec::new();
        for at in &six[..6] {
            booked.push(
                book_as(&app, &ana, VisitType::InPerson, *at, None)
                    .await
                    .expect("included"),
            );
        }
        assert_eq!(allowance_rows(&app).await, 6, "{}", app.backend);
        let mut ordinals: Vec<i32> = allowance_use::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .into_iter()
            .map(|r| r.ordinal)
            .collect();
        ordinals.sort();
        assert_eq!(ordinals, [1, 2, 3, 4, 5, 6]);

        // The seventh costs $95: stated on the page, and booked only with the fee accepted.
        let browser = app.signed_in(&ana).await;
        let page = app
            .get_with(&browser, "/portal/book?type=in_person")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("You have used all 6 included visits of this membership year")
                && page.contains("Book this visit ($95)")
                && page.contains("name=\"accept_fee_cents\" value=\"9500\""),
            "{page}"
        );
        let seventh = six[6];
        let unaccepted = refused_by(book_as(&app, &ana, VisitType::InPerson, seventh, None).await);
        assert!(
            unaccepted.starts_with("fee: ") && unaccepted.contains("$95"),
            "{unaccepted}"
        );
        let wrong =
            refused_by(book_as(&app, &ana, VisitType::InPerson, seventh, Some(5_000)).await);
        assert!(wrong.starts_with("fee: "), "{wrong}");
        let form = [
            ("visit_type", "in_person"),
            ("starts_at", &seventh.to_rfc3339()),
            ("reason", "One more question"),
        ];
        let response = app
            .post_page_form(&browser, "/api/visits/book", &form)
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/book?type=in_person&error=fee")
        );
        let mut accepted = form.to_vec();
        accepted.push(("accept_fee_cents", "9500"));
        let response = app
            .post_page_form(&browser, "/api/visits/book", &accepted)
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/visits?booked=1")
        );
        let paid = appointment::Entity::find()
            .filter(appointment::Column::StartsAt.eq(seventh))
            .one(&app.db)
            .await
            .expect("query")
            .expect("booked");
        assert_eq!(
            (paid.coverage.as_str(), paid.fee_cents),
            ("fee", Some(9_500))
        );
        assert_eq!(allowance_rows(&app).await, 6);
        let visits = app
            .get_with(&browser, "/portal/visits")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            visits.contains("$95 visit fee, billed after the visit"),
            "{visits}"
        );

        // Cancelling an included visit in time gives it back.
        let me = app.acting_as(&ana).await;
        changes::cancel(&me, &booked[0].public_id, None)
            .await
            .expect("free");
        assert_eq!(allowance_rows(&app).await, 5);
        let page = app
            .get_with(&browser, "/portal/book?type=in_person")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("this is visit 6 of 6 this membership year, leaving 0"),
            "{page}"
        );

        // Inside 24 hours the Essential policy counts the visit: it stays used, nothing is
        // charged.
        app.clock.set(booked[1].starts_at - Duration::hours(3));
        let row = visit(&app, &booked[1].public_id).await;
        let (effect, allowance) = changes::late_terms_of(&app.db, &row).await.expect("terms");
        assert_eq!(
            benefits::late_terms(effect, allowance),
            "Cancelling now, less than 24 hours ahead, counts this visit as one of your 6 visits this membership year."
        );
        let cancelled = cancel_with_terms(&app, &ana, &booked[1].public_id).await;
        assert!(cancelled.late && cancelled.charge_job.is_none());
        assert_eq!(allowance_rows(&app).await, 5, "still counted");
        assert_eq!(
            visit(&app, &booked[1].public_id).await.late_outcome,
            Some(LateOutcome::Counted)
        );
        assert_eq!(
            visit_charge::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
    }
}

#[tokio::test]
async fn booking_needs_an_active_membership_and_says_so() {
    for backend in backends() {
        let app = spawn(&backend).await;
        let lee = app.create_member("lee@example.com", "Lee Park", None).await;
        let browser = app.signed_in(&lee).await;
        let page = app
            .get_with(&browser, "/portal/book?type=in_person")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Booking visits is part of an active membership")
                && !page.contains("name=\"starts_at\""),
            "{page}"
        );
        let ana = app.create_patient("ana@example.com", "Ana Ruiz").await;
        let at = free_times(&app, &ana, VisitType::InPerson).await[0];
        let refused = refused_by(book_as(&app, &lee, VisitType::InPerson, at, None).await);
        assert!(refused.starts_with("membership: "), "{refused}");
        let response = app
            .post_page_form(
                &browser,
                "/api/visits/book",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &at.to_rfc3339()),
                    ("reason", "Hi"),
                ],
            )
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/book?type=in_person&error=membership")
        );
        // Suspended: no booking; past due (a payment being retried): booking goes on.
        use app::memberships::entity::membership;
        let ana_id = patient_id(&app, &ana).await;
        for (status, books) in [("suspended", false), ("past_due", true)] {
            membership::Entity::update_many()
                .col_expr(membership::Column::Status, status.into())
                .filter(membership::Column::PatientId.eq(ana_id))
                .exec(&app.db)
                .await
                .expect("status");
            let outcome = book_as(&app, &ana, VisitType::InPerson, at, None).await;
            assert_eq!(
                outcome.is_ok(),
                books,
                "{status} on {}: {outcome:?}",
                app.backend
            );
        }
        let refusals = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "appointment.book" && r.outcome == "failed")
            .count();
        assert_eq!(refusals, 3, "each refusal is audited");
    }
}

#[tokio::test]
async fn a_home_visit_fee_and_a_late_fee_are_billed_as_lines_of_the_next_membership_invoice() {
    for backend in backends() {
        let app = spawn(&backend).await;
        let client = app.new_browser();
        crate::memberships::joining::active_member(&app, &client, "ana@example.com").await;
        let member = app::memberships::entity::membership::Entity::find()
            .one(&app.db)
            .await
            .expect("query")
            .expect("member");
        let patient = app::patients::entity::patient::Entity::find_by_id(member.patient_id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("patient");
        let ana = TestUser {
            id: patient.user_id.expect("an account"),
            public_id: String::new(),
            email: "ana@example.com".into(),
            password: crate::memberships::joining::JOIN_PASSWORD.into(),
            role: Role::Patient,
            patient_id: Some(patient.id),
            patient_public_id: Some(patient.public_id.clone()),
            mfa_secret: None,
        };
        // A Complete member: home visits cost $150, stated before booking.
        let page = app
            .get_with(&client, "/portal/book?type=home_visit")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains(
                "Home visits are not included in the Complete membership: this one costs $150"
            ) && page.contains("Book this visit ($150)"),
            "{page}"
        );
        let home_at = free_times(&app, &ana, VisitType::HomeVisit).await[0];
        let response = app
            .post_page_form(
                &client,
                "/api/visits/book",
                &[
                    ("visit_type", "home_visit"),
                    ("starts_at", &home_at.to_rfc3339()),
                    ("reason", "Back pain, hard to travel"),
                    ("accept_fee_cents", "15000"),
                ],
            )
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/visits?booked=1"),
            "{}",
            app.backend
        );
        let office_at = free_times(&app, &ana, VisitType::InPerson)
            .await
            .into_iter()
            .find(|t| *t > home_at + Duration::hours(6))
            .expect("a later office visit");
        let office = book_as(&app, &ana, VisitType::InPerson, office_at, None)
            .await
            .expect("included");
        assert_eq!(
            visit_charge::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0,
            "nothing is charged when booking"
        );

        // The home visit takes place; the physician marks it completed: its fee is charged.
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let physician = app.acting_as(&doctor).await;
        app.clock.set(home_at + Duration::minutes(70));
        let home = appointment::Entity::find()
            .filter(appointment::Column::StartsAt.eq(home_at))
            .one(&app.db)
            .await
            .expect("query")
            .expect("home visit");
        changes::complete(&physician, &home.public_id, None)
            .await
            .expect("completed");
        // The office visit is cancelled two hours ahead: the $40 late fee.
        app.clock.set(office_at - Duration::hours(2));
        let cancelled = cancel_with_terms(&app, &ana, &office.public_id).await;
        assert!(cancelled.late && cancelled.charge_job.is_some());
        app.jobs.run_due().await.expect("jobs");
        let mut charges: Vec<(String, i64, String)> = visit_charge::Entity::find()
            .all(&app.db)
            .await
            .expect("charges")
            .into_iter()
            .map(|c| (c.kind.to_string(), c.amount_cents, c.status.to_string()))
            .collect();
        charges.sort();
        assert_eq!(
            charges,
            [
                ("late_fee".to_owned(), 4_000, "billed".to_owned()),
                ("visit_fee".to_owned(), 15_000, "billed".to_owned())
            ],
            "{}",
            app.backend
        );

        // The renewal invoice carries both, itemized; the late fee is not marked HSA/FSA.
        let period_end = member.current_period_end.expect("paid through");
        app.clock.set(period_end + Duration::minutes(1));
        app.jobs.run_due().await.expect("renewal");
        let renewal = invoice::Entity::find()
            .order_by_desc(invoice::Column::Id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("the renewal");
        assert_eq!(
            (renewal.total_cents, renewal.status.as_str()),
            (19_900 + 15_000 + 4_000, "paid")
        );
        let mut lines: Vec<(String, i64, bool)> = invoice_line::Entity::find()
            .filter(invoice_line::Column::InvoiceId.eq(renewal.id))
            .all(&app.db)
            .await
            .expect("lines")
            .into_iter()
            .map(|l| (l.kind.to_string(), l.amount_cents, l.hsa_eligible))
            .collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                ("late_fee".to_owned(), 4_000, false),
                ("membership".to_owned(), 19_900, true),
                ("visit_fee".to_owned(), 15_000, true)
            ]
        );
        assert!(
            renewal.period_start.expect("period") >= period_end - Duration::seconds(1),
            "the period billed is the membership's, not the items'"
        );
        let client = crate::memberships::joining::signed_in_member(&app, "ana@example.com").await;
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Also: Home visit fee, ")
                && page.contains("($150); Late cancellation fee: office visit on "),
            "{page}"
        );
        // The following renewal bills the membership alone.
        let next_end = app::memberships::entity::membership::Entity::find_by_id(member.id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("member")
            .current_period_end
            .expect("paid");
        app.clock.set(next_end + Duration::minutes(1));
        app.jobs.run_due().await.expect("renewal");
        let third = invoice::Entity::find()
            .order_by_desc(invoice::Column::Id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("the third");
        assert_eq!(third.total_cents, 19_900);
    }
}

mod p3 {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// The visits a case books: (tier, kind of visit).
    const CASES: [(&str, VisitType); 3] = [
        ("essential", VisitType::InPerson),
        ("complete", VisitType::InPerson),
        ("complete", VisitType::HomeVisit),
    ];

    /// P3: cancelling 24 hours or more ahead restores everything in full (the included visit,
    /// no charge, the time free); inside 24 hours exactly the tier's late policy applies (the
    /// visit counted, or the late fee), never anything else.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn p3_cancelling_restores_in_full_early_and_applies_only_the_tiers_policy_late() {
        for backend in backends() {
            let app = spawn(&backend).await;
            let base = monday_morning();
            let handle = tokio::runtime::Handle::current();
            let mut runner = TestRunner::new(Config {
                cases: 16,
                ..Config::default()
            });
            let counter = std::sync::atomic::AtomicUsize::new(0);
            let result = runner.run(&(0..CASES.len(), 1i64..=72), |(case, hours_before)| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (tier, visit_type) = CASES[case];
                tokio::task::block_in_place(|| {
                    handle.block_on(async {
                        app.clock.set(base);
                        let who = app
                            .create_member(&format!("p3-{n}@example.com"), "Pat Doe", Some(tier))
                            .await;
                        let at = free_times(&app, &who, visit_type)
                            .await
                            .into_iter()
                            .find(|t| *t >= base + Duration::hours(73))
                            .expect("a time three days ahead");
                        let fee = (visit_type == VisitType::HomeVisit).then_some(15_000);
                        let before = allowance_rows(&app).await;
                        let booked = book_as(&app, &who, visit_type, at, fee)
                            .await
                            .expect("booked");
                        let essential = tier == "essential";
                        assert_eq!(allowance_rows(&app).await, before + u64::from(essential));
                        app.clock.set(at - Duration::hours(hours_before));
                        let cancelled = cancel_with_terms(&app, &who, &booked.public_id).await;
                        let row = visit(&app, &booked.public_id).await;
                        let charges: Vec<(String, i64)> = visit_charge::Entity::find()
                            .filter(visit_charge::Column::AppointmentId.eq(row.id))
                            .all(&app.db)
                            .await
                            .expect("charges")
                            .into_iter()
                            .map(|c| (c.kind.to_string(), c.amount_cents))
                            .collect();
                        let holds = appointment_hold::Entity::find()
                            .filter(appointment_hold::Column::AppointmentId.eq(row.id))
                            .count(&app.db)
                            .await
                            .expect("holds");
                        let kept = allowance_rows(&app).await - before;
                        prop_assert_eq!(row.status.as_str(), "cancelled");
                        prop_assert_eq!(holds, 0, "the time is free at once");
                        if hours_before >= 24 {
                            prop_assert!(!cancelled.late);
                            prop_assert_eq!(kept, 0, "the included visit is given back");
                            prop_assert!(charges.is_empty(), "nothing is charged");
                            prop_assert_eq!(row.late_outcome, None);
                        } else if essential {
                            prop_assert!(cancelled.late);
                            prop_assert_eq!(kept, 1, "counted as a visit");
                            prop_assert!(charges.is_empty(), "and nothing more");
                            prop_assert_eq!(row.late_outcome, Some(LateOutcome::Counted));
                        } else {
                            prop_assert!(cancelled.late);
                            prop_assert_eq!(kept, 0);
                            prop_assert_eq!(
                                charges,
                                vec![("late_fee".to_owned(), 4_000)],
                                "the late fee alone"
                            );
                            prop_assert_eq!(row.late_outcome, Some(LateOutcome::LateFee));
                        }
                        Ok(())
                    })
                })
            });
            if let Err(failure) = result {
                panic!("{} on {}", failure, app.backend);
            }
        }
    }
}

//! The waitlist: a freed time goes to the first in line, held for 30 minutes so nobody else
//! can take it; booked with one press, let go, or ended by the clock, it goes to the next.

use crate::appointments::benefits::{book_as, free_times, monday_morning, patient_id, spawn};
use crate::helpers::{backends, location, TestApp, TestUser};
use app::appointments::entity::{appointment, appointment_hold, waitlist_entry};
use app::appointments::VisitType;
use app::mail::outbox_email;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const DAY: &str = "2026-12-01";

fn tuesday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
}

async fn entry_of(app: &TestApp, user: &TestUser) -> waitlist_entry::Model {
    let id = patient_id(app, user).await;
    waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::PatientId.eq(id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("an entry")
}

async fn offers_emailed_to(app: &TestApp, email: &str) -> u64 {
    app.jobs.settle().await;
    outbox_email::Entity::find()
        .filter(outbox_email::Column::ToAddress.eq(email))
        .filter(outbox_email::Column::Subject.contains("A time opened up"))
        .count(&app.db)
        .await
        .expect("count")
}

/// The in-person times on Tuesday the practice still offers anyone.
async fn free_on_tuesday(app: &TestApp, anyone: &TestUser) -> Vec<DateTime<Utc>> {
    free_times(app, anyone, VisitType::InPerson)
        .await
        .into_iter()
        .filter(|t| t.with_timezone(&chrono_tz::America::New_York).date_naive() == tuesday())
        .collect()
}

async fn join(app: &TestApp, user: &TestUser) -> reqwest::Client {
    let browser = app.signed_in(user).await;
    let joined = app
        .post_page_form(
            &browser,
            "/api/visits/waitlist/join",
            &[("visit_type", "in_person"), ("day", DAY)],
        )
        .await;
    assert_eq!(
        location(&joined).as_deref(),
        Some("/portal/visits?waitlisted=1#waitlist"),
        "{}",
        app.backend
    );
    browser
}

#[tokio::test]
async fn a_freed_time_is_held_for_the_first_in_line_then_booked_let_go_or_timed_out_to_the_next() {
    for backend in backends() {
        let app = spawn(&backend).await;
        // Tuesday's office visits are all booked: Ana has one, Fay the rest.
        let ana = app.create_patient("ana@example.com", "Ana Ruiz").await;
        let fay = app.create_patient("fay@example.com", "Fay Lind").await;
        let tuesday_times = free_on_tuesday(&app, &ana).await;
        assert!(tuesday_times.len() >= 4, "{tuesday_times:?}");
        let anas = book_as(&app, &ana, VisitType::InPerson, tuesday_times[0], None)
            .await
            .expect("booked");
        let mut fays = Vec::new();
        for at in &tuesday_times[1..] {
            fays.push(
                book_as(&app, &fay, VisitType::InPerson, *at, None)
                    .await
                    .expect("booked"),
            );
        }
        assert!(free_on_tuesday(&app, &ana).await.is_empty());

        // Ben, then Cleo, wait for Tuesday.
        let ben = app.create_patient("ben@example.com", "Ben Ode").await;
        let cleo = app.create_patient("cleo@example.com", "Cleo Park").await;
        // The booking page offers the waitlist of full days only.
        let ben_page = app
            .get_with(&app.signed_in(&ben).await, "/portal/book?type=in_person")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            ben_page.contains("The day you want is full? Join its waitlist")
                && ben_page.contains("<option value=\"2026-12-01\">Tuesday, December 1</option>")
                && !ben_page.contains("<option value=\"2026-12-02\">"),
            "{ben_page}"
        );
        let ben_browser = join(&app, &ben).await;
        let cleo_browser = join(&app, &cleo).await;
        let page = app
            .get_with(&ben_browser, "/portal/visits")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Waiting for a time on Tuesday, December 1"),
            "{page}"
        );

        // Ana cancels (free, a day ahead): the time is held for Ben, not offered to anyone else.
        let ana_browser = app.signed_in(&ana).await;
        let cancelled = app
            .post_page_form(
                &ana_browser,
                "/api/visits/cancel",
                &[("id", anas.public_id.as_str())],
            )
            .await;
        assert_eq!(
            location(&cancelled).as_deref(),
            Some("/portal/visits?cancelled=1")
        );
        let bens = entry_of(&app, &ben).await;
        assert_eq!(bens.status.as_str(), "offered", "{}", app.backend);
        assert_eq!(entry_of(&app, &cleo).await.status.as_str(), "waiting");
        assert!(
            free_on_tuesday(&app, &cleo).await.is_empty(),
            "held for Ben alone"
        );
        let held = appointment::Entity::find_by_id(bens.appointment_id.expect("held"))
            .one(&app.db)
            .await
            .expect("query")
            .expect("held");
        assert_eq!(
            (held.status.as_str(), held.starts_at),
            ("offered", tuesday_times[0])
        );
        assert_eq!(offers_emailed_to(&app, "ben@example.com").await, 1);
        assert_eq!(offers_emailed_to(&app, "cleo@example.com").await, 0);
        let page = app
            .get_with(&ben_browser, "/portal/visits")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("A time opened up: Office visit on Tuesday, December 1 at 8:00 am")
                && page.contains("Held for you until 7:30 am.")
                && page.contains("Included in your Complete membership."),
            "{page}"
        );
        // Someone else cannot take it, even by asking for it directly.
        let taken = book_as(&app, &cleo, VisitType::InPerson, tuesday_times[0], None).await;
        assert!(taken.is_err(), "{taken:?}");

        // Ben books it with one press (and a reason): a visit like any other.
        let accepted = app
            .post_page_form(
                &ben_browser,
                "/api/visits/waitlist/accept",
                &[("entry", bens.public_id.as_str()), ("reason", "Knee pain")],
            )
            .await;
        assert_eq!(
            location(&accepted).as_deref(),
            Some("/portal/visits?booked=1")
        );
        let booked = appointment::Entity::find_by_id(held.id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("visit");
        assert_eq!(booked.status.as_str(), "booked");
        assert_eq!(entry_of(&app, &ben).await.status.as_str(), "booked");
        app.jobs.settle().await;
        let confirmations = outbox_email::Entity::find()
            .filter(outbox_email::Column::ToAddress.eq("ben@example.com"))
            .filter(outbox_email::Column::Subject.starts_with("Your visit is booked"))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(confirmations, 1);

        // Fay cancels one: Cleo's turn. She does not answer; 30 minutes later the time is free
        // for everyone (nobody else waits), and her late press says so.
        let fay_browser = app.signed_in(&fay).await;
        let freed = fays[0].starts_at;
        app.post_page_form(
            &fay_browser,
            "/api/visits/cancel",
            &[("id", fays[0].public_id.as_str())],
        )
        .await;
        let cleos = entry_of(&app, &cleo).await;
        assert_eq!(cleos.status.as_str(), "offered");
        assert_eq!(offers_emailed_to(&app, "cleo@example.com").await, 1);
        app.clock.set(monday_morning() + Duration::minutes(31));
        app.jobs.run_due().await.expect("jobs");
        assert_eq!(
            entry_of(&app, &cleo).await.status.as_str(),
            "expired",
            "{}",
            app.backend
        );
        assert_eq!(free_on_tuesday(&app, &ana).await, vec![freed]);
        assert_eq!(
            appointment_hold::Entity::find()
                .filter(
                    appointment_hold::Column::AppointmentId.eq(cleos.appointment_id.expect("held"))
                )
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
        let cleo_browser = {
            drop(cleo_browser);
            app.signed_in(&cleo).await
        };
        let late = app
            .post_page_form(
                &cleo_browser,
                "/api/visits/waitlist/accept",
                &[("entry", cleos.public_id.as_str()), ("reason", "Cough")],
            )
            .await;
        assert_eq!(
            location(&late).as_deref(),
            Some("/portal/visits?error=offer_gone")
        );

        // Dan and Eve wait; Fay cancels another; Dan lets it go, so it goes to Eve.
        book_as(&app, &fay, VisitType::InPerson, freed, None)
            .await
            .expect("booked again");
        let dan = app.create_patient("dan@example.com", "Dan Roe").await;
        let eve = app.create_patient("eve@example.com", "Eve Sato").await;
        let dan_browser = join(&app, &dan).await;
        join(&app, &eve).await;
        let fay_browser = app.signed_in(&fay).await;
        app.post_page_form(
            &fay_browser,
            "/api/visits/cancel",
            &[("id", fays[1].public_id.as_str())],
        )
        .await;
        let dans = entry_of(&app, &dan).await;
        assert_eq!(dans.status.as_str(), "offered");
        let declined = app
            .post_page_form(
                &dan_browser,
                "/api/visits/waitlist/decline",
                &[("entry", dans.public_id.as_str())],
            )
            .await;
        assert_eq!(
            location(&declined).as_deref(),
            Some("/portal/visits?left_waitlist=1")
        );
        assert_eq!(entry_of(&app, &dan).await.status.as_str(), "declined");
        let eves = entry_of(&app, &eve).await;
        assert_eq!(eves.status.as_str(), "offered");
        let eves_time = appointment::Entity::find_by_id(eves.appointment_id.expect("held"))
            .one(&app.db)
            .await
            .expect("query")
            .expect("held")
            .starts_at;
        assert_eq!(eves_time, fays[1].starts_at);
        assert_eq!(offers_emailed_to(&app, "eve@example.com").await, 1);
        // Nobody can answer someone else's offer.
        let (status, stolen) = app
            .call::<app::appointments::model::VisitChange>(
                &dan_browser,
                "/api/visits/waitlist/accept",
                &[("entry", eves.public_id.as_str()), ("reason", "Mine now")],
            )
            .await;
        assert_eq!((status, stolen), (403, Err(app::AppError::Forbidden)));
        assert_eq!(entry_of(&app, &eve).await.status.as_str(), "offered");
    }
}

#[tokio::test]
async fn only_members_wait_and_only_for_days_their_membership_books() {
    for backend in backends() {
        let app = spawn(&backend).await;
        let lee = app.create_member("lee@example.com", "Lee Park", None).await;
        let browser = app.signed_in(&lee).await;
        let refused = app
            .post_page_form(
                &browser,
                "/api/visits/waitlist/join",
                &[("visit_type", "in_person"), ("day", DAY)],
            )
            .await;
        assert_eq!(
            location(&refused).as_deref(),
            Some("/portal/book?type=in_person&error=membership")
        );
        let ana = app
            .create_member("ana@example.com", "Ana Ruiz", Some("essential"))
            .await;
        let browser = app.signed_in(&ana).await;
        for (day, kind, code) in [
            ("2026-11-30", "in_person", "same_day"),
            ("2027-01-05", "in_person", "horizon"),
            ("2026-12-05", "in_person", "day"),
            (DAY, "home_visit", "not_included"),
            ("next tuesday", "in_person", "day"),
        ] {
            let response = app
                .post_page_form(
                    &browser,
                    "/api/visits/waitlist/join",
                    &[("visit_type", kind), ("day", day)],
                )
                .await;
            assert_eq!(
                location(&response).as_deref(),
                Some(format!("/portal/book?type={kind}&error={code}").as_str()),
                "{day} {kind} on {}",
                app.backend
            );
        }
        assert_eq!(
            waitlist_entry::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
    }
}

#[tokio::test]
async fn a_time_on_the_day_itself_skips_those_whose_membership_books_from_tomorrow() {
    for backend in backends() {
        let app = spawn(&backend).await;
        let fay = app.create_patient("fay@example.com", "Fay Lind").await;
        let tuesday_times = free_on_tuesday(&app, &fay).await;
        let mut fays = Vec::new();
        for at in &tuesday_times {
            fays.push(
                book_as(&app, &fay, VisitType::InPerson, *at, None)
                    .await
                    .expect("booked"),
            );
        }
        // An Essential member (books from tomorrow) and then a Complete member wait for Tuesday.
        let ess = app
            .create_member("ess@example.com", "Ess Tee", Some("essential"))
            .await;
        let com = app.create_patient("com@example.com", "Com Plete").await;
        join(&app, &ess).await;
        join(&app, &com).await;
        // Tuesday, 6 am: Fay cancels her last visit of the day (late, on her terms).
        app.clock.set(monday_morning() + Duration::hours(23));
        let last = fays.last().expect("a visit");
        let row = appointment::Entity::find()
            .filter(appointment::Column::PublicId.eq(last.public_id.as_str()))
            .one(&app.db)
            .await
            .expect("query")
            .expect("visit");
        let (effect, _) = app::appointments::service::changes::late_terms_of(&app.db, &row)
            .await
            .expect("terms");
        let fay_browser = app.signed_in(&fay).await;
        let cancelled = app
            .post_page_form(
                &fay_browser,
                "/api/visits/cancel",
                &[
                    ("id", last.public_id.as_str()),
                    (
                        "accept_late",
                        &app::appointments::benefits::late_token(effect),
                    ),
                ],
            )
            .await;
        assert_eq!(
            location(&cancelled).as_deref(),
            Some("/portal/visits?cancelled=late")
        );
        assert_eq!(
            entry_of(&app, &ess).await.status.as_str(),
            "expired",
            "{}",
            app.backend
        );
        assert_eq!(entry_of(&app, &com).await.status.as_str(), "offered");
        assert_eq!(offers_emailed_to(&app, "ess@example.com").await, 0);
    }
}

#[tokio::test]
async fn extra_hours_on_a_full_day_go_to_the_people_waiting_for_it() {
    for backend in backends() {
        let app = spawn(&backend).await;
        let fay = app.create_patient("fay@example.com", "Fay Lind").await;
        for at in free_on_tuesday(&app, &fay).await {
            book_as(&app, &fay, VisitType::InPerson, at, None)
                .await
                .expect("booked");
        }
        let ben = app.create_patient("ben@example.com", "Ben Ode").await;
        join(&app, &ben).await;
        assert_eq!(entry_of(&app, &ben).await.status.as_str(), "waiting");
        // The physician opens Tuesday afternoon for office visits.
        let doctor = app
            .create_user(app::auth::Role::Physician, "doc@example.com")
            .await;
        let physician = app.signed_in(&doctor).await;
        let saved = app
            .post_page_form(
                &physician,
                "/api/schedule/change",
                &[
                    ("change", "add_extra_hours"),
                    ("visit_type", "in_person"),
                    ("date", DAY),
                    ("start", "14:00"),
                    ("end", "16:00"),
                ],
            )
            .await;
        assert_eq!(
            location(&saved).as_deref(),
            Some("/dashboard/schedule?saved=1")
        );
        let bens = entry_of(&app, &ben).await;
        assert_eq!(bens.status.as_str(), "offered", "{}", app.backend);
        let held = appointment::Entity::find_by_id(bens.appointment_id.expect("held"))
            .one(&app.db)
            .await
            .expect("query")
            .expect("held");
        assert_eq!(
            held.starts_at
                .with_timezone(&chrono_tz::America::New_York)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            "2026-12-01 14:00"
        );
        assert_eq!(offers_emailed_to(&app, "ben@example.com").await, 1);
    }
}

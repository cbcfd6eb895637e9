//! A visit's confirmation and reminders (R2.3, R10.1–R10.3, P10): planned at booking, sent once
//! each when the clock reaches them, none for a cancelled visit or after the start.

use crate::helpers::{backends, spawn_app, TestApp, TestUser};
use app::appointments::entity::{appointment, visit_notice};
use app::appointments::service::calendar::BookedVisit;
use app::appointments::service::changes;
use app::appointments::VisitType;
use app::jobs::{entity::job, status};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::str::FromStr;

/// Books Maria's first free in-person time at least `days` ahead.
pub(crate) async fn book_ahead(app: &TestApp, maria: &TestUser, days: i64) -> BookedVisit {
    let starts_at = *app
        .free_times(VisitType::InPerson, days, 7)
        .await
        .first()
        .expect("a free time");
    app.book(
        maria,
        VisitType::InPerson,
        starts_at,
        "Recurring migraines",
        None,
    )
    .await
    .expect("booked")
}

async fn emails(app: &TestApp) -> Vec<bedside::mail::outbox::OpenedEmail> {
    app.jobs.settle().await;
    bedside::mail::outbox::latest(&app.db, &app.keyring, 100)
        .await
        .expect("outbox")
}

async fn texts(app: &TestApp) -> Vec<bedside::sms::outbox::OpenedText> {
    app.jobs.settle().await;
    bedside::sms::outbox::latest(&app.db, &app.keyring, 100)
        .await
        .expect("sms outbox")
}

async fn notifications(app: &TestApp) -> usize {
    use sea_orm::PaginatorTrait;
    app.jobs.settle().await;
    app::notifications::entity::notification::Entity::find()
        .count(&app.db)
        .await
        .expect("count") as usize
}

async fn notices(app: &TestApp, visit: &BookedVisit) -> Vec<(String, String)> {
    app.jobs.settle().await;
    let row = appointment::Entity::find()
        .filter(appointment::Column::PublicId.eq(visit.public_id.as_str()))
        .one(&app.db)
        .await
        .expect("query")
        .expect("visit");
    let mut out: Vec<(String, String)> = visit_notice::Entity::find()
        .filter(visit_notice::Column::AppointmentId.eq(row.id))
        .all(&app.db)
        .await
        .expect("notices")
        .into_iter()
        .map(|n| (n.kind.to_string(), n.status.to_string()))
        .collect();
    out.sort();
    out
}

async fn planned(app: &TestApp, visit: &BookedVisit) -> Vec<(String, DateTime<Utc>, String)> {
    let mut out: Vec<_> = job::Entity::find()
        .filter(job::Column::Kind.eq("visit.notice"))
        .filter(job::Column::Payload.contains(visit.public_id.as_str()))
        .all(&app.db)
        .await
        .expect("jobs")
        .into_iter()
        .map(|j| {
            let payload: app::appointments::notices::NoticeJob =
                serde_json::from_str(&j.payload).expect("payload");
            (payload.kind.to_string(), j.run_at, j.status.to_string())
        })
        .collect();
    out.sort_by_key(|(_, at, _)| *at);
    out
}

#[tokio::test]
async fn p10_a_booked_visit_is_confirmed_with_a_calendar_entry_and_reminded_once_on_each_channel() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let visit = book_ahead(&app, &maria, 10).await;
        let start = visit.starts_at;
        assert_eq!(
            planned(&app, &visit).await,
            vec![
                (
                    "confirmation".into(),
                    app.clock_now(),
                    status::PENDING.to_string()
                ),
                (
                    "week_ahead".into(),
                    start - Duration::days(7),
                    status::PENDING.to_string()
                ),
                (
                    "day_ahead".into(),
                    start - Duration::hours(24),
                    status::PENDING.to_string()
                ),
                (
                    "hours_ahead".into(),
                    start - Duration::hours(2),
                    status::PENDING.to_string()
                ),
            ],
            "{}",
            app.backend
        );

        // The confirmation goes at once, with the visit as a calendar entry.
        assert_eq!(app.jobs.run_due().await.expect("run").done, 1);
        let sent = emails(&app).await;
        assert_eq!(sent.len(), 1, "{}", app.backend);
        let confirmation = &sent[0];
        assert_eq!(confirmation.to_address, "maria@example.com");
        assert!(
            confirmation.subject.starts_with("Your visit is booked: "),
            "{}",
            confirmation.subject
        );
        assert!(
            !confirmation.text_body.contains("migraine"),
            "no health information in email"
        );
        let files = bedside::mail::outbox::attachments(&app.db, &app.keyring, confirmation.id)
            .await
            .expect("attachments");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].filename, "visit.ics");
        assert!(files[0].content_type.starts_with("text/calendar"));
        let ics = String::from_utf8(files[0].content.clone()).expect("utf-8");
        let calendar = icalendar::Calendar::from_str(&ics).expect("valid RFC 5545");
        assert_eq!(
            ics.matches("PRODID:").count(),
            1,
            "one PRODID (RFC 5545): {ics}"
        );
        let events: Vec<_> = calendar.events().collect();
        assert_eq!(events.len(), 1);
        use icalendar::Component;
        let event = events[0];
        assert_eq!(
            event.get_uid(),
            Some(format!("{}@bedside", visit.public_id).as_str())
        );
        let starts = match event.get_start() {
            Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(at))) => at,
            other => panic!("DTSTART should be a UTC time, got {other:?}"),
        };
        assert_eq!(starts, start);
        assert!(!ics.contains("migraine"));

        // Nothing else is due yet.
        assert_eq!(app.jobs.run_due().await.expect("run").done, 0);

        // 7 days before: the email reminder.
        app.clock
            .set(start - Duration::days(7) + Duration::minutes(1));
        assert_eq!(app.jobs.run_due().await.expect("run").done, 1);
        let sent = emails(&app).await;
        assert_eq!(sent.len(), 2);
        assert!(
            sent[0].subject.starts_with("Reminder: your visit on "),
            "{}",
            sent[0].subject
        );

        // 24 hours before: the text, to the patient's number in E.164, date, time and practice
        // name only.
        app.clock
            .set(start - Duration::hours(24) + Duration::minutes(1));
        assert_eq!(app.jobs.run_due().await.expect("run").done, 1);
        let sms = texts(&app).await;
        assert_eq!(sms.len(), 1, "{}", app.backend);
        assert_eq!(sms[0].to_number, "+12075550187");
        assert!(
            sms[0]
                .body
                .starts_with("Harbor Street Medicine: reminder of your visit tomorrow"),
            "{}",
            sms[0].body
        );
        assert!(!sms[0].body.contains("migraine") && !sms[0].body.contains("Office"));

        // 2 hours before: the in-app notification, shown with an unread badge.
        app.clock
            .set(start - Duration::hours(2) + Duration::minutes(1));
        assert_eq!(app.jobs.run_due().await.expect("run").done, 1);
        let browser = app.signed_in(&maria).await;
        assert_eq!(notifications(&app).await, 1);
        let portal = app
            .get_with(&browser, "/portal")
            .await
            .text()
            .await
            .expect("body");
        assert!(
            portal.contains("1<span class=\"visually-hidden\"> unread</span>"),
            "{portal}"
        );
        let centre = app
            .get_with(&browser, "/portal/notifications")
            .await
            .text()
            .await
            .expect("body");
        assert!(centre.contains("Your visit is coming up"), "{centre}");
        let portal = app
            .get_with(&browser, "/portal")
            .await
            .text()
            .await
            .expect("body");
        assert!(
            !portal.contains(" unread</span>"),
            "opening the centre reads them"
        );

        // Each went out once, and running again sends nothing more.
        assert_eq!(
            notices(&app, &visit).await,
            vec![
                ("confirmation".into(), "sent".into()),
                ("day_ahead".into(), "sent".into()),
                ("hours_ahead".into(), "sent".into()),
                ("week_ahead".into(), "sent".into()),
            ]
        );
        app.clock.set(start + Duration::hours(1));
        assert_eq!(app.jobs.run_due().await.expect("run").done, 0);
        assert_eq!(
            (
                emails(&app).await.len(),
                texts(&app).await.len(),
                notifications(&app).await
            ),
            (2, 1, 1)
        );
    }
}

#[tokio::test]
async fn p10_a_reminder_job_that_runs_again_does_not_send_again() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let visit = book_ahead(&app, &maria, 3).await;
        // Three days ahead: the week-ahead email's time has passed; it is not planned.
        let kinds: Vec<String> = planned(&app, &visit)
            .await
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        assert_eq!(
            kinds,
            vec!["confirmation", "day_ahead", "hours_ahead"],
            "{}",
            app.backend
        );
        app.clock.set(visit.starts_at - Duration::hours(23));
        assert_eq!(app.jobs.run_due().await.expect("run").done, 2);
        assert_eq!(texts(&app).await.len(), 1);
        // As if a process died after sending, before recording the job done: it runs again.
        job::Entity::update_many()
            .col_expr(job::Column::Status, status::PENDING.into())
            .filter(job::Column::Kind.eq("visit.notice"))
            .exec(&app.db)
            .await
            .expect("reset");
        assert_eq!(app.jobs.run_due().await.expect("run").done, 2);
        assert_eq!(texts(&app).await.len(), 1, "{}", app.backend);
        assert_eq!(emails(&app).await.len(), 1);
    }
}

#[tokio::test]
async fn p10_a_cancelled_visit_gets_no_reminders_and_none_go_out_after_the_start() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let cancelled = book_ahead(&app, &maria, 10).await;
        let late = book_ahead(&app, &maria, 12).await;
        app.jobs.run_due().await.expect("confirmations");
        assert_eq!(emails(&app).await.len(), 2);

        let me = app.acting_as(&maria).await;
        changes::cancel(&me, &cancelled.public_id, None)
            .await
            .expect("cancelled");
        let withdrawn: Vec<String> = planned(&app, &cancelled)
            .await
            .into_iter()
            .filter(|(kind, _, _)| kind != "confirmation")
            .map(|(_, _, status)| status)
            .collect();
        assert_eq!(withdrawn, vec!["cancelled"; 3], "{}", app.backend);

        // The worker was down until after the second visit started: its reminders are late and
        // are recorded as skipped, not sent.
        app.clock.set(late.starts_at + Duration::minutes(5));
        app.jobs.run_due().await.expect("run");
        assert_eq!(emails(&app).await.len(), 2, "{}", app.backend);
        assert!(texts(&app).await.is_empty());
        assert_eq!(notifications(&app).await, 0);
        let statuses: Vec<String> = notices(&app, &late)
            .await
            .into_iter()
            .filter(|(kind, _)| kind != "confirmation")
            .map(|(_, status)| status)
            .collect();
        assert_eq!(statuses, vec!["skipped"; 3]);
        assert_eq!(
            notices(&app, &cancelled).await.len(),
            1,
            "only its confirmation"
        );
    }
}

#[tokio::test]
async fn booking_from_the_portal_sends_the_confirmation_at_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.signed_in(&maria).await;
        let html = app
            .get_with(&browser, "/portal/book?type=in_person")
            .await
            .text()
            .await
            .expect("body");
        let slot = html
            .split("name=\"starts_at\"")
            .nth(1)
            .and_then(|rest| rest.split("value=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .expect("a free time")
            .to_owned();
        let booked = app
            .post_page_form(
                &browser,
                "/api/visits/book",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &slot),
                    ("reason", "Check-up"),
                ],
            )
            .await;
        assert_eq!(booked.status(), 303, "{}", app.backend);
        let sent = emails(&app).await;
        assert_eq!(sent.len(), 1, "{}", app.backend);
        assert!(sent[0].subject.starts_with("Your visit is booked"));
    }
}

/// A free time of the same kind as `visit`, at least `days` ahead, other than `not`.
async fn another_slot(app: &TestApp, days: i64, not: DateTime<Utc>) -> DateTime<Utc> {
    app.free_times(VisitType::InPerson, days, 7)
        .await
        .into_iter()
        .find(|at| *at != not)
        .expect("a free slot")
}

#[tokio::test]
async fn moving_a_visit_frees_its_old_time_emails_an_updated_calendar_entry_and_moves_its_reminders(
) {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let visit = book_ahead(&app, &maria, 10).await;
        app.jobs.run_due().await.expect("confirmation");
        let old_start = visit.starts_at;
        let new_start = another_slot(&app, 12, old_start).await;
        let browser = app.signed_in(&maria).await;

        // The page offers the move, and says what it costs before the patient confirms.
        let visits = app
            .get_with(&browser, "/portal/visits")
            .await
            .text()
            .await
            .expect("body");
        let link = format!(
            "/portal/book?type=in_person&amp;reschedule={}",
            visit.public_id
        );
        assert!(visits.contains(&link), "{visits}");
        assert!(visits.contains("Moving or cancelling is free until 24 hours before the visit."));

        // James cannot move Maria's visit.
        let other = app.signed_in(&james).await;
        let (status, refused) = app
            .call::<app::appointments::model::Booked>(
                &other,
                "/api/visits/move",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &new_start.to_rfc3339()),
                    ("visit", &visit.public_id),
                ],
            )
            .await;
        assert_eq!(
            (status, refused),
            (403, Err(app::AppError::Forbidden)),
            "{}",
            app.backend
        );

        let moved = app
            .post_page_form(
                &browser,
                "/api/visits/move",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &new_start.to_rfc3339()),
                    ("visit", &visit.public_id),
                ],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&moved).as_deref(),
            Some("/portal/visits?moved=1"),
            "{}",
            app.backend
        );
        let row = appointment::Entity::find()
            .filter(appointment::Column::PublicId.eq(visit.public_id.as_str()))
            .one(&app.db)
            .await
            .expect("query")
            .expect("visit");
        assert_eq!((row.starts_at, row.status.as_str()), (new_start, "booked"));

        // The email says so, and its calendar entry replaces the old one.
        let sent = emails(&app).await;
        assert_eq!(sent.len(), 2, "{}", app.backend);
        assert!(
            sent[0].subject.starts_with("Your visit was moved: "),
            "{}",
            sent[0].subject
        );
        let files = bedside::mail::outbox::attachments(&app.db, &app.keyring, sent[0].id)
            .await
            .expect("attachments");
        let ics = String::from_utf8(files[0].content.clone()).expect("utf-8");
        let calendar = icalendar::Calendar::from_str(&ics).expect("valid RFC 5545");
        use icalendar::Component;
        let event = calendar.events().next().expect("an event");
        assert_eq!(
            event.get_uid(),
            Some(format!("{}@bedside", visit.public_id).as_str())
        );
        let sequence: i64 = event
            .property_value("SEQUENCE")
            .and_then(|v| v.parse().ok())
            .expect("a SEQUENCE");
        assert!(sequence > 0);

        // The old time is free for James at once.
        app.book(&james, VisitType::InPerson, old_start, "Knee pain", None)
            .await
            .expect("the old time is free");

        // Maria's reminders follow the visit: the old start's are withdrawn, the new start's
        // planned, and only those go out.
        let maria_jobs = planned(&app, &visit).await;
        let pending: Vec<(String, DateTime<Utc>)> = maria_jobs
            .iter()
            .filter(|(_, _, status)| *status == status::PENDING.to_string())
            .map(|(kind, at, _)| (kind.clone(), *at))
            .collect();
        assert_eq!(
            pending,
            vec![
                ("week_ahead".into(), new_start - Duration::days(7)),
                ("day_ahead".into(), new_start - Duration::hours(24)),
                ("hours_ahead".into(), new_start - Duration::hours(2)),
            ],
            "{}",
            app.backend
        );
        app.clock
            .set(new_start - Duration::days(7) + Duration::minutes(1));
        app.jobs.run_due().await.expect("run");
        let reminders: Vec<_> = emails(&app)
            .await
            .into_iter()
            .filter(|e| e.to_address == "maria@example.com" && e.subject.starts_with("Reminder"))
            .collect();
        assert_eq!(reminders.len(), 1, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_visit_inside_24_hours_is_not_moved_online_and_a_taken_time_keeps_the_old_one() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let visit = book_ahead(&app, &maria, 4).await;
        let theirs = book_ahead(&app, &james, 6).await;
        let browser = app.signed_in(&maria).await;
        let onto_james = app
            .post_page_form(
                &browser,
                "/api/visits/move",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &theirs.starts_at.to_rfc3339()),
                    ("visit", &visit.public_id),
                ],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&onto_james).as_deref(),
            Some(
                format!(
                    "/portal/book?type=in_person&reschedule={}&error=taken",
                    visit.public_id
                )
                .as_str()
            ),
            "{}",
            app.backend
        );
        // 20 hours before: moving is for the practice, by phone.
        app.clock.set(visit.starts_at - Duration::hours(20));
        let browser = app.signed_in(&maria).await;
        let later = another_slot(&app, 2, visit.starts_at).await;
        let late = app
            .post_page_form(
                &browser,
                "/api/visits/move",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &later.to_rfc3339()),
                    ("visit", &visit.public_id),
                ],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&late).as_deref(),
            Some("/portal/visits?error=late_move")
        );
        let page = app
            .get_with(&browser, "/portal/visits?error=late_move")
            .await
            .text()
            .await
            .expect("body");
        assert!(
            page.contains("so it can no longer be moved")
                && page.contains("Cancelling now, less than 24 hours ahead, costs the $40"),
            "{page}"
        );
        let row = appointment::Entity::find()
            .filter(appointment::Column::PublicId.eq(visit.public_id.as_str()))
            .one(&app.db)
            .await
            .expect("query")
            .expect("visit");
        assert_eq!(row.starts_at, visit.starts_at, "nothing changed");
        let failed = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "appointment.reschedule" && r.outcome == "failed")
            .count();
        assert_eq!(failed, 2, "both refusals are audited");
    }
}

#[tokio::test]
async fn a_completed_visit_gets_a_follow_up_email_and_a_suggested_time_to_book_in_one_click() {
    use app::auth::Role;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let visit = book_ahead(&app, &maria, 2).await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let front_desk = app.create_user(Role::Staff, "desk@example.com").await;
        let day = visit
            .starts_at
            .with_timezone(&chrono_tz::America::New_York)
            .format("%Y-%m-%d")
            .to_string();
        let agenda = format!("/dashboard/agenda?date={day}&span=day");
        let note_page = format!("/dashboard/visits/{}/note", visit.public_id);
        // Signing the visit's note completes it, with the note's follow-up.
        let sign = |version: &'static str| {
            vec![
                ("visit", visit.public_id.clone()),
                ("version", version.to_owned()),
                ("note[assessment]", "Tension-type headache".to_owned()),
                ("note[plan]", "Hydration, sleep diary".to_owned()),
                ("note[follow_up_weeks]", "4".to_owned()),
                ("sign", "1".to_owned()),
            ]
        };
        let post = |client: &reqwest::Client, form: Vec<(&'static str, String)>| {
            client
                .post(format!("{}/api/records/notes/save", app.address))
                .header("Accept", "text/html")
                .form(&form)
                .send()
        };

        // Before it starts, the draft is kept but not signed: the visit is not completed.
        let physician = app.signed_in(&doctor).await;
        let early = post(&physician, sign("")).await.expect("POST");
        assert_eq!(
            crate::helpers::location(&early),
            Some(format!("{note_page}?saved=1&refused=visit.not_started")),
            "{}",
            app.backend
        );

        // During the visit: staff may not (a clinical act), the physician may.
        app.clock.set(visit.starts_at + Duration::minutes(25));
        let physician = app.signed_in(&doctor).await;
        let shown = app
            .get_with(&physician, &agenda)
            .await
            .text()
            .await
            .expect("body");
        assert!(shown.contains("Write the visit note"), "{shown}");
        let staff = app.signed_in(&front_desk).await;
        let shown = app
            .get_with(&staff, &agenda)
            .await
            .text()
            .await
            .expect("body");
        assert!(!shown.contains("visit note"), "staff see no note link");
        let refused = staff
            .post(format!("{}/api/records/notes/save", app.address))
            .form(&sign("1"))
            .send()
            .await
            .expect("POST");
        assert_eq!(refused.status(), 403, "{}", app.backend);

        let done = post(&physician, sign("1")).await.expect("POST");
        assert_eq!(
            crate::helpers::location(&done),
            Some(format!("{note_page}?signed=1"))
        );
        let shown = app
            .get_with(&physician, &agenda)
            .await
            .text()
            .await
            .expect("body");
        assert!(
            shown.contains(">Completed<") && !shown.contains("Write the visit note"),
            "{shown}"
        );

        // The follow-up email: thanks, and a link that books the suggested time in one click.
        let sent = emails(&app).await;
        let follow_up = sent
            .iter()
            .find(|e| e.subject.starts_with("Thank you for your visit"))
            .expect("the follow-up email");
        assert!(
            follow_up.text_body.contains("see you again in 4 weeks"),
            "{}",
            follow_up.text_body
        );
        assert!(!follow_up.text_body.contains("migraine"));
        assert!(
            !follow_up.text_body.contains("headache"),
            "no health details"
        );
        assert!(follow_up.text_body.contains("/portal/notes"));
        let link = follow_up
            .text_body
            .split_whitespace()
            .find(|w| w.contains("/portal/book?"))
            .expect("a booking link");
        let path = &link[link.find("/portal/book?").expect("path")..];
        assert!(path.contains("&suggested="), "{path}");
        // "Your visit note is ready" and the follow-up suggestion.
        assert_eq!(notifications(&app).await, 2);

        let browser = app.signed_in(&maria).await;
        let page = app
            .get_with(&browser, path)
            .await
            .text()
            .await
            .expect("body");
        assert!(
            page.contains("Your physician suggested a follow-up visit"),
            "{page}"
        );
        assert!(page.contains("checked"), "the suggested time is selected");
        assert!(page.contains(">Follow-up visit</textarea>"), "{page}");
        let suggested = path
            .split("&suggested=")
            .nth(1)
            .map(|s| s.replace("%3A", ":").replace("%2B", "+"))
            .expect("suggested");
        let booked = app
            .post_page_form(
                &browser,
                "/api/visits/book",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &suggested),
                    ("reason", "Follow-up visit"),
                ],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&booked).as_deref(),
            Some("/portal/visits?booked=1"),
            "{}: {suggested}",
            app.backend
        );
        let starts = chrono::DateTime::parse_from_rfc3339(&suggested).expect("time");
        assert!(
            starts.with_timezone(&Utc) >= visit.starts_at + Duration::weeks(4) - Duration::days(1)
        );

        // The completed visit is in her history, not marked cancelled; signing twice is refused.
        let history = app
            .get_with(&browser, "/portal/visits")
            .await
            .text()
            .await
            .expect("body");
        assert!(
            history.contains("Past and cancelled") && !history.contains(">Cancelled<"),
            "{history}"
        );
        let again = post(&physician, sign("2")).await.expect("POST");
        assert_eq!(
            crate::helpers::location(&again),
            Some(format!("{note_page}?refused=note.signed"))
        );
    }
}

#[tokio::test]
async fn with_texts_turned_off_the_day_before_reminder_goes_by_email() {
    for backend in backends() {
        let app = crate::helpers::spawn_app_with(&backend, |s| {
            s.sms.transport = bedside::settings::SmsTransport::Off;
        })
        .await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let visit = book_ahead(&app, &maria, 10).await;
        app.clock
            .set(visit.starts_at - Duration::hours(24) + Duration::minutes(1));
        app.jobs.run_due().await.expect("run");
        let sent = emails(&app).await;
        let reminder = sent
            .iter()
            .find(|e| e.subject.starts_with("Reminder: your visit tomorrow"))
            .unwrap_or_else(|| panic!("{}: no day-before email in {sent:?}", app.backend));
        assert_eq!(reminder.to_address, "maria@example.com");
        assert!(!reminder.text_body.contains("migraine"));
        assert!(texts(&app).await.is_empty(), "no text is sent");
        assert_eq!(
            notices(&app, &visit)
                .await
                .into_iter()
                .find(|(kind, _)| kind == "day_ahead")
                .map(|(_, status)| status)
                .as_deref(),
            Some("sent")
        );
    }
}

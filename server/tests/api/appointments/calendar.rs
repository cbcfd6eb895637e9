//! Private calendar feeds: valid RFC 5545, shown once, revocable, minimum necessary.

use crate::helpers::{backends, spawn_app, TestApp, TestUser};
use app::appointments::service::calendar::BookedVisit;
use app::appointments::VisitType;
use app::auth::Role;
use std::str::FromStr;

async fn book(app: &TestApp, who: &TestUser, reason: &str) -> BookedVisit {
    let slot = *app
        .free_times(VisitType::InPerson, 3, 7)
        .await
        .first()
        .expect("a free time");
    app.book(who, VisitType::InPerson, slot, reason, None)
        .await
        .expect("booked")
}

/// Makes a calendar link from the security page and returns it.
async fn make_link(app: &TestApp, browser: &reqwest::Client) -> String {
    let page = app
        .post_with(browser, "/account/calendar", &[("change", "create")])
        .await;
    assert_eq!(page.status(), 200, "{}", app.backend);
    let html = page.text().await.expect("body");
    let start = html
        .find("/calendar/")
        .expect("a calendar link on the page");
    let url_start = html[..start].rfind('>').expect("code tag") + 1;
    let end = start + html[start..].find(".ics").expect(".ics") + 4;
    html[url_start..end].to_owned()
}

async fn fetch(url: &str) -> (u16, String) {
    // A calendar app: no cookies, no Origin.
    let response = reqwest::get(url).await.expect("fetch");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn a_patient_subscribes_to_her_own_visits_and_can_turn_the_link_off() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let hers = book(&app, &maria, "Recurring migraines").await;
        let his = book(&app, &james, "Knee pain").await;
        let browser = app.signed_in(&maria).await;
        let security = app
            .get_with(&browser, "/account/security")
            .await
            .text()
            .await
            .expect("body");
        assert!(
            security.contains("Make a private calendar link"),
            "{security}"
        );

        let link = make_link(&app, &browser).await;
        assert!(
            link.starts_with("http://127.0.0.1:3000/calendar/"),
            "{link}"
        );
        // The test server listens elsewhere than the configured public address.
        let url = format!(
            "{}{}",
            app.address,
            &link[link.find("/calendar/").expect("path")..]
        );
        let (status, ics) = fetch(&url).await;
        assert_eq!(status, 200, "{}: {ics}", app.backend);
        let calendar = icalendar::Calendar::from_str(&ics).expect("valid RFC 5545");
        // RFC 5545 allows one PRODID; strict clients refuse a feed with two.
        assert_eq!(ics.matches("PRODID:").count(), 1, "{ics}");
        use icalendar::{Component, EventLike};
        let uids: Vec<String> = calendar
            .events()
            .filter_map(|e| e.get_uid().map(str::to_owned))
            .collect();
        assert_eq!(
            uids,
            vec![format!("{}@bedside", hers.public_id)],
            "only her visits"
        );
        let event = calendar.events().next().expect("event");
        assert_eq!(
            event.get_summary(),
            Some("Office visit with Harbor Street Medicine")
        );
        assert!(event.get_location().is_some_and(|l| l.contains("Portland")));
        assert!(!ics.contains("migraine") && !ics.contains(&his.public_id));
        let reads = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "calendar_feed.read")
            .collect::<Vec<_>>();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].patient_id, maria.patient_public_id);
        assert_eq!(reads[0].actor_user_id, Some(maria.id));

        // The page now says it is on; a new link turns the old one off.
        let security = app
            .get_with(&browser, "/account/security")
            .await
            .text()
            .await
            .expect("body");
        assert!(
            security.contains("On: a private link made on"),
            "{security}"
        );
        let newer = make_link(&app, &browser).await;
        let newer = format!(
            "{}{}",
            app.address,
            &newer[newer.find("/calendar/").expect("path")..]
        );
        assert_eq!(fetch(&url).await.0, 404, "{}", app.backend);
        assert_eq!(fetch(&newer).await.0, 200);

        let off = app
            .post_with(&browser, "/account/calendar", &[("change", "revoke")])
            .await;
        assert_eq!(
            crate::helpers::location(&off).as_deref(),
            Some("/account/security?calendar=off")
        );
        assert_eq!(fetch(&newer).await.0, 404);
        assert_eq!(
            fetch(&format!("{}/calendar/not-a-token.ics", app.address))
                .await
                .0,
            404
        );
    }
}

#[tokio::test]
async fn the_practices_feed_shows_booked_times_but_not_who_or_why_and_the_admin_has_none() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        book(&app, &maria, "Recurring migraines").await;
        book(&app, &james, "Knee pain").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let physician = app.signed_in(&doctor).await;
        let link = make_link(&app, &physician).await;
        let url = format!(
            "{}{}",
            app.address,
            &link[link.find("/calendar/").expect("path")..]
        );
        let (status, ics) = fetch(&url).await;
        assert_eq!(status, 200, "{}", app.backend);
        let calendar = icalendar::Calendar::from_str(&ics).expect("valid RFC 5545");
        use icalendar::Component;
        let summaries: Vec<String> = calendar
            .events()
            .filter_map(|e| e.get_summary().map(str::to_owned))
            .collect();
        assert_eq!(
            summaries,
            vec!["Office visit (booked)", "Office visit (booked)"]
        );
        for secret in ["Maria", "Lopez", "James", "migraine", "Knee"] {
            assert!(!ics.contains(secret), "{secret} in the practice's feed");
        }

        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let browser = app.signed_in(&admin).await;
        let security = app
            .get_with(&browser, "/account/security")
            .await
            .text()
            .await
            .expect("body");
        assert!(!security.contains("Your calendar"), "{security}");
        let refused = app
            .post_with(&browser, "/account/calendar", &[("change", "create")])
            .await;
        assert_eq!(refused.status(), 403);
    }
}

#[tokio::test]
async fn a_calendar_link_ends_when_the_password_is_changed_or_reset() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.signed_in(&maria).await;
        let on_this_server = |link: &str| {
            format!(
                "{}{}",
                app.address,
                &link[link.find("/calendar/").expect("path")..]
            )
        };

        // "Sign out everywhere" by a new password: the link is a way in too.
        let first = on_this_server(&make_link(&app, &browser).await);
        assert_eq!(fetch(&first).await.0, 200, "{}", app.backend);
        let changed = app
            .post_with(
                &browser,
                "/account/password",
                &[
                    ("current_password", maria.password.as_str()),
                    ("new_password", "quiet harbor morning tide"),
                ],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&changed).as_deref(),
            Some("/account/security?changed=password")
        );
        assert_eq!(fetch(&first).await.0, 404, "ended with the password change");

        // A reset (someone else may have had the password): the same.
        let second = on_this_server(&make_link(&app, &browser).await);
        assert_eq!(fetch(&second).await.0, 200);
        app.post_form("/signin/forgot", &[("email", &maria.email)])
            .await;
        let link = crate::auth::sign_in::reset_link(&app).await;
        let token = link.split("token=").nth(1).expect("token").to_owned();
        let done = app
            .post_form(
                "/signin/reset",
                &[("token", &token), ("new_password", "lantern tide north 88")],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&done).as_deref(),
            Some("/signin?reset=1")
        );
        assert_eq!(fetch(&second).await.0, 404, "ended with the reset");
    }
}

#[tokio::test]
async fn a_stored_visit_status_nobody_knows_is_an_error_never_a_default() {
    use sea_orm::{ConnectionTrait, EntityTrait};
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app
            .create_member("maria@example.com", "Maria Lopez", Some("complete"))
            .await;
        book(&app, &maria, "A check-up").await;
        // A word no version of Bedside writes (a hand edit, a bad restore): the visit is never
        // quietly taken for booked, or for anything else.
        app.db
            .execute_unprepared("UPDATE appointment SET status = 'postponed'")
            .await
            .expect("update");
        // Reading the row fails with what was found, for the log.
        let read = app::appointments::entity::appointment::Entity::find()
            .all(&app.db)
            .await;
        let error = read.expect_err("an unknown status is not read").to_string();
        assert!(error.contains("postponed"), "{}: {error}", app.backend);
    }
}

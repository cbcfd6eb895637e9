//! Access beyond one's role (issue 14 §7): staff reach a patient's chart only with a grant the
//! physician gives, for that patient, for a time; the grant can be ended; every access through
//! it is audited naming it (P5 with grants, over every way into a record, is in
//! `records/access.rs`). The administrator's emergency read is told to the physician beside the
//! chart and on her dashboard, and to the patient.

use crate::helpers::{backends, spawn_app, TestApp, TestUser};
use app::auth::{Grant, Role};
use app::grants::model::AccessOverview;
use app::records::model::{Chart, ChartItem, Severity};

async fn read_chart(app: &TestApp, who: &reqwest::Client, patient: &str) -> u16 {
    app.call::<Chart>(who, "/api/records/chart", &[("patient", patient)])
        .await
        .0
}

async fn grant(
    app: &TestApp,
    physician: &reqwest::Client,
    patient: &str,
    staff: &TestUser,
    days: &str,
) -> u16 {
    app.call::<()>(
        physician,
        "/api/grants/create",
        &[
            ("patient", patient),
            ("staff", staff.public_id.as_str()),
            ("days", days),
            ("reason", "Coordinating the cardiology referral"),
        ],
    )
    .await
    .0
}

async fn overview(app: &TestApp, physician: &reqwest::Client, patient: &str) -> AccessOverview {
    let (status, found) = app
        .call::<Option<AccessOverview>>(physician, "/api/grants", &[("patient", patient)])
        .await;
    assert_eq!(status, 200);
    found.expect("read").expect("the physician's panel")
}

#[tokio::test]
async fn a_staff_member_reaches_a_chart_only_with_the_physicians_grant_for_that_patient_and_time() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let sam = app.create_user(Role::Staff, "sam@example.com").await;
        let (hers, his) = (
            maria.patient_public_id.clone().expect("record"),
            james.patient_public_id.clone().expect("record"),
        );
        let physician = app.signed_in(&doctor).await;
        let staff = app.signed_in(&sam).await;
        let patient = app.signed_in(&maria).await;

        // By role alone: demographics yes, the chart no (and the refusal is audited).
        assert_eq!(
            read_chart(&app, &staff, &hers).await,
            403,
            "{}",
            app.backend
        );
        let last = app.audit_rows().await.pop().expect("row");
        assert_eq!(
            (last.action.as_str(), last.outcome.as_str()),
            ("chart.read", "denied")
        );

        // Only the physician lets someone in; the panel is hers alone.
        assert_eq!(grant(&app, &patient, &hers, &sam, "2").await, 403);
        assert_eq!(grant(&app, &staff, &hers, &sam, "2").await, 403);
        let (_, theirs) = app
            .call::<Option<AccessOverview>>(&staff, "/api/grants", &[("patient", &hers)])
            .await;
        assert_eq!(theirs, Ok(None), "{}", app.backend);
        let before = overview(&app, &physician, &hers).await;
        assert!(before.grants.is_empty());
        assert_eq!(
            before
                .staff
                .iter()
                .map(|s| s.public_id.as_str())
                .collect::<Vec<_>>(),
            [sam.public_id.as_str()]
        );
        // Bad input: said so, nothing given.
        assert_eq!(grant(&app, &physician, &hers, &sam, "31").await, 422);
        assert_eq!(
            grant(&app, &physician, &hers, &doctor, "2").await,
            422,
            "not a staff account"
        );

        assert_eq!(grant(&app, &physician, &hers, &sam, "2").await, 200);
        // Her chart opens to Sam now, and the audit names the grant; James's does not.
        assert_eq!(
            read_chart(&app, &staff, &hers).await,
            200,
            "{}",
            app.backend
        );
        let last = app.audit_rows().await.pop().expect("row");
        assert_eq!(
            (last.action.as_str(), last.outcome.as_str()),
            ("chart.read", "allowed")
        );
        assert!(
            last.detail
                .as_deref()
                .is_some_and(|d| d.starts_with("care grant ")),
            "{:?}",
            last.detail
        );
        assert_eq!(read_chart(&app, &staff, &his).await, 403);
        // He may keep her history (an allergy she told the front desk about), not write notes.
        let me = app.acting_as(&sam).await;
        let allergy = ChartItem::Allergy {
            substance: "Latex".into(),
            reaction: Some("Rash".into()),
            severity: Severity::Mild,
        };
        app::records::service::save(&me, &hers, None, &allergy)
            .await
            .expect("history kept");
        let (_, chart) = app
            .call::<Chart>(&staff, "/api/records/chart", &[("patient", &hers)])
            .await;
        assert!(!chart.expect("chart").can_edit.is_empty(), "his form shows");

        // Two days later it has ended by itself.
        app.clock
            .set(app.clock_now() + chrono::Duration::days(2) + chrono::Duration::minutes(1));
        // (Their sessions ended meanwhile: both sign in again.)
        let (physician, staff) = (app.signed_in(&doctor).await, app.signed_in(&sam).await);
        assert_eq!(
            read_chart(&app, &staff, &hers).await,
            403,
            "{}",
            app.backend
        );
        // A new one, ended early by the physician: closed at once.
        assert_eq!(grant(&app, &physician, &hers, &sam, "7").await, 200);
        assert_eq!(read_chart(&app, &staff, &hers).await, 200);
        let now = overview(&app, &physician, &hers).await;
        assert_eq!(now.grants.len(), 2);
        assert!(now.grants[0].active && !now.grants[1].active);
        assert_eq!(now.grants[0].reason, "Coordinating the cardiology referral");
        assert_eq!(now.grants[0].kind, Grant::Care);
        let (status, _) = app
            .call::<()>(
                &staff,
                "/api/grants/revoke",
                &[("patient", &hers), ("grant", &now.grants[0].public_id)],
            )
            .await;
        assert_eq!(status, 403, "not his to end");
        let (status, _) = app
            .call::<()>(
                &physician,
                "/api/grants/revoke",
                &[("patient", &hers), ("grant", &now.grants[0].public_id)],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            read_chart(&app, &staff, &hers).await,
            403,
            "{}",
            app.backend
        );
        assert!(overview(&app, &physician, &hers).await.grants[0].revoked);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_admin_opens_a_record_in_an_emergency_with_a_reason_read_only_for_an_hour_and_the_physician_sees_it(
) {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let priya = app.create_user(Role::Admin, "admin@example.com").await;
        let sam = app.create_user(Role::Staff, "sam@example.com").await;
        let hers = maria.patient_public_id.clone().expect("record");
        let admin = app.signed_in(&priya).await;
        let staff = app.signed_in(&sam).await;
        let emergency =
            |email: &'static str, reason: &'static str| [("email", email), ("reason", reason)];
        let why = "Ambulance crew asking for her allergies; Dr. Marsh unreachable";

        // By role the administrator reads no chart.
        assert_eq!(
            read_chart(&app, &admin, &hers).await,
            403,
            "{}",
            app.backend
        );
        // No reason, or nobody by that email: said so, nothing opened.
        let (status, _) = app
            .call::<String>(
                &admin,
                "/api/grants/emergency",
                &emergency("maria@example.com", "need it"),
            )
            .await;
        assert_eq!(status, 422);
        let (status, _) = app
            .call::<String>(
                &admin,
                "/api/grants/emergency",
                &emergency("nobody@example.com", why),
            )
            .await;
        assert_eq!(status, 422);
        // Only the administrator breaks the glass.
        let (status, _) = app
            .call::<String>(
                &staff,
                "/api/grants/emergency",
                &emergency("maria@example.com", why),
            )
            .await;
        assert_eq!(status, 403, "{}", app.backend);
        assert_eq!(read_chart(&app, &staff, &hers).await, 403);

        let (status, opened) = app
            .call::<String>(
                &admin,
                "/api/grants/emergency",
                &emergency("Maria@Example.com", why),
            )
            .await;
        assert_eq!(status, 200, "{}: {opened:?}", app.backend);
        assert_eq!(opened.expect("opened"), hers);
        let last = app.audit_rows().await.pop().expect("row");
        assert_eq!(
            (last.action.as_str(), last.outcome.as_str()),
            ("access_grant.break_glass", "allowed")
        );
        // Read: yes, naming the grant; write: no.
        assert_eq!(
            read_chart(&app, &admin, &hers).await,
            200,
            "{}",
            app.backend
        );
        let last = app.audit_rows().await.pop().expect("row");
        assert!(last
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("break_glass grant ")));
        let me = app.acting_as(&priya).await;
        let allergy = ChartItem::Allergy {
            substance: "Latex".into(),
            reaction: None,
            severity: Severity::Mild,
        };
        assert_eq!(
            app::records::service::save(&me, &hers, None, &allergy).await,
            Err(app::AppError::Forbidden)
        );
        // The physician sees who, when and why beside the chart.
        let physician = app.signed_in(&doctor).await;
        let seen = overview(&app, &physician, &hers).await;
        assert_eq!(seen.grants.len(), 1);
        assert_eq!(seen.grants[0].kind, Grant::BreakGlass);
        assert_eq!(seen.grants[0].reason, why);
        // And on her dashboard, whichever chart she opens next; and Maria sees it in her record.
        let (status, reads) = app
            .call::<Option<Vec<app::grants::model::EmergencyRead>>>(
                &physician,
                "/api/grants/emergencies",
                &[],
            )
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let reads = reads.expect("read").expect("the physician's");
        assert_eq!(reads.len(), 1);
        assert_eq!(
            (reads[0].patient.as_str(), reads[0].patient_name.as_str()),
            (hers.as_str(), "Maria Lopez")
        );
        assert_eq!(reads[0].grant.reason, why);
        let dashboard = app
            .get_with(&physician, "/dashboard")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            dashboard.contains("Emergency access to your patients"),
            "{dashboard}"
        );
        assert!(dashboard.contains(why));
        // Staff share the dashboard but are told nothing of it, and nothing is read.
        let (status, nothing) = app
            .call::<Option<Vec<app::grants::model::EmergencyRead>>>(
                &staff,
                "/api/grants/emergencies",
                &[],
            )
            .await;
        assert_eq!((status, nothing.expect("answered")), (200, None));
        let mine = app.signed_in(&maria).await;
        let (status, let_in) = app
            .call::<Option<Vec<app::grants::model::GrantSummary>>>(&mine, "/api/grants/mine", &[])
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let let_in = let_in.expect("read").expect("her record");
        assert_eq!(let_in.len(), 1);
        assert_eq!(
            (let_in[0].kind, let_in[0].reason.as_str()),
            (Grant::BreakGlass, why)
        );
        let page = app
            .get_with(&mine, "/portal/shares")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Emergency read") && page.contains(why),
            "{page}"
        );
        // The physician's panel (with the staff to choose from) answers her nothing.
        let (status, _) = app
            .call::<Option<app::grants::model::AccessOverview>>(
                &mine,
                "/api/grants",
                &[("patient", &hers)],
            )
            .await;
        assert_eq!(status, 200, "the panel is the physician's: nothing for her");
        // An hour later it is closed.
        app.clock
            .set(app.clock_now() + chrono::Duration::minutes(61));
        let admin = app.signed_in(&priya).await;
        assert_eq!(
            read_chart(&app, &admin, &hers).await,
            403,
            "{}",
            app.backend
        );
        app.stop().await;
    }
}

//! The physician's patient page beside the chart: the next visits (with their reasons) and the
//! membership, for the practice only; two audit entries (the visits, the membership).

use crate::appointments::notices::book_ahead;
use crate::helpers::{backends, spawn_app};
use app::auth::Role;
use app::patients::model::PatientSummary;
use sea_orm::{EntityTrait, PaginatorTrait};

#[tokio::test]
async fn the_practice_sees_a_patients_next_visits_and_membership_and_nobody_else_does() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let desk = app.create_user(Role::Staff, "desk@example.com").await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let visit = book_ahead(&app, &maria, 3).await;
        let record = maria.patient_public_id.clone().expect("record");
        let audits = || async {
            app::audit::entity::audit_event::Entity::find()
                .count(&app.db)
                .await
                .expect("count")
        };

        for who in [&doctor, &desk] {
            let browser = app.signed_in(who).await;
            let before = audits().await;
            let (status, summary) = app
                .call::<PatientSummary>(&browser, "/api/patients/summary", &[("patient", &record)])
                .await;
            assert_eq!(status, 200, "{:?} on {}", who.role, app.backend);
            let summary = summary.expect("summary");
            assert_eq!(audits().await, before + 2, "the visits and the membership");
            assert_eq!(summary.upcoming.len(), 1);
            assert_eq!(summary.upcoming[0].appointment, visit.public_id);
            assert_eq!(summary.upcoming[0].reason, "Recurring migraines");
            let membership = summary.membership.expect("a membership");
            assert_eq!(
                (membership.tier.as_str(), membership.status.as_str()),
                ("Complete", "Active")
            );
        }
        for who in [&james, &admin] {
            let browser = app.signed_in(who).await;
            let before = audits().await;
            let (status, _) = app
                .call::<PatientSummary>(&browser, "/api/patients/summary", &[("patient", &record)])
                .await;
            assert_eq!(status, 403, "{:?} on {}", who.role, app.backend);
            assert_eq!(audits().await, before + 1, "the denial is audited");
        }
    }
}

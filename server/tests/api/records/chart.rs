//! The chart (issue 14 §1): a patient keeps their own allergies, history, medications, contacts
//! and insurance; the physician sees and edits the whole chart; every entry is sealed, every
//! change a kept version, a change from an older version refused, every read and write audited
//! exactly once, and nobody else gets in.

use crate::helpers::{backends, location, spawn_app, TestApp, TestUser};
use app::auth::Role;
use app::records::entity::{chart_entry, chart_entry_version};
use app::records::model::{Chart, ChartChange, ChartItem, ChartVersion, Severity};
use app::{AppError, Refusal};
use sea_orm::{EntityTrait, PaginatorTrait};

const SAVE: &str = "/api/records/chart/save";
const REMOVE: &str = "/api/records/chart/remove";

async fn chart_of(
    app: &TestApp,
    browser: &reqwest::Client,
    patient: &str,
) -> (u16, Result<Chart, AppError>) {
    app.call::<Chart>(browser, "/api/records/chart", &[("patient", patient)])
        .await
}

fn patient_id(user: &TestUser) -> String {
    user.patient_public_id.clone().expect("a patient")
}

#[tokio::test]
async fn a_patient_keeps_her_allergies_and_the_physician_sees_them_sealed_versioned_and_audited() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let patient = patient_id(&maria);
        let mine = app.signed_in(&maria).await;
        let theirs = app.signed_in(&doctor).await;

        // Maria adds an allergy: one audit entry, sealed at rest, a first version.
        let before = app.audit_count().await;
        let (status, saved) = app
            .call::<()>(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "allergy"),
                    ("substance", "Penicillin"),
                    ("reaction", "Hives"),
                    ("severity", "severe"),
                ],
            )
            .await;
        assert_eq!((status, saved), (200, Ok(())), "{}", app.backend);
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per write"
        );
        let rows = chart_entry::Entity::find()
            .all(&app.db)
            .await
            .expect("rows");
        assert_eq!(rows.len(), 1);
        let stored: sea_orm::Value = rows[0].content.clone().into();
        let sea_orm::Value::Bytes(Some(bytes)) = stored else {
            panic!("sealed bytes")
        };
        assert!(
            !bytes.windows(10).any(|w| w == b"Penicillin"),
            "sealed at rest"
        );

        // The physician reads the chart: one audit entry; the allergy, by whom.
        let before = app.audit_count().await;
        let (status, chart) = chart_of(&app, &theirs, &patient).await;
        assert_eq!(status, 200, "{}", app.backend);
        let chart = chart.expect("chart");
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per read"
        );
        assert_eq!(chart.patient_name, "Maria Lopez");
        let allergy = &chart.entries[0];
        assert_eq!(
            allergy.item,
            ChartItem::Allergy {
                substance: "Penicillin".into(),
                reaction: Some("Hives".into()),
                severity: Severity::Severe,
            }
        );
        assert_eq!(allergy.version, 1);
        assert!(chart
            .can_edit
            .contains(&app::records::model::ChartSection::Immunization));

        // The physician corrects it (version 2); Maria's form, still at version 1, is refused
        // and writes over nothing.
        let (status, _) = app
            .call::<()>(
                &theirs,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "allergy"),
                    ("entry", &allergy.public_id),
                    ("version", "1"),
                    ("substance", "Penicillin"),
                    ("reaction", "Hives and swelling of the lips"),
                    ("severity", "life_threatening"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let (status, refused) = app
            .call::<()>(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "allergy"),
                    ("entry", &allergy.public_id),
                    ("version", "1"),
                    ("substance", "Penicillin"),
                    ("severity", "mild"),
                ],
            )
            .await;
        assert_eq!(status, 409, "{}", app.backend);
        match refused {
            Err(AppError::Refused(Refusal::Chart(r))) => assert_eq!(r.code(), "changed_meanwhile"),
            other => panic!("{}: {other:?}", app.backend),
        }
        let (_, chart) = chart_of(&app, &mine, &patient).await;
        let chart = chart.expect("her chart");
        assert_eq!(chart.entries[0].version, 2);
        assert!(matches!(
            chart.entries[0].item,
            ChartItem::Allergy {
                severity: Severity::LifeThreatening,
                ..
            }
        ));
        assert_eq!(chart.entries[0].updated_by, "Test Physician");

        // The history: both versions, newest first, with who.
        let (status, history) = app
            .call::<Vec<ChartVersion>>(
                &mine,
                "/api/records/chart/history",
                &[("patient", &patient), ("entry", &allergy.public_id)],
            )
            .await;
        assert_eq!(status, 200);
        let history = history.expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(
            (history[0].version, history[0].change),
            (2, ChartChange::Changed)
        );
        assert_eq!(
            (history[1].version, history[1].change),
            (1, ChartChange::Added)
        );
        assert_eq!(history[1].by, "Test Patient");
        assert_eq!(
            chart_entry_version::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            2
        );

        // Removing it: gone from the chart, kept in the history.
        let (status, _) = app
            .call::<()>(
                &mine,
                REMOVE,
                &[
                    ("patient", patient.as_str()),
                    ("section", "allergy"),
                    ("entry", allergy.public_id.as_str()),
                    ("version", "2"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let (_, chart) = chart_of(&app, &mine, &patient).await;
        assert!(chart.expect("chart").entries.is_empty());
        let (_, history) = app
            .call::<Vec<ChartVersion>>(
                &theirs,
                "/api/records/chart/history",
                &[("patient", &patient), ("entry", &allergy.public_id)],
            )
            .await;
        assert_eq!(history.expect("history")[0].change, ChartChange::Removed);
    }
}

#[tokio::test]
async fn input_to_fix_is_a_field_error_and_a_plain_post_comes_back_naming_the_field() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let patient = patient_id(&maria);
        let mine = app.signed_in(&maria).await;
        let (status, refused) = app
            .call::<()>(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "medication"),
                    ("medication", "Lisinopril"),
                    ("started", "2024-05-01"),
                    ("stopped", "2023-01-01"),
                ],
            )
            .await;
        assert_eq!(status, 422, "{}", app.backend);
        match refused {
            Err(AppError::Validation(errors)) => assert!(errors.get("stopped").is_some()),
            other => panic!("{other:?}"),
        }
        let (status, refused) = app
            .call::<()>(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "emergency_contact"),
                    ("contact_name", "Luis"),
                ],
            )
            .await;
        assert_eq!(status, 422);
        match refused {
            Err(AppError::Validation(errors)) => assert!(errors.get("phone").is_some()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            chart_entry::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
        // Without JavaScript: back to her health record, naming the field.
        let response = app
            .post_page_form(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "allergy"),
                    ("substance", ""),
                ],
            )
            .await;
        assert_eq!(response.status(), 303);
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?section=allergy&error=substance#allergy")
        );
        let response = app
            .post_page_form(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "allergy"),
                    ("substance", "Latex"),
                ],
            )
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?saved=allergy#allergy")
        );
        let page = app
            .get_with(&mine, "/portal?saved=allergy")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Latex") && page.contains("The chart is saved."),
            "{page}"
        );
    }
}

#[tokio::test]
async fn nobody_else_reads_or_changes_a_chart_and_each_attempt_is_audited() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let ben = app.create_patient("ben@example.com", "Ben Two").await;
        let staff = app.create_user(Role::Staff, "staff@example.com").await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let patient = patient_id(&maria);
        for who in [&ben, &staff, &admin] {
            let browser = app.signed_in(who).await;
            let before = app.audit_count().await;
            let (status, _) = chart_of(&app, &browser, &patient).await;
            assert_eq!(status, 403, "{} {}", app.backend, who.email);
            let (status, _) = app
                .call::<()>(
                    &browser,
                    SAVE,
                    &[
                        ("patient", &patient),
                        ("section", "allergy"),
                        ("substance", "Peanuts"),
                    ],
                )
                .await;
            assert_eq!(status, 403, "{} {}", app.backend, who.email);
            assert_eq!(
                app.audit_count().await,
                before + 2,
                "each denial is audited"
            );
        }
        // Maria keeps her own history, but immunizations are the practice's to record.
        let mine = app.signed_in(&maria).await;
        let (status, _) = app
            .call::<()>(
                &mine,
                SAVE,
                &[
                    ("patient", &patient),
                    ("section", "immunization"),
                    ("vaccine", "Tdap"),
                ],
            )
            .await;
        assert_eq!(status, 403, "{}", app.backend);
        let (_, chart) = chart_of(&app, &mine, &patient).await;
        let chart = chart.expect("her chart");
        assert!(!chart
            .can_edit
            .contains(&app::records::model::ChartSection::Immunization));
        assert!(chart
            .can_edit
            .contains(&app::records::model::ChartSection::Allergy));
        assert_eq!(
            chart_entry::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
    }
}

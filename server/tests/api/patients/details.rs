//! "My details": a patient keeps their own phone number and preferred name current from the
//! portal. Sealed at rest, each change audited once, input to fix said in the field, nobody
//! else's record.

use crate::helpers::{backends, location, spawn_app, TestApp, TestUser};
use app::auth::Role;
use app::patients::entity::patient;
use app::AppError;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const DETAILS: &str = "/api/patients/details";

/// `who`'s record, as they read it.
async fn profile_of(app: &TestApp, who: &TestUser) -> app::patients::model::PatientProfile {
    let me = app.acting_as(who).await;
    let public_id = who.patient_public_id.as_deref().expect("a patient");
    app::patients::service::read_profile(&me, public_id)
        .await
        .expect("their record")
}

/// The phone on `who`'s record, as they read it.
async fn phone_of(app: &TestApp, who: &TestUser) -> Option<String> {
    profile_of(app, who).await.phone
}

/// Whether the sealed bytes of a column hold `text` in the clear.
fn in_clear(sealed: Option<app::crypto::Encrypted<String>>, text: &str) -> bool {
    let stored: sea_orm::Value = sealed.expect("a sealed value").into();
    let sea_orm::Value::Bytes(Some(bytes)) = stored else {
        panic!("a sealed value is bytes: {stored:?}")
    };
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[tokio::test]
async fn a_patient_keeps_their_own_phone_current_sealed_and_audited() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let public_id = maria.patient_public_id.clone().expect("a patient");
        let browser = app.signed_in(&maria).await;

        // From the hydrated page: the form in, the answer as JSON.
        let (status, saved) = app
            .call::<()>(
                &browser,
                DETAILS,
                &[("phone", " (207) 555-0100 "), ("preferred_name", "Mia")],
            )
            .await;
        assert_eq!((status, saved), (200, Ok(())), "{}", app.backend);
        let profile = phone_of(&app, &maria).await;
        assert_eq!(profile.as_deref(), Some("(207) 555-0100"));

        // Sealed where it rests: the number is not in the stored bytes.
        let row = patient::Entity::find()
            .filter(patient::Column::PublicId.eq(public_id.as_str()))
            .one(&app.db)
            .await
            .expect("query")
            .expect("her row");
        assert!(!in_clear(row.phone.clone(), "555-0100"));
        assert!(!in_clear(row.preferred_name.clone(), "Mia"));
        // The portal greets her by it, and her record shows it.
        assert_eq!(profile_of(&app, &maria).await.called(), "Mia");
        let portal = app
            .get_with(&browser, "/portal")
            .await
            .text()
            .await
            .expect("page");
        assert!(portal.contains("Hello, Mia"), "{portal}");

        // Input to fix: 422 with the phone field's message, and nothing changes.
        let (status, refused) = app
            .call::<()>(&browser, DETAILS, &[("phone", "call me at home")])
            .await;
        assert_eq!(status, 422, "{}", app.backend);
        match refused {
            Err(AppError::Validation(errors)) => assert!(errors.get("phone").is_some()),
            other => panic!("{}: {other:?}", app.backend),
        }
        assert_eq!(
            phone_of(&app, &maria).await.as_deref(),
            Some("(207) 555-0100")
        );

        // Without JavaScript: an empty number removes it, and the portal says it is saved.
        let response = app
            .post_page_form(&browser, DETAILS, &[("phone", "")])
            .await;
        assert_eq!(response.status(), 303, "{}", app.backend);
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?saved=details")
        );
        let page = app
            .get_with(&browser, "/portal?saved=details")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Your details are saved."), "{page}");
        let response = app
            .post_page_form(&browser, DETAILS, &[("phone", "call me")])
            .await;
        assert_eq!(location(&response).as_deref(), Some("/portal?error=phone"));
        let long_name = "M".repeat(61);
        let response = app
            .post_page_form(&browser, DETAILS, &[("preferred_name", long_name.as_str())])
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?error=preferred_name")
        );
        // The plain post that removed the phone sent no name either: she is Maria again.
        assert_eq!(phone_of(&app, &maria).await, None);
        assert_eq!(profile_of(&app, &maria).await.called(), "Maria");

        // Each change that went through is audited once; the refused ones changed nothing.
        let updates = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "patient_profile.update")
            .map(|r| r.outcome)
            .collect::<Vec<_>>();
        assert_eq!(updates, ["allowed", "allowed"], "{}", app.backend);

        // Someone without a patient record has no "my details" to change.
        let doctor = app.create_user(Role::Staff, "staff@example.com").await;
        let staff = app.signed_in(&doctor).await;
        let (status, refused) = app
            .call::<()>(&staff, DETAILS, &[("phone", "(207) 555-0199")])
            .await;
        assert_eq!((status, refused), (403, Err(AppError::Forbidden)));
        assert_eq!(
            patient::Entity::find().count(&app.db).await.expect("count"),
            1
        );
    }
}

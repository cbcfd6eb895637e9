//! Patient server functions: thin, every one through the policy and the audit log.

use super::model::{DetailsForm, PatientListing, PatientProfile};
use crate::AppError;
use leptos::prelude::*;

/// The signed-in patient's own record (`None` for an account without one).
#[server]
pub async fn my_record() -> Result<Option<PatientProfile>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(public_id) = me.auth.patient_public_id.clone() else {
        return Ok(None);
    };
    super::service::read_profile(&me, &public_id)
        .await
        .map(Some)
}

/// One patient's record, if the policy allows the caller to read it (audited either way).
#[server]
pub async fn patient_record(public_id: String) -> Result<PatientProfile, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::service::read_profile(&me, &public_id).await
}

/// The practice's patients whose names hold every word of `query` (all of them when it is
/// empty), for the physician and staff.
/// Patient `patient`'s next visits and membership, for the practice's patient page.
#[server(endpoint = "patients/summary")]
pub async fn load_patient_summary(
    patient: String,
) -> Result<super::model::PatientSummary, AppError> {
    use crate::auth::api::context;
    super::summary::summary(&context::signed_in()?, &patient).await
}

#[server]
pub async fn patient_directory(query: String) -> Result<Vec<PatientListing>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::service::directory(&me, &query).await
}

/// The signed-in patient changes their own details ("My details" in the portal). Without
/// JavaScript the form comes back to `/portal` saying it is saved or which field to fix.
#[server(endpoint = "patients/details")]
pub async fn save_my_details(#[server(flatten)] form: DetailsForm) -> Result<(), AppError> {
    use crate::auth::api::context;
    let saved = async {
        let me = context::signed_in()?;
        let public_id = me
            .auth
            .patient_public_id
            .clone()
            .ok_or(AppError::Forbidden)?;
        let details = super::model::Details::parse(&form).map_err(AppError::Validation)?;
        super::service::update_details(&me, &public_id, &details).await
    }
    .await;
    context::answer_write(
        saved,
        |()| "/portal?saved=details".to_owned(),
        // A field to fix is named by its field (never what was typed); the page says how.
        |error| match error {
            AppError::Validation(errors) => match errors.0.keys().next() {
                Some(field) => format!("/portal?error={}", crate::ui::url_encode(field)),
                None => "/portal?error=details".to_owned(),
            },
            _ => "/portal?error=details".to_owned(),
        },
    )
}

//! Patient server functions: thin, every one through the policy and the audit log.

use super::model::{PatientListing, PatientProfile};
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
    super::service::read_profile(me.db(), me.keyring(), me.now(), &me.caller, &public_id)
        .await
        .map(Some)
}

/// One patient's record, if the policy allows the caller to read it (audited either way).
#[server]
pub async fn patient_record(public_id: String) -> Result<PatientProfile, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::service::read_profile(me.db(), me.keyring(), me.now(), &me.caller, &public_id).await
}

/// The practice's patients whose names hold every word of `query` (all of them when it is
/// empty), for the physician and staff.
#[server]
pub async fn patient_directory(query: String) -> Result<Vec<PatientListing>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::service::directory(me.db(), me.keyring(), me.now(), &me.caller, &query).await
}

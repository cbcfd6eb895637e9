//! Share links' server functions: the signed-in patient makes, lists and ends links to their own
//! record. (The manifest a recipient's app asks for is an axum route: `server/src/records`.)

use super::model::{ShareCreated, ShareSummary};
use crate::AppError;
use leptos::prelude::*;

/// The signed-in patient's links, newest first, each with its uses.
#[server(endpoint = "records/shares")]
pub async fn load_my_shares() -> Result<Vec<ShareSummary>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let patient = me
        .auth
        .patient_public_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    super::service::list(&me, &patient).await
}

/// Makes a link to the parts of the signed-in patient's record the form ticks.
#[server(endpoint = "records/shares/create")]
pub async fn create_share(
    label: String,
    #[server(default)] chart: Option<String>,
    #[server(default)] notes: Option<String>,
    #[server(default)] documents: Option<String>,
    days: String,
    #[server(default)] passcode: String,
) -> Result<ShareCreated, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let patient = me
        .auth
        .patient_public_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if context::is_plain_form_post() {
        return context::answer_write(
            Err(super::refusal::ShareRefusal::NeedsScript.into()),
            |_: &ShareCreated| PAGE.to_owned(),
            |error| format!("{PAGE}?{}", crate::ui::problem_in_address(error)),
        );
    }
    let new = super::model::NewShare {
        label,
        chart: chart.is_some(),
        notes: notes.is_some(),
        documents: documents.is_some(),
        days: days.trim().parse().unwrap_or(0),
        passcode,
    };
    let address = context::site_address()?;
    let created = super::service::create(&me, &patient, &new, &address).await;
    if let Err(error) = &created {
        context::set_status(error.status());
    }
    created
}

/// The patient's sharing page (where a plain form post lands).
pub const PAGE: &str = "/portal/shares";

/// Ends one of the signed-in patient's links now.
#[server(endpoint = "records/shares/revoke")]
pub async fn revoke_share(link: String) -> Result<(), AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let revoked = super::service::revoke(&me, &link).await;
    context::answer_write(
        revoked,
        |()| format!("{PAGE}?revoked=1"),
        |error| format!("{PAGE}?{}", crate::ui::problem_in_address(error)),
    )
}

//! Access grants' server functions: the physician's panel on a patient's page.

use super::model::{AccessOverview, EmergencyRead, GrantSummary};
use crate::AppError;
use leptos::prelude::*;

/// Who else may open patient `patient`'s chart, and the staff who could be let in. The panel is
/// the physician's: for anyone else it is `None` and nothing is read (so a staff member's look
/// at the patient's page is not an attempt on the grants).
#[server(endpoint = "grants")]
pub async fn load_access(patient: String) -> Result<Option<AccessOverview>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    if me.auth.role != crate::auth::Role::Physician {
        return Ok(None);
    }
    let overview = super::service::overview(&me, &patient).await;
    if let Err(error) = &overview {
        context::set_status(error.status());
    }
    overview.map(Some)
}

/// The administrator's emergency reads of the last 30 days, for the physician's dashboard;
/// `None` for anyone else (nothing read, nothing audited: staff share the dashboard).
#[server(endpoint = "grants/emergencies")]
pub async fn load_emergency_reads() -> Result<Option<Vec<EmergencyRead>>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    if me.auth.role != crate::auth::Role::Physician {
        return Ok(None);
    }
    super::disclosure::emergency_reads(&me).await.map(Some)
}

/// Who in the practice was let into the signed-in patient's record (`None` for an account
/// without a record).
#[server(endpoint = "grants/mine")]
pub async fn load_my_access() -> Result<Option<Vec<GrantSummary>>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(patient) = me.auth.patient_public_id.clone() else {
        return Ok(None);
    };
    super::disclosure::of_record(&me, &patient).await.map(Some)
}

/// Lets a staff member work on patient `patient`'s chart for some days.
#[server(endpoint = "grants/create")]
pub async fn grant_access(
    patient: String,
    staff: String,
    days: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let new = super::model::NewGrant {
        staff,
        days: days.trim().parse().unwrap_or(0),
        reason,
    };
    let page = format!("/dashboard/patients/{}", crate::ui::url_encode(&patient));
    let granted = super::service::grant(&me, &patient, &new).await.map(|_| ());
    context::answer_write(
        granted,
        |()| format!("{page}?granted=1#access"),
        |error| format!("{page}?{}#access", crate::ui::problem_in_address(error)),
    )
}

/// Ends a grant now.
#[server(endpoint = "grants/revoke")]
pub async fn revoke_access(patient: String, grant: String) -> Result<(), AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let page = format!("/dashboard/patients/{}", crate::ui::url_encode(&patient));
    let revoked = super::service::revoke(&me, &grant).await;
    context::answer_write(
        revoked,
        |()| format!("{page}?ended=1#access"),
        |error| format!("{page}?{}#access", crate::ui::problem_in_address(error)),
    )
}

/// The administrator opens a patient's record in an emergency, saying why (kept, and shown to
/// the physician). Answers the patient's public id: where to read it.
#[server(endpoint = "grants/emergency")]
pub async fn open_emergency_access(email: String, reason: String) -> Result<String, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let opened = super::emergency::open(&me, &email, &reason).await;
    context::answer_write(
        opened,
        |patient| format!("/admin/patients/{}", crate::ui::url_encode(patient)),
        |error| format!("/admin/emergency?{}", crate::ui::problem_in_address(error)),
    )
}

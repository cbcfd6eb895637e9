//! `POST /portal/book`: a patient books a visit. Works without JavaScript; the outcome goes back
//! in the address (post/redirect/get), never the reason the patient typed.

use crate::startup::AppState;
use app::appointments::service::{self, BookingRequest};
use app::appointments::VisitType;
use app::audit::service::ClientInfo;
use app::auth::service::Authenticated;
use app::AppError;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct BookForm {
    #[serde(default)]
    visit_type: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    reason: String,
}

pub async fn book(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<BookForm>,
) -> Response {
    let Some(Extension(auth)) = auth else {
        return Redirect::to("/signin?next=/portal/book").into_response();
    };
    let Some(caller) = auth.caller(&client) else {
        return Redirect::to("/signin?next=/portal/book").into_response();
    };
    let visit_type = VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson);
    let back = |error: &str| {
        Redirect::to(&format!(
            "/portal/book?type={}&error={error}",
            visit_type.as_str()
        ))
        .into_response()
    };
    let Some(patient_id) = auth.patient_id else {
        return AppError::Forbidden.into_response();
    };
    let Ok(starts_at) = chrono::DateTime::parse_from_rfc3339(form.starts_at.trim()) else {
        return back("time");
    };
    let schedule = match service::load_schedule(&state.db).await {
        Ok(Some(schedule)) => schedule,
        Ok(None) => return AppError::NotFound("The practice's schedule".into()).into_response(),
        Err(error) => return error.into_response(),
    };
    let patient_public_id = match app::patients::service::public_id_of(&state.db, patient_id).await
    {
        Ok(id) => id,
        Err(error) => return error.into_response(),
    };
    let request = BookingRequest {
        patient_public_id,
        visit_type,
        starts_at: starts_at.with_timezone(&chrono::Utc),
        reason: form.reason,
    };
    let now = state.clock.now();
    match service::book(&state.db, &state.keyring, now, &caller, &schedule, &request).await {
        Ok(visit) => {
            tracing::info!(appointment = %visit.public_id, "visit booked");
            Redirect::to("/portal/visits?booked=1").into_response()
        }
        Err(AppError::Conflict(_)) => back("taken"),
        Err(AppError::Validation(errors)) if errors.get("reason").is_some() => back("reason"),
        Err(AppError::Validation(_)) => back("time"),
        Err(other) => other.into_response(),
    }
}

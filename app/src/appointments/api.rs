//! Visit server functions.

use super::model::{AgendaDay, BookingOptions, ScheduleView, VisitHistory, VisitType};
use crate::AppError;
use leptos::prelude::*;

/// The free times of `visit_type` a patient can book.
#[server]
pub async fn load_booking_options(visit_type: VisitType) -> Result<BookingOptions, AppError> {
    use crate::auth::api::context;
    let (identity, _, _) = context::caller()?;
    let schedule = super::service::load_schedule(identity.db())
        .await?
        .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
    super::service::booking_options(identity.db(), &schedule, visit_type, identity.now()).await
}

/// The signed-in patient's visits: upcoming, then past and cancelled.
#[server]
pub async fn my_visits() -> Result<VisitHistory, AppError> {
    use crate::auth::api::context;
    let (identity, auth, caller) = context::caller()?;
    let Some(patient_id) = auth.patient_id else {
        return Ok(VisitHistory::default());
    };
    let Some(schedule) = super::service::load_schedule(identity.db()).await? else {
        return Ok(VisitHistory::default());
    };
    let public_id = crate::patients::service::public_id_of(identity.db(), patient_id).await?;
    super::service::my_visits(
        identity.db(),
        &schedule,
        identity.now(),
        &caller,
        patient_id,
        &public_id,
    )
    .await
}

/// The physician's (and staff's) agenda for the coming week.
#[server]
pub async fn load_agenda() -> Result<Vec<AgendaDay>, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    let Some(schedule) = super::service::load_schedule(identity.db()).await? else {
        return Ok(Vec::new());
    };
    super::service::agenda(
        identity.db(),
        &context::keyring()?,
        &schedule,
        identity.now(),
        &caller,
        7,
    )
    .await
}

/// The schedule for its settings page.
#[server]
pub async fn load_schedule_view() -> Result<ScheduleView, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    super::service::schedule_view(identity.db(), identity.now(), &caller).await
}

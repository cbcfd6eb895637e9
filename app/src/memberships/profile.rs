//! The member's sealed profile (address, emergency contact): opened for their invoices.

use crate::crypto::{FieldContext, Keyring};
use crate::memberships::entity::patient_profile;
use crate::patients::entity::patient;
use crate::AppError;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub(crate) fn profile_context<'a>(column: &'a str, patient_public_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        table: "patient_profile",
        column,
        row: patient_public_id,
    }
}

/// A member's postal address, opened (for their invoices).
pub async fn address_of(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient: &patient::Model,
) -> Result<Option<crate::memberships::model::PostalAddress>, AppError> {
    let Some(profile) = patient_profile::Entity::find()
        .filter(patient_profile::Column::PatientId.eq(patient.id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    profile
        .address
        .open(keyring, &profile_context("address", &patient.public_id))
        .map(Some)
        .map_err(|e| AppError::internal(format_args!("opening an address: {e}")))
}

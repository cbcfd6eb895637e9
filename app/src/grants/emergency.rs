//! The administrator's emergency read (break-glass), server only. The administrator names the
//! patient (by their account's email: she manages accounts, not charts) and says why; the
//! record then opens to her, read only, for an hour. The reason is kept sealed with the grant
//! and shown to the physician beside the chart; opening it is one audited write, and every read
//! through it is audited naming it.

use super::entity::access_grant;
use super::model::{EMERGENCY_MINUTES, MAX_REASON, MIN_EMERGENCY_REASON};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{Action, Grant, Resource, Role};
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, OpenPatient};
use crate::{AppError, FieldErrors};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// The problems with an emergency request, by field.
pub fn problems(email: &str, reason: &str) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if email.trim().is_empty() {
        errors.add("email", "Enter the email of the patient's account.");
    }
    let length = reason.trim().chars().count();
    if !(MIN_EMERGENCY_REASON..=MAX_REASON).contains(&length) {
        errors.add(
            "reason",
            format!(
                "Say why, in {MIN_EMERGENCY_REASON} to {MAX_REASON} characters: it is kept and shown to the physician."
            ),
        );
    }
    errors
}

/// Opens patient `email`'s record to the signed-in administrator for an hour, for `reason`.
/// Returns the patient's public id (where to read it).
pub async fn open(me: &SignedIn, email: &str, reason: &str) -> Result<String, AppError> {
    let errors = problems(email, reason);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let found = user_account::Entity::find()
        .filter(user_account::Column::Email.eq(email.trim().to_lowercase()))
        .filter(user_account::Column::Role.eq(Role::Patient))
        .one(me.db())
        .await?;
    let row = match found {
        Some(user) => {
            patient::Entity::find()
                .filter(patient::Column::UserId.eq(user.id))
                .one(me.db())
                .await?
        }
        None => None,
    };
    let Some(row) = row else {
        crate::auth::guard::record_missing(
            me.db(),
            me.now(),
            &me.caller,
            "access_grant.break_glass",
            "patient",
            "by email",
        )
        .await?;
        return Err(AppError::field(
            "email",
            "No patient's account has that email. Check it with the practice's records.",
        ));
    };
    let OpenPatient { row, permit } = open_patient(
        me,
        &row.public_id,
        Action::Write,
        |patient_id| Resource::EmergencyAccess { patient_id },
        "access_grant.break_glass",
    )
    .await?;
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let now = me.now();
    access_grant::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(row.id),
        user_id: Set(me.auth.user_id),
        kind: Set(Grant::BreakGlass),
        reason: Set(super::service::seal_reason(
            me.keyring(),
            &public_id,
            reason,
        )?),
        granted_by: Set(me.auth.user_id),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::minutes(EMERGENCY_MINUTES)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(permit.txn())
    .await?;
    permit.commit().await?;
    Ok(row.public_id)
}

//! Who is in a conversation (server only): the patient, and on the practice's side the
//! physician and the staff the physician let work on that patient's chart (and whoever it is
//! assigned to). They are the people live events about it go to.

use crate::auth::entity::user_account;
use crate::auth::{Grant, Role};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// The practice's people who may read patient `patient_id`'s conversations at `now`.
pub async fn practice_side(
    conn: &impl ConnectionTrait,
    patient_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<i32>, AppError> {
    let mut people: Vec<i32> = user_account::Entity::find()
        .filter(user_account::Column::Role.eq(Role::Physician))
        .filter(user_account::Column::DisabledAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    for (user, patient) in crate::grants::lookup::active_pairs(conn, None, Grant::Care, now).await?
    {
        if patient == patient_id {
            people.push(user);
        }
    }
    people.sort_unstable();
    people.dedup();
    Ok(people)
}

/// Everyone in patient `patient_id`'s conversations: their account (if any) and the practice's
/// side.
pub async fn everyone(
    conn: &impl ConnectionTrait,
    patient_id: i32,
    patient_user: Option<i32>,
    now: DateTime<Utc>,
) -> Result<Vec<i32>, AppError> {
    let mut people = practice_side(conn, patient_id, now).await?;
    people.extend(patient_user);
    people.sort_unstable();
    people.dedup();
    Ok(people)
}

/// The patients whose conversations staff member `user_id` may read at `now` (those they hold
/// a care grant for).
pub async fn granted_patients(
    conn: &impl ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<i32>, AppError> {
    Ok(
        crate::grants::lookup::active_pairs(conn, Some(user_id), Grant::Care, now)
            .await?
            .into_iter()
            .map(|(_, patient)| patient)
            .collect(),
    )
}

//! The grant a person holds for a patient now (server only): what the guard asks when the
//! person's role alone says no.

use super::entity::access_grant;
use crate::auth::Grant;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// The grant `user_id` holds for patient `patient_id` at `now` (not revoked, started, not yet
/// ended), with its public id; `None` when there is none.
pub async fn active(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    patient_id: i32,
    now: DateTime<Utc>,
) -> Result<Option<(Grant, String)>, AppError> {
    let found = access_grant::Entity::find()
        .filter(access_grant::Column::UserId.eq(user_id))
        .filter(access_grant::Column::PatientId.eq(patient_id))
        .filter(access_grant::Column::RevokedAt.is_null())
        .filter(access_grant::Column::CreatedAt.lte(now))
        .filter(access_grant::Column::ExpiresAt.gt(now))
        .order_by_desc(access_grant::Column::ExpiresAt)
        .one(conn)
        .await?;
    Ok(found.map(|g| (g.kind, g.public_id)))
}

/// The active grants of `kind` at `now`, as `(person, patient)` pairs; for one person, or
/// everyone's when `user_id` is `None` (who besides the physician works on whose chart).
pub async fn active_pairs(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: Option<i32>,
    kind: Grant,
    now: DateTime<Utc>,
) -> Result<Vec<(i32, i32)>, AppError> {
    let mut query = access_grant::Entity::find()
        .filter(access_grant::Column::Kind.eq(kind))
        .filter(access_grant::Column::RevokedAt.is_null())
        .filter(access_grant::Column::CreatedAt.lte(now))
        .filter(access_grant::Column::ExpiresAt.gt(now));
    if let Some(user_id) = user_id {
        query = query.filter(access_grant::Column::UserId.eq(user_id));
    }
    Ok(query
        .all(conn)
        .await?
        .into_iter()
        .map(|g| (g.user_id, g.patient_id))
        .collect())
}

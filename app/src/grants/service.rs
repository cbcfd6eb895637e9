//! Access grants' rules and database work (server only). The physician lets a staff member work
//! on one patient's chart for a time, sees every grant on the patient's page (with the
//! administrator's emergency reads), and ends one early. Each of these is one permit and one
//! audit entry; every access a grant lets through is audited too, naming the grant (the guard).

use super::entity::access_grant;
use super::model::{AccessOverview, GrantSummary, NewGrant, StaffChoice};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{Action, Grant, Resource, Role};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::service::{open_patient, open_patient_by_id, OpenPatient};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;

fn reason_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "access_grant",
        column: "reason",
        row: public_id,
    }
}

fn grants(patient_id: i32) -> Resource {
    Resource::AccessGrants { patient_id }
}

/// Seals `reason` for grant `public_id`.
pub fn seal_reason(
    keyring: &Keyring,
    public_id: &str,
    reason: &str,
) -> Result<Encrypted<String>, AppError> {
    Encrypted::seal(
        keyring,
        &reason_context(public_id),
        &reason.trim().to_owned(),
    )
    .map_err(|e| AppError::internal(format_args!("sealing a grant's reason: {e}")))
}

/// The staff accounts that can be let in (not disabled), by name.
async fn staff(
    conn: &impl sea_orm::ConnectionTrait,
    keyring: &Keyring,
) -> Result<Vec<StaffChoice>, AppError> {
    let mut out = Vec::new();
    for user in user_account::Entity::find()
        .filter(user_account::Column::Role.eq(Role::Staff))
        .filter(user_account::Column::DisabledAt.is_null())
        .all(conn)
        .await?
    {
        out.push(StaffChoice {
            name: crate::auth::service::display_name(keyring, &user)?,
            public_id: user.public_id,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Patient `patient`'s grants, newest first, and the staff to choose from. One audited read.
pub async fn overview(me: &SignedIn, patient: &str) -> Result<AccessOverview, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Read, grants, "access_grant.list").await?;
    let txn = permit.txn();
    let rows = access_grant::Entity::find()
        .filter(access_grant::Column::PatientId.eq(row.id))
        .order_by_desc(access_grant::Column::Id)
        .all(txn)
        .await?;
    let keyring = me.keyring();
    let out = summaries(txn, keyring, rows, me.now()).await?;
    let staff = staff(txn, keyring).await?;
    permit.commit().await?;
    Ok(AccessOverview { staff, grants: out })
}

/// `rows` as people read them: who was let in and by whom, by name; when, in the practice's
/// time zone; the reason, opened.
pub(super) async fn summaries(
    txn: &impl sea_orm::ConnectionTrait,
    keyring: &Keyring,
    rows: Vec<access_grant::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<GrantSummary>, AppError> {
    let people: HashMap<i32, user_account::Model> = user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(rows.iter().flat_map(|g| [g.user_id, g.granted_by])))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let name = |id: i32| -> Result<String, AppError> {
        people
            .get(&id)
            .map_or(Ok("a former account".to_owned()), |u| {
                crate::auth::service::display_name(keyring, u)
            })
    };
    let tz = crate::appointments::service::schedule::practice_time_zone(txn).await?;
    let moment = |at: DateTime<Utc>| {
        at.with_timezone(&tz)
            .format("%B %-d, %Y, %-I:%M %P")
            .to_string()
    };
    let mut out = Vec::with_capacity(rows.len());
    for g in rows {
        let reason = g
            .reason
            .open(keyring, &reason_context(&g.public_id))
            .map_err(|e| AppError::internal(format_args!("opening grant {}: {e}", g.id)))?;
        out.push(GrantSummary {
            kind: g.kind,
            person: name(g.user_id)?,
            granted_by: name(g.granted_by)?,
            from: moment(g.created_at),
            until: moment(g.revoked_at.unwrap_or(g.expires_at)),
            reason,
            active: g.revoked_at.is_none() && g.created_at <= now && now < g.expires_at,
            revoked: g.revoked_at.is_some(),
            public_id: g.public_id,
        });
    }
    Ok(out)
}

/// Lets the staff member `new` names work on patient `patient`'s chart for `new.days` days. One
/// audited write.
pub async fn grant(me: &SignedIn, patient: &str, new: &NewGrant) -> Result<String, AppError> {
    let problems = new.problems();
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Write, grants, "access_grant.create").await?;
    let Some(person) = user_account::Entity::find()
        .filter(user_account::Column::PublicId.eq(new.staff.trim()))
        .filter(user_account::Column::Role.eq(Role::Staff))
        .filter(user_account::Column::DisabledAt.is_null())
        .one(permit.txn())
        .await?
    else {
        return Err(AppError::field(
            "staff",
            "Choose a staff member from the list: that account is not an active staff account.",
        ));
    };
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let now = me.now();
    access_grant::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(row.id),
        user_id: Set(person.id),
        kind: Set(Grant::Care),
        reason: Set(seal_reason(me.keyring(), &public_id, &new.reason)?),
        granted_by: Set(me.auth.user_id),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::days(new.days)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(permit.txn())
    .await?;
    permit.commit().await?;
    Ok(public_id)
}

/// Ends grant `public_id` now. One audited write (on the grant's patient).
pub async fn revoke(me: &SignedIn, public_id: &str) -> Result<(), AppError> {
    let Some(found) = access_grant::Entity::find()
        .filter(access_grant::Column::PublicId.eq(public_id))
        .one(me.db())
        .await?
    else {
        crate::auth::guard::record_missing(
            me.db(),
            me.now(),
            &me.caller,
            "access_grant.revoke",
            "access_grant",
            public_id,
        )
        .await?;
        return Err(AppError::NotFound("That grant".into()));
    };
    let OpenPatient { permit, .. } = open_patient_by_id(
        me,
        found.patient_id,
        Action::Write,
        grants,
        "access_grant.revoke",
    )
    .await?;
    access_grant::Entity::update_many()
        .col_expr(access_grant::Column::RevokedAt, Expr::value(Some(me.now())))
        .filter(access_grant::Column::Id.eq(found.id))
        .filter(access_grant::Column::RevokedAt.is_null())
        .exec(permit.txn())
        .await?;
    permit.commit().await
}

//! Telling people who else opened a record (server only): the patient sees who in the practice
//! was let into their record, and why (staff the physician let in, the administrator's emergency
//! reads); the physician sees every emergency read of the last 30 days on the dashboard, not
//! only beside the chart she happens to open.

use super::entity::access_grant;
use super::model::{EmergencyRead, GrantSummary, EMERGENCY_NOTICE_DAYS};
use crate::audit::service as audit;
use crate::audit::Outcome;
use crate::auth::context::SignedIn;
use crate::auth::{guard, Action, Grant, Resource};
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, OpenPatient};
use crate::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// Who was let into patient `patient`'s record, newest first, as the patient reads it. One
/// audited read.
pub async fn of_record(me: &SignedIn, patient: &str) -> Result<Vec<GrantSummary>, AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::AccessGrants { patient_id },
        "access_grant.list",
    )
    .await?;
    let rows = access_grant::Entity::find()
        .filter(access_grant::Column::PatientId.eq(row.id))
        .order_by_desc(access_grant::Column::Id)
        .all(permit.txn())
        .await?;
    let out = super::service::summaries(permit.txn(), me.keyring(), rows, me.now()).await?;
    permit.commit().await?;
    Ok(out)
}

/// The administrator's emergency reads of the last 30 days, newest first, for the physician.
/// One audited read, and one entry more per patient named (as the agenda does), so each
/// patient's own audit trail shows the look.
pub async fn emergency_reads(me: &SignedIn) -> Result<Vec<EmergencyRead>, AppError> {
    let mut permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Read,
        Resource::EmergencyReads,
        None,
        "access_grant.emergencies",
    )
    .await?;
    let since = me.now() - chrono::Duration::days(EMERGENCY_NOTICE_DAYS);
    let rows = access_grant::Entity::find()
        .filter(access_grant::Column::Kind.eq(Grant::BreakGlass))
        .filter(access_grant::Column::CreatedAt.gte(since))
        .order_by_desc(access_grant::Column::Id)
        .all(permit.txn())
        .await?;
    let patients: HashMap<i32, patient::Model> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(rows.iter().map(|g| g.patient_id)))
        .all(permit.txn())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut named = std::collections::BTreeSet::new();
    for p in patients.values() {
        if named.insert(p.public_id.clone()) {
            permit.record_also(audit::event(
                Some(me.caller.audit_actor()),
                "access_grant.emergencies",
                "access_grants",
                None,
                Some(p.public_id.clone()),
                Outcome::Allowed,
            ));
        }
    }
    let keyring = me.keyring();
    let patient_ids: Vec<i32> = rows.iter().map(|g| g.patient_id).collect();
    let summaries = super::service::summaries(permit.txn(), keyring, rows, me.now()).await?;
    let mut out = Vec::with_capacity(summaries.len());
    for (grant, patient_id) in summaries.into_iter().zip(patient_ids) {
        let Some(p) = patients.get(&patient_id) else {
            continue;
        };
        out.push(EmergencyRead {
            patient: p.public_id.clone(),
            patient_name: crate::patients::service::legal_name(keyring, p)?,
            grant,
        });
    }
    permit.commit().await?;
    Ok(out)
}

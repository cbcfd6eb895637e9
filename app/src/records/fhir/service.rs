//! `$everything` for one patient (server only): one audited read by whoever may read the chart
//! (the patient, their physician). Only what is in the record: signed notes, never drafts, and
//! the documents the reader may see.

use super::resources;
use crate::appointments::entity::appointment;
use crate::auth::context::SignedIn;
use crate::auth::model::Role;
use crate::auth::{Action, Resource};
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::model::ChartItem;
use crate::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// Patient `patient`'s record as a FHIR R4 Bundle; `public_url` is the site's address (the
/// entries' full URLs and the documents' download links start with it).
pub async fn everything(
    me: &SignedIn,
    patient: &str,
    public_url: &str,
) -> Result<serde_json::Value, AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::PatientChart { patient_id },
        "record.export_fhir",
    )
    .await?;
    let (txn, keyring) = (permit.txn(), me.keyring());
    let profile = crate::patients::service::open_profile(keyring, &row)?;
    let entries = crate::records::service::current_entries(txn, keyring, row.id).await?;
    let notes = crate::records::notes::service::filed_of(txn, keyring, &row, true).await?;
    let ends: HashMap<String, chrono::DateTime<chrono::Utc>> = appointment::Entity::find()
        .filter(
            appointment::Column::PublicId.is_in(notes.iter().map(|n| n.visit.appointment.clone())),
        )
        .all(txn)
        .await?
        .into_iter()
        .map(|a| (a.public_id, a.ends_at))
        .collect();
    let documents = crate::records::documents::service::in_record(txn, me, row.id).await?;
    permit.commit().await?;

    let base = public_url.trim_end_matches('/');
    let area = match me.auth.role {
        Role::Patient => "portal",
        _ => "dashboard",
    };
    let id = &row.public_id;
    let contacts: Vec<_> = entries
        .iter()
        .filter(|e| matches!(e.item, ChartItem::EmergencyContact { .. }))
        .collect();
    let mut out = vec![resources::patient(&profile, &contacts)];
    out.extend(entries.iter().filter_map(|e| resources::chart_entry(id, e)));
    for filed in &notes {
        let ends_at = ends
            .get(&filed.visit.appointment)
            .copied()
            .unwrap_or(filed.visit.starts_at);
        out.extend(resources::visit(
            id,
            filed,
            ends_at,
            &resources::note_text(filed),
        ));
    }
    for d in &documents {
        let url = format!("{base}/{area}/documents/{}", d.public_id);
        out.push(resources::document(id, d, &url));
    }
    let bundle_id = uuid::Uuid::new_v4().simple().to_string();
    Ok(resources::bundle(
        &bundle_id,
        me.now(),
        &format!("{base}/fhir"),
        out,
    ))
}

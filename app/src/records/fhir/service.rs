//! `$everything` for one patient (server only): one audited read by whoever may read the chart
//! (the patient, their physician). Only what is in the record: signed notes, never drafts, and
//! the documents the reader may see.

use super::resources;
use crate::appointments::entity::appointment;
use crate::auth::context::SignedIn;
use crate::auth::model::Role;
use crate::auth::{Action, Resource};
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::export::model::ExportChoice;
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
    let documents = crate::records::documents::service::in_record(permit.txn(), me, row.id).await?;
    let area = match me.auth.role {
        Role::Patient => "portal",
        _ => "dashboard",
    };
    let base = public_url.trim_end_matches('/');
    let links = Some(format!("{base}/{area}/documents"));
    let record = Record {
        parts: &ExportChoice::whole(),
        documents,
        links,
    };
    let bundle = bundle_of(permit.txn(), me.keyring(), &row, record, base, me.now()).await?;
    permit.commit().await?;
    Ok(bundle)
}

/// What goes into a bundle: the parts, the documents to list, and where their downloads are
/// (`None`: listed without a link, as in a share link's files).
pub(crate) struct Record<'a> {
    pub(crate) parts: &'a ExportChoice,
    pub(crate) documents: Vec<crate::records::documents::model::DocumentSummary>,
    pub(crate) links: Option<String>,
}

/// Patient `row`'s record, the parts `record` names, as a Bundle, inside an access already
/// permitted (or a share link's, already checked).
pub(crate) async fn bundle_of(
    conn: &impl sea_orm::ConnectionTrait,
    keyring: &crate::crypto::Keyring,
    row: &crate::patients::entity::patient::Model,
    record: Record<'_>,
    base: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<serde_json::Value, AppError> {
    let profile = crate::patients::service::open_profile(keyring, row)?;
    let entries = if record.parts.chart {
        crate::records::service::current_entries(conn, keyring, row.id).await?
    } else {
        Vec::new()
    };
    let notes: Vec<_> = crate::records::notes::service::filed_of(conn, keyring, row, true)
        .await?
        .into_iter()
        .filter(|n| record.parts.has_note(&n.visit.appointment))
        .collect();
    let ends: HashMap<String, chrono::DateTime<chrono::Utc>> = appointment::Entity::find()
        .filter(
            appointment::Column::PublicId.is_in(notes.iter().map(|n| n.visit.appointment.clone())),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.public_id, a.ends_at))
        .collect();
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
    if record.parts.documents {
        for d in &record.documents {
            let url = record
                .links
                .as_ref()
                .map(|base| format!("{base}/{}", d.public_id));
            out.push(resources::document(id, d, url.as_deref()));
        }
    }
    let bundle_id = uuid::Uuid::new_v4().simple().to_string();
    Ok(resources::bundle(
        &bundle_id,
        now,
        &format!("{base}/fhir"),
        out,
    ))
}

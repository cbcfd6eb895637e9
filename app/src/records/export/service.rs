//! Exporting a record (server only): one audited read each, for whoever may read the patient's
//! chart. Only what is in the record goes out: signed notes (never drafts), and the documents
//! the reader may see.

use super::model::ExportChoice;
use super::pdf::{render, RecordDocument};
use crate::auth::context::SignedIn;
use crate::auth::{Action, Resource};
use crate::crypto::stream::DataKey;
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::documents::service::{download_name, in_record, keys_of};
use crate::site::model::Practice;
use crate::AppError;
use std::collections::HashSet;

/// A file to hand out: its name and bytes.
pub struct RecordFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn chart(patient_id: i32) -> Resource {
    Resource::PatientChart { patient_id }
}

/// Patient `patient`'s record, the parts `choice` names, as one PDF. One audited read.
pub async fn record_pdf(
    me: &SignedIn,
    patient: &str,
    choice: &ExportChoice,
    practice: &Practice,
) -> Result<RecordFile, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Read, chart, "record.export_pdf").await?;
    let (txn, keyring) = (permit.txn(), me.keyring());
    let entries = if choice.chart {
        Some(crate::records::service::current_entries(txn, keyring, row.id).await?)
    } else {
        None
    };
    let notes = crate::records::notes::service::filed_of(txn, keyring, &row, true)
        .await?
        .into_iter()
        .filter(|n| choice.has_note(&n.visit.appointment))
        .collect();
    let documents = if choice.documents {
        Some(in_record(txn, me, row.id).await?)
    } else {
        None
    };
    let profile = crate::patients::service::open_profile(keyring, &row)?;
    let tz = crate::appointments::service::schedule::practice_time_zone(txn).await?;
    let today = me.now().with_timezone(&tz);
    let by = crate::records::service::names_of(txn, keyring, [me.auth.user_id])
        .await?
        .remove(&me.auth.user_id)
        .unwrap_or_default();
    let document = RecordDocument {
        practice_name: practice.name.clone(),
        practice_lines: practice.letterhead(),
        patient_name: profile.legal_name.clone(),
        patient_line: format!(
            "Date of birth: {}",
            profile.date_of_birth.format("%B %-d, %Y")
        ),
        exported: format!("Exported on {} by {by}", today.format("%B %-d, %Y")),
        chart: entries,
        notes,
        documents,
    };
    let bytes =
        render(&document).map_err(|e| AppError::internal(format_args!("record PDF: {e}")))?;
    permit.commit().await?;
    Ok(RecordFile {
        file_name: format!("health-record-{}.pdf", today.format("%Y-%m-%d")),
        bytes,
    })
}

/// One file of a zip: its name in the archive, and where its sealed bytes are.
pub struct ZipEntry {
    pub name: String,
    /// The document's own date (the file's date in the archive).
    pub date: chrono::NaiveDate,
    pub object: String,
    pub key: DataKey,
}

/// Patient `patient`'s documents the caller may see, to stream as a zip: each one's name in
/// the archive (its date and title, made unique) and its object. One audited read.
pub async fn files_for_zip(me: &SignedIn, patient: &str) -> Result<Vec<ZipEntry>, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, patient, Action::Read, chart, "document.zip").await?;
    let documents = in_record(permit.txn(), me, row.id).await?;
    let ids = documents.iter().map(|d| d.public_id.clone()).collect();
    let keys = keys_of(permit.txn(), me.keyring(), ids).await?;
    permit.commit().await?;
    let mut taken = HashSet::new();
    let mut out = Vec::with_capacity(documents.len());
    for (d, (object, key)) in documents.iter().zip(keys) {
        let base = download_name(&format!("{} {}", d.date, d.title), d.media_type);
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            let (stem, extension) = base.rsplit_once('.').unwrap_or((base.as_str(), ""));
            name = format!("{stem} ({n}).{extension}");
            n += 1;
        }
        out.push(ZipEntry {
            name,
            date: d.date,
            object,
            key,
        });
    }
    Ok(out)
}

//! Reading the record's documents (server only): lists as the reader may see them (a draft
//! note's attachments are the practice's until it is signed), the files of a visit's note, one
//! document to download, and the keys a zip of the record streams with. Each public function is
//! one audited read.

use super::entity::{document, object_name};
use super::model::{DocumentSummary, Documents, MediaType};
use super::rows::context;
pub(crate) use super::rows::open_label;
use crate::appointments::entity::appointment;
use crate::auth::context::SignedIn;
use crate::auth::model::Role;
use crate::auth::{can, guard, Action, Resource};
use crate::crypto::stream::DataKey;
use crate::crypto::Keyring;
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::notes::entity::visit_note;
use crate::records::notes::model::NoteStatus;
use crate::records::service::names_of;
use crate::AppError;
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The documents `filter` selects, newest first, each with its visit's row id, inside an access
/// already permitted.
async fn select(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    filter: SimpleExpr,
) -> Result<Vec<(Option<i32>, DocumentSummary)>, AppError> {
    let rows = document::Entity::find()
        .filter(filter)
        .order_by_desc(document::Column::DocumentDate)
        .order_by_desc(document::Column::Id)
        .all(conn)
        .await?;
    let names = names_of(conn, keyring, rows.iter().map(|r| r.uploaded_by)).await?;
    let visit_ids: Vec<i32> = rows.iter().filter_map(|r| r.appointment_id).collect();
    let visits: HashMap<i32, String> = if visit_ids.is_empty() {
        HashMap::new()
    } else {
        appointment::Entity::find()
            .filter(appointment::Column::Id.is_in(visit_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|v| (v.id, v.public_id))
            .collect()
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let label = open_label(keyring, &row)?;
        out.push((
            row.appointment_id,
            DocumentSummary {
                title: label.title,
                kind: row.kind,
                date: row.document_date,
                media_type: row.media_type,
                size: u64::try_from(row.size_bytes).unwrap_or(0),
                uploaded_by: names.get(&row.uploaded_by).cloned().unwrap_or_default(),
                uploaded_at: row.uploaded_at,
                visit: row.appointment_id.and_then(|id| visits.get(&id).cloned()),
                public_id: row.public_id,
            },
        ));
    }
    Ok(out)
}

/// The files attached to the notes of visits `appointment_ids`, by visit, inside an access
/// already permitted.
pub(crate) async fn attachments(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    appointment_ids: Vec<i32>,
) -> Result<HashMap<i32, Vec<DocumentSummary>>, AppError> {
    let mut by_visit: HashMap<i32, Vec<DocumentSummary>> = HashMap::new();
    if appointment_ids.is_empty() {
        return Ok(by_visit);
    }
    let filter = document::Column::AppointmentId.is_in(appointment_ids);
    for (visit, summary) in select(conn, keyring, filter).await? {
        if let Some(visit) = visit {
            by_visit.entry(visit).or_default().push(summary);
        }
    }
    Ok(by_visit)
}

/// Visits among `appointment_ids` whose note is signed: their attachments are in the record
/// for the patient too (a draft's are the practice's until it is signed).
async fn signed_visits(
    conn: &impl ConnectionTrait,
    appointment_ids: Vec<i32>,
) -> Result<std::collections::HashSet<i32>, AppError> {
    if appointment_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(visit_note::Entity::find()
        .filter(visit_note::Column::AppointmentId.is_in(appointment_ids))
        .filter(visit_note::Column::Status.eq(NoteStatus::Signed))
        .all(conn)
        .await?
        .into_iter()
        .map(|n| n.appointment_id)
        .collect())
}

/// Whether the caller writes patient `patient_id`'s clinical chart (sees drafts' attachments).
fn writes_chart(me: &SignedIn, patient_id: i32) -> bool {
    can(
        &me.caller.actor,
        Action::Write,
        &Resource::PatientChart { patient_id },
    )
}

/// Patient `patient_id`'s documents as the caller sees them (a draft note's attachments only for
/// whoever writes the chart), newest first, inside an access already permitted.
pub(crate) async fn in_record(
    conn: &impl ConnectionTrait,
    me: &SignedIn,
    patient_id: i32,
) -> Result<Vec<DocumentSummary>, AppError> {
    in_record_as(conn, me.keyring(), patient_id, writes_chart(me, patient_id)).await
}

/// Patient `patient_id`'s documents as the practice (`practice`) or the patient sees them.
pub(crate) async fn in_record_as(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient_id: i32,
    practice: bool,
) -> Result<Vec<DocumentSummary>, AppError> {
    let mut documents = select(conn, keyring, document::Column::PatientId.eq(patient_id)).await?;
    if !practice {
        let visits = documents.iter().filter_map(|(visit, _)| *visit).collect();
        let signed = signed_visits(conn, visits).await?;
        documents.retain(|(visit, _)| visit.is_none_or(|v| signed.contains(&v)));
    }
    Ok(documents.into_iter().map(|(_, d)| d).collect())
}

/// The objects and keys of documents `public_ids` (in that order), inside an access already
/// permitted: what a zip of the record's files streams.
pub(crate) async fn keys_of(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    public_ids: Vec<String>,
) -> Result<Vec<(String, DataKey)>, AppError> {
    let rows: HashMap<String, document::Model> = document::Entity::find()
        .filter(document::Column::PublicId.is_in(public_ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.public_id.clone(), r))
        .collect();
    let mut out = Vec::with_capacity(public_ids.len());
    for id in public_ids {
        let row = rows
            .get(&id)
            .ok_or_else(|| AppError::internal("a listed document without its row"))?;
        let key = row
            .data_key
            .open(keyring, &context("data_key", &row.public_id))
            .map_err(|e| {
                AppError::internal(format_args!("opening document {}'s key: {e}", row.id))
            })?;
        out.push((object_name(&row.public_id), key));
    }
    Ok(out)
}

/// Patient `patient`'s documents (those attached to notes included): one audited read.
pub async fn list(me: &SignedIn, patient: &str) -> Result<Documents, AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::PatientChart { patient_id },
        "document.list",
    )
    .await?;
    let documents = in_record(permit.txn(), me, row.id).await?;
    permit.commit().await?;
    let can_upload = can(
        &me.caller.actor,
        Action::Write,
        &Resource::PatientHistory { patient_id: row.id },
    );
    Ok(Documents {
        patient: row.public_id,
        documents,
        can_upload,
    })
}

/// The files attached to visit `visit`'s note: one audited read. The patient sees them once
/// the note is signed.
pub async fn of_visit(me: &SignedIn, visit: &str) -> Result<Vec<DocumentSummary>, AppError> {
    let open = crate::appointments::service::changes::open_visit(
        me,
        visit,
        Action::Read,
        "document.list",
        |patient_id| Resource::PatientChart { patient_id },
    )
    .await?;
    let txn = open.permit.txn();
    let mut files = attachments(txn, me.keyring(), vec![open.row.id])
        .await?
        .remove(&open.row.id)
        .unwrap_or_default();
    if !writes_chart(me, open.row.patient_id)
        && signed_visits(txn, vec![open.row.id]).await?.is_empty()
    {
        files.clear();
    }
    open.permit.commit().await?;
    Ok(files)
}

/// A document to hand out: where its bytes are, the key that opens them, and what to call it.
pub struct DocumentFile {
    pub object: String,
    pub key: DataKey,
    pub download_name: String,
    pub media_type: MediaType,
    pub size: u64,
}

/// Document `public_id`, for whoever may read its patient's chart: one audited read. An unknown
/// id is recorded as a refusal.
pub async fn open(me: &SignedIn, public_id: &str) -> Result<DocumentFile, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let Some(row) = document::Entity::find()
        .filter(document::Column::PublicId.eq(public_id))
        .one(db)
        .await?
    else {
        guard::record_missing(db, now, caller, "document.read", "document", public_id).await?;
        return Err(unknown(caller.actor.role, "That document"));
    };
    let owner = patient::Entity::find_by_id(row.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a document without its patient"))?;
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::PatientChart {
            patient_id: owner.id,
        },
        Some(owner.public_id),
        "document.read",
    )
    .await?;
    if let Some(visit) = row.appointment_id {
        let signed = signed_visits(permit.txn(), vec![visit]).await?;
        if !writes_chart(me, owner.id) && signed.is_empty() {
            // An attachment of a note still in draft is the practice's until it is signed.
            drop(permit);
            guard::record_missing(db, now, caller, "document.read", "document", public_id).await?;
            return Err(AppError::Forbidden);
        }
    }
    let file = file_of(me.keyring(), &row)?;
    permit.commit().await?;
    Ok(file)
}

/// Document `row`'s file: where its object is, its key (opened), its name and type.
pub(crate) fn file_of(keyring: &Keyring, row: &document::Model) -> Result<DocumentFile, AppError> {
    let label = open_label(keyring, row)?;
    let key = row
        .data_key
        .open(keyring, &context("data_key", &row.public_id))
        .map_err(|e| AppError::internal(format_args!("opening document {}'s key: {e}", row.id)))?;
    Ok(DocumentFile {
        object: object_name(&row.public_id),
        key,
        download_name: download_name(&label.title, row.media_type),
        media_type: row.media_type,
        size: u64::try_from(row.size_bytes).unwrap_or(0),
    })
}

/// An unknown id is "not found" to the practice and "forbidden" to a patient, who must not
/// learn which ids exist.
pub(super) fn unknown(role: Role, what: &str) -> AppError {
    match role {
        Role::Patient | Role::Admin => AppError::Forbidden,
        Role::Physician | Role::Staff => AppError::NotFound(what.into()),
    }
}

/// A file name safe in a `Content-Disposition` header and on every file system:
/// "CBC results.pdf".
pub fn download_name(title: &str, media_type: MediaType) -> String {
    let stem: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ',' | '(' | ')') {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    let stem = stem.trim().trim_matches('.');
    let stem = if stem.is_empty() { "document" } else { stem };
    let extension = media_type.extension();
    if stem
        .to_ascii_lowercase()
        .ends_with(&format!(".{extension}"))
    {
        stem.to_owned()
    } else {
        format!("{stem}.{extension}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_safe_and_keep_one_extension() {
        assert_eq!(
            download_name("CBC results", MediaType::Pdf),
            "CBC results.pdf"
        );
        assert_eq!(download_name("scan.PDF", MediaType::Pdf), "scan.PDF");
        assert_eq!(download_name("a\"b\r\nc/d", MediaType::Png), "a-b--c-d.png");
        assert_eq!(download_name("..", MediaType::Jpeg), "document.jpg");
        assert_eq!(
            download_name("Zoë’s card", MediaType::Jpeg),
            "Zo--s card.jpg"
        );
    }
}

//! Documents' rules and storage (server only). An upload is checked before its body is read
//! (who may add to this record, to which visit, what the form says), streamed sealed into object
//! storage, and only then written as a row, in one audited transaction: a refused or cut-off
//! upload leaves no object, and no row ever points at a missing object. An object whose row
//! never landed (the process stopped between the two) is removed by [`sweep`].

use super::entity::{document, object_name, OBJECT_FOLDER};
use super::model::{DocumentDetails, DocumentSummary, Documents, MediaType, MAX_BYTES};
use super::refusal::DocumentRefusal;
use crate::appointments::entity::appointment;
use crate::appointments::model::VisitStatus;
use crate::auth::context::SignedIn;
use crate::auth::model::Role;
use crate::auth::{can, guard, Action, Resource};
use crate::crypto::stream::DataKey;
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::notes::entity::visit_note;
use crate::records::notes::model::NoteStatus;
use crate::records::service::names_of;
use crate::storage::{Objects, StorageError};
use crate::AppError;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::HashMap;

/// An object older than this without its row is an upload that never finished being recorded.
pub const ORPHAN_AFTER: chrono::Duration = chrono::Duration::hours(1);

fn context<'a>(column: &'static str, public_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        table: "document",
        column,
        row: public_id,
    }
}

fn sealing_failed(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing a document: {e}"))
}

/// Where an upload goes: a patient's documents, or the draft note of one of their visits.
/// Found and checked before the file's bytes are read.
pub struct Destination {
    patient: patient::Model,
    visit: Option<appointment::Model>,
}

impl Destination {
    /// A patient adds to their own documents (as they keep their own history); a file on a
    /// visit note is the practice's clinical record.
    fn resource(&self) -> Resource {
        let patient_id = self.patient.id;
        match self.visit {
            Some(_) => Resource::PatientChart { patient_id },
            None => Resource::PatientHistory { patient_id },
        }
    }

    fn verb(&self) -> &'static str {
        match self.visit {
            Some(_) => "document.attach",
            None => "document.upload",
        }
    }

    /// The patient's public id.
    pub fn patient(&self) -> &str {
        &self.patient.public_id
    }
}

/// The upload's destination: visit `visit`'s note (its patient), else patient `patient`'s
/// documents. Refused, and audited as refused, unless the caller may add to it.
pub async fn destination(
    me: &SignedIn,
    patient: &str,
    visit: Option<&str>,
) -> Result<Destination, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let destination = match visit {
        Some(visit) => {
            let Some(row) = appointment::Entity::find()
                .filter(appointment::Column::PublicId.eq(visit))
                .one(db)
                .await?
            else {
                guard::record_missing(db, now, caller, "document.attach", "appointments", visit)
                    .await?;
                return Err(unknown(caller.actor.role, "That visit"));
            };
            let owner = patient::Entity::find_by_id(row.patient_id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::internal("a visit without its patient"))?;
            if !patient.is_empty() && patient != owner.public_id {
                return Err(DocumentRefusal::NotThisVisit.into());
            }
            Destination {
                patient: owner,
                visit: Some(row),
            }
        }
        None => {
            let Some(row) = crate::patients::service::find(db, patient).await? else {
                guard::record_missing(
                    db,
                    now,
                    caller,
                    "document.upload",
                    "patient_history",
                    patient,
                )
                .await?;
                return Err(unknown(caller.actor.role, "That patient"));
            };
            Destination {
                patient: row,
                visit: None,
            }
        }
    };
    let resource = destination.resource();
    if !can(&caller.actor, Action::Write, &resource) {
        // Asked through the guard, which records the refusal.
        let refused = guard::permit(
            db,
            now,
            caller,
            Action::Write,
            resource,
            Some(destination.patient.public_id.clone()),
            destination.verb(),
        )
        .await;
        return Err(refused.err().unwrap_or(AppError::Forbidden));
    }
    if let Some(visit) = &destination.visit {
        attachable(db, visit).await?;
    }
    Ok(destination)
}

/// An unknown id is "not found" to the practice and "forbidden" to a patient, who must not
/// learn which ids exist.
fn unknown(role: Role, what: &str) -> AppError {
    match role {
        Role::Patient | Role::Admin => AppError::Forbidden,
        Role::Physician | Role::Staff => AppError::NotFound(what.into()),
    }
}

/// Files go on a visit's note while the visit stands and its note is not signed.
async fn attachable(
    conn: &impl ConnectionTrait,
    visit: &appointment::Model,
) -> Result<(), AppError> {
    if matches!(visit.status, VisitStatus::Cancelled | VisitStatus::Offered) {
        return Err(DocumentRefusal::NotThisVisit.into());
    }
    let signed = visit_note::Entity::find()
        .filter(visit_note::Column::AppointmentId.eq(visit.id))
        .filter(visit_note::Column::Status.eq(NoteStatus::Signed))
        .one(conn)
        .await?;
    match signed {
        Some(_) => Err(DocumentRefusal::NoteSigned.into()),
        None => Ok(()),
    }
}

/// The file as it came: its name and the type its bytes showed.
pub struct NewFile {
    pub file_name: String,
    pub media_type: MediaType,
}

fn refusal_of(error: StorageError) -> AppError {
    match error {
        StorageError::TooLarge { .. } => DocumentRefusal::TooLarge.into(),
        StorageError::Interrupted(_) => DocumentRefusal::Interrupted.into(),
        other => AppError::internal(format_args!("storing a document: {other}")),
    }
}

/// Streams `body` (the whole file, first bytes included) sealed into storage and records it at
/// `destination`. Returns the document's public id. Nothing remains of a refused upload.
pub async fn store<E: std::fmt::Display>(
    me: &SignedIn,
    objects: &Objects,
    destination: &Destination,
    details: DocumentDetails,
    file: NewFile,
    body: impl Stream<Item = Result<Bytes, E>>,
) -> Result<String, AppError> {
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let name = object_name(&public_id);
    let key = DataKey::generate();
    let size = objects
        .put_sealed(&name, &key, body, MAX_BYTES)
        .await
        .map_err(refusal_of)?;
    let recorded = if size == 0 {
        Err(DocumentRefusal::NoFile.into())
    } else {
        record(me, destination, &public_id, &key, details, file, size).await
    };
    if let Err(error) = recorded {
        if let Err(e) = objects.delete(&name).await {
            // The sweeper removes it later.
            tracing::warn!(error = %e, object = %name, "could not remove a refused upload's object");
        }
        return Err(error);
    }
    Ok(public_id)
}

async fn record(
    me: &SignedIn,
    destination: &Destination,
    public_id: &str,
    key: &DataKey,
    details: DocumentDetails,
    file: NewFile,
    size: u64,
) -> Result<(), AppError> {
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Write,
        destination.resource(),
        Some(destination.patient.public_id.clone()),
        destination.verb(),
    )
    .await?;
    if let Some(visit) = &destination.visit {
        attachable(permit.txn(), visit).await?;
    }
    let row = NewDocument {
        public_id,
        patient_id: destination.patient.id,
        appointment_id: destination.visit.as_ref().map(|v| v.id),
        details,
        file,
        size,
        by: me.auth.user_id,
        at: me.now(),
    };
    insert(permit.txn(), me.keyring(), key, row).await?;
    permit.commit().await
}

/// A row to write.
pub struct NewDocument<'a> {
    pub public_id: &'a str,
    pub patient_id: i32,
    pub appointment_id: Option<i32>,
    pub details: DocumentDetails,
    pub file: NewFile,
    pub size: u64,
    pub by: i32,
    pub at: DateTime<Utc>,
}

async fn insert(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    key: &DataKey,
    row: NewDocument<'_>,
) -> Result<(), AppError> {
    let label = document::Label {
        title: super::model::title_for(&row.details.title, &row.file.file_name, row.details.kind),
        file_name: row.file.file_name,
    };
    document::ActiveModel {
        public_id: Set(row.public_id.to_owned()),
        patient_id: Set(row.patient_id),
        appointment_id: Set(row.appointment_id),
        kind: Set(row.details.kind),
        document_date: Set(row.details.date),
        media_type: Set(row.file.media_type),
        size_bytes: Set(i64::try_from(row.size).unwrap_or(i64::MAX)),
        label: Set(
            Encrypted::seal(keyring, &context("label", row.public_id), &label)
                .map_err(sealing_failed)?,
        ),
        data_key: Set(
            Encrypted::seal(keyring, &context("data_key", row.public_id), key)
                .map_err(sealing_failed)?,
        ),
        uploaded_by: Set(row.by),
        uploaded_at: Set(row.at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Files `bytes` as a document directly (the demo's lab report): object, then row.
pub async fn file(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    objects: &Objects,
    row: NewDocument<'_>,
    bytes: Vec<u8>,
) -> Result<(), AppError> {
    let key = DataKey::generate();
    let name = object_name(row.public_id);
    let body = futures::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(bytes))]);
    objects
        .put_sealed(&name, &key, body, MAX_BYTES)
        .await
        .map_err(refusal_of)?;
    insert(conn, keyring, &key, row).await
}

fn open_label(keyring: &Keyring, row: &document::Model) -> Result<document::Label, AppError> {
    row.label
        .open(keyring, &context("label", &row.public_id))
        .map_err(|e| AppError::internal(format_args!("opening document {}: {e}", row.id)))
}

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
    let keyring = me.keyring();
    let label = open_label(keyring, &row)?;
    let key = row
        .data_key
        .open(keyring, &context("data_key", &row.public_id))
        .map_err(|e| AppError::internal(format_args!("opening document {}'s key: {e}", row.id)))?;
    permit.commit().await?;
    Ok(DocumentFile {
        object: object_name(&row.public_id),
        key,
        download_name: download_name(&label.title, row.media_type),
        media_type: row.media_type,
        size: u64::try_from(row.size_bytes).unwrap_or(0),
    })
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

/// Removes documents' objects older than [`ORPHAN_AFTER`] that no row names (an upload whose
/// process stopped between storing the object and recording it). Returns how many.
pub async fn sweep(
    db: &DatabaseConnection,
    objects: &Objects,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let listed = objects
        .list(OBJECT_FOLDER)
        .await
        .map_err(|e| AppError::internal(format_args!("listing documents' objects: {e}")))?;
    let mut removed = 0;
    for (name, modified) in listed {
        if modified > now - ORPHAN_AFTER {
            continue;
        }
        let Some(public_id) = name.strip_prefix(&format!("{OBJECT_FOLDER}/")) else {
            continue;
        };
        let recorded = document::Entity::find()
            .filter(document::Column::PublicId.eq(public_id))
            .one(db)
            .await?
            .is_some();
        if !recorded {
            objects
                .delete(&name)
                .await
                .map_err(|e| AppError::internal(format_args!("removing {name}: {e}")))?;
            tracing::info!(object = %name, "removed an upload's object that was never recorded");
            removed += 1;
        }
    }
    Ok(removed)
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

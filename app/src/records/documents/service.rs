//! Documents' rules and storage (server only). An upload is checked before its body is read
//! (who may add to this record, to which visit, what the form says), streamed sealed into object
//! storage, and only then written as a row, in one audited transaction: a refused or cut-off
//! upload leaves no object, and no row ever points at a missing object. An object whose row
//! never landed (the process stopped between the two) is removed by [`sweep`].

use super::entity::{document, object_name, OBJECT_FOLDER};
use super::model::{DocumentDetails, MediaType, MAX_BYTES};
use super::refusal::DocumentRefusal;
use crate::appointments::entity::appointment;
use crate::appointments::model::VisitStatus;
use crate::auth::context::SignedIn;
use crate::auth::{can, guard, Action, Resource};
use crate::crypto::stream::DataKey;
use crate::crypto::{Encrypted, Keyring};
use crate::patients::entity::patient;
use crate::records::notes::entity::visit_note;
use crate::records::notes::model::NoteStatus;
use crate::storage::{Objects, StorageError};
use crate::AppError;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

pub use super::reading::download_name;
pub(crate) use super::reading::{attachments, file_of, in_record, in_record_as, keys_of};
use super::reading::{context, unknown};
pub use super::reading::{list, of_visit, open, DocumentFile};

/// An object older than this without its row is an upload that never finished being recorded.
pub const ORPHAN_AFTER: chrono::Duration = chrono::Duration::hours(1);

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

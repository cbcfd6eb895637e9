//! Documents' rules and storage (server only). An upload is checked before its body is read
//! (who may add to this record, to which visit, what the form says), streamed sealed into object
//! storage, and only then written as a row, in one audited transaction: a refused or cut-off
//! upload leaves no object, and no row ever points at a missing object. An object whose row
//! never landed (the process stopped between the two) is removed by [`sweep`].

use super::entity::{document, object_name, OBJECT_FOLDER};
use super::model::{DocumentDetails, MAX_BYTES};
use super::refusal::DocumentRefusal;
use crate::appointments::entity::appointment;
use crate::appointments::model::VisitStatus;
use crate::auth::context::SignedIn;
use crate::auth::{can, guard, Action, Resource};
use crate::crypto::stream::DataKey;
use crate::crypto::Keyring;
use crate::patients::entity::patient;
use crate::records::notes::entity::visit_note;
use crate::records::notes::model::NoteStatus;
use crate::storage::{Objects, StorageError};
use crate::AppError;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub use super::reading::download_name;
use super::reading::unknown;
pub(crate) use super::reading::{attachments, file_of, in_record, in_record_as, keys_of};
pub use super::reading::{list, of_visit, open, DocumentFile};
pub(crate) use super::rows::{insert, StoredObject};
pub use super::rows::{NewDocument, NewFile};

/// An object older than this without its row is an upload that never finished being recorded.
pub const ORPHAN_AFTER: chrono::Duration = chrono::Duration::hours(1);

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

fn refusal_of(error: StorageError) -> AppError {
    match error {
        StorageError::TooLarge { .. } => DocumentRefusal::TooLarge.into(),
        StorageError::Interrupted(_) => DocumentRefusal::Interrupted.into(),
        other => AppError::internal(format_args!("storing a document: {other}")),
    }
}

/// Streams `body` (the whole file, first bytes included) sealed into storage under a new
/// document id. An empty or oversized file is refused, and nothing of it remains.
pub(crate) async fn put<E: std::fmt::Display>(
    objects: &Objects,
    body: impl Stream<Item = Result<Bytes, E>>,
) -> Result<StoredObject, AppError> {
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let key = DataKey::generate();
    let size = objects
        .put_sealed(&object_name(&public_id), &key, body, MAX_BYTES)
        .await
        .map_err(refusal_of)?;
    let stored = StoredObject {
        public_id,
        key,
        size,
    };
    if size == 0 {
        discard(objects, &stored).await;
        return Err(DocumentRefusal::NoFile.into());
    }
    Ok(stored)
}

/// Removes the object of an upload whose row was not written.
pub(crate) async fn discard(objects: &Objects, stored: &StoredObject) {
    let name = object_name(&stored.public_id);
    if let Err(e) = objects.delete(&name).await {
        // The sweeper removes it later.
        tracing::warn!(error = %e, object = %name, "could not remove a refused upload's object");
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
    let stored = put(objects, body).await?;
    if let Err(error) = record(me, destination, &stored, details, file).await {
        discard(objects, &stored).await;
        return Err(error);
    }
    Ok(stored.public_id)
}

async fn record(
    me: &SignedIn,
    destination: &Destination,
    stored: &StoredObject,
    details: DocumentDetails,
    file: NewFile,
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
        public_id: &stored.public_id,
        patient_id: destination.patient.id,
        appointment_id: destination.visit.as_ref().map(|v| v.id),
        details,
        file,
        size: stored.size,
        by: me.auth.user_id,
        at: me.now(),
    };
    insert(permit.txn(), me.keyring(), &stored.key, row).await?;
    permit.commit().await
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
    insert(conn, keyring, &key, row).await.map(|_| ())
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

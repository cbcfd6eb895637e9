//! Writing and opening a document's row (server only), with nothing else: what the record's
//! documents and a message's files share. The label and the data key are sealed bound to the
//! document's public id.

use super::entity::document;
use super::model::{DocumentDetails, MediaType};
use crate::crypto::stream::DataKey;
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

pub(super) fn sealing_failed(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing a document: {e}"))
}

/// A file sealed into storage whose row is still to be written.
pub(crate) struct StoredObject {
    pub public_id: String,
    pub key: DataKey,
    pub size: u64,
}

/// The file as it came: its name and the type its bytes showed.
pub struct NewFile {
    pub file_name: String,
    pub media_type: MediaType,
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

/// Writes document `row`, whose object is sealed with `key`. Returns its row id.
pub(crate) async fn insert(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    key: &DataKey,
    row: NewDocument<'_>,
) -> Result<i32, AppError> {
    let label = document::Label {
        title: super::model::title_for(&row.details.title, &row.file.file_name, row.details.kind),
        file_name: row.file.file_name,
    };
    let inserted = document::ActiveModel {
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
    Ok(inserted.id)
}

pub(crate) fn open_label(
    keyring: &Keyring,
    row: &document::Model,
) -> Result<document::Label, AppError> {
    row.label
        .open(keyring, &context("label", &row.public_id))
        .map_err(|e| AppError::internal(format_args!("opening document {}: {e}", row.id)))
}

pub(crate) fn context<'a>(column: &'static str, public_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        table: "document",
        column,
        row: public_id,
    }
}

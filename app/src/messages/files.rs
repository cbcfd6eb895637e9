//! A message's files (server only): each is a document of the patient's record, sealed in the
//! document store like every other; `message_attachment` says which message brought it. Filed
//! inside the message's own write, and read with the conversation.

use super::entity::message_attachment;
use super::model::MessageFile;
use crate::auth::context::SignedIn;
use crate::patients::entity::patient;
use crate::records::documents::entity::document;
use crate::records::documents::model::{human_size, DocumentDetails, DocumentKind, MediaType};
use crate::records::documents::rows::{insert, open_label, NewDocument, NewFile, StoredObject};
use crate::AppError;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;

/// A file sealed into storage, to be filed with its message.
pub struct Attached {
    pub(super) stored: StoredObject,
    pub(super) file_name: String,
    pub(super) media_type: MediaType,
    /// Today in the practice's time zone: the document's date.
    pub(super) date: chrono::NaiveDate,
}

/// Files `file` in `patient`'s record as a document of message `message`, inside the
/// message's write.
pub(super) async fn file_with(
    txn: &DatabaseTransaction,
    me: &SignedIn,
    patient: &patient::Model,
    message: i32,
    file: &Attached,
) -> Result<(), AppError> {
    let kind = match file.media_type {
        MediaType::Jpeg | MediaType::Png => DocumentKind::Photo,
        MediaType::Pdf => DocumentKind::Other,
    };
    let document = insert(
        txn,
        me.keyring(),
        &file.stored.key,
        NewDocument {
            public_id: &file.stored.public_id,
            patient_id: patient.id,
            appointment_id: None,
            details: DocumentDetails {
                kind,
                date: file.date,
                title: String::new(),
            },
            file: NewFile {
                file_name: file.file_name.clone(),
                media_type: file.media_type,
            },
            size: file.stored.size,
            by: me.auth.user_id,
            at: me.now(),
        },
    )
    .await?;
    message_attachment::Entity::insert(message_attachment::ActiveModel {
        message_id: Set(message),
        document_id: Set(document),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The files of messages `messages`, by message row id, inside a read already permitted.
pub(super) async fn files_of(
    conn: &impl ConnectionTrait,
    keyring: &crate::crypto::Keyring,
    messages: Vec<i32>,
) -> Result<HashMap<i32, Vec<MessageFile>>, AppError> {
    let mut by_message: HashMap<i32, Vec<MessageFile>> = HashMap::new();
    if messages.is_empty() {
        return Ok(by_message);
    }
    let links = message_attachment::Entity::find()
        .filter(message_attachment::Column::MessageId.is_in(messages))
        .all(conn)
        .await?;
    if links.is_empty() {
        return Ok(by_message);
    }
    let documents: HashMap<i32, document::Model> = document::Entity::find()
        .filter(document::Column::Id.is_in(links.iter().map(|l| l.document_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    for link in links {
        // A document removed from the record leaves its message without it.
        let Some(row) = documents.get(&link.document_id) else {
            continue;
        };
        let label = open_label(keyring, row)?;
        let size = u64::try_from(row.size_bytes).unwrap_or(0);
        by_message
            .entry(link.message_id)
            .or_default()
            .push(MessageFile {
                public_id: row.public_id.clone(),
                title: label.title,
                about: format!("{} · {}", row.media_type.label(), human_size(size)),
            });
    }
    Ok(by_message)
}

//! A signed visit note handed out as a file (R4.3): one audited read by whoever may read the
//! patient's chart (the patient, their physician). Drafts are never exported: only a signed
//! note is part of the record.

use super::entity::visit_note;
use super::model::{NoteBody, NoteStatus};
use super::pdf::{render, NoteDocument};
use crate::appointments::service::changes::open_visit;
use crate::appointments::service::schedule::practice_time_zone;
use crate::auth::context::SignedIn;
use crate::auth::{Action, Resource};
use crate::site::model::Practice;
use crate::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A file to download: its name and bytes.
pub struct NoteFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Visit `visit`'s signed note as PDF, with `practice`'s letterhead.
pub async fn note_pdf(
    me: &SignedIn,
    visit: &str,
    practice: &Practice,
) -> Result<NoteFile, AppError> {
    let open = open_visit(me, visit, Action::Read, "visit_note.pdf", |patient_id| {
        Resource::PatientChart { patient_id }
    })
    .await?;
    let keyring = me.keyring();
    let txn = open.permit.txn();
    let Some(note) = visit_note::Entity::find()
        .filter(visit_note::Column::AppointmentId.eq(open.row.id))
        .filter(visit_note::Column::Status.eq(NoteStatus::Signed))
        .one(txn)
        .await?
    else {
        return Err(AppError::NotFound("A signed note of that visit".into()));
    };
    let tz = practice_time_zone(txn).await?;
    let page = super::service::filed_one(txn, keyring, tz, note).await?;
    let NoteBody::Signed(content) = page.body else {
        return Err(AppError::internal("a signed note without its signed text"));
    };
    let born = crate::patients::service::open_profile(keyring, &open.patient)?.date_of_birth;
    let when = open.row.starts_at.with_timezone(&tz);
    let document = NoteDocument {
        practice_name: practice.name.clone(),
        practice_lines: practice.letterhead(),
        patient_name: crate::patients::service::legal_name(keyring, &open.patient)?,
        patient_line: format!("Date of birth: {}", born.format("%B %-d, %Y")),
        visit: format!(
            "{} - {}",
            when.format("%A, %B %-d, %Y, %-I:%M %P"),
            open.row.visit_type.label()
        ),
        content,
        signed: page
            .signed
            .map(|(by, at)| format!("Signed by {by} on {at}."))
            .unwrap_or_default(),
        addenda: page
            .addenda
            .into_iter()
            .map(|a| (a.text, format!("Added by {} on {}.", a.by, a.when)))
            .collect(),
    };
    let bytes = render(&document).map_err(|e| AppError::internal(format_args!("note PDF: {e}")))?;
    let file_name = format!("visit-note-{}.pdf", when.format("%Y-%m-%d"));
    open.permit.commit().await?;
    Ok(NoteFile { file_name, bytes })
}

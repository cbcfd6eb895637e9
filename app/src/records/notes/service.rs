//! Visit notes' rules and database work (server only). A note is written by whoever may write
//! the patient's chart (the physician), saved as a draft as often as needed (each save names the
//! version it was made from; an older one is refused, never written over), and signed once:
//! signing files it in the record, completes the visit (its follow-up email, any fee) and tells
//! the patient, without health details. A signed note never changes; addenda correct it. A
//! patient reads their signed notes; nobody but the practice sees a draft. Every read and write
//! is one audited access (P9).

use super::entity::{visit_note, visit_note_addendum};
use super::model::{
    Addendum, FiledNote, NoteBody, NoteContent, NoteDraft, NotePage, NoteSaved, NoteStatus,
    NoteVisit, VisitNote,
};
use super::refusal::NoteRefusal;
use crate::appointments::entity::appointment;
use crate::appointments::model::VisitStatus;
use crate::appointments::service::booking::refusal_recorded;
use crate::appointments::service::changes::{
    mark_completed, open_visit, why_not_completed, OpenVisit,
};
use crate::appointments::service::schedule::practice_time_zone;
use crate::appointments::service_messages::FOLLOW_UP_WEEKS;
use crate::auth::context::SignedIn;
use crate::auth::{can, Action, Resource};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::entity::patient;
use crate::patients::service::{open_patient, OpenPatient};
use crate::records::documents::service::attachments;
use crate::{AppError, Refusal};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

fn content_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "visit_note",
        column: "content",
        row: public_id,
    }
}

fn addendum_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "visit_note_addendum",
        column: "text",
        row: public_id,
    }
}

fn seal(
    keyring: &Keyring,
    public_id: &str,
    body: &NoteBody,
) -> Result<Encrypted<NoteBody>, AppError> {
    Encrypted::seal(keyring, &content_context(public_id), body)
        .map_err(|e| AppError::internal(format_args!("sealing a visit note: {e}")))
}

/// "December 1, 2026, 4:10 pm" in `tz`.
fn when(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz)
        .format("%B %-d, %Y, %-I:%M %P")
        .to_string()
}

/// "4:10 pm" in `tz`.
fn time_of_day(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%-I:%M %P").to_string()
}

fn refused(refusal: NoteRefusal) -> AppError {
    AppError::Refused(Refusal::Note(refusal))
}

/// Whether `me` may write (and so see the drafts of) patient `patient_id`'s chart.
fn writes_chart(me: &SignedIn, patient_id: i32) -> bool {
    can(
        &me.caller.actor,
        Action::Write,
        &Resource::PatientChart { patient_id },
    )
}

/// Refuses (recorded) the change `verb` to `open`'s note with `refusal`.
async fn refuse(me: &SignedIn, verb: &str, open: OpenVisit, refusal: AppError) -> AppError {
    let OpenVisit {
        row,
        patient,
        permit,
    } = open;
    drop(permit);
    refusal_recorded(me, verb, &row, &patient, refusal).await
}

/// Opens visit `visit` for a change to its note by `me` (`verb`), with the note as stored.
/// A cancelled visit has nothing to document, and a signed note does not change.
async fn open_for_change(
    me: &SignedIn,
    visit: &str,
    verb: &str,
) -> Result<(OpenVisit, Option<visit_note::Model>), AppError> {
    let open = open_visit(me, visit, Action::Write, verb, |patient_id| {
        Resource::PatientChart { patient_id }
    })
    .await?;
    if matches!(
        open.row.status,
        VisitStatus::Cancelled | VisitStatus::Offered
    ) {
        return Err(refuse(me, verb, open, refused(NoteRefusal::VisitCancelled)).await);
    }
    let note = visit_note::Entity::find()
        .filter(visit_note::Column::AppointmentId.eq(open.row.id))
        .one(open.permit.txn())
        .await?;
    Ok((open, note))
}

/// Saves `draft` (exactly as typed) as visit `visit`'s note, made from version `at` (`None`:
/// the form had no saved note yet). Refused when the note was saved from elsewhere since, or is
/// signed; a cancelled visit has no note.
pub async fn save_draft(
    me: &SignedIn,
    visit: &str,
    at: Option<i32>,
    draft: &NoteDraft,
) -> Result<NoteSaved, AppError> {
    const VERB: &str = "visit_note.save";
    draft.check_size().map_err(AppError::Validation)?;
    let body = NoteBody::Draft(draft.clone());
    let (open, note) = open_for_change(me, visit, VERB).await?;
    let (keyring, now, by) = (me.keyring(), me.now(), me.auth.user_id);
    let version = match (note, at) {
        (Some(note), _) if note.status == NoteStatus::Signed => {
            return Err(refuse(me, VERB, open, refused(NoteRefusal::Signed)).await);
        }
        (None, None) => {
            let public_id = uuid::Uuid::new_v4().simple().to_string();
            let inserted = visit_note::ActiveModel {
                public_id: Set(public_id.clone()),
                appointment_id: Set(open.row.id),
                patient_id: Set(open.row.patient_id),
                status: Set(NoteStatus::Draft),
                version: Set(1),
                content: Set(seal(keyring, &public_id, &body)?),
                author_id: Set(by),
                created_at: Set(now),
                updated_at: Set(now),
                signed_by: Set(None),
                signed_at: Set(None),
                ..Default::default()
            }
            .insert(open.permit.txn())
            .await;
            match inserted.map_err(AppError::from) {
                Ok(_) => 1,
                // Another window started the note first (one note per visit).
                Err(AppError::Conflict(_)) => {
                    return Err(
                        refuse(me, VERB, open, refused(NoteRefusal::ChangedMeanwhile)).await,
                    );
                }
                Err(e) => return Err(e),
            }
        }
        (Some(note), Some(at)) if note.version == at => {
            let written = next_version(keyring, &note, at, &body, now)?
                .exec(open.permit.txn())
                .await?;
            if written.rows_affected != 1 {
                return Err(refuse(me, VERB, open, refused(NoteRefusal::ChangedMeanwhile)).await);
            }
            at + 1
        }
        _ => return Err(refuse(me, VERB, open, refused(NoteRefusal::ChangedMeanwhile)).await),
    };
    let tz = practice_time_zone(open.permit.txn()).await?;
    open.permit.commit().await?;
    Ok(NoteSaved {
        version,
        at: now,
        time: time_of_day(now, tz),
        signed: false,
        not_signed: None,
    })
}

/// The update that makes draft `note`, stored at version `at`, the next version saying `body`.
/// It changes no row unless the note is still a draft at `at`: a save from behind cannot land.
fn next_version(
    keyring: &Keyring,
    note: &visit_note::Model,
    at: i32,
    body: &NoteBody,
    now: DateTime<Utc>,
) -> Result<sea_orm::UpdateMany<visit_note::Entity>, AppError> {
    Ok(visit_note::Entity::update_many()
        .col_expr(visit_note::Column::Version, (at + 1).into())
        .col_expr(
            visit_note::Column::Content,
            sea_orm::Value::from(seal(keyring, &note.public_id, body)?).into(),
        )
        .col_expr(visit_note::Column::UpdatedAt, now.into())
        .filter(visit_note::Column::Id.eq(note.id))
        .filter(visit_note::Column::Version.eq(at))
        .filter(visit_note::Column::Status.eq(NoteStatus::Draft)))
}

/// What signing did: the note's last version, and the follow-up job to run at once (none when
/// the visit had been completed before).
pub struct Signed {
    pub saved: NoteSaved,
    pub follow_up_job: Option<i32>,
}

/// Signs visit `visit`'s note at version `at`: it must say an assessment and a plan, the visit
/// must have started (or been completed already), and nobody saved it since. In one
/// transaction the note becomes immutable, the visit is completed with the note's follow-up
/// (R10.4, R10.5) and the patient is told that a note is in their record (no health details).
pub async fn sign(me: &SignedIn, visit: &str, at: i32) -> Result<Signed, AppError> {
    const VERB: &str = "visit_note.sign";
    let (open, note) = open_for_change(me, visit, VERB).await?;
    let (keyring, now, by) = (me.keyring(), me.now(), me.auth.user_id);
    let note = match note {
        Some(note) if note.status == NoteStatus::Signed => {
            return Err(refuse(me, VERB, open, refused(NoteRefusal::Signed)).await)
        }
        Some(note) if note.version == at => note,
        _ => return Err(refuse(me, VERB, open, refused(NoteRefusal::ChangedMeanwhile)).await),
    };
    let content = match open_body(keyring, &note)? {
        NoteBody::Draft(draft) => match draft.parse(&FOLLOW_UP_WEEKS) {
            Ok(content) => content,
            // Input to fix, not a refusal of the act: the draft stays as it was saved.
            Err(errors) => {
                drop(open);
                return Err(AppError::Validation(errors));
            }
        },
        NoteBody::Signed(_) => {
            return Err(refuse(me, VERB, open, refused(NoteRefusal::Signed)).await)
        }
    };
    let completing = open.row.status == VisitStatus::Booked;
    if completing {
        if let Some(refusal) = why_not_completed(&open.row, now, content.follow_up_weeks) {
            return Err(refuse(me, VERB, open, refusal.into()).await);
        }
    }
    let signed = NoteBody::Signed(content.clone());
    let written = next_version(keyring, &note, at, &signed, now)?
        .col_expr(visit_note::Column::Status, NoteStatus::Signed.into())
        .col_expr(visit_note::Column::SignedBy, Some(by).into())
        .col_expr(visit_note::Column::SignedAt, Some(now).into())
        .exec(open.permit.txn())
        .await?;
    if written.rows_affected != 1 {
        return Err(refuse(me, VERB, open, refused(NoteRefusal::ChangedMeanwhile)).await);
    }
    let txn = open.permit.txn();
    let tz = practice_time_zone(txn).await?;
    if let Some(user_id) = open.patient.user_id {
        let day = open.row.starts_at.with_timezone(&tz).format("%B %-d");
        crate::notifications::service::create(
            txn,
            keyring,
            user_id,
            "Your visit note is ready",
            &format!("Your physician's note and plan from your visit on {day} are in your health record."),
            Some("/portal/notes"),
            now,
        )
        .await?;
    }
    let follow_up_job = if completing {
        Some(mark_completed(txn, open.row, content.follow_up_weeks, now).await?)
    } else {
        None
    };
    open.permit.commit().await?;
    Ok(Signed {
        saved: NoteSaved {
            version: at + 1,
            at: now,
            time: time_of_day(now, tz),
            signed: true,
            not_signed: None,
        },
        follow_up_job,
    })
}

/// Adds `text` to visit `visit`'s signed note as an addendum by `me`.
pub async fn add_addendum(me: &SignedIn, visit: &str, text: &str) -> Result<(), AppError> {
    const VERB: &str = "visit_note.addendum";
    let text =
        crate::domain::BoundedText::<1, { super::model::MAX_PART }>::parse(text, "the addendum")
            .map_err(|message| AppError::field("addendum", message))?;
    let (open, note) = open_for_change(me, visit, VERB).await?;
    let Some(note) = note.filter(|n| n.status == NoteStatus::Signed) else {
        return Err(refuse(me, VERB, open, refused(NoteRefusal::NotSigned)).await);
    };
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let sealed = Encrypted::seal(
        me.keyring(),
        &addendum_context(&public_id),
        &text.as_str().to_owned(),
    )
    .map_err(|e| AppError::internal(format_args!("sealing an addendum: {e}")))?;
    visit_note_addendum::ActiveModel {
        public_id: Set(public_id),
        note_id: Set(note.id),
        text: Set(sealed),
        written_by: Set(me.auth.user_id),
        written_at: Set(me.now()),
        ..Default::default()
    }
    .insert(open.permit.txn())
    .await?;
    open.permit.commit().await
}

fn open_body(keyring: &Keyring, note: &visit_note::Model) -> Result<NoteBody, AppError> {
    note.content
        .open(keyring, &content_context(&note.public_id))
        .map_err(|e| AppError::internal(format_args!("opening visit note {}: {e}", note.id)))
}

/// The note page of visit `visit`: the visit, its note (a draft only for whoever may write the
/// chart) and the patient's allergies. One audited read.
pub async fn note_page(me: &SignedIn, visit: &str) -> Result<NotePage, AppError> {
    let open = open_visit(me, visit, Action::Read, "visit_note.read", |patient_id| {
        Resource::PatientChart { patient_id }
    })
    .await?;
    let keyring = me.keyring();
    let txn = open.permit.txn();
    let can_write = writes_chart(me, open.row.patient_id);
    let tz = practice_time_zone(txn).await?;
    let visit = note_visit(keyring, tz, &open.row, &open.patient)?;
    let stored = visit_note::Entity::find()
        .filter(visit_note::Column::AppointmentId.eq(open.row.id))
        .one(txn)
        .await?
        .filter(|n| can_write || n.status == NoteStatus::Signed);
    let note = match stored {
        Some(note) => Some(filed_one(txn, keyring, tz, note).await?),
        None => None,
    };
    let allergies = crate::records::service::allergies(txn, keyring, open.row.patient_id).await?;
    let attachments = match &note {
        Some(note) => note.attachments.clone(),
        None if can_write => {
            let mut by_visit = attachments(txn, keyring, vec![open.row.id]).await?;
            by_visit.remove(&open.row.id).unwrap_or_default()
        }
        None => Vec::new(),
    };
    open.permit.commit().await?;
    Ok(NotePage {
        visit,
        note,
        allergies,
        attachments,
        can_write,
    })
}

/// Patient `patient`'s notes, newest visit first: signed ones for the patient, and drafts too
/// for whoever may write the chart. One audited read.
pub async fn notes_of(me: &SignedIn, patient: &str) -> Result<Vec<FiledNote>, AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::PatientChart { patient_id },
        "visit_note.list",
    )
    .await?;
    let only_signed = !writes_chart(me, row.id);
    let out = filed_of(permit.txn(), me.keyring(), &row, only_signed).await?;
    permit.commit().await?;
    Ok(out)
}

/// Patient `row`'s notes (signed ones only, or drafts too), newest visit first, inside an access
/// already permitted (the timeline, the portal, the exported record).
pub(crate) async fn filed_of(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    row: &patient::Model,
    only_signed: bool,
) -> Result<Vec<FiledNote>, AppError> {
    let mut query = visit_note::Entity::find().filter(visit_note::Column::PatientId.eq(row.id));
    if only_signed {
        query = query.filter(visit_note::Column::Status.eq(NoteStatus::Signed));
    }
    let notes = query.all(conn).await?;
    let visits: HashMap<i32, appointment::Model> = appointment::Entity::find()
        .filter(appointment::Column::Id.is_in(notes.iter().map(|n| n.appointment_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let tz = practice_time_zone(conn).await?;
    let mut out = Vec::with_capacity(notes.len());
    let opened = filed(conn, keyring, tz, notes.clone()).await?;
    for (stored, note) in notes.iter().zip(opened) {
        let visit = visits
            .get(&stored.appointment_id)
            .ok_or_else(|| AppError::internal("a visit note without its visit"))?;
        out.push(FiledNote {
            visit: note_visit(keyring, tz, visit, row)?,
            note,
        });
    }
    out.sort_by_key(|n| std::cmp::Reverse(n.visit.starts_at));
    Ok(out)
}

/// Note `note` opened, with who signed it and its addenda.
pub(super) async fn filed_one(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    tz: chrono_tz::Tz,
    note: visit_note::Model,
) -> Result<VisitNote, AppError> {
    filed(conn, keyring, tz, vec![note])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("a note lost while opening it"))
}

/// The visit as a note shows it.
fn note_visit(
    keyring: &Keyring,
    tz: chrono_tz::Tz,
    row: &appointment::Model,
    patient: &patient::Model,
) -> Result<NoteVisit, AppError> {
    let reason = crate::appointments::service::calendar::reason_of(keyring, row)?;
    Ok(NoteVisit {
        appointment: row.public_id.clone(),
        patient: patient.public_id.clone(),
        patient_name: crate::patients::service::legal_name(keyring, patient)?,
        starts_at: row.starts_at,
        when: row
            .starts_at
            .with_timezone(&tz)
            .format("%A, %B %-d, %Y, %-I:%M %P")
            .to_string(),
        visit_type: row.visit_type,
        reason,
        completed: row.status == VisitStatus::Completed,
    })
}

/// The notes `rows` opened, with who signed them and their addenda.
async fn filed(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    tz: chrono_tz::Tz,
    rows: Vec<visit_note::Model>,
) -> Result<Vec<VisitNote>, AppError> {
    let addenda = visit_note_addendum::Entity::find()
        .filter(visit_note_addendum::Column::NoteId.is_in(rows.iter().map(|n| n.id)))
        .order_by_asc(visit_note_addendum::Column::Id)
        .all(conn)
        .await?;
    let people = rows
        .iter()
        .filter_map(|n| n.signed_by)
        .chain(addenda.iter().map(|a| a.written_by));
    let names = crate::records::service::names_of(conn, keyring, people).await?;
    let name = |id: i32| names.get(&id).cloned().unwrap_or_default();
    let visits = rows.iter().map(|n| n.appointment_id).collect();
    let mut files = attachments(conn, keyring, visits).await?;
    let mut out = Vec::with_capacity(rows.len());
    for note in rows {
        let mut kept = Vec::new();
        for a in addenda.iter().filter(|a| a.note_id == note.id) {
            let text = a
                .text
                .open(keyring, &addendum_context(&a.public_id))
                .map_err(|e| AppError::internal(format_args!("opening addendum {}: {e}", a.id)))?;
            kept.push(Addendum {
                text,
                by: name(a.written_by),
                at: a.written_at,
                when: when(a.written_at, tz),
            });
        }
        out.push(VisitNote {
            body: open_body(keyring, &note)?,
            signed: note
                .signed_by
                .zip(note.signed_at)
                .map(|(by, at)| (name(by), when(at, tz))),
            updated: when(note.updated_at, tz),
            public_id: note.public_id,
            status: note.status,
            version: note.version,
            updated_at: note.updated_at,
            addenda: kept,
            attachments: files.remove(&note.appointment_id).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Files a signed note for visit `row` outside a person's request: the demo practice's notes.
/// Not audited as an access (nobody read or typed it); it names who signed it.
pub async fn file_signed(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    row: &appointment::Model,
    by: i32,
    content: &NoteContent,
    signed_at: DateTime<Utc>,
) -> Result<(), AppError> {
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    visit_note::ActiveModel {
        content: Set(seal(
            keyring,
            &public_id,
            &NoteBody::Signed(content.clone()),
        )?),
        public_id: Set(public_id),
        appointment_id: Set(row.id),
        patient_id: Set(row.patient_id),
        status: Set(NoteStatus::Signed),
        version: Set(1),
        author_id: Set(by),
        created_at: Set(signed_at),
        updated_at: Set(signed_at),
        signed_by: Set(Some(by)),
        signed_at: Set(Some(signed_at)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

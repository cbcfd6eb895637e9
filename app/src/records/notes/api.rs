//! Visit notes' server functions: thin, every one through the policy and the audit log. Saving
//! serves the hydrated page's autosave, its *Save draft* and *Sign* buttons, and a plain form
//! post without JavaScript (which comes back to the note page saying what happened).

use super::model::{FiledNote, NoteDraft, NotePage, NoteSaved};
use crate::AppError;
use leptos::prelude::*;

/// Visit `visit`'s note page: the visit, its note and the patient's allergies.
#[server(endpoint = "records/notes/page")]
pub async fn load_note_page(visit: String) -> Result<NotePage, AppError> {
    use crate::auth::api::context;
    super::service::note_page(&context::signed_in()?, &visit).await
}

/// Patient `patient`'s visit notes, newest first (drafts only for the practice).
#[server(endpoint = "records/notes")]
pub async fn load_notes(patient: String) -> Result<Vec<FiledNote>, AppError> {
    use crate::auth::api::context;
    super::service::notes_of(&context::signed_in()?, &patient).await
}

/// The signed-in patient's own signed visit notes (none for an account without a record).
#[server(endpoint = "records/my-notes")]
pub async fn load_my_notes() -> Result<Vec<FiledNote>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(patient) = me.auth.patient_public_id.clone() else {
        return Ok(Vec::new());
    };
    super::service::notes_of(&me, &patient).await
}

/// The note page of `visit`, where a plain post comes back to.
pub fn note_address(visit: &str) -> String {
    format!("/dashboard/visits/{}/note", crate::ui::url_encode(visit))
}

/// Saves visit `visit`'s note as typed (`version`: the one the form was filled in from, empty
/// for a new note), and with `sign` set signs it: the draft is saved first, so a note that is
/// not ready to sign loses nothing.
#[server(endpoint = "records/notes/save")]
pub async fn save_visit_note(
    visit: String,
    version: String,
    #[server(default)] note: NoteDraft,
    #[server(default)] sign: Option<String>,
) -> Result<NoteSaved, AppError> {
    use crate::auth::api::context;
    let saved = async {
        let me = context::signed_in()?;
        let at = super::model::parse_version(&version).map_err(AppError::Validation)?;
        let saved = super::service::save_draft(&me, &visit, at, &note).await?;
        if sign.is_none() {
            return Ok(saved);
        }
        match super::service::sign(&me, &visit, saved.version).await {
            Ok(signed) => {
                if let Some(job) = signed.follow_up_job {
                    me.run_soon(job, "follow-up");
                }
                Ok(signed.saved)
            }
            // The draft is saved either way; why it was not signed goes back with it.
            Err(error @ (AppError::Validation(_) | AppError::Refused(_))) => Ok(NoteSaved {
                not_signed: Some(error),
                ..saved
            }),
            Err(error) => Err(error),
        }
    }
    .await;
    let page = note_address(&visit);
    context::answer_write(
        saved,
        |saved| match (&saved.not_signed, saved.signed) {
            (Some(why), _) => format!("{page}?saved=1&{}", crate::ui::problem_in_address(why)),
            (None, true) => format!("{page}?signed=1"),
            (None, false) => format!("{page}?saved=1"),
        },
        |error| format!("{page}?{}", crate::ui::problem_in_address(error)),
    )
}

/// Adds an addendum to visit `visit`'s signed note.
#[server(endpoint = "records/notes/addendum")]
pub async fn add_note_addendum(visit: String, addendum: String) -> Result<(), AppError> {
    use crate::auth::api::context;
    let added = async {
        let me = context::signed_in()?;
        super::service::add_addendum(&me, &visit, &addendum).await
    }
    .await;
    let page = note_address(&visit);
    context::answer_write(
        added,
        |()| format!("{page}?added=1#addenda"),
        |error| format!("{page}?{}#addenda", crate::ui::problem_in_address(error)),
    )
}

//! Documents' server functions. The upload takes the form as `multipart/form-data` and streams
//! the file: its fields come first (`patient` or `visit`, `kind`, `date`, `title`), then `file`.
//! The same function serves the hydrated page (in place) and a plain post without JavaScript
//! (sent back to the page, which reads the outcome from its address).

use super::model::{DocumentSummary, Documents};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};

/// Patient `patient`'s documents, for whoever may read their chart (audited either way).
#[server(endpoint = "records/documents")]
pub async fn load_documents(patient: String) -> Result<Documents, AppError> {
    use crate::auth::api::context;
    super::service::list(&context::signed_in()?, &patient).await
}

/// The signed-in patient's own documents (`None` for an account without a record).
#[server(endpoint = "records/my-documents")]
pub async fn load_my_documents() -> Result<Option<Documents>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(patient) = me.auth.patient_public_id.clone() else {
        return Ok(None);
    };
    super::service::list(&me, &patient).await.map(Some)
}

/// The files attached to visit `visit`'s note.
#[server(endpoint = "records/documents/of-visit")]
pub async fn load_attachments(visit: String) -> Result<Vec<DocumentSummary>, AppError> {
    use crate::auth::api::context;
    super::service::of_visit(&context::signed_in()?, &visit).await
}

/// Adds a file to a patient's documents, or to a visit's draft note. Returns its public id.
#[server(endpoint = "records/documents/upload", input = MultipartFormData)]
pub async fn upload_document(data: MultipartData) -> Result<String, AppError> {
    use crate::auth::api::context;
    let Some(mut form) = data.into_inner() else {
        return Err(AppError::internal("an upload without its form"));
    };
    let mut fields = super::upload::Fields::default();
    let stored = super::upload::receive(&mut form, &mut fields).await;
    // Whatever is left of the body is read before answering, so the browser, still sending,
    // reads the answer instead of a reset connection (the body is capped at 26 MB).
    super::upload::drain(&mut form).await;
    let page = super::upload::page_of(&fields, &context::authenticated());
    context::answer_write(
        stored,
        |_| format!("{page}?uploaded=1#documents"),
        |error| super::upload::refused_at(&page, error),
    )
}

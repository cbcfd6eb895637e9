//! Reading an upload's form as it streams in (server only): the small fields into memory, with a
//! cap; the file's first bytes to tell its type; the rest straight on to sealed storage.

use super::model::{DocumentDetails, MediaType};
use super::refusal::DocumentRefusal;
use super::service::{destination, store, NewFile};
use crate::auth::api::context;
use crate::auth::service::Authenticated;
use crate::AppError;
use bytes::Bytes;
use multer::{Field, Multipart};

/// Longest value of a field other than the file.
const MAX_FIELD: usize = 1024;

/// The form's fields other than the file.
#[derive(Debug, Default)]
pub struct Fields {
    pub patient: String,
    pub visit: String,
    pub kind: String,
    pub date: String,
    pub title: String,
}

impl Fields {
    fn set(&mut self, name: &str, value: String) {
        match name {
            "patient" => self.patient = value,
            "visit" => self.visit = value,
            "kind" => self.kind = value,
            "date" => self.date = value,
            "title" => self.title = value,
            _ => {}
        }
    }
}

pub(crate) async fn small_text(mut field: Field<'static>) -> Result<String, AppError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| AppError::from(DocumentRefusal::Interrupted))?
    {
        if bytes.len() + chunk.len() > MAX_FIELD {
            return Err(AppError::field(
                &name,
                "This is too long: shorten it and try again.",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::field(&name, "This could not be read as text."))
}

/// Reads the form up to its file and stores the file; `fields` keeps what the form said (the
/// page to come back to is found from it).
pub async fn receive(
    form: &mut Multipart<'static>,
    fields: &mut Fields,
) -> Result<String, AppError> {
    let me = context::signed_in()?;
    let objects = leptos::prelude::use_context::<crate::storage::Objects>()
        .ok_or_else(|| AppError::internal("object storage is not in the context"))?;
    loop {
        let field = form
            .next_field()
            .await
            .map_err(|_| AppError::from(DocumentRefusal::Interrupted))?;
        let Some(mut field) = field else {
            return Err(DocumentRefusal::NoFile.into());
        };
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if name != "file" {
            let value = small_text(field).await?;
            fields.set(&name, value);
            continue;
        }
        let visit = Some(fields.visit.trim()).filter(|v| !v.is_empty());
        let today = today(&me).await?;
        let details = DocumentDetails::parse(&fields.kind, &fields.date, &fields.title, today)
            .map_err(AppError::Validation)?;
        let to = destination(&me, fields.patient.trim(), visit).await?;
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let start = first_bytes(&mut field).await?;
        if start.is_empty() {
            return Err(DocumentRefusal::NoFile.into());
        }
        let media_type = MediaType::sniff(&start).ok_or(DocumentRefusal::WrongType)?;
        let body =
            futures::StreamExt::chain(futures::stream::iter([Ok(Bytes::from(start))]), field);
        let file = NewFile {
            file_name,
            media_type,
        };
        return store(&me, &objects, &to, details, file, body).await;
    }
}

/// The file's first bytes, enough to tell its type (fewer only if it is that short).
pub(crate) async fn first_bytes(field: &mut Field<'static>) -> Result<Vec<u8>, AppError> {
    let mut start = Vec::new();
    while start.len() < MediaType::SNIFF_BYTES {
        match field.chunk().await {
            Ok(Some(chunk)) => start.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(_) => return Err(DocumentRefusal::Interrupted.into()),
        }
    }
    Ok(start)
}

/// Today in the practice's time zone (a document cannot be dated later).
pub(crate) async fn today(
    me: &crate::auth::context::SignedIn,
) -> Result<chrono::NaiveDate, AppError> {
    let zone = crate::appointments::service::schedule::practice_time_zone(me.db()).await?;
    Ok(me.now().with_timezone(&zone).date_naive())
}

/// Reads and drops what is left of the form.
pub async fn drain(form: &mut Multipart<'static>) {
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// Where a plain post comes back to: the visit's note, the patient's own health record, or the
/// patient's page in the dashboard.
pub fn page_of(fields: &Fields, auth: &Option<Authenticated>) -> String {
    let encode = crate::ui::url_encode;
    if !fields.visit.trim().is_empty() {
        return format!("/dashboard/visits/{}/note", encode(fields.visit.trim()));
    }
    let own = auth
        .as_ref()
        .and_then(|a| a.patient_public_id.as_deref())
        .is_some_and(|mine| mine == fields.patient.trim());
    if own || fields.patient.trim().is_empty() {
        "/portal".to_owned()
    } else {
        format!("/dashboard/patients/{}", encode(fields.patient.trim()))
    }
}

/// The address a refused plain post comes back to: the field to fix, or the refusal's code.
pub fn refused_at(page: &str, error: &AppError) -> String {
    match error {
        AppError::Validation(errors) => match errors.0.keys().next() {
            Some(field) => format!(
                "{page}?document_error={}#documents",
                crate::ui::url_encode(field)
            ),
            None => format!("{page}?document_error=form#documents"),
        },
        AppError::Refused(crate::Refusal::Document(refusal)) => {
            format!("{page}?document_refused={}#documents", refusal.code())
        }
        _ => format!("{page}?document_error=failed#documents"),
    }
}

//! The records routes that are not page actions: downloads (a signed visit note as a PDF, for
//! the patient at `/portal/notes/{visit}.pdf` and the practice at
//! `/dashboard/visits/{visit}/note.pdf`; a document's file at `/portal/documents/{id}` and
//! `/dashboard/documents/{id}`), and the sweeper of objects whose upload was never recorded.
//! The gate keeps each route to its area's roles; the service asks the policy and audits the
//! read.

use crate::state::AppState;
use app::audit::service::ClientInfo;
use app::auth::context::SignedIn;
use app::auth::service::Authenticated;
use app::AppError;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

pub fn routes() -> crate::area::Area {
    crate::area::Area::new()
        .get("/portal/notes/{file}", patient_note_pdf)
        .get("/dashboard/visits/{visit}/note.pdf", practice_note_pdf)
        .get("/portal/documents/{id}", document_file)
        .get("/dashboard/documents/{id}", document_file)
        .get("/portal/record.pdf", export::my_record_pdf)
        .get(
            "/dashboard/patients/{id}/record.pdf",
            export::patient_record_pdf,
        )
        .get("/portal/documents.zip", export::my_documents_zip)
        .get("/portal/my-data.json", export::my_data)
        .get("/fhir/Patient/{id}/$everything", export::fhir_everything)
        .link_post("/shl/{secret}", share::shl_manifest)
        .preflight("/shl/{secret}", share::shl_preflight)
        .get("/shl/{secret}/files/{pass}", share::shl_file)
        .get(SHARED_RECORD_PAGE, share::viewer)
        .post(SHARED_RECORD_PAGE, share::open_in_viewer)
        .post(SHARED_FILE, share::shared_file)
        .get(
            "/dashboard/patients/{id}/documents.zip",
            export::patient_documents_zip,
        )
}

mod export;
mod share;

/// The viewer page of a share link, for recipients without an app (its handlers render it).
pub const SHARED_RECORD_PAGE: &str = "/shl/{secret}/view";
/// A shared record's file, asked for from the viewer page (see `SharedRecord::files_at`).
pub const SHARED_FILE: &str = "/shl/{secret}/view/files/{document}";

/// A file to download, never shown in the site's pages.
fn attachment(content_type: &str, file_name: &str, body: axum::body::Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_owned(),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Every hour, removes documents' objects whose row never landed (see
/// `app::records::documents::service::sweep`).
pub async fn sweep_periodically(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = state.identity.now();
        match app::records::documents::service::sweep(&state.db, &state.objects, now).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "swept unrecorded uploads"),
            Err(e) => tracing::warn!(error = %e, "could not sweep unrecorded uploads"),
        }
    }
}

/// The person behind the request, fully signed in.
pub(crate) fn signed_in(
    state: &AppState,
    auth: Option<Extension<Authenticated>>,
    client: &ClientInfo,
) -> Option<SignedIn> {
    auth.and_then(|Extension(auth)| SignedIn::new(state.identity.clone(), auth, client, None))
}

/// Document `id`'s file, opened as it streams out: one audited read by whoever may read the
/// patient's chart. A file that does not open (changed in the bucket) fails before any byte is
/// sent when its first frame is bad, and is cut off (never completed) when a later one is.
async fn document_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    let Some(me) = signed_in(&state, auth, &client) else {
        return AppError::Unauthorized.into_response();
    };
    match app::records::documents::service::open(&me, &id).await {
        Ok(file) => stream_document(&state, file).await,
        Err(error) => error.into_response(),
    }
}

/// `file`, opened as it streams out, as a download.
pub(crate) async fn stream_document(
    state: &AppState,
    file: app::records::documents::service::DocumentFile,
) -> Response {
    let stream = match state.objects.open(&file.object, &file.key).await {
        Ok(stream) => stream,
        Err(e) => {
            return AppError::internal(format_args!("opening {}: {e}", file.object)).into_response()
        }
    };
    let mut stream = Box::pin(stream);
    // The first piece is read before answering, so a damaged object is a clear error.
    let first = match futures::StreamExt::next(&mut stream).await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => {
            return AppError::internal(format_args!("reading {}: {e}", file.object)).into_response()
        }
        None => bytes::Bytes::new(),
    };
    let body = futures::StreamExt::chain(futures::stream::iter([Ok(first)]), stream);
    (
        [
            (header::CONTENT_TYPE, file.media_type.mime().to_owned()),
            (header::CONTENT_LENGTH, file.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.download_name),
            ),
            // Never shown inside the site's own pages, whatever the file holds.
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_owned(),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

async fn patient_note_pdf(
    State(state): State<AppState>,
    Path(file): Path<String>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    match file.strip_suffix(".pdf") {
        Some(visit) => note_pdf(&state, visit, auth, &client).await,
        None => AppError::NotFound("That file".into()).into_response(),
    }
}

async fn practice_note_pdf(
    State(state): State<AppState>,
    Path(visit): Path<String>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    note_pdf(&state, &visit, auth, &client).await
}

/// Visit `visit`'s signed note as a PDF attachment, for whoever may read the patient's chart.
async fn note_pdf(
    state: &AppState,
    visit: &str,
    auth: Option<Extension<Authenticated>>,
    client: &ClientInfo,
) -> Response {
    let Some(me) = signed_in(state, auth, client) else {
        return AppError::Unauthorized.into_response();
    };
    let Some(site) = state.site.current() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    match app::records::notes::export::note_pdf(&me, visit, &site.practice).await {
        Ok(file) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", file.file_name),
                ),
            ],
            file.bytes,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

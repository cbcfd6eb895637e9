//! The records routes that are not page actions: a signed visit note as a PDF download, for the
//! patient (`/portal/notes/{visit}.pdf`) and the practice (`/dashboard/visits/{visit}/note.pdf`).
//! The gate keeps each to its area's roles; the service asks the policy and audits the read.

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
    let Some(me) =
        auth.and_then(|Extension(auth)| SignedIn::new(state.identity.clone(), auth, client, None))
    else {
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

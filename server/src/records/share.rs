//! A SMART Health Link's two doors: the manifest a recipient's app posts for, and the viewer page
//! for a person with a browser.
//!
//! `POST /shl/{secret}`: the manifest, for a recipient's app. No session: the
//! 256-bit secret in the address (and the passcode, when the link has one) is the access. As
//! the specification says: 404 when the link is unknown or no longer active, 401 with
//! `remainingAttempts` for a wrong passcode, otherwise the files (one FHIR Bundle, as compact
//! JWE under the link's key). Never cached.

use crate::plain_form::PlainForm;
use crate::state::{render_page, AppState};
use app::audit::service::ClientInfo;
use app::records::share::model::SharedView;
use app::records::share::service::{manifest, ManifestAnswer, ManifestRequest};
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

/// Any site's page may ask (SHL apps run in browsers too); no cookie is sent or read.
const ANY_ORIGIN: (header::HeaderName, &str) = (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");

/// `OPTIONS /shl/{secret}`: the browser's preflight before a cross-origin JSON post.
pub async fn shl_preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            ANY_ORIGIN,
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response()
}

pub async fn shl_manifest(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Extension(client): Extension<ClientInfo>,
    body: Result<Json<ManifestRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(request)) = body else {
        return (
            StatusCode::BAD_REQUEST,
            [ANY_ORIGIN],
            "Send a JSON body with at least \"recipient\".",
        )
            .into_response();
    };
    let no_store = [(header::CACHE_CONTROL, "no-store"), ANY_ORIGIN];
    match manifest(
        &state.identity,
        &client,
        &secret,
        &request,
        &state.settings.public_url,
    )
    .await
    {
        Ok(ManifestAnswer::Files(files)) => (no_store, Json(files)).into_response(),
        Ok(ManifestAnswer::Closed) => (
            StatusCode::NOT_FOUND,
            no_store,
            Json(serde_json::json!({ "error": "This link is no longer active." })),
        )
            .into_response(),
        Ok(ManifestAnswer::WrongPasscode { remaining }) => (
            StatusCode::UNAUTHORIZED,
            no_store,
            Json(serde_json::json!({ "remainingAttempts": remaining })),
        )
            .into_response(),
        Err(error) => ([ANY_ORIGIN], error.into_response()).into_response(),
    }
}

/// `GET /shl/{secret}/files/{pass}`: a document's file, where the manifest's `location` said:
/// a compact JWE under the link's key (a FHIR Bundle with the `DocumentReference` and its bytes),
/// while the link opens and for an hour after the manifest was given; else 404.
pub async fn shl_file(
    State(state): State<AppState>,
    Path((secret, pass)): Path<(String, String)>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    use app::records::share::files::file_for_app;
    let no_store = [(header::CACHE_CONTROL, "no-store"), ANY_ORIGIN];
    let found = match file_for_app(&state.identity, &client, &secret, &pass).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                no_store,
                Json(serde_json::json!({ "error": "This file is no longer available." })),
            )
                .into_response()
        }
        Err(error) => return ([ANY_ORIGIN], error.into_response()).into_response(),
    };
    let bytes = match state
        .objects
        .read_all(&found.file.object, &found.file.key)
        .await
    {
        Ok(bytes) => bytes,
        Err(e) => {
            return app::AppError::internal(format_args!("reading {}: {e}", found.file.object))
                .into_response()
        }
    };
    let sealed = found.seal(&bytes, &state.settings.public_url, state.identity.now());
    (
        no_store,
        [(header::CONTENT_TYPE, "application/jose")],
        sealed,
    )
        .into_response()
}

/// `GET /shl/{secret}/view`: the viewer's form (or why the link opens nothing: 410, or 404).
/// Opens nothing and keeps no use.
pub async fn viewer(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    match app::records::share::opening::glance(&state.identity, &secret).await {
        Ok(view) => show(&state, parts, view).await,
        Err(error) => error.into_response(),
    }
}

/// What the viewer's form sends.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ViewerForm {
    recipient: String,
    passcode: String,
}

/// `POST /shl/{secret}/view`: opens the record for the person named in the form (kept, and shown
/// to the patient), or shows the form again with what to fix.
pub async fn open_in_viewer(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    form: PlainForm<ViewerForm>,
) -> Response {
    let opened = app::records::share::opening::open_in_browser(
        &state.identity,
        &form.client,
        &secret,
        &form.form.recipient,
        &form.form.passcode,
    )
    .await;
    match opened {
        Ok(view) => show(&state, form.parts, view).await,
        Err(error) => error.into_response(),
    }
}

/// What a viewer's download button sends: the pass the record's page was given.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct FileForm {
    viewing: String,
}

/// `POST /shl/{secret}/view/files/{document}`: one of the shared record's files, for the viewer
/// who opened it within the hour (kept as a use, and shown to the patient); else the viewer page
/// saying why, or 404 for a file the link does not share.
pub async fn shared_file(
    State(state): State<AppState>,
    Path((secret, document)): Path<(String, String)>,
    form: PlainForm<FileForm>,
) -> Response {
    use app::records::share::files::{file_in_browser, SharedFile};
    let found = file_in_browser(
        &state.identity,
        &form.client,
        &secret,
        &form.form.viewing,
        &document,
    )
    .await;
    match found {
        Ok(SharedFile::File(file)) => {
            let mut response = super::stream_document(&state, file).await;
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Ok(SharedFile::View(view)) => {
            // Shown at the viewer's own address (the page the router draws there).
            let mut parts = form.parts;
            if let Ok(uri) = format!("/shl/{secret}/view").parse() {
                parts.uri = uri;
            }
            show(&state, parts, view).await
        }
        Ok(SharedFile::NotShared) => app::AppError::NotFound("That file".into()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Renders the viewer page with `view` and the status it calls for. Never cached, never indexed,
/// and it sends no address on to the pages it links to.
async fn show(state: &AppState, parts: http::request::Parts, view: SharedView) -> Response {
    let status = match &view {
        SharedView::Unknown => StatusCode::NOT_FOUND,
        SharedView::Ended(_) => StatusCode::GONE,
        SharedView::Ask(ask) if ask.errors.get("passcode").is_some() => StatusCode::UNAUTHORIZED,
        SharedView::Ask(ask) if !ask.errors.is_empty() => StatusCode::UNPROCESSABLE_ENTITY,
        SharedView::Ask(_) | SharedView::Record(_) => StatusCode::OK,
    };
    let mut response = render_page(state, parts, view, status).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

//! `POST /shl/{secret}`: a SMART Health Link's manifest, for a recipient's app. No session: the
//! 256-bit secret in the address (and the passcode, when the link has one) is the access. As
//! the specification says: 404 when the link is unknown or no longer active, 401 with
//! `remainingAttempts` for a wrong passcode, otherwise the files (one FHIR Bundle, as compact
//! JWE under the link's key). Never cached.

use crate::state::AppState;
use app::audit::service::ClientInfo;
use app::records::share::service::{manifest, ManifestAnswer, ManifestRequest};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

pub async fn shl_manifest(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Extension(client): Extension<ClientInfo>,
    body: Result<Json<ManifestRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(request)) = body else {
        return (
            StatusCode::BAD_REQUEST,
            "Send a JSON body with at least \"recipient\".",
        )
            .into_response();
    };
    let no_store = [(header::CACHE_CONTROL, "no-store")];
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
        Err(error) => error.into_response(),
    }
}

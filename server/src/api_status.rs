//! The status of a server function's refusal. Leptos answers every error of a server function
//! 500 (only a write through `context::answer_write` sets its own), so a read that returns its
//! error as it is, or a form that did not fit the function's arguments (decoded before the
//! function runs), would say "server error" for a 403 or a 422. This layer
//! reads such an answer's body back as the `AppError` it is and gives it that error's status, so
//! every client (and the access logs) sees what happened. Internal errors stay 500.

use app::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;

/// Errors are a few hundred bytes; anything larger is not one of ours and is passed on as is.
const LARGEST_ERROR: usize = 64 * 1024;

pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, LARGEST_ERROR).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

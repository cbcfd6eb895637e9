//! The plain HTML forms of the pages that do not hydrate (contact, join, sign-in, the account
//! pages: DECISIONS #1, #9). Every handler of such a form starts from one extractor,
//! [`PlainForm`]: the parsed form, who is asking (the client, and the session when there is
//! one). A refused form is shown again one way, [`PlainForm::show_again`]: the page rendered at
//! the form's own address with what was typed and the messages (field errors keyed by field
//! name), and the status that says why. Success redirects (post/redirect/get).

use crate::state::{render_page, AppState};
use app::audit::service::ClientInfo;
use app::auth::service::Authenticated;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::Form;
use http::{header, request::Parts, StatusCode};
use serde::de::DeserializeOwned;

/// A posted form with who posted it.
pub struct PlainForm<T> {
    /// What was posted (each form's fields default to empty: a missing field is a field
    /// error, not a broken request).
    pub form: T,
    /// The client address and browser, as the session gate found them.
    pub client: ClientInfo,
    /// The session behind the request, at whatever stage (the handler decides what it needs).
    pub auth: Option<Authenticated>,
    /// The request the form came with (its address and headers: the page to render again).
    pub parts: Parts,
}

impl<T, S> FromRequest<S> for PlainForm<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let Form(form) = Form::<T>::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| {
                (
                    StatusCode::BAD_REQUEST,
                    format!(
                        "This form could not be read ({}). Reload the page and send it again.",
                        rejection.body_text()
                    ),
                )
                    .into_response()
            })?;
        Ok(PlainForm {
            form,
            client: parts
                .extensions
                .get::<ClientInfo>()
                .cloned()
                .unwrap_or_default(),
            auth: parts.extensions.get::<Authenticated>().cloned(),
            parts,
        })
    }
}

impl<T> PlainForm<T> {
    /// The session behind the form, or the way to sign in first (a handler returning
    /// `Result<Response, Response>` ends there with `?`).
    // The error is the handler's answer, returned at once (axum's `Result<Response, Response>`).
    #[allow(clippy::result_large_err)]
    pub fn session(&self) -> Result<Authenticated, Response> {
        self.auth
            .clone()
            .ok_or_else(|| axum::response::Redirect::to("/signin").into_response())
    }

    /// Renders the form's page again with `page` (what was typed and the messages) and
    /// `status` (422 for input to fix, 429 when over a limit, …).
    pub async fn show_again<P: Clone + Send + Sync + 'static>(
        &self,
        state: &AppState,
        page: P,
        status: StatusCode,
    ) -> Response {
        render_page(state, self.parts.clone(), page, status).await
    }
}

/// Adds `Retry-After: seconds` to a refusal over a limit.
pub fn retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = seconds.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

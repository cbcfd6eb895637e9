//! Security headers on every response, and the per-response CSP nonce.

use axum::{extract::Request, extract::State, middleware::Next, response::Response};
use http::{header, HeaderValue};

/// The nonce of one response: Leptos puts it on its inline hydration script, and the
/// Content-Security-Policy allows exactly that script and no other inline code.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Send `Strict-Transport-Security` (whenever patients reach the site by https).
    pub hsts: bool,
}

/// The policy for one response: scripts only from this origin or carrying `nonce`, WebAssembly
/// compilation for the portal bundle, nothing framed, no plugins, forms posted only here.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         media-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

pub async fn security_headers(
    State(config): State<SecurityHeaders>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A response that set its own (stricter) policy keeps it: a downloaded file is sandboxed.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Health data lives behind these URLs: never leak a path to another site. A response that
    // set a stricter one keeps it (a share link's viewer sends its address to no page at all).
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static(
            "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
        ),
    );
    if config.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The largest request body any route takes (forms, server functions), except the upload of a
/// file ([`MAX_UPLOAD_BODY_BYTES`]).
pub const MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;

/// The upload's body: the largest file the record takes and room for the form around it.
pub const MAX_UPLOAD_BODY_BYTES: u64 = app::records::documents::model::MAX_BYTES + 1024 * 1024;

/// The routes that take a file: a document's upload, a message with a file.
fn is_upload(path: &str) -> bool {
    path == app::records::documents::model::UPLOAD_PATH || path == app::messages::model::ATTACH_PATH
}

/// The upload takes only a `multipart/form-data` body with its boundary (the form reader
/// cannot read another, and would fail badly): anything else is answered 415. Inside the
/// session gate, so a cross-site post is refused as such first.
pub async fn upload_is_multipart(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    if is_upload(request.uri().path()) {
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| multer::parse_boundary(v).is_ok());
        if !multipart {
            return (
                http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the file as a multipart/form-data form.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// How long a request may take to be answered (its body streamed out after that is not
/// limited): 30 seconds, and 15 minutes for an upload (25 MB over a slow phone connection).
pub async fn time_limit(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let limit = if is_upload(request.uri().path()) {
        std::time::Duration::from_secs(15 * 60)
    } else {
        std::time::Duration::from_secs(30)
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The upload's body is streamed on, never gathered: counted as it passes, and cut off (the
/// upload then fails and leaves nothing) once it passes [`MAX_UPLOAD_BODY_BYTES`].
async fn limit_upload_body(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    use futures::StreamExt;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_UPLOAD_BODY_BYTES) {
        return (
            http::StatusCode::PAYLOAD_TOO_LARGE,
            "This file is larger than 25 MB, so it was not read.",
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let mut seen = 0u64;
    let capped = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > MAX_UPLOAD_BODY_BYTES {
            return Err(std::io::Error::other("the upload is larger than its limit"));
        }
        Ok(chunk)
    });
    next.run(Request::from_parts(
        parts,
        axum::body::Body::from_stream(capped),
    ))
    .await
}

/// Reads every request body, server functions' included, up to [`MAX_REQUEST_BODY_BYTES`]
/// before anything else sees it: a larger declared length is answered 413 without reading, and a
/// body streamed without one is read only until it passes the limit (then 413). No request can
/// make the process hold more than the limit of its body, and every handler gets the same clear
/// answer instead of each failing its own way (a server function answered 500).
pub async fn limit_request_body(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    use futures::StreamExt;
    if is_upload(request.uri().path()) {
        return limit_upload_body(request, next).await;
    }
    const TOO_LARGE: &str = "This request is larger than 1 MB, so it was not read. \
                             Shorten what you sent and try again.";
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_REQUEST_BODY_BYTES as u64) {
        return (http::StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).into_response();
    }
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut read: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return (
                http::StatusCode::BAD_REQUEST,
                "The request's body could not be read. Try again.",
            )
                .into_response();
        };
        if read.len() + chunk.len() > MAX_REQUEST_BODY_BYTES {
            return (http::StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).into_response();
        }
        read.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(read)))
        .await
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn the_policy_allows_the_nonce_and_forbids_inline_code_and_framing() {
        let csp = content_security_policy("abc123");
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(!csp.contains("unsafe-eval'") || csp.contains("wasm-unsafe-eval"));
    }
}

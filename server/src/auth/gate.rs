//! The middleware every request passes: who is asking (client address, session), whether a
//! state-changing request came from this site (CSRF), and whether the page's area is theirs.

use super::cookie::{clear_cookie, session_token};
use crate::client::client_ip;
use crate::state::AppState;
use app::audit::service::ClientInfo;
use app::auth::service::{Authenticated, Stage};
use app::auth::Role;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::net::SocketAddr;

/// Paths that never need the session (static files, probes): they neither load nor extend it.
fn is_static(path: &str) -> bool {
    const PREFIXES: [&str; 4] = ["/pkg/", "/icons/", "/images/", "/fonts/"];
    const FILES: [&str; 7] = [
        "/site.js",
        "/sw.js",
        "/manifest.webmanifest",
        "/offline.html",
        "/favicon.ico",
        "/healthz",
        "/readyz",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p)) || FILES.contains(&path)
}

/// Requests that change state without a browser session and prove themselves otherwise.
/// Payment webhooks come from the processor's servers (no browser, no cookie): the signature on
/// the body authenticates them. Share links' manifests (`/shl/{secret}`) are posted by a
/// recipient's app from anywhere: the link's 256-bit secret (and passcode) is the access, and no
/// session is read. (The viewer page under a link, `/shl/{secret}/view`, is this site's own form
/// and is checked like any other.)
pub fn csrf_exempt(path: &str) -> bool {
    path.starts_with("/webhooks/")
        || path
            .strip_prefix("/shl/")
            .is_some_and(|secret| !secret.is_empty() && !secret.contains('/'))
}

/// Whether a request must be refused as cross-site: unsafe methods must show, through
/// `Sec-Fetch-Site` or `Origin`, that a page of this site sent them. A request that shows
/// neither is refused too: every browser sends one of them on a POST, so only a non-browser
/// client can omit both, and it can add `Origin`.
pub fn is_cross_site(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    own_origins: &[String],
) -> bool {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return false;
    }
    if csrf_exempt(path) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => !own_origins
            .iter()
            .any(|own| own.eq_ignore_ascii_case(origin)),
        None => true,
    }
}

/// The origins this site is reached at: the configured public URL and the Host asked for.
fn own_origins(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    let mut origins = vec![state.settings.public_url.trim_end_matches('/').to_owned()];
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        let scheme = if state.settings.https() {
            "https"
        } else {
            "http"
        };
        origins.push(format!("{scheme}://{host}"));
    }
    origins
}

/// Which roles a page area is for (`None`: any signed-in person; not listed: public).
fn area_of(path: &str) -> Option<Option<&'static [Role]>> {
    let under = |area: &str| path == area || path.starts_with(&format!("{area}/"));
    if under("/portal") {
        Some(Some(&[Role::Patient]))
    } else if under("/dashboard") {
        Some(Some(&[Role::Physician, Role::Staff]))
    } else if under("/admin") {
        Some(Some(&[Role::Admin]))
    } else if under("/account") {
        Some(None)
    } else {
        None
    }
}

fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Where a page request goes instead, if not where it asked.
fn route_page(path: &str, query: Option<&str>, auth: Option<&Authenticated>) -> Option<Response> {
    const MFA: &str = "/signin/mfa";
    const SETUP: &str = "/account/mfa/setup";
    match auth.map(|a| (a.stage(), a.role)) {
        None => {
            if area_of(path).is_some() || path == MFA {
                let target = match query {
                    Some(q) => format!("{path}?{q}"),
                    None => path.to_owned(),
                };
                let next = app::ui::url_encode(&target);
                return Some(redirect(&format!("/signin?next={next}")));
            }
            None
        }
        Some((Stage::SecondFactorPending, _)) => {
            (path != MFA && (area_of(path).is_some() || path == "/signin")).then(|| redirect(MFA))
        }
        Some((Stage::MustEnrollSecondFactor, _)) => (path != SETUP
            && (area_of(path).is_some() || path == "/signin" || path == MFA))
            .then(|| redirect(SETUP)),
        Some((Stage::Complete, role)) => {
            if path == "/signin" || path == MFA {
                return Some(redirect(role.home_path()));
            }
            match area_of(path) {
                Some(Some(roles)) if !roles.contains(&role) => Some(redirect(role.home_path())),
                _ => None,
            }
        }
    }
}

/// Whether a session at `stage` is a session at all on `path`. A password alone (the second
/// factor pending, or not yet set up by a role that must have one) reaches only the step that
/// completes it and sign-out: everywhere else, every route and server function, present and
/// future, sees no session. Deciding it here, once, is what keeps a stolen password from
/// reaching an account form that forgot to check the stage (SECURITY.md, S1).
pub fn counts_as_signed_in(stage: Stage, path: &str) -> bool {
    match stage {
        Stage::Complete => true,
        Stage::SecondFactorPending => SECOND_FACTOR_PENDING_MAY_USE.contains(&path),
        Stage::MustEnrollSecondFactor => MFA_SET_UP_MAY_USE.contains(&path),
    }
}

/// What a session waiting for its authenticator code may use.
pub const SECOND_FACTOR_PENDING_MAY_USE: [&str; 2] = ["/signin/mfa", "/signout"];
/// What a session that must set up an authenticator first may use.
pub const MFA_SET_UP_MAY_USE: [&str; 2] = ["/account/mfa/setup", "/signout"];

/// Only paths of this site are followed after sign-in (no open redirect). `next` is resolved
/// the way a browser resolves a `Location` (WHATWG URL parsing, which drops tabs and newlines
/// and reads `\\` as `/`, so `/<TAB>/evil.example` is `//evil.example`), against this site's
/// origin, and kept only when it stays there; control characters and backslashes are refused
/// outright. What is returned is the resolved path, query and fragment, never the raw text.
/// (Any origin serves as the base: only whether the result leaves it matters.)
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    if !next.starts_with('/') || next.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let base = url::Url::parse("https://bedside.invalid/").ok()?;
    let resolved = base.join(next).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let mut path = resolved.path().to_owned();
    // `/.//evil.example` resolves to the path `//evil.example`, which as a Location would be
    // another host.
    if path.starts_with("//") {
        return None;
    }
    if let Some(query) = resolved.query() {
        path.push('?');
        path.push_str(query);
    }
    if let Some(fragment) = resolved.fragment() {
        path.push('#');
        path.push_str(fragment);
    }
    Some(path)
}

/// Requests a page makes by itself, which do not count as the person's activity.
pub const PASSIVE_PATHS: [&str; 2] = ["/api/session_status", crate::live::STREAM_PATH];

pub async fn gate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let https = state.settings.https();
    let client = ClientInfo {
        ip: Some(client_ip(request.headers(), peer, state.settings.behind_proxy).to_string()),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(255).collect()),
    };
    if is_cross_site(
        request.method(),
        &path,
        request.headers(),
        &own_origins(&state, request.headers()),
    ) {
        // No path in the log: it could carry a token; the request's id ties it to the access log.
        tracing::warn!(method = %request.method(), "refused a cross-site request");
        return (
            StatusCode::FORBIDDEN,
            "This request did not come from a page of this site, so it was refused. Go back, reload the page and try again.",
        )
            .into_response();
    }
    request.extensions_mut().insert(client);
    if is_static(&path) {
        return next.run(request).await;
    }
    let mut clear = false;
    let mut auth = None;
    if let Some(token) = session_token(request.headers(), https) {
        // The idle warning asking how long is left, and the live notification stream, must not
        // count as activity: an open tab alone never keeps a session alive.
        let touch = !PASSIVE_PATHS.contains(&path.as_str());
        match state.identity.authenticate_with(&token, touch).await {
            Ok(Some(found)) => auth = Some(found),
            Ok(None) => clear = true,
            Err(error) => return error.into_response(),
        }
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        if let Some(response) = route_page(&path, request.uri().query(), auth.as_ref()) {
            return response;
        }
    }
    let private = auth.is_some()
        || area_of(&path).is_some()
        || path.starts_with("/api/")
        || path.starts_with("/fhir/");
    if let Some(auth) = auth {
        if counts_as_signed_in(auth.stage(), &path) {
            request.extensions_mut().insert(auth);
        } else if !matches!(*request.method(), Method::GET | Method::HEAD) {
            tracing::warn!(
                route = %path,
                user_id = auth.user_id,
                "a session without its second factor tried a signed-in action; handled as signed out"
            );
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if clear && !headers.contains_key(header::SET_COOKIE) {
        headers.append(header::SET_COOKIE, clear_cookie(https));
    }
    if private {
        // Health data must not stay in shared or browser caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cross_site_posts_are_refused_and_same_site_ones_pass() {
        let own = vec!["https://harbor.example".to_owned()];
        let post = Method::POST;
        assert!(!is_cross_site(&Method::GET, "/x", &headers(&[]), &own));
        assert!(is_cross_site(&post, "/x", &headers(&[]), &own));
        assert!(is_cross_site(
            &post,
            "/x",
            &headers(&[("sec-fetch-site", "cross-site")]),
            &own
        ));
        assert!(is_cross_site(
            &post,
            "/x",
            &headers(&[("sec-fetch-site", "same-site")]),
            &own
        ));
        assert!(!is_cross_site(
            &post,
            "/x",
            &headers(&[("sec-fetch-site", "same-origin")]),
            &own
        ));
        assert!(is_cross_site(
            &post,
            "/x",
            &headers(&[("origin", "https://evil.example")]),
            &own
        ));
        assert!(is_cross_site(
            &post,
            "/x",
            &headers(&[("origin", "null")]),
            &own
        ));
        assert!(!is_cross_site(
            &post,
            "/x",
            &headers(&[("origin", "https://harbor.example")]),
            &own
        ));
        // Sec-Fetch-Site wins over a spoofable-looking Origin.
        assert!(is_cross_site(
            &post,
            "/x",
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://harbor.example")
            ]),
            &own
        ));
    }

    #[test]
    fn only_webhooks_and_a_share_links_manifest_are_exempt_from_the_same_site_check() {
        let own = vec!["https://harbor.example".to_owned()];
        let away = headers(&[("sec-fetch-site", "cross-site")]);
        for exempt in ["/webhooks/stripe", "/shl/abcDEF123"] {
            assert!(
                !is_cross_site(&Method::POST, exempt, &away, &own),
                "{exempt}"
            );
        }
        for checked in [
            "/shl/abc/view",
            "/shl/",
            "/shl",
            "/portal/shl/abc",
            "/api/x",
        ] {
            assert!(
                is_cross_site(&Method::POST, checked, &away, &own),
                "{checked}"
            );
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/portal")), Some("/portal".into()));
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(None), None);
        // Tried against a release build: the tab was dropped by the browser, leaving `//`.
        assert_eq!(safe_next(Some("/\t/evil.example")), None);
        assert_eq!(safe_next(Some("/\n/evil.example")), None);
        assert_eq!(safe_next(Some("/.//evil.example")), None);
        assert_eq!(
            safe_next(Some("/portal/book?type=video#times")),
            Some("/portal/book?type=video#times".into())
        );
        assert_eq!(safe_next(Some("/a/../portal")), Some("/portal".into()));
    }

    proptest::proptest! {
        /// Whatever `next` holds (slashes, backslashes, tabs, dots, schemes, percent forms), a
        /// browser following the answer as a `Location` from this site stays on this site.
        #[test]
        fn a_next_path_never_leads_to_another_origin(
            next in proptest::string::string_regex(
                r"[/\\\t\n\r .:@%a-z0-9?#]{0,24}"
            ).expect("regex"),
        ) {
            let own = url::Url::parse("https://harbor.example/portal/").expect("url");
            for candidate in [next.clone(), format!("/{next}")] {
                if let Some(path) = safe_next(Some(&candidate)) {
                    let followed = own.join(&path).expect("a browser can follow it");
                    proptest::prop_assert_eq!(followed.origin(), own.origin(), "{:?} -> {:?}", candidate, path);
                    proptest::prop_assert!(path.starts_with('/') && !path.starts_with("//"));
                }
            }
        }
    }
}

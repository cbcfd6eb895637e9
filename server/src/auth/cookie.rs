//! The session cookie: its name, setting it, clearing it, reading it back.

use app::auth::session::SessionToken;
use http::{header, HeaderMap, HeaderValue};

/// The session cookie's name: `__Host-` (Secure, whole site, this host only) over HTTPS. Plain
/// HTTP (a developer's machine) cannot carry a `__Host-` cookie, so it uses a plain name.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-bedside_session"
    } else {
        "bedside_session"
    }
}

/// `Set-Cookie` for a new session token.
pub fn session_cookie(https: bool, token: &SessionToken, max_age_seconds: i64) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}",
        cookie_name(https),
        token.expose()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(https)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn session_token(headers: &HeaderMap, https: bool) -> Option<SessionToken> {
    let name = cookie_name(https);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| SessionToken::from_cookie(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_host_only_and_secure_over_https() {
        let token = SessionToken::generate();
        let cookie = session_cookie(true, &token, 60);
        let text = cookie.to_str().expect("ascii");
        assert!(text.starts_with("__Host-bedside_session="));
        assert!(text.contains("; Path=/; HttpOnly; SameSite=Lax"));
        assert!(text.ends_with("; Secure"));
        assert!(!text.contains("Domain"));
        let plain = session_cookie(false, &token, 60);
        assert!(plain
            .to_str()
            .expect("ascii")
            .starts_with("bedside_session="));
    }
}

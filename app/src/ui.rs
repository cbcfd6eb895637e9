//! Small pieces of markup every area shares: labelled form fields with their messages.

use crate::FieldErrors;
use leptos::prelude::*;

/// `aria-invalid` for a field that failed validation.
pub fn invalid(errors: &FieldErrors, name: &str) -> Option<&'static str> {
    errors.get(name).map(|_| "true")
}

/// `aria-describedby` pointing at the field's message.
pub fn described_by(errors: &FieldErrors, name: &str) -> Option<String> {
    errors.get(name).map(|_| format!("{name}-error"))
}

/// A labelled form field with its validation message under the control.
pub fn field<C: IntoView + 'static>(
    errors: &FieldErrors,
    name: &'static str,
    label: &'static str,
    control: C,
) -> impl IntoView + use<C> {
    let error = errors.get(name).map(str::to_owned);
    let class = if error.is_some() {
        "field field-invalid"
    } else {
        "field"
    };
    view! {
        <div class=class>
            <label for=name>{label}</label>
            {control}
            {error.map(|message| view! { <p class="field-error" id=format!("{name}-error")>{message}</p> })}
        </div>
    }
}

/// Percent-encodes `text` for a query value (letters, digits, `-_.~/` stay as they are).
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What a refused plain post's address says: the field to fix (never what was typed), or the
/// refusal's code.
pub fn problem_in_address(error: &crate::AppError) -> String {
    match error {
        crate::AppError::Validation(errors) => {
            let fields: Vec<&str> = errors.0.keys().map(String::as_str).collect();
            format!("fix={}", url_encode(&fields.join(",")))
        }
        crate::AppError::Refused(refusal) => format!("refused={}", url_encode(&refusal.code())),
        _ => "error=1".to_owned(),
    }
}

/// A server function's error as a notice; on the server the page's HTTP status follows it
/// (a 403 page is a 403 response).
pub fn error_notice(error: &crate::AppError) -> AnyView {
    #[cfg(feature = "ssr")]
    crate::auth::api::context::set_status(error.status());
    view! { <div class="notice notice-error" role="alert"><p>{error.to_string()}</p></div> }
        .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded_but_paths_stay_readable() {
        assert_eq!(
            super::url_encode("/portal/book?type=x"),
            "/portal/book%3Ftype%3Dx"
        );
        assert_eq!(super::url_encode("a b@c.d"), "a%20b%40c.d");
    }
}

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

//! The communication hub's server functions (`/api/communication/…`). Writes are used through
//! `ActionForm` and also work as plain form posts.

use super::model::{Hub, Template};
use crate::AppError;
use leptos::prelude::*;

/// The hub on patient `patient`'s chart: `None` for a reader who may not write to them.
#[server(endpoint = "communication/hub")]
pub async fn load_hub(patient: String) -> Result<Option<Hub>, AppError> {
    use crate::auth::api::context;
    super::service::hub(&context::signed_in()?, &patient).await
}

/// Sends a secure message, an email or a text to patient `patient` from their chart. Returns
/// the page to go on to.
#[server(endpoint = "communication/send")]
pub async fn send_communication(
    patient: String,
    channel: String,
    #[server(default)] subject: String,
    body: String,
) -> Result<String, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let chart = format!("/dashboard/patients/{}", crate::ui::url_encode(&patient));
    let sent = match super::model::Composed::parse(&channel, &subject, &body) {
        Ok(composed) => super::service::send(&me, &patient, &composed).await,
        Err(error) => Err(error),
    };
    context::answer_write(
        sent,
        |next| next.clone(),
        |error| {
            format!(
                "{chart}?{}#communication",
                crate::ui::problem_in_address(error)
            )
        },
    )
}

/// The practice's saved templates.
#[server(endpoint = "communication/templates")]
pub async fn load_templates() -> Result<Vec<Template>, AppError> {
    use crate::auth::api::context;
    super::templates::list(&context::signed_in()?).await
}

/// Adds a template (`template` empty) or changes one. Returns its id.
#[server(endpoint = "communication/templates/save")]
pub async fn save_template(
    #[server(default)] template: String,
    name: String,
    #[server(default)] subject: String,
    body: String,
) -> Result<String, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let saved = match super::model::TemplateText::parse(&name, &subject, &body) {
        Ok(text) => super::templates::save(&me, template.trim(), text).await,
        Err(error) => Err(error),
    };
    context::answer_write(
        saved,
        |_| "/dashboard/messages/templates?saved=1".to_owned(),
        |error| {
            format!(
                "/dashboard/messages/templates?{}",
                crate::ui::problem_in_address(error)
            )
        },
    )
}

/// Removes template `template`.
#[server(endpoint = "communication/templates/remove")]
pub async fn remove_template(template: String) -> Result<(), AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let removed = super::templates::remove(&me, &template).await;
    context::answer_write(
        removed,
        |_| "/dashboard/messages/templates?removed=1".to_owned(),
        |error| {
            format!(
                "/dashboard/messages/templates?{}",
                crate::ui::problem_in_address(error)
            )
        },
    )
}

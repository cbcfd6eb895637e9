//! The chart's server functions: thin, every one through the policy and the audit log. The
//! writes serve both ways a form is sent (see `context::answer_write`): from the hydrated page
//! they answer in place; a plain post comes back to the chart saying what happened.

use super::fields::ChartEntryForm;
use super::model::{Chart, ChartVersion};
use crate::AppError;
use leptos::prelude::*;

/// Patient `patient`'s chart, for whoever the policy lets read it (audited either way).
#[server(endpoint = "records/chart")]
pub async fn load_chart(patient: String) -> Result<Chart, AppError> {
    use crate::auth::api::context;
    super::service::chart(&context::signed_in()?, &patient).await
}

/// The signed-in patient's own chart (`None` for an account without a record).
#[server(endpoint = "records/my-chart")]
pub async fn load_my_chart() -> Result<Option<Chart>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(patient) = me.auth.patient_public_id.clone() else {
        return Ok(None);
    };
    super::service::chart(&me, &patient).await.map(Some)
}

/// Every version of one entry, newest first.
#[server(endpoint = "records/chart/history")]
pub async fn load_chart_history(
    patient: String,
    entry: String,
) -> Result<Vec<ChartVersion>, AppError> {
    use crate::auth::api::context;
    super::service::history(&context::signed_in()?, &patient, &entry).await
}

/// Where a chart form comes back to without JavaScript: the patient's own health record, or the
/// patient's chart in the dashboard.
#[cfg(feature = "ssr")]
fn chart_page(patient: &str) -> String {
    use crate::auth::api::context;
    let own = context::authenticated()
        .and_then(|auth| auth.patient_public_id)
        .is_some_and(|mine| mine == patient);
    if own {
        "/portal".to_owned()
    } else {
        format!("/dashboard/patients/{}", crate::ui::url_encode(patient))
    }
}

/// The address a refused plain post comes back to: the field to fix (never what was typed), or
/// the refusal's code.
#[cfg(feature = "ssr")]
fn refused_at(page: &str, section: &str, error: &AppError) -> String {
    let section = crate::ui::url_encode(section);
    match error {
        AppError::Validation(errors) => match errors.0.keys().next() {
            Some(field) => format!(
                "{page}?section={section}&error={}#{section}",
                crate::ui::url_encode(field)
            ),
            None => format!("{page}?section={section}&error=entry#{section}"),
        },
        AppError::Refused(crate::Refusal::Chart(refusal)) => {
            format!("{page}?refused={}#{section}", refusal.code())
        }
        _ => format!("{page}?error=chart"),
    }
}

/// Adds an entry to a chart, or saves a new version of one (the form names the version it was
/// filled in from; a newer stored one is never written over).
#[server(endpoint = "records/chart/save")]
pub async fn save_chart_entry(#[server(flatten)] form: ChartEntryForm) -> Result<(), AppError> {
    use super::model::{ChartItem, ChartSection};
    use super::service::EntryAt;
    use crate::auth::api::context;
    let page = chart_page(&form.patient);
    let saved = async {
        let me = context::signed_in()?;
        let section = ChartSection::parse(&form.section)
            .ok_or_else(|| AppError::field("section", "Choose which part of the chart this is."))?;
        let item = ChartItem::parse(section, &form).map_err(AppError::Validation)?;
        let at = match form.entry.trim() {
            "" => None,
            entry => Some(EntryAt {
                public_id: entry,
                version: form.version.trim().parse().map_err(|_| {
                    AppError::field("version", "Reload the chart and make the change again.")
                })?,
            }),
        };
        super::service::save(&me, &form.patient, at, &item).await
    }
    .await;
    context::answer_write(
        saved.map(|_| ()),
        |()| format!("{page}?saved={}#{}", form.section, form.section),
        |error| refused_at(&page, &form.section, error),
    )
}

/// Removes an entry from a chart (its history is kept).
#[server(endpoint = "records/chart/remove")]
pub async fn remove_chart_entry(
    patient: String,
    section: String,
    entry: String,
    version: String,
) -> Result<(), AppError> {
    use super::service::EntryAt;
    use crate::auth::api::context;
    let page = chart_page(&patient);
    let removed = async {
        let me = context::signed_in()?;
        let version = version
            .trim()
            .parse()
            .map_err(|_| AppError::field("version", "Reload the chart and try again."))?;
        super::service::remove(
            &me,
            &patient,
            EntryAt {
                public_id: &entry,
                version,
            },
        )
        .await
    }
    .await;
    context::answer_write(
        removed,
        |()| format!("{page}?removed={section}#{section}"),
        |error| refused_at(&page, &section, error),
    )
}

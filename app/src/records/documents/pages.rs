//! Documents on a page: the list (each a download) and the form that adds one, on the patient's
//! health record, the physician's patient page, and (for attachments) the visit note.
//!
//! The form is a real `multipart/form-data` form posting to the upload's server function, so it
//! works without JavaScript; once hydrated it sends the same form in place (`FormData`), checks
//! the size first so a 40 MB scan is refused before it is sent, and keeps the chosen file when
//! the server refuses.

use super::api::{load_attachments, load_documents, load_my_documents, upload_document};
use super::model::{human_size, DocumentKind, DocumentSummary, Documents, MAX_BYTES, UPLOAD_PATH};
use super::refusal::DocumentRefusal;
use crate::{AppError, Refusal};
use leptos::prelude::*;
use leptos::web_sys::FormData;
use leptos_router::hooks::{use_location, use_query_map};

/// What the last upload came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Added,
    /// A field to fix (its name) and what to do.
    Fix(String, String),
    Refused(String),
}

impl Outcome {
    fn of(result: &Result<String, AppError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Added,
            Err(AppError::Validation(errors)) => match errors.0.iter().next() {
                Some((field, message)) => Outcome::Fix(field.clone(), message.clone()),
                None => Outcome::Refused("Check the form and try again.".into()),
            },
            Err(AppError::Refused(Refusal::Document(refusal))) => {
                Outcome::Refused(refusal.message().to_owned())
            }
            Err(other) => Outcome::Refused(other.to_string()),
        }
    }

    /// After a plain post: the address names the outcome, never what was sent.
    fn from_address(get: impl Fn(&str) -> Option<String>) -> Option<Outcome> {
        if get("uploaded").is_some() {
            return Some(Outcome::Added);
        }
        if let Some(code) = get("document_refused") {
            let text = DocumentRefusal::from_code(&code).map_or(
                "The file was not added. Please try again.",
                DocumentRefusal::message,
            );
            return Some(Outcome::Refused(text.to_owned()));
        }
        let field = get("document_error")?;
        Some(match field.as_str() {
            "kind" => Outcome::Fix(field, "Choose what kind of document this is.".into()),
            "date" => Outcome::Fix(
                field,
                "Enter the document's date, like 2026-03-14 (not after today).".into(),
            ),
            "title" => Outcome::Fix(field, "Shorten the title to at most 120 characters.".into()),
            _ => Outcome::Refused("The file was not added. Please try again.".into()),
        })
    }

    fn problem(&self, field: &str) -> Option<String> {
        match self {
            Outcome::Fix(name, message) if name == field => Some(message.clone()),
            _ => None,
        }
    }
}

/// Where a document is downloaded from in this area (the gate keeps each to its roles).
fn download_base() -> &'static str {
    let dashboard = use_location()
        .pathname
        .get_untracked()
        .starts_with("/dashboard");
    if dashboard {
        "/dashboard/documents"
    } else {
        "/portal/documents"
    }
}

/// A patient's documents: `patient`'s in the dashboard, or (without it) the signed-in patient's
/// own.
#[component]
pub fn DocumentsPanel(#[prop(optional)] patient: Option<String>) -> impl IntoView {
    let added = RwSignal::new(0_u32);
    // Kept here, above the list that is read again, so the notice outlives the new list.
    let last = RwSignal::new(None::<Outcome>);
    let documents = Resource::new(
        move || added.get(),
        move |_| {
            let patient = patient.clone();
            async move {
                match patient {
                    Some(patient) => load_documents(patient).await.map(Some),
                    None => load_my_documents().await,
                }
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading documents…"</p> }>
            {move || Suspend::new(async move {
                match documents.await {
                    Err(error) => crate::ui::error_notice(&error),
                    Ok(None) => ().into_any(),
                    Ok(Some(documents)) => view! { <DocumentsCard documents added last/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DocumentsCard(
    documents: Documents,
    added: RwSignal<u32>,
    last: RwSignal<Option<Outcome>>,
) -> impl IntoView {
    let Documents {
        patient,
        documents,
        can_upload,
    } = documents;
    view! {
        <section class="card stack documents" id="documents" aria-labelledby="documents-title">
            <h2 id="documents-title">"Documents"</h2>
            {if documents.is_empty() {
                view! { <p class="fine-print">"No documents yet: lab results, letters and scans added here are kept encrypted."</p> }.into_any()
            } else {
                view! { <DocumentList documents/> }.into_any()
            }}
            {can_upload.then(|| view! {
                <UploadForm patient visit=None added last summary="Add a document"/>
            })}
        </section>
    }
}

/// Documents in a list, newest first, each a download.
#[component]
pub fn DocumentList(documents: Vec<DocumentSummary>) -> impl IntoView {
    let base = download_base();
    view! {
        <ul class="document-list">
            {documents.into_iter().map(|d| {
                let href = format!("{base}/{}", d.public_id);
                let about = format!(
                    "{} · {} · {}",
                    d.kind.label(),
                    d.date.format("%b %-d, %Y"),
                    d.size_and_type()
                );
                view! {
                    <li class="document">
                        <a href=href download="" rel="external">{d.title.clone()}</a>
                        <p class="fine-print">{about}</p>
                        <p class="fine-print">{format!("Added by {} on {}.", d.uploaded_by, d.uploaded_at.format("%b %-d, %Y"))}</p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The form that adds a file: to patient `patient`'s documents, or to visit `visit`'s draft
/// note. `added` is raised after each file that went in (the list is read again).
#[component]
pub fn UploadForm(
    patient: String,
    visit: Option<String>,
    added: RwSignal<u32>,
    /// What the last upload came to (held by the parent, which may draw this form again).
    last: RwSignal<Option<Outcome>>,
    summary: &'static str,
) -> impl IntoView {
    let upload = Action::new_local(|data: &FormData| upload_document(data.clone().into()));
    let query = use_query_map();
    let form = NodeRef::<leptos::html::Form>::new();
    let file = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(result) = upload.value().get() {
            let outcome = Outcome::of(&result);
            if outcome == Outcome::Added {
                if let Some(form) = form.get_untracked() {
                    form.reset();
                }
                added.update(|n| *n += 1);
            }
            last.set(Some(outcome));
        }
    });
    let outcome = Memo::new(move |_| {
        last.get()
            .or_else(|| query.with(|q| Outcome::from_address(|k| q.get(k))))
    });
    let unfolded =
        move || outcome.with(|o| matches!(o, Some(Outcome::Fix(..) | Outcome::Refused(_))));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            if over_the_limit(file) {
                last.set(Some(Outcome::Refused(
                    DocumentRefusal::TooLarge.message().to_owned(),
                )));
                return;
            }
            if let Some(data) = form
                .get_untracked()
                .and_then(|form| FormData::new_with_form(&form).ok())
            {
                upload.dispatch_local(data);
            }
        }
    };
    let id = visit.clone().unwrap_or_else(|| "documents".to_owned());
    // Apart from the page's other ids ("documents-title" is the section's heading).
    let field_id = move |name: &str| format!("upload-{id}-{name}");
    let problem = move |field: &'static str| {
        move || outcome.with(|o| o.as_ref().and_then(|o| o.problem(field)))
    };
    let (kind_id, date_id, title_id, file_id) = (
        field_id("kind"),
        field_id("date"),
        field_id("title"),
        field_id("file"),
    );
    let limit = human_size(MAX_BYTES);
    view! {
        {move || outcome.get().map(|o| match o {
            Outcome::Added => view! { <div class="notice notice-success" role="status"><p>"The file is added, encrypted."</p></div> }.into_any(),
            Outcome::Refused(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
            Outcome::Fix(..) => view! { <div class="notice notice-error" role="alert"><p>"Nothing was added: please check the field marked below."</p></div> }.into_any(),
        })}
        <details class="document-add" open=unfolded>
            <summary>{summary}</summary>
            <form class="form document-form" method="post" action=UPLOAD_PATH enctype="multipart/form-data"
                node_ref=form on:submit=on_submit>
                <input type="hidden" name="patient" value=patient/>
                <input type="hidden" name="visit" value=visit.unwrap_or_default()/>
                <div class="field" class:field-invalid=move || problem("kind")().is_some()>
                    <label for=kind_id.clone()>"Kind"</label>
                    <select id=kind_id name="kind">
                        {DocumentKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                    </select>
                    {move || problem("kind")().map(|t| view! { <p class="field-error" role="alert">{t}</p> })}
                </div>
                <div class="field" class:field-invalid=move || problem("date")().is_some()>
                    <label for=date_id.clone()>"Date of the document"</label>
                    <input id=date_id type="date" name="date"/>
                    <p class="fine-print">"When the test was taken or the letter written; empty means today."</p>
                    {move || problem("date")().map(|t| view! { <p class="field-error" role="alert">{t}</p> })}
                </div>
                <div class="field" class:field-invalid=move || problem("title")().is_some()>
                    <label for=title_id.clone()>"Title (optional)"</label>
                    <input id=title_id type="text" name="title" maxlength="120" placeholder="e.g. Lipid panel"/>
                    {move || problem("title")().map(|t| view! { <p class="field-error" role="alert">{t}</p> })}
                </div>
                <div class="field">
                    <label for=file_id.clone()>"File"</label>
                    <input id=file_id type="file" name="file" required node_ref=file
                        accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"/>
                    <p class="fine-print">{format!("PDF, JPEG or PNG, up to {limit}. It is encrypted before it is stored.")}</p>
                </div>
                <button class="button button-small" type="submit" disabled=move || upload.pending().get()>
                    {move || if upload.pending().get() { "Adding…" } else { "Add the file" }}
                </button>
            </form>
        </details>
    }
    // Erased, so the pages that hold it stay within the compiler's type depth.
    .into_any()
}

/// The files attached to visit `visit`'s note (`initial`, as the page loaded), and, while the
/// note is a draft and the reader writes it, the form that attaches another.
#[component]
pub fn NoteAttachments(
    visit: String,
    patient: String,
    initial: Vec<DocumentSummary>,
    can_attach: bool,
) -> impl IntoView {
    let added = RwSignal::new(0_u32);
    let last = RwSignal::new(None::<Outcome>);
    let files = Resource::new(move || added.get(), {
        let visit = visit.clone();
        move |n| {
            let (visit, initial) = (visit.clone(), initial.clone());
            async move {
                if n == 0 {
                    Ok(initial)
                } else {
                    load_attachments(visit).await
                }
            }
        }
    });
    view! {
        <section class="card stack note-attachments" id="attachments" aria-labelledby="attachments-title">
            <h2 id="attachments-title">"Attachments"</h2>
            <Transition fallback=|| view! { <p>"Loading attachments…"</p> }>
                {move || Suspend::new(async move {
                    match files.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(files) if files.is_empty() => view! { <p class="fine-print">"No files attached."</p> }.into_any(),
                        Ok(documents) => view! { <DocumentList documents/> }.into_any(),
                    }
                })}
            </Transition>
            {can_attach.then(|| view! {
                <UploadForm patient visit=Some(visit) added last summary="Attach a file"/>
            })}
        </section>
    }
}

/// Whether the file chosen in `file` is larger than the record takes (checked before sending).
#[cfg(feature = "hydrate")]
pub(crate) fn over_the_limit(file: NodeRef<leptos::html::Input>) -> bool {
    file.get_untracked()
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
        .is_some_and(|f| f.size() > MAX_BYTES as f64)
}

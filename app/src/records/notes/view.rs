//! Visit notes on pages: the note page of a visit (`/dashboard/visits/:id/note`: the form while
//! it is a draft, the filed note once signed), the patient's notes in the portal
//! (`/portal/notes`), and the timeline on the physician's patient page.

use super::api::{load_my_notes, load_note_page, load_notes, note_address, AddNoteAddendum};
use super::editor::NoteForm;
use super::model::{FiledNote, NoteBody, NoteContent, NoteDraft, NotePage, NoteStatus, VisitNote};
use crate::{AppError, Refusal};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/dashboard/visits/:id/note`: the visit, the patient's allergies, and its note.
#[component]
pub fn VisitNotePage() -> impl IntoView {
    let params = use_params_map();
    let visit = params.with_untracked(|p| p.get("id")).unwrap_or_default();
    let signed = RwSignal::new(0_u32);
    let add = ServerAction::<AddNoteAddendum>::new();
    let page = Resource::new(move || (signed.get(), add.version().get()), {
        let visit = visit.clone();
        move |_| load_note_page(visit.clone())
    });
    view! {
        <section class="section container narrow">
            <p><a href="/dashboard/agenda">"← Agenda"</a></p>
            <Suspense fallback=|| view! { <p>"Loading the note…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(page) => view! { <NotePageBody page signed add/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn NotePageBody(
    page: NotePage,
    signed: RwSignal<u32>,
    add: ServerAction<AddNoteAddendum>,
) -> impl IntoView {
    let NotePage {
        visit,
        note,
        allergies,
        attachments,
        can_write,
    } = page;
    let query = use_query_map();
    let just_signed =
        query.with_untracked(|q| q.get("signed").is_some()) || signed.get_untracked() > 0;
    let title = format!("Visit note · {} · Bedside", visit.patient_name);
    let chart = format!(
        "/dashboard/patients/{}",
        crate::ui::url_encode(&visit.patient)
    );
    let signed_already = note
        .as_ref()
        .is_some_and(|n| n.status == NoteStatus::Signed);
    let files = (can_write || !attachments.is_empty()).then(|| {
        view! {
            <crate::records::documents::NoteAttachments visit=visit.appointment.clone()
                patient=visit.patient.clone() initial=attachments
                can_attach=can_write && !signed_already/>
        }
    });
    let body = match note {
        Some(VisitNote {
            body: NoteBody::Signed(content),
            signed: by,
            addenda,
            ..
        }) => view! {
            {just_signed.then(|| view! {
                <div class="notice notice-success" role="status"><p>"Signed and filed in the patient's record. The visit is completed and the patient has been told their note is ready."</p></div>
            })}
            <NoteText content signed=by/>
            <p><a class="button button-small button-quiet" href=format!("/dashboard/visits/{}/note.pdf", crate::ui::url_encode(&visit.appointment)) download="" rel="external">"Download as PDF"</a></p>
            <Addenda addenda/>
            {can_write.then(|| view! { <AddendumForm visit=visit.appointment.clone() add/> })}
        }
        .into_any(),
        draft if can_write => {
            let (draft, version, saved_at) = match draft {
                Some(VisitNote {
                    body: NoteBody::Draft(draft),
                    version,
                    updated,
                    ..
                }) => (draft, Some(version), Some(updated)),
                _ => (NoteDraft::default(), None, None),
            };
            view! {
                <NoteForm visit=visit.appointment.clone() draft version saved_at
                    on_signed=move |()| signed.update(|n| *n += 1)/>
            }
            .into_any()
        }
        _ => view! { <p>"This visit has no signed note yet."</p> }.into_any(),
    };
    view! {
        <Title text=title/>
        <h1>"Visit note"</h1>
        <div class="card stack note-visit">
            <p><strong><a href=chart>{visit.patient_name.clone()}</a></strong>" · "{visit.visit_type.label()}</p>
            <p>{visit.when.clone()}{visit.completed.then(|| view! { " "<span class="pill-muted">"Completed"</span> })}</p>
            {(!visit.reason.is_empty()).then(|| view! { <p class="fine-print">"Reason given when booking: "{visit.reason.clone()}</p> })}
        </div>
        <div class="card note-allergies" role="note" aria-label="Allergies">
            <strong>"Allergies: "</strong>
            {if allergies.is_empty() {
                "No known allergies recorded.".to_owned()
            } else {
                allergies.join(" · ")
            }}
        </div>
        {body}
        {files}
    }
}

/// A signed note's text: the four parts, prescriptions, follow-up, and who signed it.
#[component]
pub(crate) fn NoteText(content: NoteContent, signed: Option<(String, String)>) -> impl IntoView {
    let part = |title: &'static str, text: String| {
        (!text.is_empty()).then(|| {
            view! {
                <h3>{title}</h3>
                <p class="note-part">{text}</p>
            }
        })
    };
    let follow_up = content.follow_up();
    let prescriptions = content.prescriptions.clone();
    view! {
        <div class="card stack note-text">
            {part("Subjective", content.subjective)}
            {part("Objective", content.objective)}
            {part("Assessment", content.assessment)}
            {part("Plan", content.plan)}
            {(!prescriptions.is_empty()).then(|| view! {
                <h3>"Prescriptions"</h3>
                <ul class="note-prescriptions">
                    {prescriptions.into_iter().map(|p| view! {
                        <li>
                            <strong>{format!("{} {}", p.drug, p.strength)}</strong>
                            " — "{p.directions}
                            <span class="fine-print">{format!(" · Quantity {} · {}", p.quantity, match p.refills { 0 => "no refills".to_owned(), 1 => "1 refill".to_owned(), n => format!("{n} refills") })}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <h3>"Follow-up"</h3>
            <p>{follow_up}</p>
            {signed.map(|(by, at)| view! { <p class="fine-print">{format!("Signed by {by} on {at}.")}</p> })}
        </div>
    }
}

#[component]
pub(crate) fn Addenda(addenda: Vec<super::model::Addendum>) -> impl IntoView {
    (!addenda.is_empty()).then(|| {
        view! {
            <section class="stack note-addenda" aria-label="Addenda">
                <h2>"Addenda"</h2>
                {addenda.into_iter().map(|a| view! {
                    <div class="card">
                        <p class="note-part">{a.text}</p>
                        <p class="fine-print">{format!("Added by {} on {}.", a.by, a.when)}</p>
                    </div>
                }).collect_view()}
            </section>
        }
    })
}

/// The form that adds an addendum to a signed note.
#[component]
fn AddendumForm(visit: String, add: ServerAction<AddNoteAddendum>) -> impl IntoView {
    let query = use_query_map();
    let outcome = move || match add.value().get() {
        Some(Ok(())) => Some(Ok(())),
        Some(Err(error)) => Some(Err(problem(&error))),
        None => query.with(|q| {
            if q.get("added").is_some() {
                Some(Ok(()))
            } else if q.get("fix").is_some() {
                Some(Err(
                    "Write the addendum (up to 20,000 characters).".to_owned()
                ))
            } else {
                q.get("refused").map(|code| {
                    Err(code
                        .strip_prefix("note.")
                        .and_then(super::refusal::NoteRefusal::from_code)
                        .map_or("The addendum was not added. Please try again.", |r| {
                            r.message()
                        })
                        .to_owned())
                })
            }
        }),
    };
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = add.value().get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    view! {
        <section class="card stack" id="addenda" aria-labelledby="add-addendum-title">
            <h2 id="add-addendum-title">"Add an addendum"</h2>
            <p class="fine-print">"The signed note stays as it is; the addendum is filed under it with your name and the time, and the patient sees it."</p>
            {move || outcome().map(|o| match o {
                Ok(()) => view! { <div class="notice notice-success" role="status"><p>"The addendum is filed."</p></div> }.into_any(),
                Err(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
            })}
            <ActionForm action=add node_ref=form attr:class="form">
                <input type="hidden" name="visit" value=visit/>
                <div class="field">
                    <label for="addendum">"Addendum"</label>
                    <textarea id="addendum" name="addendum" rows="4" maxlength="20000" required></textarea>
                </div>
                <button class="button" type="submit">"File the addendum"</button>
            </ActionForm>
        </section>
    }
}

fn problem(error: &AppError) -> String {
    match error {
        AppError::Validation(errors) => errors
            .get("addendum")
            .map_or_else(|| error.to_string(), str::to_owned),
        AppError::Refused(Refusal::Note(r)) => r.message().to_owned(),
        other => other.to_string(),
    }
}

/// A filed note in a list: the visit's date and kind as its heading, then the note.
#[component]
fn FiledNoteCard(filed: FiledNote) -> impl IntoView {
    let FiledNote { visit, note } = filed;
    let VisitNote {
        body,
        signed,
        addenda,
        attachments,
        ..
    } = note;
    view! {
        <article class="stack filed-note" aria-label=format!("Visit on {}", visit.when)>
            <h2>{visit.when.clone()}" · "{visit.visit_type.label()}</h2>
            {match body {
                NoteBody::Signed(content) => view! {
                    <NoteText content signed/>
                    <p><a class="button button-small button-quiet" href=format!("/portal/notes/{}.pdf", crate::ui::url_encode(&visit.appointment)) download="" rel="external">
                        "Download as PDF"<span class="visually-hidden">{format!(": the note of {}", visit.when)}</span>
                    </a></p>
                }.into_any(),
                NoteBody::Draft(_) => view! { <p>"Not signed yet."</p> }.into_any(),
            }}
            <Addenda addenda/>
            {(!attachments.is_empty()).then(|| view! {
                <section class="stack" aria-label=format!("Attachments of the note of {}", visit.when)>
                    <h3>"Attachments"</h3>
                    <crate::records::documents::DocumentList documents=attachments/>
                </section>
            })}
        </article>
    }
}

/// `/portal/notes`: the patient's signed visit notes, newest first.
#[component]
pub fn MyNotesPage() -> impl IntoView {
    let notes = OnceResource::new(load_my_notes());
    view! {
        <Title text="Visit notes · Bedside"/>
        <section class="section container narrow stack">
            <h1>"Visit notes"</h1>
            <p class="fine-print">"Your physician's notes from your visits: what you discussed, what was found, and the plan. A note appears here once your physician signs it."</p>
            <Suspense fallback=|| view! { <p>"Loading your notes…"</p> }>
                {move || Suspend::new(async move {
                    match notes.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(notes) if notes.is_empty() => view! {
                            <p>"No visit notes yet."</p>
                            <crate::records::export::RecordExport notes=Vec::new()/>
                        }.into_any(),
                        Ok(notes) => {
                            let choices = export_choices(&notes);
                            view! {
                                <crate::records::export::RecordExport notes=choices/>
                                {notes.into_iter().map(|filed| view! { <FiledNoteCard filed/> }).collect_view()}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The physician's timeline of patient `patient`'s notes: each visit, whether its note is a
/// draft or signed, the assessment's first line, and a link to the note.
#[component]
pub fn NoteTimeline(patient: String) -> impl IntoView {
    let notes = OnceResource::new(load_notes(patient.clone()));
    view! {
        <section class="card stack note-timeline" aria-labelledby="notes-title">
            <h2 id="notes-title">"Visit notes"</h2>
            <Suspense fallback=|| view! { <p>"Loading the notes…"</p> }>
                {move || Suspend::new(async move {
                    match notes.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(notes) if notes.is_empty() => view! { <p class="fine-print">"No visit notes yet."</p> }.into_any(),
                        Ok(notes) => view! {
                            <ol class="timeline">
                                {notes.into_iter().map(|FiledNote { visit, note }| {
                                    let summary = match &note.body {
                                        NoteBody::Signed(c) => c.assessment.lines().next().unwrap_or_default().to_owned(),
                                        NoteBody::Draft(d) => d.assessment.lines().next().unwrap_or_default().to_owned(),
                                    };
                                    let status = match note.status {
                                        NoteStatus::Signed => view! { <span class="pill-muted">"Signed"</span> }.into_any(),
                                        NoteStatus::Draft => view! { <span class="pill-warning">"Draft"</span> }.into_any(),
                                    };
                                    view! {
                                        <li>
                                            <a href=note_address(&visit.appointment)>{visit.when.clone()}</a>
                                            " · "{visit.visit_type.label()}" "{status}
                                            {(!summary.is_empty()).then(|| view! { <br/><span class="fine-print">{summary}</span> })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <Suspense fallback=|| ()>
            {move || {
                let patient = patient.clone();
                Suspend::new(async move {
                match notes.await {
                    Err(_) => ().into_any(),
                    Ok(notes) => {
                        let choices = export_choices(&notes);
                        view! { <crate::records::export::RecordExport patient notes=choices/> }.into_any()
                    }
                }
            })}}
        </Suspense>
    }
}

/// The signed notes among `notes`, as the export form offers them (visit, date).
fn export_choices(notes: &[FiledNote]) -> Vec<(String, String)> {
    notes
        .iter()
        .filter(|n| n.note.status == NoteStatus::Signed)
        .map(|n| (n.visit.appointment.clone(), n.visit.when.clone()))
        .collect()
}

//! The communication hub on a patient's chart (`/dashboard/patients/:id`, `#communication`):
//! one composer for a secure message, an email or a text, started from a saved template if
//! wished, and the patient's communication history. And the templates' page
//! (`/dashboard/messages/templates`).

use super::api::{load_hub, load_templates, RemoveTemplate, SaveTemplate, SendCommunication};
use super::model::{Channel, HistoryEntry, Hub, HubRefusal, Template, FIRST_NAME, TEXT_MAX};
use crate::messages::model::{BODY_MAX, SUBJECT_MAX};
use crate::{AppError, FieldErrors, Refusal};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What a write came to: done, or what to fix (by field) and the sentence to show.
type Outcome = Option<Result<(), (FieldErrors, String)>>;

fn outcome_of<T>(value: Option<Result<T, AppError>>, address: (bool, Option<String>)) -> Outcome {
    match value {
        Some(Ok(_)) => Some(Ok(())),
        Some(Err(AppError::Validation(errors))) => Some(Err((
            errors,
            "Nothing was sent: please check the fields marked below.".to_owned(),
        ))),
        Some(Err(AppError::Refused(Refusal::Communication(r)))) => {
            Some(Err((FieldErrors::default(), r.message().to_owned())))
        }
        Some(Err(error)) => Some(Err((FieldErrors::default(), error.to_string()))),
        // Without JavaScript the outcome comes back in the address.
        None => match address {
            (true, _) => Some(Err((
                FieldErrors::default(),
                "Nothing was sent: please check what you wrote and try again.".to_owned(),
            ))),
            (false, Some(code)) => Some(Err((
                FieldErrors::default(),
                code.strip_prefix("communication.")
                    .and_then(HubRefusal::from_code)
                    .map_or("Nothing was sent.", |r| r.message())
                    .to_owned(),
            ))),
            (false, None) => None,
        },
    }
}

fn problem(errors: &FieldErrors, field: &str) -> Option<String> {
    errors.get(field).map(str::to_owned)
}

/// The hub: shown to whoever may write to the patient (nothing for anyone else).
#[component]
pub fn CommunicationPanel(patient: String) -> impl IntoView {
    let send = ServerAction::<SendCommunication>::new();
    // Read again after a send that went through only: a refused one keeps the form as typed.
    let sent = RwSignal::new(0_u32);
    Effect::new(move |_| {
        send.version().track();
        if send.value().with_untracked(|v| matches!(v, Some(Ok(_)))) {
            sent.update(|n| *n += 1);
        }
    });
    let hub = Resource::new(move || sent.get(), {
        let patient = patient.clone();
        move |_| load_hub(patient.clone())
    });
    view! {
        <Transition fallback=|| ()>
            {move || {
                let patient = patient.clone();
                Suspend::new(async move {
                    match hub.await {
                        Ok(Some(hub)) => view! { <HubCard hub patient send/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => crate::ui::error_notice(&error),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn HubCard(hub: Hub, patient: String, send: ServerAction<SendCommunication>) -> impl IntoView {
    let query = use_query_map();
    let outcome = Memo::new(move |_| {
        outcome_of(
            send.value().get(),
            query.with(|q| (q.get("fix").is_some(), q.get("refused"))),
        )
    });
    let errors = move || match outcome.get() {
        Some(Err((errors, _))) => errors,
        _ => FieldErrors::default(),
    };
    let chosen = move || query.with(|q| q.get("template"));
    let first = hub.first_name.clone();
    let templates = hub.templates.clone();
    let picked = {
        let (templates, first) = (templates.clone(), first.clone());
        move || {
            chosen()
                .and_then(|id| templates.iter().find(|t| t.public_id == id).cloned())
                .map(|t| t.for_patient(&first))
                .unwrap_or_default()
        }
    };
    let default = if hub.portal {
        Channel::Message
    } else if hub.email.is_some() {
        Channel::Email
    } else {
        Channel::Text
    };
    let ways = [
        (
            Channel::Message,
            hub.portal,
            "in the portal, sealed".to_owned(),
        ),
        (
            Channel::Email,
            hub.email.is_some(),
            hub.email
                .clone()
                .unwrap_or_else(|| "no email address on file".into()),
        ),
        (
            Channel::Text,
            hub.mobile.is_some(),
            hub.mobile
                .clone()
                .unwrap_or_else(|| "no mobile number on file".into()),
        ),
    ];
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = outcome.get() {
            if send.value().with_untracked(|v| v.is_some()) {
                if let Some(form) = form.get_untracked() {
                    form.reset();
                }
            }
        }
    });
    view! {
        <section class="card stack" id="communication" aria-labelledby="communication-title">
            <h2 id="communication-title">{format!("Write to {first}")}</h2>
            {move || match outcome.get() {
                Some(Err((_, text))) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                Some(Ok(())) => view! { <div class="notice notice-success" role="status"><p>"Sent. It is in the history below."</p></div> }.into_any(),
                None => ().into_any(),
            }}
            <div class="template-picks">
                <span class="fine-print">"Start from a template: "</span>
                {templates.iter().map(|t| view! {
                    <a class="pill" href=format!("?template={}#communication", crate::ui::url_encode(&t.public_id))>{t.name.clone()}</a>" "
                }).collect_view()}
                <a class="fine-print" href="/dashboard/messages/templates">"Manage templates"</a>
            </div>
            {move || {
                let (subject, body) = picked();
                let typed = body.clone();
                let patient = patient.clone();
                let ways = ways.clone();
                view! {
                    <ActionForm action=send node_ref=form attr:class="form composer">
                        <input type="hidden" name="patient" value=patient/>
                        <fieldset class="channel-choice">
                            <legend>"Send as"</legend>
                            {ways.into_iter().map(|(channel, possible, to)| {
                                let id = format!("compose-{}", channel.as_str());
                                let target = id.clone();
                                view! {
                                    <label for=target class:disabled=!possible>
                                        <input type="radio" id=id name="channel" value=channel.as_str()
                                            checked=channel == default disabled=!possible/>
                                        <strong>{channel.label()}</strong>
                                        <span class="fine-print">{format!(" · {to}")}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                        <div class="field" class:field-invalid=move || errors().get("subject").is_some()>
                            <label for="compose-subject">"Subject"</label>
                            <input id="compose-subject" name="subject" type="text" maxlength=SUBJECT_MAX.to_string() value=subject
                                aria-invalid=move || crate::ui::invalid(&errors(), "subject")
                                aria-describedby="compose-subject-hint"/>
                            <p class="fine-print" id="compose-subject-hint">"Not sent with a text."</p>
                            {move || problem(&errors(), "subject").map(|m| view! { <p class="field-error">{m}</p> })}
                        </div>
                        <div class="field" class:field-invalid=move || errors().get("body").is_some()>
                            <label for="compose-body">"Message"</label>
                            <textarea id="compose-body" name="body" rows="5" maxlength=BODY_MAX.to_string()
                                aria-invalid=move || crate::ui::invalid(&errors(), "body")
                                aria-describedby="compose-body-hint" prop:value=typed>{body}</textarea>
                            <p class="fine-print" id="compose-body-hint">{format!("A text can be at most {TEXT_MAX} characters. Email and text are not encrypted on the way: keep health details for a secure message.")}</p>
                            {move || problem(&errors(), "body").map(|m| view! { <p class="field-error">{m}</p> })}
                        </div>
                        <button class="button" type="submit" disabled=move || send.pending().get()>
                            {move || if send.pending().get() { "Sending…" } else { "Send" }}
                        </button>
                    </ActionForm>
                }
            }}
            <h3>"Communication history"</h3>
            <History entries=hub.history/>
        </section>
    }
    .into_any()
}

#[component]
fn History(entries: Vec<HistoryEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="fine-print">"Nothing sent or received yet."</p> }.into_any();
    }
    view! {
        <ol class="communication-history" aria-label="Communication history">
            {entries.into_iter().map(|e| {
                let subject = if e.subject.is_empty() { "(no subject)".to_owned() } else { e.subject.clone() };
                view! {
                    <li>
                        <p class="message-meta">
                            <span class="pill">{e.channel.label()}</span>" "
                            {match e.link.clone() {
                                Some(href) => view! { <a href=href><strong>{subject.clone()}</strong></a> }.into_any(),
                                None => view! { <strong>{subject.clone()}</strong> }.into_any(),
                            }}
                        </p>
                        <p class="fine-print">{format!("{} · {} → {} · {}", e.at, e.by, e.to, e.status)}</p>
                        <p class="history-body">{e.body}</p>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// `/dashboard/messages/templates`: the practice's saved templates, to add, change and remove.
#[component]
pub fn TemplatesPage() -> impl IntoView {
    let save = ServerAction::<SaveTemplate>::new();
    let remove = ServerAction::<RemoveTemplate>::new();
    let sent_from = RwSignal::new(None::<String>);
    // Read again after a change that went through only: a refused one keeps its form as typed.
    let changed = RwSignal::new(0_u32);
    Effect::new(move |_| {
        save.version().track();
        remove.version().track();
        let saved = save.value().with_untracked(|v| matches!(v, Some(Ok(_))));
        let removed = remove.value().with_untracked(|v| matches!(v, Some(Ok(_))));
        if saved || removed {
            changed.update(|n| *n += 1);
        }
    });
    let templates = Resource::new(move || changed.get(), |_| load_templates());
    let query = use_query_map();
    let said = move || {
        if matches!(save.value().get(), Some(Ok(_))) || query.with(|q| q.get("saved").is_some()) {
            Some("The template is saved.")
        } else if matches!(remove.value().get(), Some(Ok(_)))
            || query.with(|q| q.get("removed").is_some())
        {
            Some("The template is removed.")
        } else {
            None
        }
    };
    view! {
        <Title text="Message templates · Bedside"/>
        <section class="section container narrow stack">
            <p class="back-link"><a href="/dashboard/messages">"← Messages"</a></p>
            <h1>"Message templates"</h1>
            {move || said().map(|text| view! { <div class="notice notice-success" role="status"><p>{text}</p></div> })}
            <p class="fine-print">{format!("Words the practice sends often. Start a message, email or text from one on a patient's chart; {FIRST_NAME} becomes the patient's first name. Templates are the practice's words: do not put a patient's details in one.")}</p>
            <Transition fallback=|| view! { <p>"Loading templates…"</p> }>
                {move || Suspend::new(async move {
                    match templates.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(list) => view! {
                            {list.is_empty().then(|| view! { <p>"No templates yet."</p> })}
                            {list.into_iter().map(|t| view! { <TemplateForm template=Some(t) save remove sent_from/> }).collect_view()}
                        }.into_any(),
                    }
                })}
            </Transition>
            <h2>"Add a template"</h2>
            <TemplateForm template=None save remove sent_from/>
        </section>
    }
}

#[component]
fn TemplateForm(
    template: Option<Template>,
    save: ServerAction<SaveTemplate>,
    remove: ServerAction<RemoveTemplate>,
    /// The template whose form was sent last ("" for the new one).
    sent_from: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = template
        .as_ref()
        .map(|t| t.public_id.clone())
        .unwrap_or_default();
    let key = if id.is_empty() {
        "new".to_owned()
    } else {
        id.clone()
    };
    let (name, subject, body) = template
        .map(|t| (t.name, t.subject, t.body))
        .unwrap_or_default();
    let field = move |f: &str| format!("template-{key}-{f}");
    let mine = id.clone();
    // Only the form that was sent shows its problems.
    let errors = Memo::new(move |_| match save.value().get() {
        Some(Err(AppError::Validation(errors)))
            if sent_from.get().as_deref() == Some(mine.as_str()) =>
        {
            errors
        }
        _ => FieldErrors::default(),
    });
    let from = id.clone();
    let form = NodeRef::<leptos::html::Form>::new();
    if id.is_empty() {
        // The new template's form empties once its template is saved.
        Effect::new(move |_| {
            if matches!(save.value().get(), Some(Ok(_)))
                && sent_from.get_untracked().as_deref() == Some("")
            {
                if let Some(form) = form.get_untracked() {
                    form.reset();
                }
            }
        });
    }
    let remove_form = (!id.is_empty()).then(|| {
        let id = id.clone();
        view! {
            <ActionForm action=remove attr:class="inline-form">
                <input type="hidden" name="template" value=id/>
                <button class="button button-small button-quiet" type="submit">"Remove"</button>
            </ActionForm>
        }
    });
    let label = if id.is_empty() {
        "Add the template"
    } else {
        "Save changes"
    };
    view! {
        // A submit bubbles up here: it says which form was sent.
        <div class="card stack" on:submit=move |_| sent_from.set(Some(from.clone()))>
            <ActionForm action=save node_ref=form attr:class="form">
                <input type="hidden" name="template" value=id.clone()/>
                <div class="field" class:field-invalid=move || errors.with(|e| e.get("name").is_some())>
                    <label for=field("name")>"Name"</label>
                    <input id=field("name") name="name" type="text" maxlength="80" value=name required/>
                    {move || errors.with(|e| problem(e, "name")).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <div class="field">
                    <label for=field("subject")>"Subject (optional)"</label>
                    <input id=field("subject") name="subject" type="text" maxlength=SUBJECT_MAX.to_string() value=subject/>
                </div>
                <div class="field" class:field-invalid=move || errors.with(|e| e.get("body").is_some())>
                    <label for=field("body")>"Words"</label>
                    <textarea id=field("body") name="body" rows="4" maxlength=BODY_MAX.to_string() required>{body}</textarea>
                    {move || errors.with(|e| problem(e, "body")).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <button class="button button-small" type="submit">{label}</button>
            </ActionForm>
            {remove_form}
        </div>
    }
}

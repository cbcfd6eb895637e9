//! One conversation, for the patient (`/portal/messages/:id`) and the practice
//! (`/dashboard/messages/:id`): every message in the server's order, read receipts on one's
//! own, and the reply form. It refetches when the live stream says the conversation changed,
//! so a reply and a receipt appear without a reload; a reply that fails keeps its words.

use super::api::{load_conversation, send_with_file, ManageConversation};
use super::model::{ConversationView, MessageFile, MessageView, ATTACH_PATH};
use crate::records::documents::model::{human_size, MAX_BYTES};
use crate::records::documents::refusal::DocumentRefusal;
use crate::ui::{described_by, error_notice, invalid};
use crate::{AppError, FieldErrors, Refusal};
use leptos::prelude::*;
use leptos::web_sys::FormData;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ConversationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let send: Send = Action::new_local(|data: &FormData| send_with_file(data.clone().into()));
    let manage = ServerAction::<ManageConversation>::new();
    let live = crate::live::client::use_live();
    let conversation = Resource::new(
        move || {
            (
                id(),
                send.version().get(),
                manage.version().get(),
                live.messages.get(),
            )
        },
        |(id, _, _, _)| load_conversation(id),
    );
    let location = leptos_router::hooks::use_location();
    let area = move || {
        if location.pathname.with(|p| p.starts_with("/portal")) {
            "/portal"
        } else {
            "/dashboard"
        }
    };
    let list = move || format!("{}/messages", area());
    view! {
        <Title text="Message · Bedside"/>
        <section class="section container narrow stack">
            <p class="back-link"><a href=list>"← All messages"</a></p>
            // Transition: a refetch (a reply arrived) keeps the thread on screen meanwhile.
            <Transition fallback=|| view! { <p>"Loading the conversation…"</p> }>
                {move || Suspend::new(async move {
                    match conversation.await {
                        Err(error) => error_notice(&error),
                        Ok(view) => view! { <Conversation view manage area=area()/> }.into_any(),
                    }
                })}
            </Transition>
            // Outside the thread: what is being typed stays when the thread is fetched again.
            <ReplyForm conversation=Signal::derive(id) send/>
        </section>
    }
}

#[component]
fn Conversation(
    view: ConversationView,
    manage: ServerAction<ManageConversation>,
    /// `/portal` or `/dashboard`: where the files are downloaded.
    area: &'static str,
) -> impl IntoView {
    let practice = !view.colleagues.is_empty();
    let tools = practice.then(|| {
        view! {
            <ManageTools
                conversation=view.public_id.clone()
                colleagues=view.colleagues.clone()
                assigned=view.assigned_to_id.clone()
                done=view.done
                manage/>
        }
    });
    let last = view.messages.last().map(|m| m.seq);
    let mut status: Vec<String> = Vec::new();
    if let Some(who) = &view.assigned_to {
        status.push(format!("Looked after by {who}"));
    }
    if view.done {
        status.push("Marked done by the practice".to_owned());
    }
    let status = (!status.is_empty()).then(|| status.join(" · "));
    view! {
        <header class="stack-tight">
            <h1>{view.subject.clone()}</h1>
            <p class="fine-print">"With "{view.with.clone()}{status.map(|s| format!(" · {s}"))}</p>
        </header>
        {tools}
        <ol class="message-thread" aria-label="Messages">
            {view.messages.into_iter().map(|m| {
                let latest = Some(m.seq) == last;
                view! { <MessageItem message=m latest area/> }
            }).collect_view()}
        </ol>
    }
}

#[component]
fn MessageItem(message: MessageView, latest: bool, area: &'static str) -> impl IntoView {
    let class = match (message.mine, message.automatic) {
        (true, _) => "message message-mine",
        (false, true) => "message message-automatic",
        (false, false) => "message",
    };
    let receipt = message.mine.then(|| match message.read_by.first() {
        None => "Sent · not read yet".to_owned(),
        Some(first) => {
            let mut who: Vec<String> = message.read_by.iter().map(|r| r.who.clone()).collect();
            who.dedup();
            format!("Read by {} · {}", who.join(", "), first.at)
        }
    });
    view! {
        <li class=class id=latest.then_some("latest")>
            <p class="message-meta">
                <strong>{if message.mine { "You".to_owned() } else { message.from.clone() }}</strong>
                " · "<time>{message.at.clone()}</time>
                {message.automatic.then(|| view! { " · "<span class="pill">"Automatic reply"</span> })}
            </p>
            {(!message.body.is_empty()).then(|| view! { <p class="message-body">{message.body}</p> })}
            {(!message.files.is_empty()).then(|| view! {
                <ul class="message-files" aria-label="Files">
                    {message.files.into_iter().map(|f| view! { <FileLink file=f area/> }).collect_view()}
                </ul>
            })}
            {receipt.map(|r| view! { <p class="message-receipt fine-print">{r}</p> })}
        </li>
    }
}

/// A file that came with a message: a download from the patient's record.
#[component]
fn FileLink(file: MessageFile, area: &'static str) -> impl IntoView {
    let href = format!(
        "{area}/documents/{}",
        crate::ui::url_encode(&file.public_id)
    );
    view! {
        <li>
            <a href=href download>{file.title}</a>
            <span class="fine-print">" · "{file.about}</span>
        </li>
    }
}

/// The reply form's action: the form as it is (a file or none), sent in place.
type Send = Action<FormData, Result<i64, AppError>>;

/// What came of the last send: nothing yet, sent, or what to fix / what went wrong. Without
/// JavaScript the answer comes back in the address (`fix`, `refused`, `error`).
fn outcome(
    send: Send,
    too_large: RwSignal<bool>,
) -> Memo<Option<Result<(), (FieldErrors, String)>>> {
    let query = use_query_map();
    let kept = "It is still here; send it again when you are ready.";
    Memo::new(move |_| {
        if too_large.get() {
            return Some(Err((
                FieldErrors::default(),
                DocumentRefusal::TooLarge.message().to_owned(),
            )));
        }
        match send.value().get() {
            Some(Ok(_)) => Some(Ok(())),
            Some(Err(AppError::Validation(errors))) => {
                let text = errors
                    .get("body")
                    .unwrap_or("Please check your message.")
                    .to_owned();
                Some(Err((errors, text)))
            }
            Some(Err(AppError::Refused(Refusal::Document(refusal)))) => Some(Err((
                FieldErrors::default(),
                format!("Your message was not sent: {} {kept}", refusal.message()),
            ))),
            Some(Err(error)) => Some(Err((
                FieldErrors::default(),
                format!("Your message was not sent: {error} {kept}"),
            ))),
            None => query.with(|q| {
                if q.get("fix").is_some() {
                    let text = "Write your message, or choose a file to send.";
                    return Some(Err((FieldErrors::single("body", text), text.to_owned())));
                }
                let refused = q.get("refused")?;
                let why = refused
                    .strip_prefix("document.")
                    .and_then(DocumentRefusal::from_code)
                    .map_or("It could not be sent.", |r| r.message());
                Some(Err((
                    FieldErrors::default(),
                    format!("Your message was not sent: {why}"),
                )))
            }),
        }
    })
}

#[component]
fn ReplyForm(conversation: Signal<String>, send: Send) -> impl IntoView {
    let too_large = RwSignal::new(false);
    let outcome = outcome(send, too_large);
    let form = NodeRef::<leptos::html::Form>::new();
    let file = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = outcome.get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            // A file over the limit is refused here, before it is sent.
            too_large.set(crate::records::documents::over_the_limit(file));
            if too_large.get_untracked() {
                return;
            }
            if let Some(data) = form
                .get_untracked()
                .and_then(|form| FormData::new_with_form(&form).ok())
            {
                send.dispatch_local(data);
            }
        }
    };
    let errors = move || match outcome.get() {
        Some(Err((errors, _))) => errors,
        _ => FieldErrors::default(),
    };
    let body_invalid = move || errors().get("body").is_some();
    let limit = human_size(MAX_BYTES);
    view! {
        <section class="card stack" id="reply" aria-labelledby="reply-title">
            <h2 id="reply-title">"Reply"</h2>
            {move || match outcome.get() {
                Some(Err((_, text))) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                Some(Ok(())) => view! { <p class="visually-hidden" role="status">"Sent."</p> }.into_any(),
                None => ().into_any(),
            }}
            // A real multipart form (it may carry a file): without JavaScript it posts to the
            // same server function, which answers with the conversation again.
            <form class="form" method="post" action=ATTACH_PATH enctype="multipart/form-data"
                node_ref=form on:submit=on_submit>
                <input type="hidden" name="conversation" value=conversation/>
                // The controls stay put (only their attributes follow the outcome): a message
                // that was not sent is still there to send again.
                <div class=move || if body_invalid() { "field field-invalid" } else { "field" }>
                    <label for="body">"Your message"</label>
                    <textarea id="body" name="body" rows="4" maxlength=super::model::BODY_MAX.to_string()
                        aria-invalid=move || invalid(&errors(), "body") aria-describedby=move || described_by(&errors(), "body")></textarea>
                    {move || errors().get("body").map(|m| view! { <p class="field-error" id="body-error">{m.to_owned()}</p> })}
                </div>
                <div class="field">
                    <label for="reply-file">"Attach a file (optional)"</label>
                    <input id="reply-file" type="file" name="file" node_ref=file
                        accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"/>
                    <p class="fine-print">{format!("A photo or a PDF, up to {limit}. It is encrypted and kept in your record.")}</p>
                </div>
                <button class="button" type="submit" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send" }}
                </button>
            </form>
        </section>
    }
}

/// The practice's tools for a conversation: who looks after it, and done or open.
#[component]
fn ManageTools(
    conversation: String,
    colleagues: Vec<super::model::Colleague>,
    assigned: Option<String>,
    done: bool,
    manage: ServerAction<ManageConversation>,
) -> impl IntoView {
    let other = conversation.clone();
    let failed = move || match manage.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    view! {
        <div class="manage-tools">
            {move || failed().map(|text| view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> })}
            <ActionForm action=manage attr:class="inline-form">
                <input type="hidden" name="conversation" value=other/>
                <label for="assign-to">"Looked after by"</label>
                <select id="assign-to" name="to">
                    <option value="" selected=assigned.is_none()>"Nobody yet"</option>
                    {colleagues.into_iter().map(|c| {
                        let selected = assigned.as_deref() == Some(c.public_id.as_str());
                        view! { <option value=c.public_id selected=selected>{c.name}</option> }
                    }).collect_view()}
                </select>
                <button class="button button-small button-quiet" type="submit">"Assign"</button>
            </ActionForm>
            <ActionForm action=manage attr:class="inline-form">
                <input type="hidden" name="conversation" value=conversation/>
                <input type="hidden" name="done" value=if done { "0" } else { "1" }/>
                <button class="button button-small button-quiet" type="submit">{if done { "Open again" } else { "Mark done" }}</button>
            </ActionForm>
        </div>
    }
}

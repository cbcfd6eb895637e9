//! One conversation, for the patient (`/portal/messages/:id`) and the practice
//! (`/dashboard/messages/:id`): every message in the server's order, read receipts on one's
//! own, and the reply form. It refetches when the live stream says the conversation changed,
//! so a reply and a receipt appear without a reload; a reply that fails keeps its words.

use super::api::{load_conversation, ManageConversation, SendMessage};
use super::model::{ConversationView, MessageView};
use crate::ui::{described_by, error_notice, invalid};
use crate::{AppError, FieldErrors};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ConversationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let send = ServerAction::<SendMessage>::new();
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
    let list = move || {
        if location.pathname.with(|p| p.starts_with("/portal")) {
            "/portal/messages"
        } else {
            "/dashboard/messages"
        }
    };
    view! {
        <Title text="Message · Bedside"/>
        <section class="section container narrow stack">
            <p class="back-link"><a href=list>"← All messages"</a></p>
            // Transition: a refetch (a reply arrived) keeps the thread on screen meanwhile.
            <Transition fallback=|| view! { <p>"Loading the conversation…"</p> }>
                {move || Suspend::new(async move {
                    match conversation.await {
                        Err(error) => error_notice(&error),
                        Ok(view) => view! { <Conversation view manage/> }.into_any(),
                    }
                })}
            </Transition>
            // Outside the thread: what is being typed stays when the thread is fetched again.
            <ReplyForm conversation=Signal::derive(id) send/>
        </section>
    }
}

#[component]
fn Conversation(view: ConversationView, manage: ServerAction<ManageConversation>) -> impl IntoView {
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
                view! { <MessageItem message=m latest/> }
            }).collect_view()}
        </ol>
    }
}

#[component]
fn MessageItem(message: MessageView, latest: bool) -> impl IntoView {
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
            <p class="message-body">{message.body}</p>
            {receipt.map(|r| view! { <p class="message-receipt fine-print">{r}</p> })}
        </li>
    }
}

/// What came of the last send: nothing yet, sent, or what to fix / what went wrong.
fn outcome(send: ServerAction<SendMessage>) -> Memo<Option<Result<(), (FieldErrors, String)>>> {
    let query = use_query_map();
    Memo::new(move |_| {
        match send.value().get() {
        Some(Ok(_)) => Some(Ok(())),
        Some(Err(AppError::Validation(errors))) => {
            let text = errors.get("body").unwrap_or("Please check your message.").to_owned();
            Some(Err((errors, text)))
        }
        Some(Err(error)) => Some(Err((
            FieldErrors::default(),
            format!("Your message was not sent: {error} It is still here; send it again when you are ready."),
        ))),
        None => query.with(|q| {
            q.get("fix").map(|_| {
                Err((
                    FieldErrors::single("body", "Write your message."),
                    "Write your message.".to_owned(),
                ))
            })
        }),
    }
    })
}

#[component]
fn ReplyForm(conversation: Signal<String>, send: ServerAction<SendMessage>) -> impl IntoView {
    let outcome = outcome(send);
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = outcome.get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    let errors = move || match outcome.get() {
        Some(Err((errors, _))) => errors,
        _ => FieldErrors::default(),
    };
    let body_invalid = move || errors().get("body").is_some();
    view! {
        <section class="card stack" id="reply" aria-labelledby="reply-title">
            <h2 id="reply-title">"Reply"</h2>
            {move || match outcome.get() {
                Some(Err((_, text))) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                Some(Ok(())) => view! { <p class="visually-hidden" role="status">"Sent."</p> }.into_any(),
                None => ().into_any(),
            }}
            <ActionForm action=send node_ref=form attr:class="form">
                <input type="hidden" name="conversation" value=conversation/>
                // The control stays put (only its attributes follow the outcome): a message that
                // was not sent is still there to send again.
                <div class=move || if body_invalid() { "field field-invalid" } else { "field" }>
                    <label for="body">"Your message"</label>
                    <textarea id="body" name="body" rows="4" required maxlength=super::model::BODY_MAX.to_string()
                        aria-invalid=move || invalid(&errors(), "body") aria-describedby=move || described_by(&errors(), "body")></textarea>
                    {move || errors().get("body").map(|m| view! { <p class="field-error" id="body-error">{m.to_owned()}</p> })}
                </div>
                <button class="button" type="submit" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send" }}
                </button>
            </ActionForm>
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

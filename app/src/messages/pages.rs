//! Messaging's lists and compose page: `/portal/messages` (the patient's conversations),
//! `/portal/messages/new` (write to the practice: not for emergencies, and when it answers), and
//! `/dashboard/messages` (the practice's inbox). The lists refetch when the live stream says a
//! message came or was read.

use super::api::{load_compose_notice, load_inbox, load_my_conversations, StartConversation};
use super::model::{ConversationSummary, InboxFilter, BODY_MAX, SUBJECT_MAX};
use crate::ui::{described_by, error_notice, invalid};
use crate::{AppError, FieldErrors};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn MyMessagesPage() -> impl IntoView {
    let live = crate::live::client::use_live();
    let list = Resource::new(move || live.messages.get(), |_| load_my_conversations());
    view! {
        <Title text="Messages · Bedside"/>
        <section class="section container narrow stack">
            <div class="page-heading">
                <h1>"Messages"</h1>
                <a class="button" href="/portal/messages/new">"New message"</a>
            </div>
            <p class="fine-print">"Secure messages with your care team. Not for emergencies: if you need help now, call 911."</p>
            <NoticePreferencesForm/>
            <super::search_page::MessageSearch patient_side=true/>
            <Transition fallback=|| view! { <p>"Loading your messages…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(error) => error_notice(&error),
                        Ok(items) if items.is_empty() => view! {
                            <p>"No messages yet. Write to the practice with a question about your care, a refill or a result."</p>
                        }.into_any(),
                        Ok(items) => view! { <ConversationList items patient_side=true/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let live = crate::live::client::use_live();
    let query = use_query_map();
    let show = move || query.with(|q| InboxFilter::parse(&q.get("show").unwrap_or_default()));
    let patient = move || query.with(|q| q.get("patient").unwrap_or_default());
    let since = move || query.with(|q| q.get("since").unwrap_or_default());
    let list = Resource::new(
        move || (live.messages.get(), show(), patient(), since()),
        |(_, show, patient, since)| load_inbox(show.as_str().to_owned(), patient, since),
    );
    // A tab keeps the narrowing; "Clear" keeps the tab.
    let address = move |show: InboxFilter, narrowed: bool| {
        let mut href = format!("/dashboard/messages?show={}", show.as_str());
        if narrowed {
            for (key, value) in [("patient", patient()), ("since", since())] {
                if !value.is_empty() {
                    href.push_str(&format!("&{key}={}", crate::ui::url_encode(&value)));
                }
            }
        }
        href
    };
    view! {
        <Title text="Messages · Bedside"/>
        <section class="section container stack">
            <div class="page-heading">
                <h1>"Messages"</h1>
                <a class="button button-quiet" href="/dashboard/messages/templates">"Message templates"</a>
            </div>
            <NoticePreferencesForm/>
            <AutoReplyForm/>
            <super::search_page::MessageSearch patient_side=false/>
            <nav class="filter-tabs" aria-label="Show">
                {InboxFilter::ALL.into_iter().map(|f| view! {
                    <a href=move || address(f, true)
                        aria-current=move || (show() == f).then_some("page")>{f.label()}</a>
                }).collect_view()}
            </nav>
            <form class="inbox-narrow" method="get" action="/dashboard/messages" aria-label="Narrow the inbox">
                <input type="hidden" name="show" value=move || show().as_str()/>
                <div class="field">
                    <label for="inbox-patient">"Patient"</label>
                    <input id="inbox-patient" name="patient" type="search" maxlength="100" placeholder="Name" prop:value=patient/>
                </div>
                <div class="field">
                    <label for="inbox-since">"With a message since"</label>
                    <input id="inbox-since" name="since" type="date" prop:value=since/>
                </div>
                <button class="button button-small button-quiet" type="submit">"Narrow"</button>
                {move || (!patient().is_empty() || !since().is_empty()).then(|| view! {
                    <a class="fine-print" href=address(show(), false)>"Clear"</a>
                })}
            </form>
            <Transition fallback=|| view! { <p>"Loading the inbox…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(error) => error_notice(&error),
                        Ok(items) if items.is_empty() && (!patient().is_empty() || !since().is_empty()) => view! {
                            <p>"No conversations match. "<a href=address(show(), false)>"Show them all"</a></p>
                        }.into_any(),
                        Ok(items) if items.is_empty() => view! {
                            <p>"No conversations. Patients' messages arrive here as they are sent."</p>
                        }.into_any(),
                        Ok(items) => view! { <ConversationList items patient_side=false/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ConversationList(items: Vec<ConversationSummary>, patient_side: bool) -> impl IntoView {
    view! {
        <ul class="conversation-list" aria-label="Conversations">
            {items.into_iter().map(|c| {
                let href = super::api::conversation_page(patient_side, &c.public_id);
                let class = if c.unread > 0 { "conversation unread" } else { "conversation" };
                view! {
                    <li class=class>
                        <a href=href>
                            <span class="conversation-subject">
                                {(c.unread > 0).then(|| view! { <span class="pill-new">{format!("{} new", c.unread)}</span>" " })}
                                <strong>{c.subject}</strong>
                            </span>
                            <span class="conversation-meta fine-print">
                                {c.with}" · "<time>{c.last_at}</time>
                                {c.assigned_to.map(|who| format!(" · {who}"))}
                                {c.done.then_some(" · Done")}
                            </span>
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn NewMessagePage() -> impl IntoView {
    let start = ServerAction::<StartConversation>::new();
    let notice = OnceResource::new(load_compose_notice());
    let query = use_query_map();
    // Sent: on to the conversation (a plain form post is redirected there by the server).
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(
                &super::api::conversation_page(true, &id),
                Default::default(),
            );
        }
    });
    let errors = Memo::new(move |_| match start.value().get() {
        Some(Err(AppError::Validation(errors))) => errors,
        None => query.with(|q| {
            let mut errors = FieldErrors::default();
            for field in q.get("fix").unwrap_or_default().split(',') {
                match field {
                    "subject" => errors.add("subject", "Give your message a subject."),
                    "body" => errors.add("body", "Write your message."),
                    _ => {}
                }
            }
            errors
        }),
        _ => FieldErrors::default(),
    });
    let failed = move || match start.value().get() {
        Some(Err(AppError::Validation(_))) | Some(Ok(_)) | None => None,
        Some(Err(error)) => Some(format!(
            "Your message was not sent: {error} It is still here; send it again when you are ready."
        )),
    };
    let message = |errors: &FieldErrors, name: &'static str| {
        errors
            .get(name)
            .map(|m| view! { <p class="field-error" id=format!("{name}-error")>{m.to_owned()}</p> })
    };
    view! {
        <Title text="New message · Bedside"/>
        <section class="section container narrow stack">
            <h1>"New message"</h1>
            <div class="notice notice-warning" role="note">
                <p><strong>"Not for emergencies."</strong>" If you have chest pain, trouble breathing or another emergency, call 911 now."</p>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        notice.await.ok().map(|n| view! {
                            <p>
                                {format!("For anything urgent, call {} at ", n.practice)}
                                <a href=format!("tel:{}", n.phone.replace(' ', ""))>{n.phone.clone()}</a>"."
                            </p>
                            <p class="fine-print">{format!("We read messages during office hours ({}) and answer within one business day.", n.hours.join("; "))}</p>
                        })
                    })}
                </Suspense>
            </div>
            {move || failed().map(|text| view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> })}
            {move || (errors.with(|e| e.len()) > 0).then(|| view! {
                <div class="notice notice-error" role="alert"><p>"Please correct the fields marked below."</p></div>
            })}
            <ActionForm action=start attr:class="form card">
                <div class=move || if errors.with(|e| e.get("subject").is_some()) { "field field-invalid" } else { "field" }>
                    <label for="subject">"Subject"</label>
                    <input id="subject" name="subject" type="text" required maxlength=SUBJECT_MAX.to_string()
                        placeholder="A refill, a question about my results…"
                        aria-invalid=move || errors.with(|e| invalid(e, "subject")) aria-describedby=move || errors.with(|e| described_by(e, "subject"))/>
                    {move || errors.with(|e| message(e, "subject"))}
                </div>
                <div class=move || if errors.with(|e| e.get("body").is_some()) { "field field-invalid" } else { "field" }>
                    <label for="body">"Message"</label>
                    <textarea id="body" name="body" rows="8" required maxlength=BODY_MAX.to_string()
                        aria-invalid=move || errors.with(|e| invalid(e, "body")) aria-describedby=move || errors.with(|e| described_by(e, "body"))></textarea>
                    {move || errors.with(|e| message(e, "body"))}
                </div>
                <button class="button" type="submit" disabled=move || start.pending().get()>
                    {move || if start.pending().get() { "Sending…" } else { "Send" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// How the person hears of messages waiting while they are away: by email, by text.
#[component]
pub(super) fn NoticePreferencesForm() -> impl IntoView {
    let save = ServerAction::<super::api::SaveNoticePreferences>::new();
    let current = Resource::new(
        move || save.version().get(),
        |_| super::api::load_notice_preferences(),
    );
    let query = use_query_map();
    let saved = move || {
        matches!(save.value().get(), Some(Ok(())))
            || (save.value().get().is_none() && query.with(|q| q.get("saved").is_some()))
    };
    view! {
        <details class="card notice-preferences" id="notices">
            <summary>"How we tell you a message is waiting"</summary>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    current.await.ok().map(|p| view! {
                        <ActionForm action=save attr:class="form">
                            <p class="fine-print">"When a message waits unread for a few minutes, we send a short notice, at most one per conversation every 15 minutes. It never says who wrote or what about: only that a secure message waits and where to sign in."</p>
                            <label class="check"><input type="checkbox" name="by_email" value="1" checked=p.by_email/>" By email"</label>
                            {p.can_text.then(|| view! {
                                <label class="check"><input type="checkbox" name="by_text" value="1" checked=p.by_text/>" By text message, to the mobile number in my record"</label>
                            })}
                            <button class="button button-small" type="submit">"Save"</button>
                        </ActionForm>
                    })
                })}
            </Suspense>
            {move || saved().then(|| view! { <p class="notice notice-success" role="status">"Saved."</p> })}
        </details>
    }
}

/// The physician's automatic reply out of office hours (nothing for anyone else).
#[component]
fn AutoReplyForm() -> impl IntoView {
    let save = ServerAction::<super::api::SaveAutoReply>::new();
    let current = Resource::new(
        move || save.version().get(),
        |_| super::api::load_auto_reply(),
    );
    let outcome = move || match save.value().get() {
        Some(Ok(())) => Some(Ok(())),
        Some(Err(error)) => Some(Err(error.to_string())),
        None => None,
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().flatten().map(|reply| view! {
                    <details class="card notice-preferences" id="auto-reply">
                        <summary>{if reply.enabled { "Automatic reply out of hours: on" } else { "Automatic reply out of hours: off" }}</summary>
                        <ActionForm action=save attr:class="form">
                            <p class="fine-print">"When a patient writes while the practice is closed (outside the schedule's hours), they get this reply at once, at most once a conversation every 12 hours."</p>
                            <label class="check"><input type="checkbox" name="enabled" value="1" checked=reply.enabled/>" Send it"</label>
                            <div class="field">
                                <label for="auto-reply-text">"The reply"</label>
                                <textarea id="auto-reply-text" name="text" rows="3" maxlength=super::model::AUTO_REPLY_MAX.to_string()>{reply.text.clone()}</textarea>
                            </div>
                            <button class="button button-small" type="submit">"Save"</button>
                        </ActionForm>
                        {move || outcome().map(|o| match o {
                            Ok(()) => view! { <p class="notice notice-success" role="status">"Saved."</p> }.into_any(),
                            Err(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                        })}
                    </details>
                })
            })}
        </Suspense>
    }
}

//! `/portal/shares`: the patient shares parts of their record with someone outside the practice
//! (a specialist, an urgent care, family). The form makes a link (shown once: only its hash is
//! kept); the list shows every link with each time it was used, and ends one on request.

use super::api::{load_my_shares, CreateShare, RevokeShare};
use super::model::{
    AccessOutcome, LinkEnded, ShareCreated, ShareSummary, DEFAULT_DAYS, MAX_DAYS, MAX_LABEL,
    MIN_PASSCODE,
};
use crate::ui::{described_by, field, invalid};
use crate::{AppError, FieldErrors, Refusal};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SharesPage() -> impl IntoView {
    let create = ServerAction::<CreateShare>::new();
    let revoke = ServerAction::<RevokeShare>::new();
    let shares = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| load_my_shares(),
    );
    view! {
        <Title text="Share my record · Bedside"/>
        <section class="section container narrow stack">
            <h1>"Share my record"</h1>
            <p class="fine-print">
                "Make a link to parts of your record for someone outside the practice: a specialist, an urgent care, a family member. "
                "It works in any web browser and in SMART Health Links apps. You choose how long it stays open, and you can end it at any time; every time it is used is listed here."
            </p>
            <ShareForm create/>
            <section class="stack" aria-labelledby="links-title">
                <h2 id="links-title">"My links"</h2>
                <RevokeOutcome revoke/>
                <Suspense fallback=|| view! { <p>"Loading your links…"</p> }>
                    {move || Suspend::new(async move {
                        match shares.await {
                            Err(error) => crate::ui::error_notice(&error),
                            Ok(links) if links.is_empty() => view! { <p>"You have not shared your record yet."</p> }.into_any(),
                            Ok(links) => links.into_iter().map(|link| view! { <ShareCard link revoke/> }).collect_view().into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <crate::grants::WhoElseOpenedMyRecord/>
        </section>
    }
}

/// What came of the form: a link, or what to fix (by field, or one message).
#[derive(Clone, PartialEq)]
enum Outcome {
    Made(ShareCreated),
    Refused(FieldErrors, Option<String>),
}

/// The form's outcome: from the action's answer, or from the address a plain form post landed
/// on.
fn outcome_of(create: ServerAction<CreateShare>) -> Memo<Option<Outcome>> {
    let query = use_query_map();
    let message = |text: String| Outcome::Refused(FieldErrors::default(), Some(text));
    Memo::new(move |_| match create.value().get() {
        Some(Ok(made)) => Some(Outcome::Made(made)),
        Some(Err(AppError::Validation(errors))) => Some(Outcome::Refused(errors, None)),
        Some(Err(AppError::Refused(Refusal::Share(r)))) => Some(message(r.message().to_owned())),
        Some(Err(other)) => Some(message(other.to_string())),
        None => query.with(|q| {
            q.get("refused").and_then(|code| {
                code.strip_prefix("share.")
                    .and_then(super::refusal::ShareRefusal::from_code)
                    .map(|r| message(r.message().to_owned()))
            })
        }),
    })
}

#[component]
fn ShareForm(create: ServerAction<CreateShare>) -> impl IntoView {
    let outcome = outcome_of(create);
    let errors = move || match outcome.get() {
        Some(Outcome::Refused(errors, _)) => errors,
        _ => FieldErrors::default(),
    };
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Outcome::Made(_)) = outcome.get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    view! {
        <section class="card stack" aria-labelledby="new-link-title">
            <h2 id="new-link-title">"Make a link"</h2>
            {move || match outcome.get() {
                Some(Outcome::Made(made)) => view! { <NewLink made/> }.into_any(),
                Some(Outcome::Refused(errors, message)) => {
                    let text = message.unwrap_or_else(|| match errors.len() {
                        1 => "Please correct the field marked below.".to_owned(),
                        n => format!("Please correct the {n} fields marked below."),
                    });
                    view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any()
                }
                None => ().into_any(),
            }}
            <noscript><p class="notice notice-error">"Making a link needs JavaScript: its address is shown once, on this page."</p></noscript>
            <ActionForm action=create node_ref=form attr:class="form">
                {move || {
                    let errors = errors();
                    view! {
                        {field(&errors, "label", "Who it is for", view! {
                            <input id="label" name="label" type="text" required maxlength=MAX_LABEL.to_string()
                                placeholder="Dr. Chen, cardiology"
                                aria-invalid=invalid(&errors, "label") aria-describedby=described_by(&errors, "label")/>
                        })}
                        <fieldset class=if errors.get("parts").is_some() { "share-parts field-invalid" } else { "share-parts" }
                            aria-describedby=described_by(&errors, "parts")>
                            <legend>"What to share"</legend>
                            <label class="check"><input type="checkbox" name="chart" value="1" checked/>" My chart (allergies, problems, medications, immunizations, contacts, insurance)"</label>
                            <label class="check"><input type="checkbox" name="notes" value="1" checked/>" My visit notes (signed ones, with their plans)"</label>
                            <label class="check"><input type="checkbox" name="documents" value="1"/>" My documents, with their files (lab results, letters)"</label>
                            {errors.get("parts").map(|m| view! { <p class="field-error" id="parts-error">{m.to_owned()}</p> })}
                        </fieldset>
                        {field(&errors, "days", "Open for (days)", view! {
                            <input id="days" name="days" type="number" min="1" max=MAX_DAYS.to_string() value=DEFAULT_DAYS.to_string() required
                                aria-invalid=invalid(&errors, "days") aria-describedby=described_by(&errors, "days")/>
                        })}
                        {field(&errors, "passcode", "Passcode (optional)", view! {
                            <input id="passcode" name="passcode" type="text" autocomplete="off" minlength=MIN_PASSCODE.to_string()
                                aria-invalid=invalid(&errors, "passcode")
                                aria-describedby=described_by(&errors, "passcode").unwrap_or_else(|| "passcode-help".to_owned())/>
                        })}
                        <p class="fine-print" id="passcode-help">{format!(
                            "At least {MIN_PASSCODE} characters. Tell it to the person separately (by phone, say): the link alone will not open without it. After 10 wrong tries the link locks."
                        )}</p>
                    }
                }}
                <button class="button" type="submit" disabled=move || create.pending().get()>"Make the link"</button>
            </ActionForm>
        </section>
    }
}

/// A link just made: its address, shown this once.
#[component]
fn NewLink(made: ShareCreated) -> impl IntoView {
    let copied = RwSignal::new(false);
    let address = made.address.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&address);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &address;
    };
    view! {
        <div class="notice notice-success stack" role="status">
            <p><strong>"Your link is ready."</strong>" Copy it now and send it: for your privacy the practice keeps no copy of it, so it cannot be shown again. (If you lose it, end it below and make a new one.)"</p>
            <label for="new-link-address">"Link to send"</label>
            <input id="new-link-address" class="share-address" type="text" readonly value=made.address.clone()
                on:focus=|ev| {
                    #[cfg(feature = "hydrate")]
                    {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }/>
            <p>
                <button type="button" class="button button-small" on:click=copy>"Copy the link"</button>
                {move || copied.get().then(|| view! { <span class="fine-print">" Copied."</span> })}
            </p>
        </div>
    }
}

fn revoke_message(revoke: ServerAction<RevokeShare>) -> impl Fn() -> Option<Result<(), String>> {
    let query = use_query_map();
    move || match revoke.value().get() {
        Some(Ok(())) => Some(Ok(())),
        Some(Err(error)) => Some(Err(error.to_string())),
        None => query.with(|q| {
            if q.get("revoked").is_some() {
                Some(Ok(()))
            } else {
                q.get("error")
                    .map(|_| Err("The link was not ended. Please try again.".to_owned()))
            }
        }),
    }
}

#[component]
fn RevokeOutcome(revoke: ServerAction<RevokeShare>) -> impl IntoView {
    let message = revoke_message(revoke);
    move || {
        message().map(|m| match m {
            Ok(()) => view! { <div class="notice notice-success" role="status"><p>"The link is ended: it opens nothing any more."</p></div> }.into_any(),
            Err(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
        })
    }
}

/// One link: what it shares, until when, and every use.
#[component]
fn ShareCard(link: ShareSummary, revoke: ServerAction<RevokeShare>) -> impl IntoView {
    let ShareSummary {
        public_id,
        label,
        created,
        expires,
        passcode,
        parts,
        ended,
        accesses,
        ..
    } = link;
    let status = match ended {
        Some(why) => view! { <span class="pill-muted">{why.status()}</span> }.into_any(),
        None => view! { <span class="pill-success">"Open"</span> }.into_any(),
    };
    let heading = format!("share-{public_id}");
    view! {
        <article class="card stack share-link" aria-labelledby=heading.clone()>
            <h3 id=heading.clone()>{label.clone()}" "{status}</h3>
            <p class="fine-print">
                {format!("{parts}. Made on {created}; ")}
                {match ended {
                    None => format!("open until {expires}."),
                    Some(LinkEnded::Expired) => format!("it expired on {expires}."),
                    Some(_) => format!("it would have stayed open until {expires}."),
                }}
                {if passcode { " Needs a passcode." } else { " No passcode." }}
            </p>
            {if accesses.is_empty() {
                view! { <p>"Not used yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="share-uses" aria-label=format!("Uses of the link for {label}")>
                        {accesses.into_iter().map(|a| {
                            let what = match (a.outcome, &a.file) {
                                (AccessOutcome::Opened, Some(file)) => format!("Downloaded “{file}”, in a web browser"),
                                (AccessOutcome::Opened, None) => a.via.map_or("Opened", |v| v.label()).to_owned(),
                                (other, Some(file)) if !file.is_empty() => format!("{} (asking for “{file}”)", other.label()),
                                (other, _) => other.label().to_owned(),
                            };
                            let refused = a.outcome != AccessOutcome::Opened;
                            view! {
                                <li class:share-use-refused=refused>
                                    <strong>{a.recipient}</strong>" · "{what}
                                    <br/><span class="fine-print">{format!("{} · from {}", a.when, a.from)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            {ended.is_none().then(|| view! {
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="link" value=public_id.clone()/>
                    <button class="button button-small button-quiet" type="submit">
                        "End this link now"<span class="visually-hidden">{format!(": {label}")}</span>
                    </button>
                </ActionForm>
            })}
        </article>
    }
}

//! The patient's visit list (`/portal/visits`): upcoming visits to move or cancel, waitlist
//! offers to book or let go, past and cancelled visits. Its writes are server functions used
//! through `ActionForm` (see `api.rs`): without JavaScript a change posts and comes back here
//! with its outcome in the address; once hydrated it runs in place and the list is read again.

use super::api::{my_visits, AcceptWaitlistOffer, CancelVisit, DeclineWaitlistEntry};
use super::model::{CancellationTerms, VisitChange, VisitSummary, WaitlistItem};
use super::refusal::{problem_message, problem_of};
use crate::AppError;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// A message at the top of the list: what a change did, or why it did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Notice {
    Done(&'static str),
    Problem(String),
}

fn said(change: VisitChange) -> &'static str {
    match change {
        VisitChange::Cancelled { late: true } => "Your visit is cancelled, on the late-cancellation terms you confirmed. The time is open for someone else.",
        VisitChange::Cancelled { late: false } => "Your visit is cancelled, free of charge. The time is open for someone else.",
        VisitChange::OfferBooked => "Your visit is booked. We look forward to seeing you.",
        VisitChange::LeftWaitlist => "Done. The time goes to the next person waiting.",
        VisitChange::Waitlisted => "You are on the waitlist. When a time frees up that day we email you and hold it for 30 minutes.",
    }
}

fn outcome(result: Result<VisitChange, AppError>) -> Notice {
    match result {
        Ok(change) => Notice::Done(said(change)),
        Err(error) => Notice::Problem(problem_of(&error)),
    }
}

/// The notice the address carries: a change posted without JavaScript, or another page's
/// outcome (booked, moved, on the waitlist).
fn from_address(query: &leptos_router::params::ParamsMap) -> Option<Notice> {
    if let Some(code) = query.get("error") {
        return Some(Notice::Problem(problem_message(&code).unwrap_or_else(
            || "That did not work. Please try again, or call the practice.".to_owned(),
        )));
    }
    let done = if let Some(how) = query.get("cancelled") {
        said(VisitChange::Cancelled {
            late: how == "late",
        })
    } else if query.get("booked").is_some() {
        said(VisitChange::OfferBooked)
    } else if query.get("moved").is_some() {
        "Your visit is moved. We emailed you the new time with an updated calendar entry."
    } else if query.get("waitlisted").is_some() {
        said(VisitChange::Waitlisted)
    } else if query.get("left_waitlist").is_some() {
        said(VisitChange::LeftWaitlist)
    } else {
        return None;
    };
    Some(Notice::Done(done))
}

#[component]
pub fn MyVisitsPage() -> impl IntoView {
    let query = use_query_map();
    let cancel = ServerAction::<CancelVisit>::new();
    let accept = ServerAction::<AcceptWaitlistOffer>::new();
    let decline = ServerAction::<DeclineWaitlistEntry>::new();
    // Read again after every change made in place.
    let visits = Resource::new(
        move || {
            (
                cancel.version().get(),
                accept.version().get(),
                decline.version().get(),
            )
        },
        |_| my_visits(),
    );
    // The newest outcome of a change made here; until there is one, the address's. Once a
    // change is made here the address's outcome (`?booked=1`) is stale: it is dropped from the
    // address too, so a reload does not say it again.
    let latest = RwSignal::new(None::<Notice>);
    let navigate = use_navigate();
    for value in [cancel.value(), accept.value(), decline.value()] {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Some(result) = value.get() {
                latest.set(Some(outcome(result)));
                let options = NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                };
                navigate("/portal/visits", options);
            }
        });
    }
    let notice = move || latest.get().or_else(|| query.with(from_address));
    view! {
        <Title text="My visits · Bedside"/>
        <section class="section container narrow">
            <h1>"My visits"</h1>
            <div id="changes" aria-live="polite">
                {move || notice().map(|n| match n {
                    Notice::Done(text) => view! { <div class="notice notice-success" role="status"><p>{text}</p></div> }.into_any(),
                    Notice::Problem(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                })}
            </div>
            <Suspense fallback=|| view! { <p>"Loading your visits…"</p> }>
                {move || Suspend::new(async move {
                    match visits.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(visits) => view! {
                            {(!visits.waitlist.is_empty()).then(|| view! {
                                <h2 id="waitlist">"Waitlist"</h2>
                                <ul class="visit-list">
                                    {visits.waitlist.into_iter().map(|item| view! { <WaitlistCard item accept decline/> }).collect_view()}
                                </ul>
                            })}
                            <h2>"Upcoming"</h2>
                            {visits.upcoming.is_empty().then(|| view! { <p>"You have no upcoming visits."</p> })}
                            <ul class="visit-list">
                                {visits.upcoming.into_iter().map(|visit| view! { <UpcomingCard visit cancel/> }).collect_view()}
                            </ul>
                            {(!visits.past.is_empty()).then(|| view! {
                                <h2>"Past and cancelled"</h2>
                                <ul class="visit-list visit-list-past">
                                    {visits.past.into_iter().map(|v| view! {
                                        <li class="card">
                                            <strong>{v.visit_type.label()}</strong>
                                            {v.cancelled.then(|| view! { " "<span class="pill-muted">"Cancelled"</span> })}
                                            <br/>{v.when}
                                            {v.note.map(|note| view! { <br/><span class="fine-print">{note}</span> })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            })}
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p><a class="button" href="/portal/book">"Book a visit"</a></p>
        </section>
    }
}

/// A waitlist entry: waiting, or a freed time held for the patient to book or let go.
#[component]
fn WaitlistCard(
    item: WaitlistItem,
    accept: ServerAction<AcceptWaitlistOffer>,
    decline: ServerAction<DeclineWaitlistEntry>,
) -> impl IntoView {
    let what = format!("{} on {}", item.visit_type.label(), item.day);
    let entry = item.public_id.clone();
    let let_go = move |label: &'static str, class: &'static str| {
        let entry = entry.clone();
        let what = what.clone();
        view! {
            <ActionForm action=decline attr:class=class>
                <input type="hidden" name="entry" value=entry/>
                <button class="button button-small button-quiet" type="submit">{label}<span class="visually-hidden">{format!(": {what}")}</span></button>
            </ActionForm>
        }
    };
    match (item.offered, item.held_until) {
        (Some(when), Some(until)) => {
            let reason_id = format!("offer-reason-{}", item.public_id);
            let book = match item.fee_cents {
                Some(c) => format!("Book this time ({})", crate::domain::format_usd(c)),
                None => "Book this time".to_owned(),
            };
            view! {
                <li class="card waitlist-offer">
                    <strong>{format!("A time opened up: {} on {when}", item.visit_type.label())}</strong>
                    <p>{format!("Held for you until {until}.")}</p>
                    {item.terms.map(|t| view! { <p class="fine-print">{t}</p> })}
                    <ActionForm action=accept attr:class="form">
                        <input type="hidden" name="entry" value=item.public_id/>
                        {item.fee_cents.map(|c| view! { <input type="hidden" name="accept_fee_cents" value=c.to_string()/> })}
                        <div class="field">
                            <label for=reason_id.clone()>"What is the visit about?"</label>
                            <textarea id=reason_id name="reason" rows="2" maxlength="500" required></textarea>
                        </div>
                        <button class="button button-small" type="submit">{book}</button>
                    </ActionForm>
                    {let_go("Let it go", "")}
                </li>
            }
            .into_any()
        }
        _ => view! {
            <li class="card">
                <strong>{item.visit_type.label()}</strong><br/>{format!("Waiting for a time on {}", item.day)}
                {let_go("Leave the waitlist", "visit-cancel")}
            </li>
        }
        .into_any(),
    }
}

/// An upcoming visit, with what the patient may do about it now (P3's terms).
#[component]
fn UpcomingCard(visit: VisitSummary, cancel: ServerAction<CancelVisit>) -> impl IntoView {
    let what = format!("{} on {}", visit.visit_type.label(), visit.when);
    let action = match visit.cancellation {
        CancellationTerms::Free => view! {
            <ActionForm action=cancel attr:class="visit-cancel">
                <input type="hidden" name="id" value=visit.public_id.clone()/>
                <p class="fine-print">"Moving or cancelling is free until 24 hours before the visit."</p>
                <a class="button button-small" href=format!("/portal/book?type={}&reschedule={}", visit.visit_type.as_str(), visit.public_id)>
                    "Move to another time"<span class="visually-hidden">{format!(": {what}")}</span>
                </a>
                " "
                <button class="button button-small button-quiet" type="submit">
                    "Cancel visit"<span class="visually-hidden">{format!(": {what}")}</span>
                </button>
            </ActionForm>
        }
        .into_any(),
        CancellationTerms::Late => view! {
            <ActionForm action=cancel attr:class="visit-cancel">
                <input type="hidden" name="id" value=visit.public_id.clone()/>
                <input type="hidden" name="accept_late" value=visit.late_token.unwrap_or_default()/>
                <p class="fine-print late-terms">{visit.late_terms.unwrap_or_default()}</p>
                <button class="button button-small button-quiet" type="submit">
                    "Cancel on these terms"<span class="visually-hidden">{format!(": {what}")}</span>
                </button>
            </ActionForm>
        }
        .into_any(),
        CancellationTerms::Started => ().into_any(),
    };
    view! {
        <li class="card"><strong>{visit.visit_type.label()}</strong><br/>{visit.when}
            {visit.fee_note.map(|note| view! { <br/><span class="fine-print">{note}</span> })}
            {action}</li>
    }
}

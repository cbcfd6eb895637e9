//! The booking page (`/portal/book`): free times of a kind of visit, booking one, moving a
//! booked visit (`?reschedule=<visit>`), joining a full day's waitlist, the time zone times are
//! shown in. Its writes are server functions used through `ActionForm` (`api.rs`): without
//! JavaScript a form posts and the outcome comes back in the address; once hydrated it runs in
//! place, a refusal is said at the top and the free times are read again, a booking goes on to
//! the visit list without a reload.

use super::api::{load_booking_options, BookVisit, JoinWaitlist, MoveVisit, SetTimeZone};
use super::model::{BookingOptions, VisitType};
use super::refusal::{booking_problem_message, in_place_message};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

/// A message at the top of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Notice {
    Done(&'static str),
    Problem(String),
}

const ZONE_SAVED: &str = "Saved. Times are shown in your time zone from now on.";

/// A visit id from the address: letters and digits only (it goes back into a form).
fn visit_id(id: String) -> Option<String> {
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

#[component]
pub fn BookVisitPage() -> impl IntoView {
    let query = use_query_map();
    let visit_type = Memo::new(move |_| {
        query
            .with(|q| q.get("type"))
            .and_then(|t| VisitType::parse(&t))
            .unwrap_or(VisitType::InPerson)
    });
    // Moving a booked visit: same kind of visit, a new time, the reason kept.
    let moving = Memo::new(move |_| query.with(|q| q.get("reschedule")).and_then(visit_id));
    // The server reads the page's title after the page is rendered, when its memos may be gone:
    // the title falls back to what the page was first rendered for, never reads a disposed one.
    let first_moving = moving.get_untracked().is_some();
    // A follow-up the physician asked for: the times from that day, one suggested.
    let from = Memo::new(move |_| query.with(|q| q.get("from")).unwrap_or_default());
    let suggested = Memo::new(move |_| {
        query
            .with(|q| q.get("suggested"))
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
            .map(|at| at.with_timezone(&chrono::Utc))
    });
    let book = ServerAction::<BookVisit>::new();
    let relocate = ServerAction::<MoveVisit>::new();
    let join = ServerAction::<JoinWaitlist>::new();
    let zone = ServerAction::<SetTimeZone>::new();
    // Read again after every change made here: a refused time may be gone, the zone changed.
    let options = Resource::new(
        move || {
            (
                visit_type.get(),
                from.get(),
                book.version().get() + relocate.version().get(),
                join.version().get() + zone.version().get(),
            )
        },
        |(visit_type, from, _, _)| load_booking_options(visit_type, from),
    );
    // What the patient typed survives a refusal (the form is drawn again with the new times).
    let reason = RwSignal::new(String::new());
    let latest = RwSignal::new(None::<Notice>);
    let notice_box = NodeRef::<leptos::html::Div>::new();
    let say = move |notice: Notice| {
        latest.set(Some(notice));
        if let Some(element) = notice_box.get_untracked() {
            element.scroll_into_view();
        }
    };
    let navigate = use_navigate();
    for (value, done) in [
        (book.value(), "/portal/visits?booked=1"),
        (relocate.value(), "/portal/visits?moved=1"),
    ] {
        let navigate = navigate.clone();
        Effect::new(move |_| match value.get() {
            Some(Ok(_)) => navigate(done, Default::default()),
            Some(Err(error)) => say(Notice::Problem(in_place_message(&error))),
            None => {}
        });
    }
    Effect::new(move |_| match join.value().get() {
        Some(Ok(_)) => navigate("/portal/visits?waitlisted=1", Default::default()),
        Some(Err(error)) => say(Notice::Problem(in_place_message(&error))),
        None => {}
    });
    Effect::new(move |_| match zone.value().get() {
        Some(Ok(())) => say(Notice::Done(ZONE_SAVED)),
        Some(Err(error)) => say(Notice::Problem(in_place_message(&error))),
        None => {}
    });
    // Another kind of visit chosen: what was said about the last one no longer applies.
    Effect::new(move |previous: Option<VisitType>| {
        let now = visit_type.get();
        if previous.is_some_and(|p| p != now) {
            latest.set(None);
        }
        now
    });
    let from_address = move || {
        query.with(|q| {
            if let Some(code) = q.get("error") {
                Some(Notice::Problem(booking_problem_message(&code)))
            } else {
                q.get("zone").map(|_| Notice::Done(ZONE_SAVED))
            }
        })
    };
    let notice = move || latest.get().or_else(from_address);
    view! {
        <Title text=move || title_of(moving.try_get().map_or(first_moving, |m| m.is_some()))/>
        <section class="section container narrow">
            {move || if moving.get().is_some() {
                view! {
                    <p><a href="/portal/visits">"← My visits"</a></p>
                    <h1>"Choose a new time"</h1>
                    <p>"Your visit keeps its current time until you choose a new one below. Moving it is free up to 24 hours before the visit."</p>
                }.into_any()
            } else {
                view! { <h1>"Book a visit"</h1> }.into_any()
            }}
            <div id="booking-notice" node_ref=notice_box aria-live="polite">
                {move || notice().map(|n| match n {
                    Notice::Done(text) => view! { <div class="notice notice-success" role="status"><p>{text}</p></div> }.into_any(),
                    Notice::Problem(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                })}
            </div>
            {move || suggested.get().is_some().then(|| view! {
                <div class="notice notice-success" role="status">
                    <p>"Your physician suggested a follow-up visit. The first free time then is selected below: book it, or choose another time that suits you better."</p>
                </div>
            })}
            <Suspense fallback=|| view! { <p>"Finding free times…"</p> }>
                {move || Suspend::new(async move {
                    let moving = moving.get();
                    let suggested = suggested.get();
                    if suggested.is_some() && reason.get_untracked().is_empty() {
                        reason.set("Follow-up visit".to_owned());
                    }
                    match options.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(options) => {
                            let forms = Forms { book, relocate, join, zone, reason };
                            view! { <Options options moving suggested forms/> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The page's actions and the reason being typed, handed to the parts that draw the forms.
#[derive(Clone, Copy)]
struct Forms {
    book: ServerAction<BookVisit>,
    relocate: ServerAction<MoveVisit>,
    join: ServerAction<JoinWaitlist>,
    zone: ServerAction<SetTimeZone>,
    reason: RwSignal<String>,
}

/// The free times and what goes with them: kinds of visit, the membership's terms, the time
/// zone, the waitlist, the form that books (or moves).
#[component]
fn Options(
    options: BookingOptions,
    moving: Option<String>,
    suggested: Option<chrono::DateTime<chrono::Utc>>,
    forms: Forms,
) -> impl IntoView {
    let types = options
        .offered
        .iter()
        .map(|t| {
            let current = *t == options.visit_type;
            view! {
                <li>
                    <a href=format!("/portal/book?type={}", t.as_str())
                       class=if current { "choice choice-current" } else { "choice" }
                       aria-current=current.then_some("page")>{t.label()}</a>
                </li>
            }
        })
        .collect_view();
    let empty = options.days.is_empty();
    let terms = options.terms.clone();
    let fee = terms.fee_cents;
    let refused = terms.refusal.clone();
    let booking = moving.is_none() && refused.is_none();
    let visit_type = options.visit_type;
    let waitlist_days = options.waitlist_days.clone();
    let zones = super::model::TIME_ZONES
        .iter()
        .map(|(zone, label)| {
            let selected = *zone == options.zone;
            view! { <option value=*zone selected=selected>{*label}</option> }
        })
        .collect_view();
    let time_zone_note = format!(
        "Times are in {}.{}{}",
        options.time_zone,
        options
            .practice_zone_note
            .clone()
            .map(|n| format!(" {n}"))
            .unwrap_or_default(),
        terms
            .window
            .clone()
            .map(|w| format!(" {w}"))
            .unwrap_or_default(),
    );
    view! {
        {moving.is_none().then(|| view! { <nav aria-label="Kind of visit"><ul class="choices">{types}</ul></nav> })}
        {refused.clone().map(|message| view! {
            <div class="notice notice-warning" role="status">
                <p>{message}</p>
                <p><a href="/portal/membership">"My membership"</a></p>
            </div>
        })}
        {booking.then(|| terms.summary.clone().map(|summary| view! {
            <div class=if fee.is_some() { "notice notice-warning booking-terms" } else { "notice booking-terms" } role="note">
                <p><strong>{if fee.is_some() { "This visit has a fee. " } else { "" }}</strong>{summary}</p>
            </div>
        })).flatten()}
        <p class="fine-print">{time_zone_note}</p>
        <details class="zone-choice">
            <summary>"Show times in another time zone"</summary>
            <ActionForm action=forms.zone attr:class="form filter-form">
                <input type="hidden" name="visit_type" value=visit_type.as_str()/>
                <div class="field">
                    <label for="time_zone">"Your time zone"</label>
                    <select id="time_zone" name="time_zone">{zones}</select>
                </div>
                <div class="filter-actions"><button class="button button-small" type="submit">"Show times in this zone"</button></div>
            </ActionForm>
        </details>
        {(booking && !waitlist_days.is_empty()).then(move || view! {
            <details class="waitlist-join card" id="waitlist" open=empty>
                <summary>"The day you want is full? Join its waitlist"</summary>
                <p>"When a time frees up on that day, the first person waiting is offered it by email and in the portal, and it is held for them for 30 minutes."</p>
                <ActionForm action=forms.join attr:class="form filter-form">
                    <input type="hidden" name="visit_type" value=visit_type.as_str()/>
                    <div class="field">
                        <label for="waitlist-day">"Day"</label>
                        <select id="waitlist-day" name="day">
                            {waitlist_days.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="filter-actions"><button class="button button-small button-quiet" type="submit">"Join the waitlist"</button></div>
                </ActionForm>
            </details>
        })}
        {if refused.is_some() {
            ().into_any()
        } else if empty {
            view! { <p>"No free times in the next two weeks. Please call the practice; we will find a time."</p> }.into_any()
        } else {
            let times = view! { <FreeTimes options suggested/> };
            match moving {
                Some(visit) => view! {
                    <ActionForm action=forms.relocate attr:class="form">
                        <input type="hidden" name="visit" value=visit/>
                        <input type="hidden" name="visit_type" value=visit_type.as_str()/>
                        {times}
                        <button class="button" type="submit">"Move my visit to this time"</button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <ActionForm action=forms.book attr:class="form">
                        <input type="hidden" name="visit_type" value=visit_type.as_str()/>
                        {times}
                        <div class="field">
                            <label for="reason">"What is the visit about?"</label>
                            // The text typed so far: drawn again after a refusal, it is kept.
                            <textarea id="reason" name="reason" rows="3" maxlength="500" required aria-describedby="reason-help"
                                on:input:target=move |ev| forms.reason.set(ev.target().value())>{forms.reason.get_untracked()}</textarea>
                            <p class="field-help" id="reason-help">"A few words for your physician; only the practice sees this."</p>
                        </div>
                        {fee.map(|cents| view! { <input type="hidden" name="accept_fee_cents" value=cents.to_string()/> })}
                        <button class="button" type="submit">{match fee {
                            Some(cents) => format!("Book this visit ({})", crate::domain::format_usd(cents)),
                            None => "Book this visit".to_owned(),
                        }}</button>
                    </ActionForm>
                }.into_any(),
            }
        }}
    }
}

/// The free times, a day at a time (two weeks of times is long on a phone).
#[component]
fn FreeTimes(
    options: BookingOptions,
    suggested: Option<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    view! {
        <fieldset class="slot-days">
            <legend>"Choose a time"</legend>
            {options.days.into_iter().enumerate().map(|(i, day)| {
                let has_suggested = suggested.is_some_and(|at| day.slots.iter().any(|s| s.starts_at == at));
                let open = if suggested.is_some() { has_suggested } else { i < 2 };
                view! {
                    <details class="slot-day" open=open>
                        <summary>{format!("{} · {} free", day.day, day.slots.len())}</summary>
                        <div class="slot-grid">
                            {day.slots.into_iter().map(|slot| {
                                let value = slot.starts_at.to_rfc3339();
                                let id = format!("slot-{}", slot.starts_at.timestamp());
                                view! {
                                    <span class="slot">
                                        <input type="radio" name="starts_at" id=id.clone() value=value required checked=suggested == Some(slot.starts_at)/>
                                        <label for=id>{slot.time.clone()}<span class="visually-hidden">{format!(", {}", day.day)}</span></label>
                                    </span>
                                }
                            }).collect_view()}
                        </div>
                    </details>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// The page's title: moving a visit or booking one.
fn title_of(moving: bool) -> &'static str {
    if moving {
        "Move a visit · Bedside"
    } else {
        "Book a visit · Bedside"
    }
}

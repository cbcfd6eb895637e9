//! The booking page, the physician's agenda and schedule. The booking form posts to
//! `POST /portal/book` (server crate); its outcome comes back in the address
//! (post/redirect/get), so the page is the same on the server and in the browser. The visit
//! list is `visits_page.rs`.

use super::api::{load_booking_options, load_schedule_view};
use super::model::VisitType;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BookVisitPage() -> impl IntoView {
    let query = use_query_map();
    let visit_type = query
        .with_untracked(|q| q.get("type"))
        .and_then(|t| VisitType::parse(&t))
        .unwrap_or(VisitType::InPerson);
    let error = query.with_untracked(|q| q.get("error"));
    let zone_saved = query.with_untracked(|q| q.get("zone").is_some());
    // Moving a booked visit: same kind of visit, a new time, the reason kept.
    let moving = query
        .with_untracked(|q| q.get("reschedule"))
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
    // A follow-up the physician asked for: the times from that day, one suggested.
    let from = query.with_untracked(|q| q.get("from")).unwrap_or_default();
    let suggested = query
        .with_untracked(|q| q.get("suggested"))
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        .map(|at| at.with_timezone(&chrono::Utc));
    let options = OnceResource::new(load_booking_options(visit_type, from));
    view! {
        <Title text=if moving.is_some() { "Move a visit · Bedside" } else { "Book a visit · Bedside" }/>
        <section class="section container narrow">
            {if moving.is_some() {
                view! {
                    <p><a href="/portal/visits">"← My visits"</a></p>
                    <h1>"Choose a new time"</h1>
                    <p>"Your visit keeps its current time until you choose a new one below. Moving it is free up to 24 hours before the visit."</p>
                }.into_any()
            } else {
                view! { <h1>"Book a visit"</h1> }.into_any()
            }}
            {zone_saved.then(|| view! {
                <div class="notice notice-success" role="status"><p>"Saved. Times are shown in your time zone from now on."</p></div>
            })}
            {suggested.is_some().then(|| view! {
                <div class="notice notice-success" role="status">
                    <p>"Your physician suggested a follow-up visit. The first free time then is selected below: book it, or choose another time that suits you better."</p>
                </div>
            })}
            {error.map(|e| {
                let just_taken = super::VisitRefusal::JustTaken.message();
                let message = match e.as_str() {
                    "taken" => just_taken.as_str(),
                    "reason" => "Please tell the physician briefly what the visit is about (up to 500 characters).",
                    "time" => "That time is no longer offered. Please choose one of the times below.",
                    "fee" => "The terms of this visit changed since the page was shown. Please read them below and book again.",
                    "allowance" => "No included visit is left for that time. Please read the terms below.",
                    "horizon" => "That time is further ahead than your membership books. Please choose one of the times below.",
                    "same_day" => "Your membership books from tomorrow on. Please choose one of the times below, or call the practice for something urgent.",
                    "not_included" => "Your membership does not include that kind of visit. Please choose another kind.",
                    "membership" => "Booking visits is part of an active membership.",
                    "zone" => "Please choose one of the time zones listed.",
                    "day" => "Please choose one of the days listed for the waitlist.",
                    _ => "The visit could not be booked. Please try again.",
                };
                let message = message.to_owned();
                view! { <div class="notice notice-error" role="alert"><p>{message}</p></div> }
            })}
            <Suspense fallback=|| view! { <p>"Finding free times…"</p> }>
                {move || { let moving = moving.clone(); Suspend::new(async move {
                    match options.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(options) => {
                            let types = options.offered.iter().map(|t| {
                                let current = *t == options.visit_type;
                                view! {
                                    <li>
                                        <a href=format!("/portal/book?type={}", t.as_str())
                                           class=if current { "choice choice-current" } else { "choice" }
                                           aria-current=current.then_some("page")>{t.label()}</a>
                                    </li>
                                }
                            }).collect_view();
                            let empty = options.days.is_empty();
                            let terms = options.terms.clone();
                            let fee = terms.fee_cents;
                            let refused = terms.refusal.clone();
                            view! {
                                {moving.is_none().then(|| view! { <nav aria-label="Kind of visit"><ul class="choices">{types}</ul></nav> })}
                                {refused.clone().map(|message| view! {
                                    <div class="notice notice-warning" role="status">
                                        <p>{message}</p>
                                        <p><a href="/portal/membership">"My membership"</a></p>
                                    </div>
                                })}
                                {(moving.is_none() && refused.is_none()).then(|| terms.summary.clone().map(|summary| view! {
                                    <div class=if fee.is_some() { "notice notice-warning booking-terms" } else { "notice booking-terms" } role="note">
                                        <p><strong>{if fee.is_some() { "This visit has a fee. " } else { "" }}</strong>{summary}</p>
                                    </div>
                                })).flatten()}
                                <p class="fine-print">{format!(
                                    "Times are in {}.{}{}",
                                    options.time_zone,
                                    options.practice_zone_note.clone().map(|n| format!(" {n}")).unwrap_or_default(),
                                    terms.window.clone().map(|w| format!(" {w}")).unwrap_or_default(),
                                )}</p>
                                <details class="zone-choice">
                                    <summary>"Show times in another time zone"</summary>
                                    <form class="form filter-form" method="post" action="/portal/time-zone">
                                        <input type="hidden" name="visit_type" value=options.visit_type.as_str()/>
                                        <div class="field">
                                            <label for="time_zone">"Your time zone"</label>
                                            <select id="time_zone" name="time_zone">
                                                {super::model::TIME_ZONES.iter().map(|(zone, label)| {
                                                    let selected = *zone == options.zone;
                                                    view! { <option value=*zone selected=selected>{*label}</option> }
                                                }).collect_view()}
                                            </select>
                                        </div>
                                        <div class="filter-actions"><button class="button button-small" type="submit">"Show times in this zone"</button></div>
                                    </form>
                                </details>
                                {let waitlist_days = options.waitlist_days.clone();
                                let visit_type = options.visit_type;
                                (moving.is_none() && refused.is_none() && !waitlist_days.is_empty()).then(move || view! {
                                    <details class="waitlist-join card" id="waitlist" open=empty>
                                        <summary>"The day you want is full? Join its waitlist"</summary>
                                        <p>"When a time frees up on that day, the first person waiting is offered it by email and in the portal, and it is held for them for 30 minutes."</p>
                                        <form class="form filter-form" method="post" action="/portal/waitlist">
                                            <input type="hidden" name="visit_type" value=visit_type.as_str()/>
                                            <div class="field">
                                                <label for="waitlist-day">"Day"</label>
                                                <select id="waitlist-day" name="day">
                                                    {waitlist_days.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                                                </select>
                                            </div>
                                            <div class="filter-actions"><button class="button button-small button-quiet" type="submit">"Join the waitlist"</button></div>
                                        </form>
                                    </details>
                                })}
                                {if refused.is_some() {
                                    view! { <span></span> }.into_any()
                                } else if empty {
                                    view! { <p>"No free times in the next two weeks. Please call the practice; we will find a time."</p> }.into_any()
                                } else {
                                    view! {
                                        <form class="form" method="post" action="/portal/book">
                                            <input type="hidden" name="visit_type" value=options.visit_type.as_str()/>
                                            {moving.clone().map(|id| view! { <input type="hidden" name="reschedule" value=id/> })}
                                            <fieldset class="slot-days">
                                                <legend>"Choose a time"</legend>
                                                {options.days.into_iter().enumerate().map(|(i, day)| {
                                                    let has_suggested = suggested.is_some_and(|at| day.slots.iter().any(|s| s.starts_at == at));
                                                    let open = if suggested.is_some() { has_suggested } else { i < 2 };
                                                    view! {
                                                    // Two weeks of times is long on a phone: one day open at a time.
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
                                                }}).collect_view()}
                                            </fieldset>
                                            {if moving.is_some() {
                                                view! { <button class="button" type="submit">"Move my visit to this time"</button> }.into_any()
                                            } else {
                                                view! {
                                                    <div class="field">
                                                        <label for="reason">"What is the visit about?"</label>
                                                        <textarea id="reason" name="reason" rows="3" maxlength="500" required aria-describedby="reason-help">{suggested.is_some().then_some("Follow-up visit")}</textarea>
                                                        <p class="field-help" id="reason-help">"A few words for your physician; only the practice sees this."</p>
                                                    </div>
                                                    {fee.map(|cents| view! { <input type="hidden" name="accept_fee_cents" value=cents.to_string()/> })}
                                                    <button class="button" type="submit">{match fee {
                                                        Some(cents) => format!("Book this visit ({})", crate::site::model::format_usd(cents)),
                                                        None => "Book this visit".to_owned(),
                                                    }}</button>
                                                }.into_any()
                                            }}
                                        </form>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </section>
    }
}

#[component]
pub fn SchedulePage() -> impl IntoView {
    let query = use_query_map();
    let saved = query.with_untracked(|q| q.get("saved").is_some());
    let error = query
        .with_untracked(|q| q.get("error"))
        .and_then(|e| e.parse::<usize>().ok())
        .map(|i| {
            super::model::SCHEDULE_MESSAGES
                .get(i)
                .copied()
                .unwrap_or(super::model::SCHEDULE_MESSAGES[0])
        });
    let view_data = OnceResource::new(load_schedule_view());
    view! {
        <Title text="Schedule · Bedside"/>
        <section class="section container narrow">
            <p><a href="/dashboard">"← Dashboard"</a></p>
            <h1>"Schedule"</h1>
            {saved.then(|| view! { <div class="notice notice-success" role="status"><p>"Saved. Patients see the change at once."</p></div> })}
            {error.map(|m| view! { <div class="notice notice-error" role="alert"><p>{m}</p></div> })}
            <Suspense fallback=|| view! { <p>"Loading the schedule…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(schedule) => {
                            let edit = schedule.can_edit;
                            view! {
                                <p class="fine-print">{format!("Times are in the practice's time zone, {}.", schedule.time_zone)}</p>
                                <section class="card stack" aria-labelledby="hours-title">
                                    <h2 id="hours-title">"Weekly hours"</h2>
                                    <ul class="session-list">
                                        {schedule.hours.into_iter().map(|row| view! {
                                            <li class="session-row">
                                                <span><strong>{row.visit_type.label()}</strong>{format!(" · {} · {}", row.weekday, row.time)}</span>
                                                {edit.then(|| view! {
                                                    <form method="post" action="/dashboard/schedule">
                                                        <input type="hidden" name="change" value="remove_hours"/>
                                                        <input type="hidden" name="id" value=row.id.to_string()/>
                                                        <button class="button button-small button-quiet" type="submit">
                                                            "Remove"<span class="visually-hidden">{format!(" {} {} {}", row.visit_type.label(), row.weekday, row.time)}</span>
                                                        </button>
                                                    </form>
                                                })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                    {edit.then(|| view! {
                                        <form class="form filter-form" method="post" action="/dashboard/schedule">
                                            <input type="hidden" name="change" value="add_hours"/>
                                            <div class="field"><label for="visit_type">"Kind of visit"</label>
                                                <select id="visit_type" name="visit_type">
                                                    {VisitType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
                                                </select>
                                            </div>
                                            <div class="field"><label for="weekday">"Day"</label>
                                                <select id="weekday" name="weekday">
                                                    {["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].into_iter().enumerate()
                                                        .map(|(i, d)| view! { <option value=i.to_string()>{d}</option> }).collect_view()}
                                                </select>
                                            </div>
                                            <div class="field"><label for="start">"From"</label><input id="start" name="start" type="time" step="300" required/></div>
                                            <div class="field"><label for="end">"To"</label><input id="end" name="end" type="time" step="300" required/></div>
                                            <div class="filter-actions"><button class="button" type="submit">"Add hours"</button></div>
                                        </form>
                                    })}
                                </section>
                                <section class="card stack" aria-labelledby="off-title">
                                    <h2 id="off-title">"Days off"</h2>
                                    {if schedule.days_off.is_empty() {
                                        view! { <p>"No days off planned."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="session-list">
                                                {schedule.days_off.into_iter().map(|day| view! {
                                                    <li class="session-row">
                                                        <span><strong>{day.label.clone()}</strong>{day.note.clone().map(|n| format!(" · {n}"))}</span>
                                                        {edit.then(|| view! {
                                                            <form method="post" action="/dashboard/schedule">
                                                                <input type="hidden" name="change" value="remove_day_off"/>
                                                                <input type="hidden" name="id" value=day.id.to_string()/>
                                                                <button class="button button-small button-quiet" type="submit">
                                                                    "Remove"<span class="visually-hidden">{format!(" {}", day.label)}</span>
                                                                </button>
                                                            </form>
                                                        })}
                                                    </li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                    {edit.then(|| view! {
                                        <form class="form filter-form" method="post" action="/dashboard/schedule">
                                            <input type="hidden" name="change" value="add_day_off"/>
                                            <div class="field"><label for="date">"Date"</label><input id="date" name="date" type="date" required/></div>
                                            <div class="field"><label for="note">"Note (optional)"</label><input id="note" name="note" type="text" maxlength="200"/></div>
                                            <div class="filter-actions"><button class="button" type="submit">"Add day off"</button></div>
                                        </form>
                                        <p class="fine-print">"Visits already booked on a day off stay booked: move them first."</p>
                                    })}
                                </section>
                                <section class="card stack" aria-labelledby="extra-title">
                                    <h2 id="extra-title">"Extra hours on a date"</h2>
                                    {if schedule.extra_hours.is_empty() {
                                        view! { <p>"No extra hours planned."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="session-list">
                                                {schedule.extra_hours.into_iter().map(|day| view! {
                                                    <li class="session-row">
                                                        <span><strong>{day.label.clone()}</strong>{day.note.clone().map(|n| format!(" · {n}"))}</span>
                                                        {edit.then(|| view! {
                                                            <form method="post" action="/dashboard/schedule">
                                                                <input type="hidden" name="change" value="remove_extra_hours"/>
                                                                <input type="hidden" name="id" value=day.id.to_string()/>
                                                                <button class="button button-small button-quiet" type="submit">
                                                                    "Remove"<span class="visually-hidden">{format!(" extra hours {} {}", day.label, day.note.clone().unwrap_or_default())}</span>
                                                                </button>
                                                            </form>
                                                        })}
                                                    </li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                    {edit.then(|| view! {
                                        <form class="form filter-form" method="post" action="/dashboard/schedule">
                                            <input type="hidden" name="change" value="add_extra_hours"/>
                                            <div class="field"><label for="extra_visit_type">"Kind of visit"</label>
                                                <select id="extra_visit_type" name="visit_type">
                                                    {VisitType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
                                                </select>
                                            </div>
                                            <div class="field"><label for="extra_date">"Date"</label><input id="extra_date" name="date" type="date" required/></div>
                                            <div class="field"><label for="extra_start">"From"</label><input id="extra_start" name="start" type="time" step="300" required/></div>
                                            <div class="field"><label for="extra_end">"To"</label><input id="extra_end" name="end" type="time" step="300" required/></div>
                                            <div class="filter-actions"><button class="button" type="submit">"Add extra hours"</button></div>
                                        </form>
                                    })}
                                </section>
                                <section class="card stack" aria-labelledby="lengths-title">
                                    <h2 id="lengths-title">"Visit lengths"</h2>
                                    <p>"How long each kind of visit lasts, and the pause after it (notes, travel). Changes apply to new bookings; booked visits keep their time."</p>
                                    <ul class="session-list">
                                        {schedule.lengths.into_iter().map(|length| {
                                            let kind = length.visit_type;
                                            let id = kind.as_str();
                                            view! {
                                                <li class="session-row">
                                                    {if edit {
                                                        view! {
                                                            <form class="form filter-form" method="post" action="/dashboard/schedule">
                                                                <input type="hidden" name="change" value="set_length"/>
                                                                <input type="hidden" name="visit_type" value=id/>
                                                                <strong class="length-kind">{kind.label()}</strong>
                                                                <div class="field"><label for=format!("minutes-{id}")>"Minutes"</label>
                                                                    <input id=format!("minutes-{id}") name="minutes" type="number" min="5" max="240" step="5" required value=length.minutes.to_string()/></div>
                                                                <div class="field"><label for=format!("buffer-{id}")>"Pause after"</label>
                                                                    <input id=format!("buffer-{id}") name="buffer_minutes" type="number" min="0" max="120" step="5" required value=length.buffer_minutes.to_string()/></div>
                                                                <div class="filter-actions"><button class="button button-small" type="submit">"Save"<span class="visually-hidden">{format!(" {}", kind.label())}</span></button></div>
                                                            </form>
                                                        }.into_any()
                                                    } else {
                                                        view! { <span><strong>{kind.label()}</strong>{format!(" · {} minutes, then {} minutes' pause", length.minutes, length.buffer_minutes)}</span> }.into_any()
                                                    }}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </section>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/dashboard/agenda?date=2026-11-30&span=day|week`: the physician's agenda, a day or a week
/// at a time, with the way back and forth.
#[component]
pub fn AgendaPage() -> impl IntoView {
    use super::model::AgendaSpan;
    let query = use_query_map();
    let date = query.with_untracked(|q| q.get("date")).unwrap_or_default();
    let span = AgendaSpan::parse(&query.with_untracked(|q| q.get("span")).unwrap_or_default());
    let completed = query.with_untracked(|q| q.get("completed").is_some());
    let problem = query.with_untracked(|q| q.get("error")).map(|e| match e.as_str() {
        "follow_up" => "Please choose one of the follow-up intervals offered.",
        _ => "That visit could not be marked completed: it has not started yet, or it was cancelled or completed already.",
    });
    let here = format!(
        "/dashboard/agenda?date={}&span={}",
        crate::ui::url_encode(&date),
        span.as_str()
    );
    let page = OnceResource::new(super::api::load_agenda_page(date, span));
    view! {
        <Title text="Agenda · Bedside"/>
        <section class="section container narrow">
            <p><a href="/dashboard">"← Dashboard"</a></p>
            {completed.then(|| view! { <div class="notice notice-success" role="status"><p>"Marked completed. The patient has the follow-up email."</p></div> })}
            {problem.map(|m| view! { <div class="notice notice-error" role="alert"><p>{m}</p></div> })}
            <Suspense fallback=|| view! { <p>"Loading the agenda…"</p> }>
                {move || { let here = here.clone(); Suspend::new(async move {
                    match page.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(page) => {
                            let link = |date: &str, span: AgendaSpan| format!("/dashboard/agenda?date={date}&span={}", span.as_str());
                            let (unit, other) = match page.span {
                                AgendaSpan::Day => ("day", AgendaSpan::Week),
                                AgendaSpan::Week => ("week", AgendaSpan::Day),
                            };
                            let empty = page.days.is_empty();
                            view! {
                                <h1>{page.title.clone()}</h1>
                                <nav class="agenda-nav" aria-label="Agenda">
                                    <a class="button button-small button-quiet" href=link(&page.previous, page.span)>{format!("← Previous {unit}")}</a>
                                    <a class="button button-small button-quiet" href=link(&page.today, page.span)>"Today"</a>
                                    <a class="button button-small button-quiet" href=link(&page.next, page.span)>{format!("Next {unit} →")}</a>
                                    <a class="button button-small" href=link(&page.first_day, other)>{match other { AgendaSpan::Day => "Show one day", AgendaSpan::Week => "Show the week" }}</a>
                                </nav>
                                {if empty {
                                    view! { <p>{format!("No visits booked this {unit}.")}</p> }.into_any()
                                } else {
                                    view! { <AgendaDays days=page.days back=here/> }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}}
            </Suspense>
        </section>
    }
}

/// Days of the agenda, each with its visits (time, patient, kind, reason); the physician marks
/// a visit that has started as completed, with a follow-up if needed. `back` is the page the
/// form returns to.
#[component]
pub fn AgendaDays(days: Vec<super::model::AgendaDay>, back: String) -> impl IntoView {
    days.into_iter()
        .map(|day| {
            let back = back.clone();
            view! {
                <section class="agenda-day" aria-label=day.day.clone()>
                    <h2>{day.day.clone()}</h2>
                    <ul class="agenda">
                        {day.visits.into_iter().map(|v| {
                            let label = format!("{} at {}", v.patient_name, v.time);
                            let select_id = format!("follow-up-{}", v.public_id);
                            view! {
                            <li class="agenda-item">
                                <span class="agenda-time">{v.time}</span>
                                <span>
                                    <a href=format!("/dashboard/patients/{}", v.patient_public_id)>{v.patient_name}</a>
                                    " · "{v.visit_type.label()}
                                    {v.completed.then(|| view! { " "<span class="pill-muted">"Completed"</span> })}
                                    <br/><span class="fine-print">{v.reason}</span>
                                    {v.can_complete.then(|| view! {
                                        <form class="complete-visit" method="post" action="/dashboard/visits/complete">
                                            <input type="hidden" name="id" value=v.public_id.clone()/>
                                            <input type="hidden" name="back" value=back.clone()/>
                                            <label for=select_id.clone()>"Follow-up"</label>
                                            <select id=select_id name="follow_up_weeks">
                                                <option value="">"None needed"</option>
                                                {super::service_messages::FOLLOW_UP_WEEKS.iter().map(|w| view! {
                                                    <option value=w.to_string()>{if *w == 1 { "In 1 week".to_owned() } else { format!("In {w} weeks") }}</option>
                                                }).collect_view()}
                                            </select>
                                            <button class="button button-small" type="submit">
                                                "Mark visit completed"<span class="visually-hidden">{format!(": {label}")}</span>
                                            </button>
                                        </form>
                                    }.into_any())}
                                </span>
                            </li>
                        }.into_any()}).collect_view()}
                    </ul>
                </section>
            }
        })
        .collect_view()
}

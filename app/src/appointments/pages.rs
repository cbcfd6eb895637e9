//! The physician's agenda and schedule. The booking page is `book_page.rs`, the visit list
//! `visits_page.rs`.

use super::api::{load_schedule_view, ChangeSchedule};
use super::model::{DayOffRow, ScheduleProblem, VisitType};
use super::refusal::in_place_message;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const GENERAL_PROBLEM: &str = "The change could not be saved. Please check the form and try again.";

#[component]
pub fn SchedulePage() -> impl IntoView {
    let query = use_query_map();
    let change = ServerAction::<ChangeSchedule>::new();
    let view_data = Resource::new(move || change.version().get(), |_| load_schedule_view());
    // The outcome of the last change made here; until there is one, the address's.
    let latest = RwSignal::new(None::<Result<(), String>>);
    let outcome_box = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(result) = change.value().get() {
            latest.set(Some(result.map_err(|e| in_place_message(&e))));
            // The forms are long: bring what happened into view.
            if let Some(element) = outcome_box.get_untracked() {
                element.scroll_into_view();
            }
        }
    });
    let from_address = move || {
        query.with(|q| {
            if q.get("saved").is_some() {
                return Some(Ok(()));
            }
            let code = q.get("error")?;
            Some(Err(ScheduleProblem::from_code(&code)
                .map_or(GENERAL_PROBLEM, ScheduleProblem::message)
                .to_owned()))
        })
    };
    let outcome = move || latest.get().or_else(from_address);
    view! {
        <Title text="Schedule · Bedside"/>
        <section class="section container narrow">
            <p><a href="/dashboard">"← Dashboard"</a></p>
            <h1>"Schedule"</h1>
            <div aria-live="polite" node_ref=outcome_box>
                {move || outcome().map(|result| match result {
                    Ok(()) => view! { <div class="notice notice-success" role="status"><p>"Saved. Patients see the change at once."</p></div> }.into_any(),
                    Err(message) => view! { <div class="notice notice-error" role="alert"><p>{message}</p></div> }.into_any(),
                })}
            </div>
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
                                                    <ActionForm action=change>
                                                        <input type="hidden" name="change" value="remove_hours"/>
                                                        <input type="hidden" name="id" value=row.id.to_string()/>
                                                        <button class="button button-small button-quiet" type="submit">
                                                            "Remove"<span class="visually-hidden">{format!(" {} {} {}", row.visit_type.label(), row.weekday, row.time)}</span>
                                                        </button>
                                                    </ActionForm>
                                                })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                    {edit.then(|| view! {
                                        <ActionForm action=change attr:class="form filter-form">
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
                                        </ActionForm>
                                    })}
                                </section>
                                <section class="card stack" aria-labelledby="off-title">
                                    <h2 id="off-title">"Days off"</h2>
                                    <DatedList rows=schedule.days_off empty="No days off planned." remove="remove_day_off" what="" edit=edit change=change/>
                                    {edit.then(|| view! {
                                        <ActionForm action=change attr:class="form filter-form">
                                            <input type="hidden" name="change" value="add_day_off"/>
                                            <div class="field"><label for="date">"Date"</label><input id="date" name="date" type="date" required/></div>
                                            <div class="field"><label for="note">"Note (optional)"</label><input id="note" name="note" type="text" maxlength="200"/></div>
                                            <div class="filter-actions"><button class="button" type="submit">"Add day off"</button></div>
                                        </ActionForm>
                                        <p class="fine-print">"Visits already booked on a day off stay booked: move them first."</p>
                                    })}
                                </section>
                                <section class="card stack" aria-labelledby="extra-title">
                                    <h2 id="extra-title">"Extra hours on a date"</h2>
                                    <DatedList rows=schedule.extra_hours empty="No extra hours planned." remove="remove_extra_hours" what="extra hours " edit=edit change=change/>
                                    {edit.then(|| view! {
                                        <ActionForm action=change attr:class="form filter-form">
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
                                        </ActionForm>
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
                                                            <ActionForm action=change attr:class="form filter-form">
                                                                <input type="hidden" name="change" value="set_length"/>
                                                                <input type="hidden" name="visit_type" value=id/>
                                                                <strong class="length-kind">{kind.label()}</strong>
                                                                <div class="field"><label for=format!("minutes-{id}")>"Minutes"</label>
                                                                    <input id=format!("minutes-{id}") name="minutes" type="number" min="5" max="240" step="5" required value=length.minutes.to_string()/></div>
                                                                <div class="field"><label for=format!("buffer-{id}")>"Pause after"</label>
                                                                    <input id=format!("buffer-{id}") name="buffer_minutes" type="number" min="0" max="120" step="5" required value=length.buffer_minutes.to_string()/></div>
                                                                <div class="filter-actions"><button class="button button-small" type="submit">"Save"<span class="visually-hidden">{format!(" {}", kind.label())}</span></button></div>
                                                            </ActionForm>
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
    let date = Memo::new(move |_| query.with(|q| q.get("date")).unwrap_or_default());
    let span =
        Memo::new(move |_| AgendaSpan::parse(&query.with(|q| q.get("span")).unwrap_or_default()));
    let page = Resource::new(
        move || (date.get(), span.get()),
        |(date, span)| super::api::load_agenda_page(date, span),
    );
    view! {
        <Title text="Agenda · Bedside"/>
        <section class="section container narrow">
            <p><a href="/dashboard">"← Dashboard"</a></p>
            <Suspense fallback=|| view! { <p>"Loading the agenda…"</p> }>
                {move || Suspend::new(async move {
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
                                    view! { <AgendaDays days=page.days/> }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Days of the agenda, each with its visits (time, patient, kind, reason) and, for the
/// physician, the way to the visit's note (signing it completes the visit).
#[component]
pub fn AgendaDays(days: Vec<super::model::AgendaDay>) -> impl IntoView {
    days.into_iter()
        .map(|day| {
            view! {
                <section class="agenda-day" aria-label=day.day.clone()>
                    <h2>{day.day.clone()}</h2>
                    <ul class="agenda">
                        {day.visits.into_iter().map(|v| {
                            let label = format!("{} at {}", v.patient_name, v.time);
                            let note = format!("/dashboard/visits/{}/note", crate::ui::url_encode(&v.public_id));
                            view! {
                            <li class="agenda-item">
                                <span class="agenda-time">{v.time}</span>
                                <span>
                                    <a href=format!("/dashboard/patients/{}", v.patient_public_id)>{v.patient_name}</a>
                                    " · "{v.visit_type.label()}
                                    {v.completed.then(|| view! { " "<span class="pill-muted">"Completed"</span> })}
                                    <br/><span class="fine-print">{v.reason}</span>
                                    {v.can_document.then(|| view! {
                                        <br/><a class="button button-small button-quiet" href=note>
                                            {if v.completed { "Visit note" } else { "Write the visit note" }}
                                            <span class="visually-hidden">{format!(": {label}")}</span>
                                        </a>
                                    })}
                                </span>
                            </li>
                        }.into_any()}).collect_view()}
                    </ul>
                </section>
            }
        })
        .collect_view()
}

/// Dated changes to the weekly hours of one kind (days off, extra hours), each removable by
/// whoever may edit the schedule.
#[component]
fn DatedList(
    rows: Vec<DayOffRow>,
    empty: &'static str,
    /// The change that removes one (`remove_day_off`, …).
    remove: &'static str,
    /// What a row is, for the remove button's accessible name ("extra hours ").
    what: &'static str,
    edit: bool,
    change: ServerAction<ChangeSchedule>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>{empty}</p> }.into_any();
    }
    view! {
        <ul class="session-list">
            {rows.into_iter().map(|day| {
                let note = day.note.clone().unwrap_or_default();
                view! {
                    <li class="session-row">
                        <span><strong>{day.label.clone()}</strong>{day.note.clone().map(|n| format!(" · {n}"))}</span>
                        {edit.then(|| view! {
                            <ActionForm action=change>
                                <input type="hidden" name="change" value=remove/>
                                <input type="hidden" name="id" value=day.id.to_string()/>
                                <button class="button button-small button-quiet" type="submit">
                                    "Remove"<span class="visually-hidden">{format!(" {what}{} {note}", day.label).trim_end().to_owned()}</span>
                                </button>
                            </ActionForm>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

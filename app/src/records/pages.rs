//! The chart on a page: the patient's own (in the portal's health record) and any patient's (in
//! the physician's dashboard). Allergies come first and are never folded away; each entry says
//! who changed it last, keeps its history, and can be changed or removed by whoever may.

use super::api::{load_chart, load_chart_history, load_my_chart, RemoveChartEntry, SaveChartEntry};
use super::fields::{ChartField, FieldKind};
use super::model::{Chart, ChartEntry, ChartItem, ChartSection};
use super::refusal::ChartRefusal;
use crate::{AppError, FieldErrors, Refusal};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What the last change said, from the action once hydrated, or from the address after a plain
/// form post (which names the section and the field to fix, never what was typed).
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Saved in the section named (its notice shows there, where the person pressed the button).
    Saved(String),
    Removed(String),
    Refused(String),
    /// Input to fix, by field name; the section is the one whose fields they are.
    Fix(FieldErrors),
}

impl Outcome {
    fn of(result: Result<(), AppError>, done: impl FnOnce() -> Outcome) -> Outcome {
        match result {
            Ok(()) => done(),
            Err(AppError::Validation(errors)) => Outcome::Fix(errors),
            Err(AppError::Refused(Refusal::Chart(refusal))) => {
                Outcome::Refused(refusal.message().to_owned())
            }
            Err(other) => Outcome::Refused(other.to_string()),
        }
    }

    fn from_address(get: impl Fn(&str) -> Option<String>) -> Option<Outcome> {
        if let Some(section) = get("saved") {
            return Some(Outcome::Saved(section));
        }
        if let Some(section) = get("removed") {
            return Some(Outcome::Removed(section));
        }
        if let Some(code) = get("refused") {
            let text = ChartRefusal::from_code(&code).map_or(
                "The change was not saved. Please try again.",
                ChartRefusal::message,
            );
            return Some(Outcome::Refused(text.to_owned()));
        }
        let field = get("error")?;
        Some(match ChartField::by_name(&field) {
            Some(f) => Outcome::Fix(FieldErrors::single(f.name(), f.how_to_fill())),
            None => Outcome::Refused("The change was not saved. Please try again.".into()),
        })
    }

    /// The message for `field` of `section`'s forms, when it is to fix.
    fn problem(&self, field: ChartField) -> Option<String> {
        match self {
            Outcome::Fix(errors) => errors.get(field.name()).map(str::to_owned),
            _ => None,
        }
    }

    /// Whether this is input to fix in one of `section`'s forms (field names are unique to a
    /// section).
    fn to_fix_in(&self, section: ChartSection) -> bool {
        match self {
            Outcome::Fix(errors) => section
                .fields()
                .iter()
                .any(|f| errors.get(f.name()).is_some()),
            _ => false,
        }
    }
}

/// A patient's chart: `patient` in the dashboard, or (without it) the signed-in patient's own.
#[component]
pub fn ChartPanel(#[prop(optional)] patient: Option<String>) -> impl IntoView {
    let save = ServerAction::<SaveChartEntry>::new();
    let remove = ServerAction::<RemoveChartEntry>::new();
    let query = use_query_map();
    // The chart is read again after a change that went through; a refused one keeps the form
    // as it was typed.
    let changes = RwSignal::new(0_u32);
    let last = RwSignal::new(None::<Outcome>);
    // The section of the last change sent, for its outcome's notice.
    let acted_in = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(input) = save.input().get() {
            acted_in.set(Some(input.form.section));
        }
    });
    Effect::new(move |_| {
        if let Some(input) = remove.input().get() {
            acted_in.set(Some(input.section));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            let ok = result.is_ok();
            let section = acted_in.get_untracked().unwrap_or_default();
            last.set(Some(Outcome::of(result, || Outcome::Saved(section))));
            if ok {
                changes.update(|n| *n += 1);
            }
        }
    });
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            let ok = result.is_ok();
            let section = acted_in.get_untracked().unwrap_or_default();
            last.set(Some(Outcome::of(result, || Outcome::Removed(section))));
            if ok {
                changes.update(|n| *n += 1);
            }
        }
    });
    let outcome = Memo::new(move |_| {
        last.get()
            .or_else(|| query.with(|q| Outcome::from_address(|k| q.get(k))))
    });
    let chart = Resource::new(
        move || changes.get(),
        move |_| {
            let patient = patient.clone();
            async move {
                match patient {
                    Some(patient) => load_chart(patient).await.map(Some),
                    None => load_my_chart().await,
                }
            }
        },
    );
    let history = Memo::new(move |_| query.with(|q| q.get("history")));
    view! {
        {move || outcome.get().and_then(|o| match o {
            Outcome::Refused(text) => Some(view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any()),
            Outcome::Saved(_) | Outcome::Removed(_) | Outcome::Fix(_) => None,
        })}
        <Suspense fallback=|| view! { <p>"Loading the chart…"</p> }>
            {move || Suspend::new(async move {
                match chart.await {
                    Err(error) => view! { <div class="notice notice-error" role="alert"><p>{error.to_string()}</p></div> }.into_any(),
                    Ok(None) => ().into_any(),
                    Ok(Some(chart)) => view! {
                        <div class="chart stack">
                            {ChartSection::ALL.iter().map(|section| view! {
                                <ChartSectionCard chart=chart.clone() section=*section outcome save remove history/>
                            }).collect_view()}
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChartSectionCard(
    chart: Chart,
    section: ChartSection,
    outcome: Memo<Option<Outcome>>,
    save: ServerAction<SaveChartEntry>,
    remove: ServerAction<RemoveChartEntry>,
    /// The entry whose history is open (the address says).
    history: Memo<Option<String>>,
) -> impl IntoView {
    let editable = chart.can_edit.contains(&section);
    let entries: Vec<ChartEntry> = chart.of(section).cloned().collect();
    let id = section.as_str();
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    let patient = chart.patient.clone();
    let to_fix = move || outcome.with(|o| o.as_ref().is_some_and(|o| o.to_fix_in(section)));
    let empty = match section {
        ChartSection::Allergy => "No known allergies recorded.",
        _ => "Nothing recorded.",
    };
    let class = if section == ChartSection::Allergy {
        "card stack chart-section chart-allergies"
    } else {
        "card stack chart-section"
    };
    view! {
        <section class=class id=id aria-labelledby=labelled_by>
            <h2 id=title_id>{section.title()}</h2>
            <Show when=to_fix>
                <div class="notice notice-error" role="alert"><p>"Nothing was saved: please check the fields marked below."</p></div>
            </Show>
            {move || outcome.with(|o| match o {
                Some(Outcome::Saved(s)) if s == section.as_str() => Some(view! { <div class="notice notice-success" role="status"><p>"The chart is saved."</p></div> }.into_any()),
                Some(Outcome::Removed(s)) if s == section.as_str() => Some(view! { <div class="notice notice-success" role="status"><p>"The entry is removed from the chart. Its history is kept."</p></div> }.into_any()),
                _ => None,
            })}
            {if entries.is_empty() {
                view! { <p class="fine-print">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="chart-entries">
                        {entries.into_iter().map(|entry| view! {
                            <EntryRow entry patient=patient.clone() editable outcome save remove history/>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {editable.then(|| view! {
                <EntryForm patient=patient.clone() section item=None entry=None outcome save
                    open=Signal::derive(to_fix) class="chart-add"/>
            })}
        </section>
    }
}

#[component]
fn EntryRow(
    entry: ChartEntry,
    patient: String,
    editable: bool,
    outcome: Memo<Option<Outcome>>,
    save: ServerAction<SaveChartEntry>,
    remove: ServerAction<RemoveChartEntry>,
    history: Memo<Option<String>>,
) -> impl IntoView {
    let section = entry.item.section();
    let details = entry.item.details();
    let when = entry.updated_at.format("%b %-d, %Y").to_string();
    let history_href = format!("?history={}#{}", entry.public_id, section.as_str());
    let id = entry.public_id.clone();
    let history_patient = patient.clone();
    view! {
        <li class="chart-entry">
            <p><strong>{entry.item.headline()}</strong>{(!details.is_empty()).then(|| format!(" · {details}"))}</p>
            <p class="fine-print">{format!("Updated by {} on {when}. ", entry.updated_by)}
                <a href=history_href>"History"<span class="visually-hidden">{format!(" of {}", entry.item.headline())}</span></a>
            </p>
            {editable.then(|| view! {
                <div class="chart-entry-actions">
                    <EntryForm patient=patient.clone() section item=Some(entry.item.clone())
                        entry=Some((entry.public_id.clone(), entry.version)) outcome save
                        open=Signal::stored(false) class="chart-change"/>
                    <ActionForm action=remove>
                        <input type="hidden" name="patient" value=patient.clone()/>
                        <input type="hidden" name="section" value=section.as_str()/>
                        <input type="hidden" name="entry" value=entry.public_id.clone()/>
                        <input type="hidden" name="version" value=entry.version.to_string()/>
                        <button class="button button-small button-quiet" type="submit">
                            "Remove"<span class="visually-hidden">{format!(" {}", entry.item.headline())}</span>
                        </button>
                    </ActionForm>
                </div>
            })}
            {move || {
                let shown = history.with(|h| h.as_deref() == Some(id.as_str()));
                shown.then(|| view! { <EntryHistory patient=history_patient.clone() entry=id.clone()/> })
            }}
        </li>
    }
}

/// Every version of an entry: who, when, what it said.
#[component]
fn EntryHistory(patient: String, entry: String) -> impl IntoView {
    let versions = OnceResource::new(load_chart_history(patient, entry));
    view! {
        <Suspense fallback=|| view! { <p>"Loading the history…"</p> }>
            {move || Suspend::new(async move {
                match versions.await {
                    Err(error) => view! { <p class="field-error">{error.to_string()}</p> }.into_any(),
                    Ok(versions) => view! {
                        <ol class="chart-history" aria-label="History, newest first">
                            {versions.into_iter().map(|v| view! {
                                <li>
                                    <span class="fine-print">{format!("{} by {}, {}: ", v.change.label(), v.by, v.at.format("%b %-d, %Y %H:%M UTC"))}</span>
                                    {v.item.headline()}{let d = v.item.details(); (!d.is_empty()).then(|| format!(" · {d}"))}
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The form that adds an entry to `section` (no `entry`) or saves the next version of one,
/// folded away until asked for. After a save that went through, it folds again and shows what
/// is stored (the chart is read again); a refused one stays as typed.
#[component]
fn EntryForm(
    patient: String,
    section: ChartSection,
    item: Option<ChartItem>,
    /// The entry's public id and the version shown.
    entry: Option<(String, i32)>,
    outcome: Memo<Option<Outcome>>,
    save: ServerAction<SaveChartEntry>,
    /// Unfolded (input to fix after a plain post).
    open: Signal<bool>,
    class: &'static str,
) -> impl IntoView {
    let folder = NodeRef::<leptos::html::Details>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            if let Some(folder) = folder.get_untracked() {
                folder.set_open(false);
            }
        }
    });
    let summary = match &item {
        None => view! { {format!("Add {}", section.one())} }.into_any(),
        Some(item) => {
            view! { "Change"<span class="visually-hidden">{format!(" {}", item.headline())}</span> }
                .into_any()
        }
    };
    let form_id = entry
        .as_ref()
        .map_or_else(|| format!("new-{}", section.as_str()), |(id, _)| id.clone());
    let (entry_id, version) = entry
        .map(|(id, version)| (id, version.to_string()))
        .unwrap_or_default();
    let is_new = entry_id.is_empty();
    view! {
        <details class=class node_ref=folder open=open>
        <summary>{summary}</summary>
        <ActionForm action=save node_ref=form attr:class="form chart-form">
            <input type="hidden" name="patient" value=patient/>
            <input type="hidden" name="section" value=section.as_str()/>
            <input type="hidden" name="entry" value=entry_id/>
            <input type="hidden" name="version" value=version/>
            {section.fields().iter().map(|field| {
                let value = item.as_ref().map(|i| field.value_in(i)).unwrap_or_default();
                chart_field(*field, &form_id, value, outcome)
            }).collect_view()}
            <button class="button button-small" type="submit">{if is_new { "Add" } else { "Save the change" }}</button>
        </ActionForm>
        </details>
    }
}

/// One labelled field, with its error under it when there is one.
fn chart_field(
    field: ChartField,
    form_id: &str,
    value: String,
    outcome: Memo<Option<Outcome>>,
) -> impl IntoView {
    let id = format!("{form_id}-{}", field.name());
    let error_id = format!("{id}-error");
    let problem = move || outcome.with(|o| o.as_ref().and_then(|o| o.problem(field)));
    let described = {
        let error_id = error_id.clone();
        move || problem().map(|_| error_id.clone())
    };
    let input = match field.kind() {
        FieldKind::Choice(choices) => view! {
            <select id=id.clone() name=field.name() aria-invalid=move || problem().map(|_| "true") aria-describedby=described.clone()>
                {choices.iter().map(|(v, label)| view! { <option value=*v selected=value == *v>{*label}</option> }).collect_view()}
            </select>
        }.into_any(),
        kind => {
            let (input_type, required) = match kind {
                FieldKind::Date => ("date", false),
                FieldKind::Phone => ("tel", true),
                FieldKind::Text { required } => ("text", required),
                FieldKind::Choice(_) => ("text", false),
            };
            view! {
                <input id=id.clone() name=field.name() type=input_type maxlength="200" value=value required=required
                    aria-invalid=move || problem().map(|_| "true") aria-describedby=described.clone()/>
            }.into_any()
        }
    };
    view! {
        <div class="field" class:field-invalid=move || problem().is_some()>
            <label for=id>{field.label()}</label>
            {input}
            {move || problem().map(|text| view! { <p class="field-error" id=error_id.clone() role="alert">{text}</p> })}
        </div>
    }
}

//! The patient's own record in the portal, and a patient's record in the dashboard.

use super::api::{my_record, patient_directory, patient_record, SaveMyDetails};
use super::model::{DetailsForm, PatientProfile};
use crate::{AppError, FieldErrors};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

fn failed(error: &AppError) -> AnyView {
    #[cfg(feature = "ssr")]
    crate::auth::api::context::set_status(error.status());
    let (title, text) = match error {
        AppError::Forbidden => (
            "You do not have access to this record",
            "This record belongs to someone else. The attempt was recorded. If you think this is a mistake, please call the practice.".to_owned(),
        ),
        other => ("This record could not be shown", other.to_string()),
    };
    view! {
        <Title text=format!("{title} · Bedside")/>
        <div class="notice notice-error" role="alert">
            <h1>{title}</h1>
            <p>{text}</p>
        </div>
    }
    .into_any()
}

/// A patient's details as the practice sees them; on the patient's own page (`own`), the ones
/// they keep themselves are in the form below it instead, and it says how to change the rest.
#[component]
fn ProfileCard(profile: PatientProfile, #[prop(optional)] own: bool) -> impl IntoView {
    let given = |value: Option<String>| value.unwrap_or_else(|| "Not given".into());
    view! {
        <section class="card stack" aria-labelledby="profile-title">
            <h2 id="profile-title">"Personal details"</h2>
            <dl class="details">
                <div><dt>"Legal name"</dt><dd>{profile.legal_name.clone()}</dd></div>
                {(!own).then(|| view! { <div><dt>"Preferred name"</dt><dd>{given(profile.preferred_name.clone())}</dd></div> })}
                <div><dt>"Date of birth"</dt><dd>{profile.date_of_birth.format("%B %-d, %Y").to_string()}</dd></div>
                {(!own).then(|| view! { <div><dt>"Phone"</dt><dd>{given(profile.phone.clone())}</dd></div> })}
            </dl>
            {own.then(|| view! { <p class="fine-print">"To correct your legal name or date of birth, please call the practice: they are checked against your ID."</p> })}
        </section>
    }
}

/// What the last "My details" save said: saved, or the field errors to show (by field name).
/// From the action once hydrated; after a plain form post, from the address, which names the
/// field to fix (never what was typed) and the page says how.
fn details_outcome(save: ServerAction<SaveMyDetails>) -> Memo<Option<Result<(), FieldErrors>>> {
    let query = use_query_map();
    Memo::new(move |_| match save.value().get() {
        Some(Ok(())) => Some(Ok(())),
        Some(Err(AppError::Validation(errors))) => Some(Err(errors)),
        Some(Err(other)) => Some(Err(FieldErrors::single("details", other.to_string()))),
        None => query.with(|q| match (q.get("saved"), q.get("error")) {
            (Some(_), _) => Some(Ok(())),
            (_, Some(field)) => Some(Err(FieldErrors::single(
                &field,
                DetailsForm::how_to_fill(&field),
            ))),
            (None, None) => None,
        }),
    })
}

/// One field of "My details": labelled, its hint, its error under it when there is one.
fn details_field(
    outcome: Memo<Option<Result<(), FieldErrors>>>,
    name: &'static str,
    label: &'static str,
    value: String,
    hint: &'static str,
    kind: &'static str,
) -> impl IntoView {
    let problem = move || {
        outcome.with(|o| match o {
            Some(Err(errors)) => errors.get(name).map(str::to_owned),
            _ => None,
        })
    };
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || match problem() {
            Some(_) => format!("{error_id} {hint_id}"),
            None => hint_id.clone(),
        }
    };
    view! {
        <div class="field" class:field-invalid=move || problem().is_some()>
            <label for=name>{label}</label>
            <input id=name name=name type=kind maxlength="60" value=value
                aria-invalid=move || problem().map(|_| "true") aria-describedby=described/>
            {move || problem().map(|text| view! { <p class="field-error" id=error_id.clone() role="alert">{text}</p> })}
            <p class="fine-print" id=hint_id>{hint}</p>
        </div>
    }
}

/// "My details": what the patient keeps current themselves.
#[component]
fn MyDetails(profile: PatientProfile, save: ServerAction<SaveMyDetails>) -> impl IntoView {
    let outcome = details_outcome(save);
    let saved = move || matches!(outcome.get(), Some(Ok(())));
    let failed = move || {
        outcome.with(|o| match o {
            Some(Err(errors)) => errors.get("details").map(str::to_owned),
            _ => None,
        })
    };
    view! {
        <section class="card stack" aria-labelledby="details-title">
            <h2 id="details-title">"My details"</h2>
            <Show when=saved>
                <div class="notice notice-success" role="status"><p>"Your details are saved."</p></div>
            </Show>
            {move || failed().map(|text| view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> })}
            <ActionForm action=save attr:class="form">
                {details_field(outcome, "preferred_name", "Preferred name", profile.preferred_name.clone().unwrap_or_default(),
                    "What you like to be called, if not your legal name. The practice sees it with your record.", "text")}
                {details_field(outcome, "phone", "Phone", profile.phone.clone().unwrap_or_default(),
                    "For the practice to reach you, and for visit reminders by text. Leave it empty to remove it.", "tel")}
                <button class="button" type="submit">"Save my details"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn PortalHome() -> impl IntoView {
    let save = ServerAction::<SaveMyDetails>::new();
    // The record is read again after a save that went through; a refused one keeps the form
    // as the patient typed it, with the error under its field.
    let saves = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            saves.update(|n| *n += 1);
        }
    });
    let record = Resource::new(move || saves.get(), |_| my_record());
    view! {
        <Title text="My health record · Bedside"/>
        <section class="section container narrow">
            <Suspense fallback=|| view! { <p>"Loading your record…"</p> }>
                {move || Suspend::new(async move {
                    match record.await {
                        Err(error) => failed(&error),
                        Ok(None) => view! {
                            <h1>"Welcome"</h1>
                            <p>"Your account has no health record yet. The practice will set it up when your membership starts."</p>
                        }.into_any(),
                        Ok(Some(profile)) => view! {
                            <h1>{format!("Hello, {}", profile.called())}</h1>
                            <ProfileCard profile=profile.clone() own=true/>
                            <MyDetails profile save/>
                            <h2 class="chart-title">"My chart"</h2>
                            <p class="fine-print">"Keep your allergies, conditions, medications and contacts current: the practice sees every change, with who made it and when. Immunizations are recorded by the practice."</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            // Outside the record's Suspense: drawn inside it, they were made again when the
            // record resolved, and each read the chart and the documents twice (two audit
            // entries for one look: P9). Each loads on its own, alongside the record; for an
            // account without a record they show nothing.
            <crate::records::ChartPanel/>
            <crate::records::DocumentsPanel/>
        </section>
    }
}

#[component]
pub fn PatientPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id")).unwrap_or_default();
    let record = OnceResource::new(patient_record(id.clone()));
    let path = use_location().pathname.get_untracked();
    let from_dashboard = path.starts_with("/dashboard");
    // The administrator's emergency read: the record only, read only.
    let emergency = path.starts_with("/admin");
    view! {
        <section class=if from_dashboard { "section container" } else { "section container narrow" }>
            {from_dashboard.then(|| view! { <p><a href="/dashboard">"← All patients"</a></p> })}
            <Suspense fallback=|| view! { <p>"Loading the record…"</p> }>
                {move || {
                    let id = id.clone();
                    Suspend::new(async move {
                        // The chart is asked for only once the record may be read: a refused
                        // look is one refusal in the audit log, not two.
                        match record.await {
                            Err(error) => failed(&error),
                            Ok(profile) => view! {
                                <Title text=format!("{} · Bedside", profile.legal_name)/>
                                <h1>{profile.legal_name.clone()}</h1>
                                {if from_dashboard {
                                    view! {
                                        <div class="patient-layout">
                                            <div class="stack">
                                                <ProfileCard profile/>
                                                <crate::records::ChartPanel patient=id.clone()/>
                                                <crate::messages::hub::CommunicationPanel patient=id.clone()/>
                                            </div>
                                            <aside class="stack" aria-label="Visits and membership">
                                                <PatientSide patient=id.clone()/>
                                                <crate::records::NoteTimeline patient=id.clone()/>
                                                <crate::records::DocumentsPanel patient=id.clone()/>
                                                <crate::grants::AccessPanel patient=id/>
                                            </aside>
                                        </div>
                                    }.into_any()
                                } else if emergency {
                                    view! {
                                        <div class="notice notice-error" role="note">
                                            <p>"Emergency access: read only, for an hour from when you opened it. The physician sees your reason, and every look is in the audit log."</p>
                                        </div>
                                        <ProfileCard profile/>
                                        <crate::records::ChartPanel patient=id.clone()/>
                                    }.into_any()
                                } else {
                                    view! {
                                        <ProfileCard profile/>
                                        <crate::records::ChartPanel patient=id.clone()/>
                                        <crate::records::DocumentsPanel patient=id/>
                                    }.into_any()
                                }}
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// Beside the chart in the dashboard: the patient's next visits (each with its note) and their
/// membership.
#[component]
fn PatientSide(patient: String) -> impl IntoView {
    let summary = OnceResource::new(super::api::load_patient_summary(patient));
    view! {
        <Suspense fallback=|| view! { <p>"Loading visits…"</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Err(error) => failed(&error),
                    Ok(summary) => view! {
                        <section class="card stack" aria-labelledby="upcoming-title">
                            <h2 id="upcoming-title">"Upcoming visits"</h2>
                            {if summary.upcoming.is_empty() {
                                view! { <p class="fine-print">"No visits booked."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="upcoming-visits">
                                        {summary.upcoming.into_iter().map(|v| view! {
                                            <li>
                                                <strong>{v.when.clone()}</strong>" · "{v.visit_type.label()}
                                                {(!v.reason.is_empty()).then(|| view! { <br/><span class="fine-print">{v.reason.clone()}</span> })}
                                                <br/><a href=crate::records::notes::api::note_address(&v.appointment)>
                                                    "Visit note"<span class="visually-hidden">{format!(": {}", v.when)}</span>
                                                </a>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        {summary.membership.map(|m| view! {
                            <section class="card stack" aria-labelledby="membership-title">
                                <h2 id="membership-title">"Membership"</h2>
                                <p><strong>{m.tier}</strong>" · "{m.status}</p>
                                {m.since.map(|since| view! { <p class="fine-print">{format!("Member since {since}")}</p> })}
                            </section>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn DashboardHome() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let patients = Resource::new(search, patient_directory);
    let agenda = OnceResource::new(crate::appointments::api::load_agenda());
    view! {
        <Title text="Dashboard · Bedside"/>
        <div class="container"><crate::grants::EmergencyReadsNotice/></div>
        <section class="section container dashboard">
            <div>
                <h1>"This week"</h1>
                <Suspense fallback=|| view! { <p>"Loading the agenda…"</p> }>
                    {move || Suspend::new(async move {
                        match agenda.await {
                            Err(error) => failed(&error),
                            Ok(days) if days.is_empty() => view! { <p>"No visits booked in the next seven days."</p> }.into_any(),
                            Ok(days) => view! {
                                <crate::appointments::AgendaDays days/>
                                <p><a href="/dashboard/agenda">"Open the agenda: day and week, forward and back →"</a></p>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
            <div>
                <h2 id="patients-title">"Patients"</h2>
                <form class="search-form" method="get" action="/dashboard" role="search" aria-labelledby="patients-title">
                    <label for="q">"Find a patient by name"</label>
                    <div class="search-row">
                        <input id="q" name="q" type="search" autocomplete="off" maxlength="100" value=search/>
                        <button class="button button-small" type="submit">"Find"</button>
                    </div>
                </form>
                <Suspense fallback=|| view! { <p>"Loading patients…"</p> }>
                    {move || Suspend::new(async move {
                        match patients.await {
                            Err(error) => failed(&error),
                            Ok(list) if list.is_empty() && !search().is_empty() => view! {
                                <p>"No patient's name holds “"{search()}"”. "<a href="/dashboard">"Show all patients"</a></p>
                            }.into_any(),
                            Ok(list) if list.is_empty() => view! { <p>"No patients yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="patient-list">
                                    {list.into_iter().map(|p| view! {
                                        <li><a href=format!("/dashboard/patients/{}", p.public_id)>{p.legal_name}</a></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </section>
    }
}

//! The patient's own record in the portal, and a patient's record in the dashboard.

use super::api::{my_record, patient_directory, patient_record};
use super::model::PatientProfile;
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

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

#[component]
fn ProfileCard(profile: PatientProfile) -> impl IntoView {
    view! {
        <section class="card stack" aria-labelledby="profile-title">
            <h2 id="profile-title">"Personal details"</h2>
            <dl class="details">
                <div><dt>"Legal name"</dt><dd>{profile.legal_name.clone()}</dd></div>
                <div><dt>"Date of birth"</dt><dd>{profile.date_of_birth.format("%B %-d, %Y").to_string()}</dd></div>
                <div><dt>"Phone"</dt><dd>{profile.phone.clone().unwrap_or_else(|| "Not given".into())}</dd></div>
            </dl>
        </section>
    }
}

#[component]
pub fn PortalHome() -> impl IntoView {
    let record = OnceResource::new(my_record());
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
                            <h1>{format!("Hello, {}", profile.legal_name.split_whitespace().next().unwrap_or_default())}</h1>
                            <ProfileCard profile/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn PatientPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id")).unwrap_or_default();
    let record = OnceResource::new(patient_record(id));
    let from_dashboard = use_location()
        .pathname
        .get_untracked()
        .starts_with("/dashboard");
    view! {
        <section class="section container narrow">
            {from_dashboard.then(|| view! { <p><a href="/dashboard">"← All patients"</a></p> })}
            <Suspense fallback=|| view! { <p>"Loading the record…"</p> }>
                {move || Suspend::new(async move {
                    match record.await {
                        Err(error) => failed(&error),
                        Ok(profile) => view! {
                            <Title text=format!("{} · Bedside", profile.legal_name)/>
                            <h1>{profile.legal_name.clone()}</h1>
                            <ProfileCard profile/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn DashboardHome() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let patients = Resource::new(search, patient_directory);
    let complete = ServerAction::<crate::appointments::api::CompleteVisit>::new();
    let agenda = Resource::new(
        move || complete.version().get(),
        |_| crate::appointments::api::load_agenda(),
    );
    view! {
        <Title text="Dashboard · Bedside"/>
        <section class="section container dashboard">
            <div>
                <h1>"This week"</h1>
                <crate::appointments::CompletionNotice complete/>
                <Suspense fallback=|| view! { <p>"Loading the agenda…"</p> }>
                    {move || Suspend::new(async move {
                        match agenda.await {
                            Err(error) => failed(&error),
                            Ok(days) if days.is_empty() => view! { <p>"No visits booked in the next seven days."</p> }.into_any(),
                            Ok(days) => view! {
                                <crate::appointments::AgendaDays days back="/dashboard".to_owned() complete/>
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

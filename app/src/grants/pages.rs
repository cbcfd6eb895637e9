//! The physician's panel beside a patient's chart: who else may open it (staff she let in, the
//! administrator's emergency reads), until when and why; let a staff member in; end a grant.

use super::api::{load_access, GrantAccess, RevokeAccess};
use super::model::{AccessOverview, GrantSummary, DEFAULT_DAYS, MAX_DAYS, MAX_REASON};
use crate::auth::Grant;
use crate::ui::{described_by, field, invalid};
use crate::{AppError, FieldErrors};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AccessPanel(patient: String) -> impl IntoView {
    let grant = ServerAction::<GrantAccess>::new();
    let revoke = ServerAction::<RevokeAccess>::new();
    let said = outcome(grant, revoke);
    let access = Resource::new(
        {
            let patient = patient.clone();
            move || {
                (
                    patient.clone(),
                    grant.version().get(),
                    revoke.version().get(),
                )
            }
        },
        |(patient, _, _)| load_access(patient),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let patient = patient.clone();
                Suspend::new(async move {
                    match access.await {
                        Ok(None) => ().into_any(),
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(Some(overview)) => view! { <Panel patient overview grant revoke said/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// What the last grant or revoke came to.
#[derive(Clone, PartialEq)]
enum Said {
    Done(&'static str),
    Refused(FieldErrors, String),
}

const GRANTED: &str = "The staff member can now open this chart.";
const ENDED: &str = "The access is ended.";

/// What the page says after a grant or a revoke: the latest action's answer (kept outside the
/// panel, which is drawn again when the grants are read again), or the address a plain post
/// landed on.
fn outcome(
    grant: ServerAction<GrantAccess>,
    revoke: ServerAction<RevokeAccess>,
) -> RwSignal<Option<Said>> {
    let from_address = use_query_map().with_untracked(|q| {
        if q.get("granted").is_some() {
            Some(Said::Done(GRANTED))
        } else if q.get("ended").is_some() {
            Some(Said::Done(ENDED))
        } else {
            q.get("fix").map(|_| {
                Said::Refused(
                    FieldErrors::default(),
                    "The access was not given: choose a staff member and between 1 and 30 days."
                        .to_owned(),
                )
            })
        }
    });
    let said = RwSignal::new(from_address);
    let refused = |error: AppError| match error {
        AppError::Validation(errors) => {
            Said::Refused(errors, "Please correct the field marked below.".to_owned())
        }
        other => Said::Refused(FieldErrors::default(), other.to_string()),
    };
    Effect::new(move |_| {
        if let Some(done) = grant.value().get() {
            said.set(Some(done.map_or_else(refused, |()| Said::Done(GRANTED))));
        }
    });
    Effect::new(move |_| {
        if let Some(done) = revoke.value().get() {
            said.set(Some(done.map_or_else(refused, |()| Said::Done(ENDED))));
        }
    });
    said
}

#[component]
fn Panel(
    patient: String,
    overview: AccessOverview,
    grant: ServerAction<GrantAccess>,
    revoke: ServerAction<RevokeAccess>,
    said: RwSignal<Option<Said>>,
) -> impl IntoView {
    let AccessOverview { staff, grants } = overview;
    let for_grant = patient.clone();
    let errors = move || match said.get() {
        Some(Said::Refused(errors, _)) => errors,
        _ => FieldErrors::default(),
    };
    let notice = move || {
        said.get().map(|o| match o {
            Said::Done(text) => {
                view! { <div class="notice notice-success" role="status"><p>{text}</p></div> }
                    .into_any()
            }
            Said::Refused(_, text) => {
                view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }
                    .into_any()
            }
        })
    };
    let emergency: Vec<GrantSummary> = grants
        .iter()
        .filter(|g| g.kind == Grant::BreakGlass)
        .cloned()
        .collect();
    let care: Vec<GrantSummary> = grants
        .into_iter()
        .filter(|g| g.kind == Grant::Care)
        .collect();
    view! {
        <section class="card stack access-panel" id="access" aria-labelledby="access-title">
            <h2 id="access-title">"Who else can open this chart"</h2>
            <p class="fine-print">"Staff see demographics and visits only. Let a staff member read this chart and keep its history for a few days; every look is in the audit log."</p>
            {notice}
            {(!emergency.is_empty()).then(|| view! {
                <div class="notice notice-error stack">
                    <p><strong>"Emergency access to this chart"</strong></p>
                    <ul class="plain">
                        {emergency.into_iter().map(|g| view! {
                            <li>{format!("{} · {} to {} · “{}”", g.person, g.from, g.until, g.reason)}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            {if care.is_empty() {
                view! { <p>"Nobody beyond you."</p> }.into_any()
            } else {
                view! {
                    <ul class="access-list">
                        {care.into_iter().map(move |g| {
                            let patient = patient.clone();
                            let status = if g.active { format!("until {}", g.until) } else { format!("ended {}", g.until) };
                            view! {
                                <li>
                                    <strong>{g.person.clone()}</strong>" · "{status}
                                    {(!g.reason.is_empty()).then(|| view! { <br/><span class="fine-print">{g.reason.clone()}</span> })}
                                    {g.active.then(|| view! {
                                        <ActionForm action=revoke attr:class="inline-form">
                                            <input type="hidden" name="patient" value=patient.clone()/>
                                            <input type="hidden" name="grant" value=g.public_id.clone()/>
                                            <button class="button button-small button-quiet" type="submit">
                                                "End now"<span class="visually-hidden">{format!(": {}", g.person)}</span>
                                            </button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!staff.is_empty()).then(|| view! {
                <details class="access-form">
                    <summary>"Let a staff member in"</summary>
                    <ActionForm action=grant attr:class="form">
                        <input type="hidden" name="patient" value=for_grant/>
                        {move || {
                            let errors = errors();
                            let staff = staff.clone();
                            view! {
                                {field(&errors, "staff", "Staff member", view! {
                                    <select id="staff" name="staff" required aria-invalid=invalid(&errors, "staff") aria-describedby=described_by(&errors, "staff")>
                                        {staff.into_iter().map(|s| view! { <option value=s.public_id>{s.name}</option> }).collect_view()}
                                    </select>
                                })}
                                {field(&errors, "days", "For how many days", view! {
                                    <input id="days" name="days" type="number" min="1" max=MAX_DAYS.to_string() value=DEFAULT_DAYS.to_string() required
                                        aria-invalid=invalid(&errors, "days") aria-describedby=described_by(&errors, "days")/>
                                })}
                                {field(&errors, "reason", "Why (optional)", view! {
                                    <input id="reason" name="reason" type="text" maxlength=MAX_REASON.to_string() placeholder="Coordinating the cardiology referral"
                                        aria-invalid=invalid(&errors, "reason") aria-describedby=described_by(&errors, "reason")/>
                                })}
                            }
                        }}
                        <button class="button button-small" type="submit">"Let them in"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}

/// `/admin/emergency`: the administrator opens a patient's record in an emergency. She names
/// the patient's account and says why; the record then opens, read only, for an hour, and the
/// physician sees who, when and why beside the chart.
#[component]
pub fn EmergencyAccessPage() -> impl IntoView {
    let open = ServerAction::<super::api::OpenEmergencyAccess>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(patient)) = open.value().get() {
            navigate(
                &format!("/admin/patients/{}", crate::ui::url_encode(&patient)),
                Default::default(),
            );
        }
    });
    let query = use_query_map();
    let errors = move || match open.value().get() {
        Some(Err(AppError::Validation(errors))) => errors,
        Some(_) => FieldErrors::default(),
        None => query.with(|q| {
            q.get("fix")
                .map(|fields| {
                    let mut errors = FieldErrors::default();
                    for field in fields.split(',') {
                        errors.add(field, "Please fill this in as asked.");
                    }
                    errors
                })
                .unwrap_or_default()
        }),
    };
    let failed = move || match open.value().get() {
        Some(Err(AppError::Validation(_))) => {
            Some("Please correct the fields marked below.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
        _ => None,
    };
    view! {
        <leptos_meta::Title text="Emergency access · Bedside"/>
        <section class="section container narrow stack">
            <h1>"Emergency access to a record"</h1>
            <p>"Your role does not open patients' charts. In an emergency (the physician cannot be reached and someone needs a patient's allergies or medications now) you can open one patient's record, read only, for an hour."</p>
            <p class="fine-print">"Your reason is kept with the access and shown to the physician beside the chart, and every page you open is in the audit log."</p>
            {move || failed().map(|text| view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> })}
            <ActionForm action=open attr:class="form card">
                {move || {
                    let errors = errors();
                    view! {
                        {field(&errors, "email", "The patient's account email", view! {
                            <input id="email" name="email" type="email" required autocomplete="off"
                                aria-invalid=invalid(&errors, "email") aria-describedby=described_by(&errors, "email")/>
                        })}
                        {field(&errors, "reason", "Why you need it now", view! {
                            <textarea id="reason" name="reason" rows="3" required maxlength=MAX_REASON.to_string()
                                aria-invalid=invalid(&errors, "reason") aria-describedby=described_by(&errors, "reason")></textarea>
                        })}
                    }
                }}
                <button class="button" type="submit" disabled=move || open.pending().get()>"Open the record for an hour"</button>
            </ActionForm>
        </section>
    }
}

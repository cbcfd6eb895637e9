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

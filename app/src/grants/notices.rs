//! Telling people who else opened a record: on the physician's dashboard, the administrator's
//! emergency reads of the last 30 days (whichever chart she opens next); on the patient's
//! Sharing page, everyone in the practice who was let into their record, when and why.

use super::api::{load_emergency_reads, load_my_access};
use super::model::{EmergencyRead, GrantSummary, EMERGENCY_NOTICE_DAYS};
use crate::auth::Grant;
use leptos::prelude::*;

/// The dashboard's notice of emergency reads (nothing at all when there were none, or for
/// staff).
#[component]
pub fn EmergencyReadsNotice() -> impl IntoView {
    let reads = OnceResource::new(load_emergency_reads());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match reads.await {
                    Err(error) => crate::ui::error_notice(&error),
                    Ok(None) => ().into_any(),
                    Ok(Some(reads)) if reads.is_empty() => ().into_any(),
                    Ok(Some(reads)) => view! { <EmergencyReads reads/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EmergencyReads(reads: Vec<EmergencyRead>) -> impl IntoView {
    view! {
        <section class="notice notice-error stack emergency-reads" aria-labelledby="emergency-reads-title">
            <h2 id="emergency-reads-title">"Emergency access to your patients' records"</h2>
            <p class="fine-print">{format!(
                "The administrator opened these records without your grant, read only, in the last {EMERGENCY_NOTICE_DAYS} days. Each look is in the audit log."
            )}</p>
            <ul class="plain stack">
                {reads.into_iter().map(|r| {
                    let status = if r.grant.active { "open now, until" } else { "until" };
                    view! {
                        <li>
                            <a href=format!("/dashboard/patients/{}#access", crate::ui::url_encode(&r.patient))>
                                <strong>{r.patient_name.clone()}</strong>
                            </a>
                            {format!(" · {} · {} {} {}", r.grant.person, r.grant.from, status, r.grant.until)}
                            <br/><span class="fine-print">{format!("Reason: “{}”", r.grant.reason)}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The patient's list of who in the practice was let into their record.
#[component]
pub fn WhoElseOpenedMyRecord() -> impl IntoView {
    let access = OnceResource::new(load_my_access());
    view! {
        <section class="card stack" aria-labelledby="who-else-title">
            <h2 id="who-else-title">"Who else in the practice was let into your record"</h2>
            <p class="fine-print">"Your physician reads your whole record. Front-desk staff see your details and visits only, unless the physician lets one of them into your record for a few days. In an emergency, the practice's administrator can read it for an hour, giving a reason. Every time is listed here."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match access.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(None) => ().into_any(),
                        Ok(Some(grants)) if grants.is_empty() => {
                            view! { <p>"Nobody beyond your physician."</p> }.into_any()
                        }
                        Ok(Some(grants)) => view! {
                            <ul class="access-list">
                                {grants.into_iter().map(|g| view! { <li>{line(&g)}</li> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// "Sam Rivera (front desk), let in by Dr. Avery: December 7, 2026, 10:42 am to …".
fn line(g: &GrantSummary) -> impl IntoView {
    let (what, by) = match g.kind {
        Grant::Care => ("Let into your record", format!(" by {}", g.granted_by)),
        Grant::BreakGlass => ("Emergency read", String::new()),
    };
    let until = if g.active {
        format!("until {}", g.until)
    } else if g.revoked {
        format!("ended {}", g.until)
    } else {
        format!("to {}", g.until)
    };
    view! {
        <strong>{g.person.clone()}</strong>
        {format!(" · {what}{by} · from {} {until}", g.from)}
        {(!g.reason.is_empty()).then(|| view! { <br/><span class="fine-print">{format!("Reason: “{}”", g.reason)}</span> })}
    }
}

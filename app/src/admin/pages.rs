//! The audit log page: filter by actor, patient, action, outcome and dates (GET form, so a
//! filtered view can be bookmarked or shared with the privacy officer).

use super::api::audit_log;
use crate::audit::AuditFilter;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let filter = query.with_untracked(|q| AuditFilter {
        actor: q.get("actor").unwrap_or_default(),
        patient: q.get("patient").unwrap_or_default(),
        action: q.get("action").unwrap_or_default(),
        outcome: q.get("outcome").unwrap_or_default(),
        from: q.get("from").unwrap_or_default(),
        to: q.get("to").unwrap_or_default(),
        before: q.get("before").and_then(|b| b.parse().ok()),
    });
    let page = OnceResource::new(audit_log(filter.clone()));
    let f = filter.clone();
    let outcome_option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=f.outcome == value>{label}</option> }
    };
    view! {
        <Title text="Audit log · Bedside"/>
        <section class="section container">
            <h1>"Audit log"</h1>
            <p class="lead">"Every access to patient information and every sign-in, allowed or not. Entries cannot be changed; "<code>"bedside audit verify"</code>" proves it."</p>
            <form class="form filter-form" method="get" action="/admin/audit">
                <div class="field"><label for="actor">"Who (email)"</label><input id="actor" name="actor" type="text" value=filter.actor.clone()/></div>
                <div class="field"><label for="patient">"Patient (email or id)"</label><input id="patient" name="patient" type="text" value=filter.patient.clone()/></div>
                <div class="field"><label for="action">"Action starts with"</label><input id="action" name="action" type="text" placeholder="patient_profile" value=filter.action.clone()/></div>
                <div class="field"><label for="outcome">"Outcome"</label>
                    <select id="outcome" name="outcome">
                        {outcome_option("", "Any")}
                        {outcome_option("allowed", "Allowed")}
                        {outcome_option("denied", "Denied")}
                        {outcome_option("failed", "Failed")}
                    </select>
                </div>
                <div class="field"><label for="from">"From"</label><input id="from" name="from" type="date" value=filter.from.clone()/></div>
                <div class="field"><label for="to">"To"</label><input id="to" name="to" type="date" value=filter.to.clone()/></div>
                <div class="filter-actions"><button class="button" type="submit">"Filter"</button><a href="/admin/audit">"Clear"</a></div>
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let filter = filter.clone();
                    Suspend::new(async move {
                        match page.await {
                            Err(error) => crate::ui::error_notice(&error),
                            Ok(page) if page.entries.is_empty() => view! { <p>"No entries match."</p> }.into_any(),
                            Ok(page) => {
                                let older = page.older.map(|before| {
                                    let q = format!(
                                        "/admin/audit?actor={}&patient={}&action={}&outcome={}&from={}&to={}&before={before}",
                                        crate::ui::url_encode(&filter.actor), crate::ui::url_encode(&filter.patient), crate::ui::url_encode(&filter.action),
                                        crate::ui::url_encode(&filter.outcome), crate::ui::url_encode(&filter.from), crate::ui::url_encode(&filter.to)
                                    );
                                    view! { <p><a href=q>"Older entries"</a></p> }
                                });
                                view! {
                                    <div class="table-scroll">
                                        <table class="audit-table">
                                            <caption class="visually-hidden">"Audit entries, newest first"</caption>
                                            <thead><tr><th scope="col">"#"</th><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"Action"</th><th scope="col">"Patient"</th><th scope="col">"Outcome"</th><th scope="col">"From"</th></tr></thead>
                                            <tbody>
                                                {page.entries.into_iter().map(|e| {
                                                    let who = match (&e.actor, &e.actor_role) {
                                                        (Some(a), Some(r)) => format!("{a} ({r})"),
                                                        (Some(a), None) => a.clone(),
                                                        _ => "—".to_owned(),
                                                    };
                                                    let outcome_class = format!("outcome outcome-{}", e.outcome);
                                                    view! {
                                                        <tr>
                                                            <td>{e.seq}</td>
                                                            <td>{e.at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                                            <td>{who}</td>
                                                            <td><code>{e.action.clone()}</code>{e.detail.clone().map(|d| view! { <br/><span class="fine-print">{d}</span> })}</td>
                                                            <td>{e.patient_id.clone().unwrap_or_else(|| "—".into())}</td>
                                                            <td><span class=outcome_class>{e.outcome.clone()}</span></td>
                                                            <td>{e.ip.clone().unwrap_or_else(|| "—".into())}</td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    {older}
                                }.into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// `/admin/billing`: the practice's recent invoices, with refunds.
#[component]
pub fn AdminBillingPage() -> impl IntoView {
    use crate::domain::format_usd;
    let refund = ServerAction::<super::api::RefundInvoice>::new();
    let billing = Resource::new(
        move || refund.version().get(),
        |_| super::api::billing_overview(),
    );
    let query = use_query_map();
    let from_address = move || {
        query.with(|q| {
            if q.get("refunded").is_some() {
                return Some(Ok(()));
            }
            let code = q.get("problem")?;
            let text = match code.as_str() {
                "amount" => "Enter an amount in dollars (for example 49.50), no more than what is left to refund.",
                "nothing_left" | "not_through_processor" => "That invoice has nothing left to refund, or was not paid through the payment processor.",
                "forbidden" => "Refunds are made by the practice's admin.",
                "processor_refused" => "The payment processor refused this refund: the invoice may have been refunded in the meantime. The list below shows what is left.",
                _ => "The refund could not be started. Please try again.",
            };
            Some(Err(text.to_owned()))
        })
    };
    let outcome = move || match refund.value().get() {
        Some(result) => {
            Some(result.map_err(|e| crate::appointments::refusal::in_place_message(&e)))
        }
        None => from_address(),
    };
    view! {
        <Title text="Billing · Bedside"/>
        <section class="section container">
            <h1>"Billing"</h1>
            <p class="lead">"The newest invoices across the practice. Refunds go back to the card the member paid with."</p>
            <div aria-live="polite">
                {move || outcome().map(|result| match result {
                    Ok(()) => view! { <div class="notice notice-success" role="status"><p>"Refund started. It shows on the invoice as soon as the payment processor confirms it, and the member is emailed."</p></div> }.into_any(),
                    Err(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                })}
            </div>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match billing.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(billing) => {
                            let charges = billing.charges;
                            let charges = (!charges.is_empty()).then(|| view! {
                                <h2>"Visit fees and late fees"</h2>
                                <p>"Fees for visits a membership does not include and for late cancellations. With a card on file they are billed with the member's next invoice; otherwise the practice collects them."</p>
                                <ul class="invoice-list">
                                    {charges.into_iter().map(|c| view! {
                                        <li class="invoice">
                                            <p class="invoice-head"><strong>{format!("{} · {}", c.member, format_usd(c.amount_cents))}</strong><span>{c.status.clone()}</span></p>
                                            <p class="fine-print">{format!("{} · recorded {}", c.description, c.recorded_on)}</p>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            });
                            let rows = billing.invoices;
                            if rows.is_empty() {
                                return view! { <h2>"Invoices"</h2><p>"No invoices yet."</p>{charges} }.into_any();
                            }
                            let items = rows.into_iter().map(|i| {
                                let refundable = i.refundable_cents();
                                let refund_form = (refundable > 0).then(|| {
                                    let field = format!("amount-{}", i.public_id);
                                    let invoice = i.public_id.clone();
                                    let label = format!("Refund amount for invoice {} (up to {})", i.number, format_usd(refundable));
                                    view! {
                                        <ActionForm action=refund attr:class="refund-form">
                                            <input type="hidden" name="invoice" value=invoice/>
                                            <label for=field.clone()>{label}</label>
                                            <input id=field name="amount" type="text" inputmode="decimal" size="8" value=format!("{}.{:02}", refundable / 100, refundable % 100)/>
                                            <button class="button button-small button-quiet" type="submit">"Refund"</button>
                                        </ActionForm>
                                    }
                                });
                                view! {
                                    <li class="invoice">
                                        <p class="invoice-head"><strong>{format!("Invoice {} · {}", i.number, i.member)}</strong><span>{i.status.clone()}</span></p>
                                        <p class="fine-print">{format!("{} · total {} · paid {} · refunded {}", i.issued_on, format_usd(i.total_cents), format_usd(i.paid_cents), format_usd(i.refunded_cents))}</p>
                                        {refund_form}
                                    </li>
                                }
                            }).collect_view();
                            view! { <h2>"Invoices"</h2><ul class="invoice-list">{items}</ul>{charges} }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

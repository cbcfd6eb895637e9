//! The portal's membership page (`/portal/membership`): where the membership stands, what to
//! do next, billing history, another plan, cancelling. Its changes are server functions used
//! through `ActionForm` (`api.rs`): without JavaScript a form posts and the outcome comes back
//! in the address; once hydrated it runs in place. Paying and a new card open the processor's
//! page, in the browser's own window.

use super::api::{
    load_membership, CancelMembership, ChangePlan, KeepPlan, MembershipChange, PayFirstFee,
    ReplaceCard, ResendConfirmation,
};
use super::model::{MembershipOverview, MembershipStatus, PlanChange, PlanOption};
use super::refusal::MembershipRefusal;
use crate::appointments::refusal::in_place_message;
use crate::domain::format_usd;
use crate::ui::error_notice;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The page's actions, handed to the parts that draw its forms.
#[derive(Clone, Copy)]
struct Actions {
    pay: ServerAction<PayFirstFee>,
    card: ServerAction<ReplaceCard>,
    resend: ServerAction<ResendConfirmation>,
    change: ServerAction<ChangePlan>,
    keep: ServerAction<KeepPlan>,
    cancel: ServerAction<CancelMembership>,
}

/// A message at the top of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Notice {
    Done(&'static str),
    Note(&'static str),
    Problem(String),
}

fn said(change: MembershipChange) -> &'static str {
    match change {
        MembershipChange::LinkSent => {
            "We have sent a new confirmation link. It works for 48 hours."
        }
        MembershipChange::Upgraded => {
            "Your new membership has started. The receipt for today's difference is on its way."
        }
        MembershipChange::Scheduled => {
            "Done: your new membership starts when the current period ends."
        }
        MembershipChange::Cancelled => {
            "Your membership is cancelled. It stays active until the day shown below."
        }
        MembershipChange::Kept => "Done: your membership continues as it is.",
    }
}

/// What the address says: a change posted without JavaScript, or the processor's page sending
/// the member back (paid, cancelled, a new card).
fn from_address(q: &leptos_router::params::ParamsMap) -> Option<Notice> {
    if q.get("paid").is_some() {
        return Some(Notice::Done(
            "Thank you: your payment went through. It can take a moment to show below.",
        ));
    }
    if q.get("checkout").as_deref() == Some("cancelled") {
        return Some(Notice::Note(
            "Payment cancelled: nothing was charged. You can pay whenever you are ready.",
        ));
    }
    if q.get("card").is_some() {
        return Some(Notice::Done("Your new card is on file."));
    }
    if let Some(code) = q.get("problem") {
        let text = match MembershipRefusal::from_code(&code) {
            Some(refusal) => refusal.message(),
            None if code == "forbidden" => "Only the member can change a membership online.".to_owned(),
            None if code == "too_many" => "You have asked for that several times just now. Please wait a minute and try again.".to_owned(),
            None => "Nothing changed: we could not reach the payment processor. Please try again in a minute.".to_owned(),
        };
        return Some(Notice::Problem(text));
    }
    let change = [
        MembershipChange::LinkSent,
        MembershipChange::Upgraded,
        MembershipChange::Scheduled,
        MembershipChange::Cancelled,
        MembershipChange::Kept,
    ]
    .into_iter()
    .find(|change| {
        let (key, value) = change.query().split_once('=').unwrap_or_default();
        q.get(key).as_deref() == Some(value)
    })?;
    Some(Notice::Done(said(change)))
}

fn status_notice(m: &MembershipOverview, actions: Actions) -> AnyView {
    match m.status {
        MembershipStatus::Active => {
            let renews = match (&m.ends_on, &m.paid_through) {
                (Some(_), Some(d)) => format!("Paid through {d}."),
                (None, Some(d)) => format!("Paid through {d}; it renews automatically."),
                _ => String::new(),
            };
            view! {
                <div class="notice notice-success" role="status">
                    <h2>"Your membership is active"</h2>
                    <p>{renews}</p>
                </div>
            }
            .into_any()
        }
        MembershipStatus::Pending => {
            let paid = !m.payment_due;
            view! {
                <div class="notice notice-warning" role="status">
                    <h2>"Two steps to start your membership"</h2>
                    <ol class="next-steps">
                        <li class=if m.email_confirmed { "done" } else { "to-do" }>
                            {if m.email_confirmed {
                                "Email address confirmed.".to_owned()
                            } else {
                                format!("Confirm your email: we sent a link to {}.", m.email)
                            }}
                            {(!m.email_confirmed).then(|| view! {
                                <ActionForm action=actions.resend attr:class="inline-form">
                                    <button class="button button-small button-quiet" type="submit">"Send the link again"</button>
                                </ActionForm>
                            })}
                        </li>
                        <li class=if paid { "done" } else { "to-do" }>
                            {if paid { "Payment received.".to_owned() } else {
                                format!("Pay the first {} fee of {}.", m.period.as_str(), format_usd(m.price_cents))
                            }}
                        </li>
                    </ol>
                </div>
            }
            .into_any()
        }
        MembershipStatus::PastDue => view! {
            <div class="notice notice-error" role="alert">
                <h2>"Your last payment did not go through"</h2>
                <p>{match &m.next_retry {
                    Some(day) => format!("We will try your card again on {day}. Your membership continues meanwhile; to use another card, update it below."),
                    None => "Please update your card below so we can try again.".to_owned(),
                }}</p>
            </div>
        }
        .into_any(),
        MembershipStatus::Suspended => view! {
            <div class="notice notice-error" role="alert">
                <h2>"Your membership is suspended"</h2>
                <p>"We could not collect your fee after several tries, so booking is paused. Update your card and we will charge it right away and reactivate your membership."</p>
            </div>
        }
        .into_any(),
        MembershipStatus::Cancelled => view! {
            <div class="notice" role="status">
                <h2>"Your membership has ended"</h2>
                <p>"Your records stay available to you. Call us to rejoin."</p>
            </div>
        }
        .into_any(),
    }
}

fn payment_action(m: &MembershipOverview, actions: Actions) -> Option<AnyView> {
    let price = format_usd(m.price_cents);
    match m.status {
        MembershipStatus::Pending if m.payment_due => Some(view! {
            <ActionForm action=actions.pay>
                <button class="button" type="submit">{format!("Pay {price} and start my membership")}</button>
                <p class="fine-print">"You will enter your card on our payment processor's secure page; Bedside never sees your card number."</p>
            </ActionForm>
        }.into_any()),
        MembershipStatus::Active => Some(view! {
            <ActionForm action=actions.card attr:class="inline-form">
                <button class="button button-small button-quiet" type="submit">"Update my card"</button>
            </ActionForm>
        }.into_any()),
        MembershipStatus::PastDue | MembershipStatus::Suspended => Some(view! {
            <ActionForm action=actions.card>
                <button class="button" type="submit">"Update my card and pay now"</button>
                <p class="fine-print">"We charge the open invoice as soon as the new card is on file."</p>
            </ActionForm>
        }.into_any()),
        _ => None,
    }
}

/// `/portal/membership`: status, what to do next, and billing history.
#[component]
pub fn MembershipPage() -> impl IntoView {
    let actions = Actions {
        pay: ServerAction::new(),
        card: ServerAction::new(),
        resend: ServerAction::new(),
        change: ServerAction::new(),
        keep: ServerAction::new(),
        cancel: ServerAction::new(),
    };
    // Read again after every change made here.
    let membership = Resource::new(
        move || {
            actions.resend.version().get()
                + actions.change.version().get()
                + actions.keep.version().get()
                + actions.cancel.version().get()
        },
        |_| load_membership(),
    );
    let query = use_query_map();
    let latest = RwSignal::new(None::<Notice>);
    for value in [
        actions.resend.value(),
        actions.change.value(),
        actions.keep.value(),
        actions.cancel.value(),
    ] {
        Effect::new(move |_| match value.get() {
            Some(Ok(change)) => latest.set(Some(Notice::Done(said(change)))),
            Some(Err(error)) => latest.set(Some(Notice::Problem(in_place_message(&error)))),
            None => {}
        });
    }
    // The processor's pages (checkout, a new card) are another site's: the browser goes there.
    for value in [actions.pay.value(), actions.card.value()] {
        Effect::new(move |_| match value.get() {
            Some(Ok(page)) => {
                if let Err(error) = window().location().set_href(&page) {
                    leptos::logging::error!("could not open the payment page: {error:?}");
                }
            }
            Some(Err(error)) => latest.set(Some(Notice::Problem(in_place_message(&error)))),
            None => {}
        });
    }
    let notice = move || latest.get().or_else(|| query.with(from_address));
    view! {
        <Title text="My membership · Bedside"/>
        <section class="section container narrow">
            <h1>"My membership"</h1>
            <div aria-live="polite">
                {move || notice().map(|n| match n {
                    Notice::Done(text) => view! { <div class="notice notice-success" role="status"><p>{text}</p></div> }.into_any(),
                    Notice::Note(text) => view! { <div class="notice" role="status"><p>{text}</p></div> }.into_any(),
                    Notice::Problem(text) => view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any(),
                })}
            </div>
            <Suspense fallback=|| view! { <p>"Loading your membership…"</p> }>
                {move || Suspend::new(async move {
                    match membership.await {
                        Err(error) => error_notice(&error).into_any(),
                        Ok(None) => view! {
                            <p>"You have no membership on file. Please call the practice, or "<a href="/join">"join online"</a>"."</p>
                        }.into_any(),
                        Ok(Some(m)) => membership_view(m, actions).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn membership_view(m: MembershipOverview, actions: Actions) -> impl IntoView {
    let notice = status_notice(&m, actions);
    let action = payment_action(&m, actions);
    let invoices = if m.invoices.is_empty() {
        view! { <p>"No invoices yet."</p> }.into_any()
    } else {
        let items = m
            .invoices
            .iter()
            .map(|i| {
                let paid = i.status == crate::billing::model::InvoiceStatus::Paid;
                view! {
                    <li class="invoice">
                        <p class="invoice-head">
                            <strong>{format!("Invoice {}", i.number)}</strong>
                            <span class=if paid { "pill-paid" } else { "pill-due" }>{i.status_label()}</span>
                        </p>
                        <p>{i.description.clone()}</p>
                        <p class="fine-print">
                            {format!("{} · {} · ", i.issued_on, format_usd(i.total_cents))}
                            // A file, not a page: the router must not take the click.
                            <a href=format!("/portal/membership/invoices/{}.pdf", i.public_id) rel="external" download=format!("invoice-{}.pdf", i.number)>
                                "Download PDF"<span class="visually-hidden">{format!(" of invoice {}", i.number)}</span>
                            </a>
                        </p>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="invoice-list">{items}</ul> }.into_any()
    };
    let dependents = (!m.dependents.is_empty()).then(|| {
        view! {
            <dt>"Also covered"</dt>
            <dd>{m.dependents.join(", ")}</dd>
        }
    });
    let key = m.form_key.clone();
    let pending = m.pending_change.clone().map(|(name, on)| {
        let key = key.clone();
        view! {
            <div class="notice" role="status">
                <p>{format!("Your membership changes to {name} on {on}. Until then nothing changes.")}</p>
                <ActionForm action=actions.keep>
                    <input type="hidden" name="key" value=key.clone()/>
                    <button class="button button-small button-quiet" type="submit">"Keep my current membership"</button>
                </ActionForm>
            </div>
        }
    });
    let ending = m.ends_on.clone().map(|on| {
        let key = key.clone();
        view! {
            <div class="notice notice-warning" role="status">
                <p>{format!("Your membership ends on {on}. You are billed as usual until then, and your records stay available to you afterwards.")}</p>
                <ActionForm action=actions.cancel>
                    <input type="hidden" name="choice" value="keep"/>
                    <input type="hidden" name="key" value=key.clone()/>
                    <button class="button button-small" type="submit">"Keep my membership"</button>
                </ActionForm>
            </div>
        }
    });
    let changes = (!m.options.is_empty()).then(|| {
        let items = m
            .options
            .iter()
            .map(|o| option_view(o, &key, actions.change))
            .collect_view();
        view! {
            <h2>"Change membership"</h2>
            <ul class="plan-options">{items}</ul>
        }
    });
    let cancel = m.would_end_on.clone().map(|on| {
        let key = key.clone();
        view! {
            <h2>"Cancel membership"</h2>
            <div class="card">
                <p>{format!("If you cancel now, your membership stays active until {on} and then ends. You are billed as usual until then (your commitment period is honoured); nothing is charged after it.")}</p>
                <ActionForm action=actions.cancel>
                    <input type="hidden" name="choice" value="cancel"/>
                    <input type="hidden" name="key" value=key.clone()/>
                    <button class="button button-quiet" type="submit">{format!("Cancel my membership (ends {on})")}</button>
                </ActionForm>
            </div>
        }
    });
    view! {
        {notice}
        {pending}
        {ending}
        {action}
        <h2>"Details"</h2>
        <dl class="summary-list">
            <dt>"Membership"</dt>
            <dd>{m.tier_name.clone()}</dd>
            <dt>"Price"</dt>
            <dd>{format!("{} {}", format_usd(m.price_cents), m.period.per())}</dd>
            <dt>"Status"</dt>
            <dd>{m.status.label()}</dd>
            {m.commitment_ends.clone().map(|d| view! { <dt>"Commitment ends"</dt><dd>{d}</dd> })}
            {dependents}
        </dl>
        <h2>"Billing history"</h2>
        {invoices}
        {changes}
        {cancel}
    }
}

/// One membership a member could move to, saying what happens and when before they press.
fn option_view(
    option: &PlanOption,
    key: &str,
    change: ServerAction<ChangePlan>,
) -> impl IntoView + use<> {
    let price = format!("{} {}", format_usd(option.price_cents), option.period.per());
    let (what, button) = match option.change {
        PlanChange::UpgradeNow { charge_now_cents } => (
            format!(
                "Starts today. You pay {} now for the rest of this period, then {price}.",
                format_usd(charge_now_cents)
            ),
            format!("Upgrade to {} now", option.name),
        ),
        PlanChange::AtPeriodEnd => (
            format!(
                "Starts {}, when your paid period ends. Nothing is charged today; then {price}.",
                option.starts_on
            ),
            format!("Switch to {} on {}", option.name, option.starts_on),
        ),
    };
    let (slug, key, period) = (option.slug.clone(), key.to_owned(), option.period.as_str());
    view! {
        <li class="plan-option">
            <p><strong>{format!("{}, billed {}", option.name, option.period.billed())}</strong>" · "{price.clone()}</p>
            <p class="fine-print">{what}</p>
            <ActionForm action=change>
                <input type="hidden" name="tier" value=slug/>
                <input type="hidden" name="key" value=key/>
                <input type="hidden" name="period" value=period/>
                <button class="button button-small button-quiet" type="submit">{button}</button>
            </ActionForm>
        </li>
    }
}

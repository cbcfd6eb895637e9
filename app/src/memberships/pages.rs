//! Joining the practice (`/join`, public, server-rendered, a plain form) and the portal's
//! membership page (`/portal/membership`).

use super::api::load_membership;
use super::model::{
    EnrollmentForm, MembershipOverview, MembershipStatus, PlanChange, PlanOption, RELATIONSHIPS,
};
use crate::error::FieldErrors;
use crate::site::model::{format_usd, MembershipTier};
use crate::site::pages::{not_set_up, page_title, site};
use crate::ui::{described_by, error_notice, field, invalid};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

/// A refused enrollment, shown again by the server with its messages.
#[derive(Debug, Clone, Default)]
pub struct JoinPageState {
    pub form: EnrollmentForm,
    pub errors: FieldErrors,
    /// A problem that belongs to no one field (the database was unavailable, say).
    pub problem: Option<String>,
}

/// The dependent rows' field names (static, for labels and error lookups).
const DEPENDENT_FIELDS: [(&str, &str, &str); 4] = [
    (
        "dependent1_name",
        "dependent1_dob",
        "dependent1_relationship",
    ),
    (
        "dependent2_name",
        "dependent2_dob",
        "dependent2_relationship",
    ),
    (
        "dependent3_name",
        "dependent3_dob",
        "dependent3_relationship",
    ),
    (
        "dependent4_name",
        "dependent4_dob",
        "dependent4_relationship",
    ),
];

/// `/join` (choose a membership) and `/join?tier=<slug>` (the enrollment form).
#[component]
pub fn JoinPage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let query = use_query_map();
    let state = use_context::<JoinPageState>().unwrap_or_else(|| {
        let mut form = EnrollmentForm::default();
        query.with_untracked(|q| {
            form.tier = q.get("tier").unwrap_or_default();
            form.period = q
                .get("period")
                .filter(|p| p == "annual")
                .unwrap_or_else(|| "monthly".to_owned());
        });
        JoinPageState {
            form,
            ..Default::default()
        }
    });
    let tier = site
        .tiers
        .iter()
        .find(|t| t.slug == state.form.tier)
        .cloned();
    let Some(tier) = tier else {
        let choices = site
            .tiers
            .iter()
            .map(|t| {
                view! {
                    <li class="card join-choice">
                        <h2>{t.name.clone()}</h2>
                        <p>{t.tagline.clone()}</p>
                        <p class="price"><span class="amount">{format_usd(t.monthly_price_cents)}</span>" a month"</p>
                        <a class="button" href=format!("/join?tier={}", t.slug)>{format!("Join {}", t.name)}</a>
                    </li>
                }
            })
            .collect_view();
        return view! {
            <Title text=page_title("Join", &site)/>
            <section class="page-head">
                <div class="container narrow">
                    <p class="eyebrow">"Join the practice"</p>
                    <h1>"Choose your membership"</h1>
                    <p class="lead">"Compare the memberships in detail on "<a href="/memberships">"the memberships page"</a>"."</p>
                </div>
            </section>
            <ul class="section container join-choices">{choices}</ul>
        }
        .into_any();
    };
    let practice = site.practice.name.clone();
    view! {
        <Title text=page_title(&format!("Join {}", tier.name), &site)/>
        <Meta name="description" content=format!("Join {practice}: {} membership", tier.name)/>
        <section class="page-head">
            <div class="container narrow">
                <p class="eyebrow">"Join the practice"</p>
                <h1>{format!("Join with the {} membership", tier.name)}</h1>
                <p class="lead">"It takes about five minutes. Then you confirm your email address and pay; nothing is charged until then."</p>
            </div>
        </section>
        <div class="section container narrow">
            <EnrollmentFormView state tier/>
        </div>
    }
    .into_any()
}

#[component]
fn EnrollmentFormView(state: JoinPageState, tier: MembershipTier) -> impl IntoView {
    let JoinPageState {
        form,
        errors,
        problem,
    } = state;
    let error_count = errors.len();
    let text_input = |name: &'static str,
                      kind: &'static str,
                      autocomplete: &'static str,
                      max: &'static str,
                      value: String,
                      required: bool| {
        view! {
            <input id=name name=name type=kind autocomplete=autocomplete maxlength=max required=required
                value=value aria-invalid=invalid(&errors, name) aria-describedby=described_by(&errors, name)/>
        }
    };
    let monthly = format!("Monthly: {} a month", format_usd(tier.monthly_price_cents));
    let annual = if tier.annual_savings_cents() > 0 {
        format!(
            "Annual: {} a year (you save {})",
            format_usd(tier.annual_price_cents),
            format_usd(tier.annual_savings_cents())
        )
    } else {
        format!("Annual: {} a year", format_usd(tier.annual_price_cents))
    };
    let allowed = usize::try_from(tier.max_dependents).unwrap_or(0);
    let dependent_rows = form.dependent_rows();
    let dependents = (allowed > 0).then(|| {
        let rows = DEPENDENT_FIELDS
            .iter()
            .zip(dependent_rows.iter())
            .take(allowed)
            .enumerate()
            .map(|(i, ((name_field, dob_field, rel_field), (name, dob, rel, _)))| {
                let options = RELATIONSHIPS
                    .iter()
                    .map(|(value, label)| view! { <option value=*value selected=*rel == *value>{*label}</option> })
                    .collect_view();
                view! {
                    <fieldset class="dependent">
                        <legend>{format!("Dependent {}", i + 1)}</legend>
                        {field(&errors, name_field, "Legal name", view! {
                            <input id=*name_field name=*name_field type="text" maxlength="120" value=name.to_string()
                                aria-invalid=invalid(&errors, name_field) aria-describedby=described_by(&errors, name_field)/>
                        })}
                        <div class="field-row">
                            {field(&errors, dob_field, "Date of birth", view! {
                                <input id=*dob_field name=*dob_field type="date" value=dob.to_string()
                                    aria-invalid=invalid(&errors, dob_field) aria-describedby=described_by(&errors, dob_field)/>
                            })}
                            {field(&errors, rel_field, "Relationship", view! {
                                <select id=*rel_field name=*rel_field aria-invalid=invalid(&errors, rel_field) aria-describedby=described_by(&errors, rel_field)>
                                    <option value="" selected=rel.is_empty()>"Choose"</option>
                                    {options}
                                </select>
                            })}
                        </div>
                    </fieldset>
                }
            })
            .collect_view();
        view! {
            <fieldset class="form-section">
                <legend>"Your household (optional)"</legend>
                <p class="fine-print">{format!("The {} membership covers you and up to {allowed} dependents. Leave a row empty if you do not need it.", tier.name)}</p>
                {errors.get("dependents").map(|m| view! { <p class="field-error" id="dependents-error">{m.to_owned()}</p> })}
                {rows}
            </fieldset>
        }
    });
    let monthly_checked = form.period != "annual";
    view! {
        {problem.map(|p| view! {
            <div class="notice notice-error" role="alert"><p>{p}</p></div>
        })}
        {(error_count > 0).then(|| view! {
            <div class="notice notice-error" role="alert" id="form-errors">
                <h2>{if error_count == 1 { "Please correct 1 field".to_owned() } else { format!("Please correct {error_count} fields") }}</h2>
                <p>"Everything you typed is still here, except the password."</p>
            </div>
        })}
        <form class="form enroll-form" method="post" action="/join">
            <input type="hidden" name="tier" value=tier.slug.clone()/>
            <p class="form-intro">"All fields are required unless marked optional."</p>
            <fieldset class="form-section">
                <legend>"Billing"</legend>
                <div class="option">
                    <input id="period-monthly" type="radio" name="period" value="monthly" checked=monthly_checked/>
                    <label for="period-monthly">{monthly}</label>
                </div>
                <div class="option">
                    <input id="period-annual" type="radio" name="period" value="annual" checked=!monthly_checked/>
                    <label for="period-annual">{annual}</label>
                </div>
                {errors.get("period").map(|m| view! { <p class="field-error">{m.to_owned()}</p> })}
                <p class="fine-print">{format!("{}. {}", tier.commitment(), tier.cancellation_policy)}" "<a href="/memberships">"Change membership"</a></p>
            </fieldset>
            <fieldset class="form-section">
                <legend>"About you"</legend>
                {field(&errors, "legal_name", "Legal name (as on your ID)", text_input("legal_name", "text", "name", "120", form.legal_name.clone(), true))}
                {field(&errors, "date_of_birth", "Date of birth", text_input("date_of_birth", "date", "bday", "10", form.date_of_birth.clone(), true))}
                {field(&errors, "email", "Email address", text_input("email", "email", "email", "254", form.email.clone(), true))}
                {field(&errors, "phone", "Mobile phone", text_input("phone", "tel", "tel", "30", form.phone.clone(), true))}
            </fieldset>
            <fieldset class="form-section">
                <legend>"Home address"</legend>
                {field(&errors, "street", "Street address", text_input("street", "text", "address-line1", "200", form.street.clone(), true))}
                {field(&errors, "street2", "Apartment, suite (optional)", text_input("street2", "text", "address-line2", "200", form.street2.clone(), false))}
                <div class="field-row">
                    {field(&errors, "city", "City or town", text_input("city", "text", "address-level2", "100", form.city.clone(), true))}
                    {field(&errors, "region", "State", text_input("region", "text", "address-level1", "100", form.region.clone(), true))}
                    {field(&errors, "postal_code", "ZIP code", text_input("postal_code", "text", "postal-code", "12", form.postal_code.clone(), true))}
                </div>
            </fieldset>
            <fieldset class="form-section">
                <legend>"Emergency contact"</legend>
                {field(&errors, "emergency_name", "Name", text_input("emergency_name", "text", "off", "120", form.emergency_name.clone(), true))}
                <div class="field-row">
                    {field(&errors, "emergency_relationship", "Relationship to you", text_input("emergency_relationship", "text", "off", "60", form.emergency_relationship.clone(), true))}
                    {field(&errors, "emergency_phone", "Phone", text_input("emergency_phone", "tel", "off", "30", form.emergency_phone.clone(), true))}
                </div>
            </fieldset>
            {dependents}
            <fieldset class="form-section">
                <legend>"Agreements"</legend>
                <div class=if errors.get("agree_membership").is_some() { "option field-invalid" } else { "option" }>
                    <input id="agree_membership" type="checkbox" name="agree_membership" checked=form.agree_membership.is_some()
                        aria-invalid=invalid(&errors, "agree_membership") aria-describedby=described_by(&errors, "agree_membership")/>
                    <label for="agree_membership">"I have read and accept the "<a href="/membership-agreement" target="_blank">"membership agreement"</a>"."</label>
                </div>
                {errors.get("agree_membership").map(|m| view! { <p class="field-error" id="agree_membership-error">{m.to_owned()}</p> })}
                <div class=if errors.get("agree_privacy").is_some() { "option field-invalid" } else { "option" }>
                    <input id="agree_privacy" type="checkbox" name="agree_privacy" checked=form.agree_privacy.is_some()
                        aria-invalid=invalid(&errors, "agree_privacy") aria-describedby=described_by(&errors, "agree_privacy")/>
                    <label for="agree_privacy">"I have read the "<a href="/privacy" target="_blank">"notice of privacy practices"</a>"."</label>
                </div>
                {errors.get("agree_privacy").map(|m| view! { <p class="field-error" id="agree_privacy-error">{m.to_owned()}</p> })}
            </fieldset>
            <fieldset class="form-section">
                <legend>"Your sign-in"</legend>
                {field(&errors, "password", "Choose a password", view! {
                    <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" maxlength="128" required
                        aria-invalid=invalid(&errors, "password") aria-describedby=if errors.get("password").is_some() { "password-error" } else { "password-hint" }/>
                })}
                <p class="fine-print" id="password-hint">"At least 12 characters. A few unrelated words make a strong, memorable password."</p>
            </fieldset>
            <button class="button" type="submit">"Join and confirm my email"</button>
            <p class="fine-print">"Your details are encrypted and seen only by the practice. You can cancel as the membership's terms describe."</p>
        </form>
    }
}

/// `/join/confirm?token=…`: confirms the email address with one press (a button, so that a
/// mail scanner opening the link does not use it up), and `/join/confirm?done=1` afterwards.
#[component]
pub fn JoinConfirmedPage() -> impl IntoView {
    let query = use_query_map();
    let (token, outcome) =
        query.with_untracked(|q| (q.get("token").unwrap_or_default(), q.get("outcome")));
    let body = match outcome.as_deref() {
        Some("sent") => view! {
            <div class="notice notice-info" role="status">
                <h2>"Check your email"</h2>
                <p>"We sent a message to the address you gave. Open it, on this device or any other, and press the button in it to confirm your address. Then sign in with the password you chose and pay to start your membership."</p>
                <p>"If you already have an account with us, the message says so and how to sign in instead."</p>
            </div>
            <p class="fine-print">"Nothing there after a few minutes? Look in your spam or junk folder. The link works for 48 hours; you can also "<a href="/signin">"sign in"</a>" and ask for a new one on your membership page."</p>
        }
        .into_any(),
        Some("confirmed") => view! {
            <div class="notice notice-success" role="status">
                <h2>"Your email address is confirmed"</h2>
                <p>"Thank you. Next, sign in with the password you chose and pay to start your membership. If you have paid already, your membership is now active and a welcome email is on its way."</p>
            </div>
            <p><a class="button" href="/portal/membership">"Continue to my membership"</a></p>
        }
        .into_any(),
        Some("invalid") => view! {
            <div class="notice notice-error" role="alert">
                <h2>"This link has expired or was used already"</h2>
                <p>"Confirmation links work once, for 48 hours. Sign in and ask for a new one on your membership page."</p>
            </div>
            <p><a class="button" href="/portal/membership">"Go to my membership"</a></p>
        }
        .into_any(),
        _ => view! {
            <p class="lead">"Press the button to confirm that this is your email address."</p>
            <form class="form" method="post" action="/join/confirm">
                <input type="hidden" name="token" value=token/>
                <button class="button" type="submit">"Confirm my email address"</button>
            </form>
        }
        .into_any(),
    };
    view! {
        <Title text="Confirm your email"/>
        <section class="section container narrow">
            <h1>"Confirm your email address"</h1>
            {body}
        </section>
    }
}

fn status_notice(m: &MembershipOverview) -> AnyView {
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
                                <form method="post" action="/portal/membership/resend" class="inline-form">
                                    <button class="button button-small button-quiet" type="submit">"Send the link again"</button>
                                </form>
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

fn payment_action(m: &MembershipOverview) -> Option<AnyView> {
    match m.status {
        MembershipStatus::Pending if m.payment_due => Some(view! {
            <form method="post" action="/portal/membership/checkout">
                <button class="button" type="submit">{format!("Pay {} and start my membership", format_usd(m.price_cents))}</button>
                <p class="fine-print">"You will enter your card on our payment processor's secure page; Bedside never sees your card number."</p>
            </form>
        }.into_any()),
        MembershipStatus::Active => Some(view! {
            <form method="post" action="/portal/membership/card" class="inline-form">
                <button class="button button-small button-quiet" type="submit">"Update my card"</button>
            </form>
        }.into_any()),
        MembershipStatus::PastDue | MembershipStatus::Suspended => Some(view! {
            <form method="post" action="/portal/membership/card">
                <button class="button" type="submit">"Update my card and pay now"</button>
                <p class="fine-print">"We charge the open invoice as soon as the new card is on file."</p>
            </form>
        }.into_any()),
        _ => None,
    }
}

/// `/portal/membership`: status, what to do next, and billing history.
#[component]
pub fn MembershipPage() -> impl IntoView {
    let membership = OnceResource::new(load_membership());
    let query = use_query_map();
    let flash = query.with_untracked(|q| {
        if q.get("paid").is_some() {
            Some((
                "notice notice-success",
                "Thank you: your payment went through. It can take a moment to show below.",
            ))
        } else if q.get("checkout").as_deref() == Some("cancelled") {
            Some((
                "notice",
                "Payment cancelled: nothing was charged. You can pay whenever you are ready.",
            ))
        } else if q.get("sent").is_some() {
            Some((
                "notice notice-success",
                "We have sent a new confirmation link. It works for 48 hours.",
            ))
        } else if q.get("card").is_some() {
            Some(("notice notice-success", "Your new card is on file."))
        } else if let Some(changed) = q.get("changed") {
            match changed.as_str() {
                "upgraded" => Some(("notice notice-success", "Your new membership has started. The receipt for today's difference is on its way.")),
                "scheduled" => Some(("notice notice-success", "Done: your new membership starts when the current period ends.")),
                "cancelled" => Some(("notice notice-success", "Your membership is cancelled. It stays active until the day shown below.")),
                "kept" => Some(("notice notice-success", "Done: your membership continues as it is.")),
                _ => None,
            }
        } else if let Some(problem) = q.get("problem") {
            match problem.as_str() {
                "declined" => Some(("notice notice-error", "Your card was declined, so nothing changed. Update your card and try again.")),
                "not_changeable" => Some(("notice notice-error", "This membership cannot be changed online right now. Please call the practice.")),
                _ => Some(("notice notice-error", "Nothing changed: we could not reach the payment processor. Please try again in a minute.")),
            }
        } else {
            None
        }
    });
    view! {
        <Title text="My membership · Bedside"/>
        <section class="section container narrow">
            <h1>"My membership"</h1>
            {flash.map(|(class, text)| view! { <div class=class role="status"><p>{text}</p></div> })}
            <Suspense fallback=|| view! { <p>"Loading your membership…"</p> }>
                {move || Suspend::new(async move {
                    match membership.await {
                        Err(error) => error_notice(&error).into_any(),
                        Ok(None) => view! {
                            <p>"You have no membership on file. Please call the practice, or "<a href="/join">"join online"</a>"."</p>
                        }.into_any(),
                        Ok(Some(m)) => membership_view(m).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn membership_view(m: MembershipOverview) -> impl IntoView {
    let notice = status_notice(&m);
    let action = payment_action(&m);
    let invoices = if m.invoices.is_empty() {
        view! { <p>"No invoices yet."</p> }.into_any()
    } else {
        let items = m
            .invoices
            .iter()
            .map(|i| {
                let paid = i.status == "Paid";
                view! {
                    <li class="invoice">
                        <p class="invoice-head">
                            <strong>{format!("Invoice {}", i.number)}</strong>
                            <span class=if paid { "pill-paid" } else { "pill-due" }>{i.status.clone()}</span>
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
                <form method="post" action="/portal/membership/keep-plan">
                    <input type="hidden" name="key" value=key.clone()/>
                    <button class="button button-small button-quiet" type="submit">"Keep my current membership"</button>
                </form>
            </div>
        }
    });
    let ending = m.ends_on.clone().map(|on| {
        let key = key.clone();
        view! {
            <div class="notice notice-warning" role="status">
                <p>{format!("Your membership ends on {on}. You are billed as usual until then, and your records stay available to you afterwards.")}</p>
                <form method="post" action="/portal/membership/cancel">
                    <input type="hidden" name="choice" value="keep"/>
                    <input type="hidden" name="key" value=key.clone()/>
                    <button class="button button-small" type="submit">"Keep my membership"</button>
                </form>
            </div>
        }
    });
    let changes = (!m.options.is_empty()).then(|| {
        let items = m
            .options
            .iter()
            .map(|o| option_view(o, &key))
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
                <form method="post" action="/portal/membership/cancel">
                    <input type="hidden" name="choice" value="cancel"/>
                    <input type="hidden" name="key" value=key.clone()/>
                    <button class="button button-quiet" type="submit">{format!("Cancel my membership (ends {on})")}</button>
                </form>
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
fn option_view(option: &PlanOption, key: &str) -> impl IntoView + use<> {
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
    view! {
        <li class="plan-option">
            <p><strong>{format!("{}, billed {}", option.name, option.period.billed())}</strong>" · "{price.clone()}</p>
            <p class="fine-print">{what}</p>
            <form method="post" action="/portal/membership/change">
                <input type="hidden" name="tier" value=option.slug.clone()/>
                <input type="hidden" name="key" value=key.to_owned()/>
                <input type="hidden" name="period" value=option.period.as_str()/>
                <button class="button button-small button-quiet" type="submit">{button}</button>
            </form>
        </li>
    }
}

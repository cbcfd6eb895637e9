//! Joining the practice (`/join`, public, server-rendered, a plain form). The portal's
//! membership page is `membership_page.rs`.

use super::model::{EnrollmentForm, RELATIONSHIPS};
use crate::domain::format_usd;
use crate::error::FieldErrors;
use crate::site::model::MembershipTier;
use crate::site::pages::{not_set_up, page_title, site};
use crate::ui::{described_by, field, invalid};
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

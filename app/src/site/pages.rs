use super::layout::opening_hours;
use super::model::{ContactForm, InquiryTopic, MembershipTier, SiteContent};
use crate::domain::format_usd;
use crate::error::FieldErrors;
use crate::ui::{described_by, field, invalid};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;
use std::sync::Arc;

pub(crate) fn site() -> Option<Arc<SiteContent>> {
    use_context::<Arc<SiteContent>>()
}

/// Shown when no practice has been set up yet (an empty database).
pub(crate) fn not_set_up() -> AnyView {
    view! {
        <Title text="Bedside"/>
        <section class="section container narrow">
            <h1>"This practice's website is being set up"</h1>
            <p class="lead">"Please check back soon. Practice owners: run "<code>"bedside seed-demo"</code>" to load the demo practice, or add your practice's details."</p>
        </section>
    }
    .into_any()
}

pub(crate) fn page_title(page: &str, site: &SiteContent) -> String {
    format!("{page} · {}", site.practice.name)
}

#[component]
pub fn HomePage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let p = &site.practice;
    let doc = &p.physician;
    let from_price = site.tiers.iter().map(|t| t.monthly_price_cents).min();
    let specialties = doc
        .specialties
        .iter()
        .map(|s| view! { <li>{s.clone()}</li> })
        .collect_view();
    let certifications = doc
        .board_certifications
        .iter()
        .map(|s| view! { <li>{s.clone()}</li> })
        .collect_view();
    let education = doc
        .education
        .iter()
        .map(|s| view! { <li>{s.clone()}</li> })
        .collect_view();
    let services = site
        .services
        .iter()
        .map(|s| {
            view! {
                <li class="card service-card">
                    <h3><a href=format!("/services#{}", s.slug)>{s.name.clone()}</a></h3>
                    <p>{s.summary.clone()}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <Title text=p.name.clone()/>
        <Meta name="description" content=format!("{} — {}", p.name, p.tagline)/>
        <section class="hero">
            <div class="container hero-grid">
                <div class="hero-copy">
                    <p class="eyebrow">{format!("Membership medicine in {}", p.address.locality)}</p>
                    <h1>{p.tagline.clone()}</h1>
                    <p class="lead">{p.intro.clone()}</p>
                    <div class="actions">
                        <a class="button" href="/memberships">"Compare memberships"</a>
                        <a class="button button-quiet" href="/contact">"Ask us a question"</a>
                    </div>
                    {from_price.map(|cents| view! {
                        <p class="hero-note">{format!("Memberships from {} a month. No insurance paperwork, no surprise bills.", format_usd(cents))}</p>
                    })}
                </div>
                <figure class="portrait">
                    <img src=doc.photo.clone() alt=doc.photo_alt.clone() width="480" height="560"/>
                    <figcaption>
                        <strong>{doc.name.clone()}</strong>
                        <span>{doc.credentials.clone()}</span>
                    </figcaption>
                </figure>
            </div>
        </section>
        <section class="facts" aria-label="At a glance">
            <ul class="container facts-grid">
                <li><strong>{doc.years_of_experience}</strong><span>"years caring for patients"</span></li>
                <li><strong>{doc.board_certifications.len()}</strong><span>"board certifications"</span></li>
                <li><strong>"Same day"</strong><span>"or next-day visits for members"</span></li>
                <li><strong>"Direct"</strong><span>"line to your physician"</span></li>
            </ul>
        </section>
        <section class="section container about" aria-labelledby="about-title">
            <div>
                <p class="eyebrow">"Your physician"</p>
                <h2 id="about-title">{format!("Meet {}", doc.name)}</h2>
                <p class="prose">{doc.bio.clone()}</p>
            </div>
            <div class="credentials">
                <div class="card">
                    <h3>"Specialties"</h3>
                    <ul class="ticks">{specialties}</ul>
                </div>
                <div class="card">
                    <h3>"Board certifications"</h3>
                    <ul class="ticks">{certifications}</ul>
                </div>
                <div class="card">
                    <h3>"Training"</h3>
                    <ul class="plain">{education}</ul>
                </div>
            </div>
        </section>
        <section class="section section-tint" aria-labelledby="services-title">
            <div class="container">
                <p class="eyebrow">"What membership covers"</p>
                <h2 id="services-title">"Care that fits around your life"</h2>
                <ul class="card-grid">{services}</ul>
                <p><a class="link-arrow" href="/services">"All services"</a></p>
            </div>
        </section>
        <section class="section container cta-band" aria-labelledby="join-title">
            <h2 id="join-title">"Ready for a doctor who has time for you?"</h2>
            <p class="lead">{format!("{} accepts a limited number of members so that every patient gets unhurried visits and a direct line.", p.name)}</p>
            <div class="actions">
                <a class="button" href="/memberships#tiers">"Choose a membership"</a>
                <a class="button button-quiet" href="/contact">"Talk to us first"</a>
            </div>
        </section>
    }
    .into_any()
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let services = site
        .services
        .iter()
        .map(|s| {
            let highlights = s.highlights.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view();
            view! {
                <article class="service" id=s.slug.clone() aria-labelledby=format!("{}-title", s.slug)>
                    <h2 id=format!("{}-title", s.slug)>{s.name.clone()}</h2>
                    <p class="lead">{s.summary.clone()}</p>
                    <p class="prose">{s.description.clone()}</p>
                    <ul class="ticks">{highlights}</ul>
                </article>
            }
        })
        .collect_view();
    view! {
        <Title text=page_title("Services", &site)/>
        <Meta name="description" content=format!("Services offered by {}", site.practice.name)/>
        <section class="page-head">
            <div class="container narrow">
                <p class="eyebrow">"Services"</p>
                <h1>"Everything your membership includes"</h1>
                <p class="lead">"Primary care the way it should work: time to talk, a physician who knows your history, and care where you need it."</p>
            </div>
        </section>
        <div class="section container narrow services">{services}</div>
        <section class="section container cta-band" aria-labelledby="services-cta">
            <h2 id="services-cta">"Which membership is right for you?"</h2>
            <div class="actions"><a class="button" href="/memberships">"Compare memberships"</a></div>
        </section>
    }
    .into_any()
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "Included"
    } else {
        "Not included"
    }
}

fn tier_card(tier: &MembershipTier) -> impl IntoView + use<> {
    let benefits = tier
        .benefits
        .iter()
        .map(|b| view! { <li>{b.clone()}</li> })
        .collect_view();
    let savings = tier.annual_savings_cents();
    let join = format!("/join?tier={}", tier.slug);
    view! {
        <article class=if tier.featured { "card tier tier-featured" } else { "card tier" } aria-labelledby=format!("tier-{}", tier.slug)>
            {tier.featured.then(|| view! { <p class="badge">"Most chosen"</p> })}
            <h3 id=format!("tier-{}", tier.slug)>{tier.name.clone()}</h3>
            <p class="tier-tagline">{tier.tagline.clone()}</p>
            <p class="price"><span class="amount">{format_usd(tier.monthly_price_cents)}</span>" a month"</p>
            <p class="price-annual">
                {format!("or {} a year", format_usd(tier.annual_price_cents))}
                {(savings > 0).then(|| format!(" (save {})", format_usd(savings)))}
            </p>
            <ul class="tier-facts">
                <li>{tier.visit_allowance()}</li>
                <li>{tier.commitment()}</li>
            </ul>
            <ul class="ticks">{benefits}</ul>
            <details class="policy">
                <summary>"Cancellation policy"</summary>
                <p>{tier.cancellation_policy.clone()}</p>
                <p>{tier.late_cancellation_policy.clone()}</p>
            </details>
            <a class=if tier.featured { "button button-block" } else { "button button-quiet button-block" } href=join>
                {format!("Join {}", tier.name)}
            </a>
        </article>
    }
}

#[component]
pub fn MembershipsPage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let tiers = &site.tiers;
    let cards = tiers.iter().map(tier_card).collect_view();
    let head = tiers
        .iter()
        .map(|t| view! { <th scope="col">{t.name.clone()}</th> })
        .collect_view();
    let row = |label: &'static str, cell: &dyn Fn(&MembershipTier) -> String| {
        let cells = tiers
            .iter()
            .map(|t| view! { <td>{cell(t)}</td> })
            .collect_view();
        view! { <tr><th scope="row">{label}</th>{cells}</tr> }
    };
    let rows = view! {
        {row("Monthly price", &|t| format_usd(t.monthly_price_cents))}
        {row("Annual price", &|t| format_usd(t.annual_price_cents))}
        {row("Visits", &|t| t.visit_allowance())}
        {row("In-person visits", &|t| yes_no(t.includes_in_person).to_owned())}
        {row("Video visits", &|t| yes_no(t.includes_telemedicine).to_owned())}
        {row("Home visits", &|t| t.home_visits())}
        {row("Visits beyond the allowance", &|t| t.extra_visits())}
        {row("Booking", &|t| t.booking_window())}
        {row("Household members", &|t| match t.max_dependents { 0 => "Individual only".to_owned(), n => format!("Up to {n} dependents") })}
        {row("Commitment", &|t| t.commitment())}
        {row("Cancelling membership", &|t| t.cancellation_policy.clone())}
        {row("Late visit cancellation", &|t| t.late_cancellation_policy.clone())}
    };
    view! {
        <Title text=page_title("Memberships", &site)/>
        <Meta name="description" content=format!("Membership tiers and prices at {}", site.practice.name)/>
        <section class="page-head">
            <div class="container narrow">
                <p class="eyebrow">"Memberships"</p>
                <h1>"One clear fee. Unhurried care."</h1>
                <p class="lead">"Your membership covers your visits with the physician, direct messaging, and care coordination. Pay monthly, or yearly and save. Prices include everything listed; there are no co-pays for covered visits."</p>
            </div>
        </section>
        <section id="tiers" class="section container" aria-labelledby="tiers-title">
            <h2 id="tiers-title" class="visually-hidden">"Membership tiers"</h2>
            <div class="tier-grid">{cards}</div>
        </section>
        <section class="section container" aria-labelledby="compare-title">
            <h2 id="compare-title">"Compare memberships side by side"</h2>
            <div class="table-scroll" role="region" aria-labelledby="compare-title" tabindex="0">
                <table class="compare">
                    <thead><tr><td></td>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p class="fine-print">"Memberships cover care in our practice. We recommend keeping insurance for hospital care, specialists, imaging and emergencies; we are happy to help you choose a plan."</p>
        </section>
    }
    .into_any()
}

/// What the contact page shows after a submission: provided as context by the `POST /contact`
/// handler so that a rejected form comes back with everything the visitor typed.
#[derive(Debug, Clone, Default)]
pub struct ContactPageState {
    pub form: ContactForm,
    pub errors: FieldErrors,
    /// Set when the visitor has sent too many messages; minutes until they may send again.
    pub rate_limited_minutes: Option<u64>,
}

#[component]
pub fn ContactPage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let query = use_query_map();
    let sent = query.with_untracked(|q| q.get("sent").is_some());
    let state = use_context::<ContactPageState>().unwrap_or_else(|| {
        // A "Join" button links here with the topic (and the tier) chosen already.
        let mut form = ContactForm::default();
        query.with_untracked(|q| {
            if let Some(topic) = q.get("topic").and_then(|t| InquiryTopic::parse(&t)) {
                form.topic = topic.value().to_owned();
            }
            if let Some(tier) = q
                .get("tier")
                .and_then(|slug| site.tiers.iter().find(|t| t.slug == slug).cloned())
            {
                form.message = format!("I would like to join the {} membership. ", tier.name);
            }
        });
        ContactPageState {
            form,
            ..Default::default()
        }
    });
    let p = &site.practice;
    let hours = opening_hours(p);
    let tel = p.tel_href();
    view! {
        <Title text=page_title("Contact", &site)/>
        <Meta name="description" content=format!("Contact {}", p.name)/>
        <section class="page-head">
            <div class="container narrow">
                <p class="eyebrow">"Contact"</p>
                <h1>"We would love to hear from you"</h1>
                <p class="lead">"Questions about membership, visits or fees? Write to us and a member of our team will answer within one business day."</p>
            </div>
        </section>
        <div class="section container contact-grid">
            <div>
                {if sent {
                    view! {
                        <div class="notice notice-success" role="status">
                            <h2>"Thank you, your message has been sent."</h2>
                            <p>"We have emailed you a confirmation and will reply within one business day."</p>
                            <p><a href="/contact">"Send another message"</a></p>
                        </div>
                    }.into_any()
                } else {
                    view! { <ContactFormView state/> }.into_any()
                }}
            </div>
            <aside class="card contact-details" aria-labelledby="reach-title">
                <h2 id="reach-title">"Visit or call"</h2>
                <address>
                    <strong>{p.name.clone()}</strong><br/>
                    {p.address.street.clone()}<br/>
                    {p.address.second_line()}
                </address>
                <p><a href=tel>{p.phone.clone()}</a><br/><a href=format!("mailto:{}", p.email)>{p.email.clone()}</a></p>
                <h3>"Office hours"</h3>
                <dl class="hours">{hours}</dl>
                <p class="notice notice-warning">"For a medical emergency, call 911. Please do not use this form for urgent medical concerns."</p>
            </aside>
        </div>
    }
    .into_any()
}

#[component]
fn ContactFormView(state: ContactPageState) -> impl IntoView {
    let ContactPageState {
        form,
        errors,
        rate_limited_minutes,
    } = state;
    let error_count = errors.len();
    let topics = InquiryTopic::ALL
        .into_iter()
        .map(|t| view! { <option value=t.value() selected=form.topic == t.value()>{t.label()}</option> })
        .collect_view();
    view! {
        {rate_limited_minutes.map(|minutes| view! {
            <div class="notice notice-error" role="alert">
                <h2>"Please wait before sending another message"</h2>
                <p>{format!("We have received several messages from your connection in a short time. Please try again in {minutes} minutes, or call us.")}</p>
            </div>
        })}
        {(error_count > 0).then(|| view! {
            <div class="notice notice-error" role="alert" id="form-errors">
                <h2>{if error_count == 1 { "Please correct 1 field".to_owned() } else { format!("Please correct {error_count} fields") }}</h2>
                <p>"Everything you typed is still here."</p>
            </div>
        })}
        <form class="form" method="post" action="/contact">
            <p class="form-intro">"All fields are required unless marked optional."</p>
            {field(&errors, "name", "Your name", view! {
                <input id="name" name="name" type="text" autocomplete="name" maxlength="100" required
                    value=form.name.clone() aria-invalid=invalid(&errors, "name") aria-describedby=described_by(&errors, "name")/>
            })}
            {field(&errors, "email", "Email address", view! {
                <input id="email" name="email" type="email" autocomplete="email" maxlength="254" required
                    value=form.email.clone() aria-invalid=invalid(&errors, "email") aria-describedby=described_by(&errors, "email")/>
            })}
            {field(&errors, "phone", "Phone (optional)", view! {
                <input id="phone" name="phone" type="tel" autocomplete="tel" maxlength="30"
                    value=form.phone.clone() aria-invalid=invalid(&errors, "phone") aria-describedby=described_by(&errors, "phone")/>
            })}
            {field(&errors, "topic", "What is it about?", view! {
                <select id="topic" name="topic" required aria-invalid=invalid(&errors, "topic") aria-describedby=described_by(&errors, "topic")>
                    <option value="" selected=form.topic.is_empty()>"Choose a topic"</option>
                    {topics}
                </select>
            })}
            {field(&errors, "message", "Your message", view! {
                <textarea id="message" name="message" rows="6" maxlength="4000" required
                    aria-invalid=invalid(&errors, "message") aria-describedby=described_by(&errors, "message")>{form.message.clone()}</textarea>
            })}
            // Hidden from people and from assistive technology; bots fill it in.
            <div class="honeypot" aria-hidden="true">
                <label for="website">"Leave this field empty"</label>
                <input id="website" name="website" type="text" tabindex="-1" autocomplete="off" value=form.website.clone()/>
            </div>
            <p class="fine-print">"Please do not include detailed medical information. We will reply by email or phone."</p>
            <button class="button" type="submit">"Send message"</button>
        </form>
    }
}

/// A stored document as paragraphs: "## " starts a heading, blank lines separate paragraphs.
fn document_blocks(text: &str) -> impl IntoView + use<> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|block| match block.strip_prefix("## ") {
            Some(heading) => view! { <h2>{heading.to_owned()}</h2> }.into_any(),
            None => view! { <p>{block.to_owned()}</p> }.into_any(),
        })
        .collect_view()
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let p = &site.practice;
    view! {
        <Title text=page_title("Privacy notice", &site)/>
        <section class="page-head">
            <div class="container narrow">
                <p class="eyebrow">"Privacy"</p>
                <h1>"Notice of privacy practices"</h1>
                <p class="lead">{format!("Version {}. How {} uses and protects your health information.", p.privacy_notice_version, p.name)}</p>
            </div>
        </section>
        <article class="section container narrow prose-page">{document_blocks(&p.privacy_notice)}</article>
    }
    .into_any()
}

/// `/membership-agreement`: what a member agrees to (the version is recorded with each consent).
#[component]
pub fn MembershipAgreementPage() -> impl IntoView {
    let Some(site) = site() else {
        return not_set_up();
    };
    let p = &site.practice;
    view! {
        <Title text=page_title("Membership agreement", &site)/>
        <section class="page-head">
            <div class="container narrow">
                <p class="eyebrow">"Membership"</p>
                <h1>"Membership agreement"</h1>
                <p class="lead">{format!("Version {}. What joining {} means, in plain words.", p.membership_agreement_version, p.name)}</p>
            </div>
        </section>
        <article class="section container narrow prose-page">{document_blocks(&p.membership_agreement)}</article>
    }
    .into_any()
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <section class="section container narrow">
            <h1>"We could not find that page"</h1>
            <p class="lead">"The page may have moved. These might help:"</p>
            <ul class="plain">
                <li><a href="/">"Home"</a></li>
                <li><a href="/memberships">"Memberships"</a></li>
                <li><a href="/contact">"Contact us"</a></li>
            </ul>
        </section>
    }
}

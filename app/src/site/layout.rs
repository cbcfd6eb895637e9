use super::model::{Practice, SiteContent};
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use std::sync::Arc;

/// The public pages' frame around the matched route.
#[component]
pub fn SiteLayout() -> impl IntoView {
    view! { <SiteFrame><Outlet/></SiteFrame> }
}

/// The public pages' frame: header with navigation, main content, footer with address and hours.
#[component]
pub fn SiteFrame(children: Children) -> impl IntoView {
    let site = use_context::<Arc<SiteContent>>();
    let name = site
        .as_ref()
        .map_or_else(|| "Bedside".to_owned(), |s| s.practice.name.clone());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container header-inner">
                <a class="brand" href="/">
                    <img class="brand-mark" src="/icons/icon.svg" alt="" width="36" height="36"/>
                    <span class="brand-name">{name}</span>
                </a>
                <nav class="nav-wide" aria-label="Main">
                    <NavLinks/>
                </nav>
                <details class="nav-narrow">
                    <summary>"Menu"</summary>
                    <nav aria-label="Main menu">
                        <NavLinks/>
                    </nav>
                </details>
            </div>
        </header>
        <main id="main" tabindex="-1">
            {children()}
        </main>
        <SiteFooter site/>
    }
}

/// Where a signed-in person's own area is (public pages render on the server only, so they can
/// read the session the gate found).
fn signed_in_home() -> Option<&'static str> {
    #[cfg(feature = "ssr")]
    {
        crate::auth::api::context::authenticated()
            .filter(|a| a.stage() == crate::auth::service::Stage::Complete)
            .map(|a| a.role.home_path())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[component]
fn NavLinks() -> impl IntoView {
    let account = match signed_in_home() {
        Some(home) => view! { <a href=home>"My account"</a> }.into_any(),
        None => view! { <a href="/signin">"Sign in"</a> }.into_any(),
    };
    view! {
        <ul class="nav-links">
            <li><A href="/" exact=true>"Home"</A></li>
            <li><A href="/services">"Services"</A></li>
            <li><A href="/memberships">"Memberships"</A></li>
            <li><A href="/contact">"Contact"</A></li>
            <li>{account}</li>
            <li><a class="button button-small" href="/memberships#tiers">"Join the practice"</a></li>
        </ul>
    }
}

#[component]
fn SiteFooter(site: Option<Arc<SiteContent>>) -> impl IntoView {
    let Some(site) = site else {
        return view! { <footer class="site-footer"></footer> }.into_any();
    };
    let p = &site.practice;
    let hours = opening_hours(p);
    let tel = p.tel_href();
    view! {
        <footer class="site-footer">
            <div class="container footer-grid">
                <section aria-labelledby="footer-visit">
                    <h2 id="footer-visit" class="footer-title">{p.name.clone()}</h2>
                    <address>
                        {p.address.street.clone()}<br/>
                        {p.address.second_line()}<br/>
                        <a href=tel>{p.phone.clone()}</a><br/>
                        <a href=format!("mailto:{}", p.email)>{p.email.clone()}</a>
                    </address>
                </section>
                <section aria-labelledby="footer-hours">
                    <h2 id="footer-hours" class="footer-title">"Office hours"</h2>
                    <dl class="hours">{hours}</dl>
                </section>
                <section aria-labelledby="footer-more">
                    <h2 id="footer-more" class="footer-title">"More"</h2>
                    <ul class="footer-links">
                        <li><a href="/services">"Services"</a></li>
                        <li><a href="/memberships">"Memberships"</a></li>
                        <li><a href="/contact">"Contact us"</a></li>
                        <li><a href="/privacy">"Privacy notice"</a></li>
                    </ul>
                </section>
            </div>
            <div class="container footer-note">
                <p>"In a medical emergency, call 911. Do not use the contact form for urgent medical concerns."</p>
            </div>
        </footer>
    }
    .into_any()
}

/// The practice's opening hours as the rows of a `<dl class="hours">`.
pub(super) fn opening_hours(practice: &Practice) -> impl IntoView + use<> {
    practice
        .hours
        .iter()
        .map(|h| view! { <div class="hours-row"><dt>{h.days.clone()}</dt><dd>{h.hours.clone()}</dd></div> })
        .collect_view()
}

//! The HTML document and the route table.

use crate::admin::{AdminBillingPage, AuditLogPage};
use crate::appointments::{AgendaPage, BookVisitPage, MyVisitsPage, SchedulePage};
use crate::auth::{
    AppLayout, ForgotPasswordPage, MfaChallengePage, MfaSetupPage, ResetPasswordPage, SecurityPage,
    SignInPage,
};
use crate::memberships::{JoinConfirmedPage, JoinPage, MembershipPage};
use crate::notifications::NotificationsPage;
use crate::patients::{DashboardHome, PatientPage, PortalHome};
use crate::site::{
    ContactPage, HomePage, MembershipAgreementPage, MembershipsPage, NotFoundPage, PrivacyPage,
    ServicesPage, SiteFrame, SiteLayout,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

/// Path prefixes of the areas that hydrate (the patient portal, the physician's dashboard,
/// the admin area). Every other page is rendered on the server alone and loads no WebAssembly:
/// a visitor reading about the practice needs none, and a public page stays small and fast on a
/// phone. Signing in and the account's security forms are plain HTML forms for the same reason
/// (and so that a refused form, rendered again by the server, needs no client state).
pub const HYDRATED_AREAS: [&str; 3] = ["/portal", "/dashboard", "/admin"];

/// Whether a page at `path` loads the hydration bundle.
pub fn hydrates(path: &str) -> bool {
    HYDRATED_AREAS.iter().any(|area| {
        path == *area
            || path
                .strip_prefix(area)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The document around every page. Leptos's inline hydration script carries the per-response
/// CSP nonce (provided by the server); public pages have no inline script at all.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let path = use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned());
    #[cfg(not(feature = "ssr"))]
    let path: Option<String> = None;
    let hydrate = path.as_deref().is_some_and(hydrates);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="theme-color" content="#1d4e5b"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/favicon.ico" sizes="32x32"/>
                <link rel="icon" href="/icons/icon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
                <link rel="stylesheet" href="/pkg/bedside.css"/>
                <script src="/site.js" defer></script>
                {hydrate.then(|| view! { <HydrationScripts options=options.clone()/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: one route table for every area.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Routes fallback=|| view! { <SiteFrame><NotFoundPage/></SiteFrame> }>
                <ParentRoute path=path!("") view=SiteLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage/>
                    <Route path=path!("services") view=ServicesPage/>
                    <Route path=path!("memberships") view=MembershipsPage/>
                    <Route path=path!("contact") view=ContactPage/>
                    <Route path=path!("privacy") view=PrivacyPage/>
                    <Route path=path!("membership-agreement") view=MembershipAgreementPage/>
                    <Route path=path!("join") view=JoinPage/>
                    <Route path=path!("join/confirm") view=JoinConfirmedPage/>
                    <Route path=path!("signin") view=SignInPage/>
                    <Route path=path!("signin/mfa") view=MfaChallengePage/>
                    <Route path=path!("signin/forgot") view=ForgotPasswordPage/>
                    <Route path=path!("signin/reset") view=ResetPasswordPage/>
                    // Answered by the server's handlers (`server/src/records/share.rs`), which
                    // decide what it shows; listed here so the page renders in the site's frame.
                    <Route path=path!("shl/:secret/view") view=crate::records::share::SharedRecordPage/>
                </ParentRoute>
                <ParentRoute path=path!("account") view=AppLayout ssr=SsrMode::Async>
                    <Route path=path!("security") view=SecurityPage/>
                    <Route path=path!("mfa/setup") view=MfaSetupPage/>
                </ParentRoute>
                <ParentRoute path=path!("portal") view=AppLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=PortalHome/>
                    <Route path=path!("patients/:id") view=PatientPage/>
                    <Route path=path!("book") view=BookVisitPage/>
                    <Route path=path!("visits") view=MyVisitsPage/>
                    <Route path=path!("notifications") view=NotificationsPage/>
                    <Route path=path!("membership") view=MembershipPage/>
                    <Route path=path!("notes") view=crate::records::MyNotesPage/>
                    <Route path=path!("shares") view=crate::records::share::SharesPage/>
                    <Route path=path!("messages") view=crate::messages::MyMessagesPage/>
                    <Route path=path!("messages/new") view=crate::messages::NewMessagePage/>
                    <Route path=path!("messages/:id") view=crate::messages::ConversationPage/>
                </ParentRoute>
                <ParentRoute path=path!("dashboard") view=AppLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=DashboardHome/>
                    <Route path=path!("schedule") view=SchedulePage/>
                    <Route path=path!("agenda") view=AgendaPage/>
                    <Route path=path!("patients/:id") view=PatientPage/>
                    <Route path=path!("visits/:id/note") view=crate::records::VisitNotePage/>
                    <Route path=path!("messages") view=crate::messages::InboxPage/>
                    <Route path=path!("messages/templates") view=crate::messages::hub::TemplatesPage/>
                    <Route path=path!("messages/:id") view=crate::messages::ConversationPage/>
                </ParentRoute>
                <ParentRoute path=path!("admin") view=AppLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=AuditLogPage/>
                    <Route path=path!("audit") view=AuditLogPage/>
                    <Route path=path!("billing") view=AdminBillingPage/>
                    <Route path=path!("emergency") view=crate::grants::EmergencyAccessPage/>
                    <Route path=path!("patients/:id") view=PatientPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::hydrates;

    #[test]
    fn public_pages_do_not_hydrate_and_app_areas_do() {
        for public in [
            "/",
            "/services",
            "/memberships",
            "/contact",
            "/privacy",
            "/portals",
            "/adminx",
            "/signin",
            "/account/security",
        ] {
            assert!(!hydrates(public), "{public}");
        }
        for app in ["/portal", "/portal/visits", "/dashboard", "/admin/tiers"] {
            assert!(hydrates(app), "{app}");
        }
    }
}

//! The frame of the signed-in areas (portal, dashboard, admin, account): a header with the
//! person's areas and "Sign out", and the idle warning.

use super::api::{get_app_frame, keep_alive};
use super::model::{CurrentUser, Role};
use leptos::prelude::*;
use leptos_router::components::Outlet;

#[component]
pub fn AppLayout() -> impl IntoView {
    let frame = OnceResource::new(get_app_frame());
    let live = crate::live::client::provide_live();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Suspense fallback=|| view! { <header class="app-header"></header> }>
            {move || Suspend::new(async move {
                let (user, practice) = match frame.await {
                    Ok(frame) => {
                        live.unread_notifications.set(frame.unread_notifications);
                        live.unread_messages.set(frame.unread_messages);
                        (frame.user, frame.practice_name)
                    }
                    Err(_) => (None, "Bedside".to_owned()),
                };
                view! {
                    <AppHeader user=user.clone() practice live/>
                    {user.filter(|u| u.fully_signed_in).map(|u| view! { <IdleWarning idle_seconds=u.idle_timeout_seconds/> })}
                }
            })}
        </Suspense>
        <main id="main" class="app-main">
            <Outlet/>
        </main>
    }
}

fn area_links(role: Role) -> Vec<(&'static str, &'static str)> {
    match role {
        Role::Patient => vec![
            ("/portal", "My health record"),
            ("/portal/visits", "My visits"),
            ("/portal/notes", "Visit notes"),
            ("/portal/shares", "Sharing"),
            ("/portal/book", "Book a visit"),
            ("/portal/membership", "Membership"),
        ],
        Role::Physician | Role::Staff => vec![
            ("/dashboard", "Dashboard"),
            ("/dashboard/agenda", "Agenda"),
            ("/dashboard/schedule", "Schedule"),
        ],
        Role::Admin => vec![
            ("/admin", "Audit log"),
            ("/admin/billing", "Billing"),
            ("/admin/emergency", "Emergency access"),
        ],
    }
}

#[component]
fn AppHeader(
    user: Option<CurrentUser>,
    practice: String,
    live: crate::live::client::Live,
) -> impl IntoView {
    let signed_in = user.as_ref().filter(|u| u.fully_signed_in);
    let patient = signed_in.is_some_and(|u| u.role == Role::Patient);
    // Messages: the patient's and the practice's (the administrator has none).
    let messages_link = signed_in.and_then(|u| match u.role {
        Role::Patient => Some("/portal/messages"),
        Role::Physician | Role::Staff => Some("/dashboard/messages"),
        Role::Admin => None,
    });
    let (unread, arrived, waiting) = (
        live.unread_notifications,
        live.arrived,
        live.unread_messages,
    );
    #[cfg(feature = "hydrate")]
    if messages_link.is_some() {
        crate::live::client::listen(live);
    }
    let links = user
        .as_ref()
        .filter(|u| u.fully_signed_in)
        .map(|u| {
            let mut links = area_links(u.role);
            links.push(("/account/security", "Security"));
            links
        })
        .unwrap_or_default();
    view! {
        <header class="app-header">
            <div class="container header-inner">
                <a class="brand" href=user.as_ref().map_or("/", |u| u.role.home_path())>
                    <img class="brand-mark" src="/icons/icon.svg" alt="" width="32" height="32"/>
                    <span class="brand-name">{practice}</span>
                </a>
                <nav aria-label="Your areas">
                    <ul class="app-nav">
                        {links.into_iter().map(|(href, label)| view! { <li><a href=href>{label}</a></li> }).collect_view()}
                        {messages_link.map(|href| view! {
                            <li>
                                <a href=href>
                                    "Messages"
                                    {move || (waiting.get() > 0).then(|| view! {
                                        " "<span class="badge-count">{waiting.get()}<span class="visually-hidden">" unread"</span></span>
                                    })}
                                </a>
                            </li>
                        })}
                        {patient.then(|| view! {
                            <li>
                                <a href="/portal/notifications">
                                    "Notifications"
                                    {move || (unread.get() > 0).then(|| view! {
                                        " "<span class="badge-count">{unread.get()}<span class="visually-hidden">" unread"</span></span>
                                    })}
                                </a>
                            </li>
                        })}
                    </ul>
                </nav>
                {user.map(|u| view! {
                    <div class="app-user">
                        <span class="app-user-name">{u.display_name.clone()}<span class="visually-hidden">{format!(", {}", u.role.label())}</span></span>
                        <form method="post" action="/signout">
                            <button class="button button-small button-quiet" type="submit">"Sign out"</button>
                        </form>
                    </div>
                })}
            </div>
            <div class="container live-region" role="status" aria-live="polite">
                {move || arrived.get().map(|title| view! {
                    <p class="toast">
                        <strong>"New notification: "</strong>{title}" "
                        <a href="/portal/notifications">"See notifications"</a>
                    </p>
                })}
            </div>
        </header>
    }
}

fn format_countdown(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// Warns two minutes before an idle sign-out and offers to stay signed in (R9.4). Asking the
/// server how long is left does not count as activity, so an open tab cannot keep a session
/// alive by itself; only the person's "Stay signed in" (or real use) does.
#[component]
pub fn IdleWarning(idle_seconds: i64) -> impl IntoView {
    // `Some(seconds left)` while the warning shows.
    let warning = RwSignal::new(None::<i64>);
    let deadline = StoredValue::new(now_ms() + idle_seconds * 1000);
    let stay = move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(status) = keep_alive().await {
                deadline.try_set_value(now_ms() + status.seconds_left * 1000);
                warning.try_set(None);
            }
        });
    };
    #[cfg(feature = "hydrate")]
    {
        let busy = StoredValue::new(false);
        let warned = StoredValue::new(false);
        Effect::new(move |_| {
            let tick = move || {
                // The page may have moved on (signed out, another area) between two ticks: its
                // values are gone then, and so is the need to warn.
                let (Some(deadline_ms), Some(showing), Some(was_warned), Some(checking)) = (
                    deadline.try_get_value(),
                    warning.try_get_untracked(),
                    warned.try_get_value(),
                    busy.try_get_value(),
                ) else {
                    return;
                };
                let left = (deadline_ms - now_ms()) / 1000;
                if showing.is_some() {
                    warning.set(Some(left.max(0)));
                }
                let must_check = (left <= 120 && !was_warned) || left <= 0;
                if !must_check || checking {
                    return;
                }
                busy.set_value(true);
                leptos::task::spawn_local(async move {
                    // `try_`: the answer may come after the page moved on.
                    match super::api::check_session_status().await {
                        Ok(status) if status.signed_in && status.seconds_left > 125 => {
                            deadline.try_set_value(now_ms() + status.seconds_left * 1000);
                            warned.try_set_value(false);
                            warning.try_set(None);
                        }
                        Ok(status) if status.signed_in && status.seconds_left > 0 => {
                            deadline.try_set_value(now_ms() + status.seconds_left * 1000);
                            warned.try_set_value(true);
                            warning.try_set(Some(status.seconds_left));
                        }
                        _ if deadline.try_get_value().is_some() => {
                            let _ = window().location().set_href("/signin?timeout=1");
                        }
                        _ => {}
                    }
                    busy.try_set_value(false);
                });
            };
            let interval = set_interval_with_handle(tick, std::time::Duration::from_secs(1));
            // The timer stops with the warning it serves.
            on_cleanup(move || {
                if let Ok(handle) = interval {
                    handle.clear();
                }
            });
        });
    }
    view! {
        <Show when=move || warning.get().is_some()>
            <div class="idle-warning" role="alertdialog" aria-labelledby="idle-title" aria-describedby="idle-text">
                <h2 id="idle-title">"Are you still there?"</h2>
                <p id="idle-text">
                    "To protect your health information, you will be signed out in "
                    <strong>{move || format_countdown(warning.get().unwrap_or(0))}</strong>"."
                </p>
                <div class="idle-actions">
                    <button class="button" type="button" on:click=stay>"Stay signed in"</button>
                    <form method="post" action="/signout"><button class="button button-quiet" type="submit">"Sign out now"</button></form>
                </div>
            </div>
        </Show>
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

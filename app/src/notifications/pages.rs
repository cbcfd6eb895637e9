use super::api::open_notifications;
use crate::ui::error_notice;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/portal/notifications`: the notification centre.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let list = OnceResource::new(open_notifications());
    view! {
        <Title text="Notifications · Bedside"/>
        <section class="section container narrow">
            <h1>"Notifications"</h1>
            <Suspense fallback=|| view! { <p>"Loading your notifications…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(error) => error_notice(&error).into_any(),
                        Ok(items) if items.is_empty() => view! {
                            <p>"Nothing yet. Reminders of your visits appear here two hours before they start."</p>
                        }.into_any(),
                        Ok(items) => view! {
                            <ul class="notification-list">
                                {items.into_iter().map(|n| view! {
                                    <li class=if n.unread { "notification unread" } else { "notification" }>
                                        <p class="notification-title">
                                            {n.unread.then(|| view! { <span class="pill-new">"New"</span>" " })}
                                            <strong>{n.title}</strong>
                                        </p>
                                        <p>{n.body}</p>
                                        <p class="fine-print">
                                            <time>{n.when}</time>
                                            {n.link.map(|href| view! { " · "<a href=href>"Open"</a> })}
                                        </p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

//! The page's half of live events: one `EventSource` on `/api/live` per tab, opened by the
//! signed-in frame, and what it heard as signals in the context ([`Live`]). Pages read the
//! counts, and key their data on the version signals so that they refetch when something they
//! show changed (events are hints; the data comes through the usual audited reads). The
//! browser reconnects by itself and resends `Last-Event-ID`; the server refills what was missed.

use leptos::prelude::*;

/// What this tab has heard.
#[derive(Clone, Copy)]
pub struct Live {
    /// Unread notifications.
    pub unread_notifications: RwSignal<u64>,
    /// The newest notification that arrived while the page was open, announced once.
    pub arrived: RwSignal<Option<String>>,
    /// Messages waiting.
    pub unread_messages: RwSignal<u64>,
    /// Moves on at every message, receipt and `resync`: message pages key on it.
    pub messages: RwSignal<u64>,
    /// The conversation the last message event was about.
    pub last_conversation: RwSignal<Option<String>>,
}

impl Live {
    fn new() -> Self {
        Live {
            unread_notifications: RwSignal::new(0),
            arrived: RwSignal::new(None),
            unread_messages: RwSignal::new(0),
            messages: RwSignal::new(0),
            last_conversation: RwSignal::new(None),
        }
    }
}

/// Provides this tab's [`Live`] (the signed-in frame does, for the pages inside it).
pub fn provide_live() -> Live {
    let live = Live::new();
    provide_context(live);
    live
}

/// This tab's [`Live`]; a fresh one (nothing heard) outside the signed-in frame.
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(Live::new)
}

/// Opens the stream and keeps `live` current until the page goes away or the session ends.
#[cfg(feature = "hydrate")]
pub fn listen(live: Live) {
    use wasm_bindgen::{closure::Closure, JsCast};
    Effect::new(move |_| {
        let Ok(source) = web_sys::EventSource::new("/api/live") else {
            return;
        };
        #[derive(serde::Deserialize)]
        struct Unread {
            count: u64,
            latest: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Messages {
            unread: u64,
        }
        #[derive(serde::Deserialize)]
        struct About {
            conversation: Option<String>,
        }
        let on = |name: &str, handle: Box<dyn FnMut(String)>| {
            let mut handle = handle;
            let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    if let Some(text) = event.data().as_string() {
                        handle(text);
                    }
                },
            );
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listener.forget();
        };
        on(
            "unread",
            Box::new(move |text| {
                if let Ok(now) = serde_json::from_str::<Unread>(&text) {
                    if now.count > live.unread_notifications.get_untracked() {
                        live.arrived.set(now.latest);
                    }
                    live.unread_notifications.set(now.count);
                }
            }),
        );
        on(
            "messages",
            Box::new(move |text| {
                if let Ok(now) = serde_json::from_str::<Messages>(&text) {
                    live.unread_messages.set(now.unread);
                }
            }),
        );
        for name in ["message", "messages_read"] {
            on(
                name,
                Box::new(move |text| {
                    if let Ok(about) = serde_json::from_str::<About>(&text) {
                        live.last_conversation.set(about.conversation);
                    }
                    live.messages.update(|v| *v += 1);
                }),
            );
        }
        on(
            "resync",
            Box::new(move |_| live.messages.update(|v| *v += 1)),
        );
        let on_end = {
            let source = source.clone();
            Closure::<dyn FnMut()>::new(move || source.close())
        };
        let _ =
            source.add_event_listener_with_callback("signed_out", on_end.as_ref().unchecked_ref());
        on_end.forget();
        let open = StoredValue::new_local(Some(source));
        on_cleanup(move || {
            open.update_value(|source| {
                if let Some(source) = source.take() {
                    source.close();
                }
            });
        });
    });
}

//! The search box on the messages pages, and what it found. A plain `GET` form (`?q=`): it
//! works without JavaScript, and the address can be kept.

use super::api::search_messages;
use super::model::SEARCH_MAX;
use crate::ui::error_notice;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The box, and, when the address holds a search, its results (each linking to its
/// conversation in the area `patient_side` says).
#[component]
pub fn MessageSearch(patient_side: bool) -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q").unwrap_or_default());
    let results = Resource::new(q, |q| async move {
        if q.trim().is_empty() {
            None
        } else {
            Some(search_messages(q).await)
        }
    });
    view! {
        <form class="search-form" method="get" role="search" aria-label="Search my messages">
            <label for="q" class="visually-hidden">"Search messages"</label>
            <input id="q" name="q" type="search" maxlength=SEARCH_MAX.to_string() placeholder="Search messages" prop:value=q/>
            <button class="button button-small button-quiet" type="submit">"Search"</button>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match results.await {
                    None => ().into_any(),
                    Some(Err(error)) => error_notice(&error),
                    Some(Ok(hits)) => view! {
                        <section class="stack" aria-labelledby="search-title">
                            <h2 id="search-title">{match hits.len() {
                                0 => "No messages found".to_owned(),
                                1 => "1 message found".to_owned(),
                                n => format!("{n} messages found"),
                            }}</h2>
                            <ul class="conversation-list" aria-label="Messages found">
                                {hits.into_iter().map(|hit| view! {
                                    <li class="conversation">
                                        <a href=super::api::conversation_page(patient_side, &hit.conversation)>
                                            <span class="conversation-subject"><strong>{hit.subject}</strong></span>
                                            <span>{hit.excerpt}</span>
                                            <span class="conversation-meta fine-print">{hit.from}" · "{hit.with}" · "<time>{hit.at}</time></span>
                                        </a>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

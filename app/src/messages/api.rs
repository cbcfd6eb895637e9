//! Messaging's server functions (`/api/messages/…`). Reads return the page's data; writes are
//! used through `ActionForm` (they also work as plain form posts).

use super::model::{
    AutoReply, ComposeNotice, ConversationSummary, ConversationView, NoticePreferences, SearchHit,
};
use crate::AppError;
use leptos::prelude::*;

/// Where a conversation is read: the patient's portal or the practice's dashboard.
pub fn conversation_page(patient_side: bool, conversation: &str) -> String {
    let area = if patient_side {
        "/portal"
    } else {
        "/dashboard"
    };
    format!("{area}/messages/{}", crate::ui::url_encode(conversation))
}

/// The signed-in patient's conversations.
#[server(endpoint = "messages/mine")]
pub async fn load_my_conversations() -> Result<Vec<ConversationSummary>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::reading::mine(&me).await
}

/// The practice's inbox, as `show` (`open`, `unread`, `mine`, `done`, `all`) narrows it, to
/// patients whose name holds `patient`, with a message on or after `since` (YYYY-MM-DD).
#[server(endpoint = "messages/inbox")]
pub async fn load_inbox(
    #[server(default)] show: String,
    #[server(default)] patient: String,
    #[server(default)] since: String,
) -> Result<Vec<ConversationSummary>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let show = super::model::InboxFilter::parse(&show);
    let listed = match super::model::InboxNarrowing::parse(&patient, &since) {
        Ok(narrow) => super::reading::inbox(&me, show, &narrow).await,
        Err(error) => Err(error),
    };
    if let Err(error) = &listed {
        context::set_status(error.status());
    }
    listed
}

/// One conversation, opened (its messages to the reader are then read).
#[server(endpoint = "messages/open")]
pub async fn load_conversation(conversation: String) -> Result<ConversationView, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let opened = super::reading::open(&me, &conversation).await;
    if let Err(error) = &opened {
        context::set_status(error.status());
    }
    opened
}

/// Starts a conversation: the patient's own with the practice (`patient` empty), or the
/// practice's with patient `patient`. Returns its id.
#[server(endpoint = "messages/start")]
pub async fn start_conversation(
    #[server(default)] patient: String,
    subject: String,
    body: String,
) -> Result<String, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let patient_side = me.auth.role == crate::auth::Role::Patient;
    let patient = if patient_side {
        me.auth.patient_public_id.clone().unwrap_or_default()
    } else {
        patient
    };
    let back = if patient_side {
        "/portal/messages/new".to_owned()
    } else {
        format!("/dashboard/patients/{}", crate::ui::url_encode(&patient))
    };
    let started = match super::model::NewConversation::parse(&subject, &body) {
        Ok(new) => super::service::start(&me, &patient, &new).await,
        Err(error) => Err(error),
    };
    context::answer_write(
        started,
        |id| conversation_page(patient_side, id),
        |error| format!("{back}?{}", crate::ui::problem_in_address(error)),
    )
}

/// Adds a message to conversation `conversation`. Returns its number there.
#[server(endpoint = "messages/send")]
pub async fn send_message(conversation: String, body: String) -> Result<i64, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let page = conversation_page(me.auth.role == crate::auth::Role::Patient, &conversation);
    let sent = match super::model::MessageText::parse(&body) {
        Ok(text) => super::service::reply(&me, &conversation, &text).await,
        Err(error) => Err(error),
    };
    context::answer_write(
        sent,
        |_| format!("{page}#latest"),
        |error| format!("{page}?{}#reply", crate::ui::problem_in_address(error)),
    )
}

/// Adds a message with a file to a conversation (`multipart/form-data`: `conversation`,
/// `body`, then `file`, which may be left empty). Returns its number there. The same function
/// serves the hydrated page (in place) and a plain post without JavaScript.
#[server(endpoint = "messages/send-file", input = leptos::server_fn::codec::MultipartFormData)]
pub async fn send_with_file(
    data: leptos::server_fn::codec::MultipartData,
) -> Result<i64, AppError> {
    use crate::auth::api::context;
    let Some(mut form) = data.into_inner() else {
        return Err(AppError::internal("a message without its form"));
    };
    let mut fields = super::attach::Fields::default();
    let sent = match (
        context::signed_in(),
        use_context::<crate::storage::Objects>(),
    ) {
        (Ok(me), Some(objects)) => {
            super::attach::receive(&me, &objects, &mut form, &mut fields).await
        }
        (Err(error), _) => Err(error),
        (_, None) => Err(AppError::internal("object storage is not in the context")),
    };
    // The rest of the body is read before answering, so a browser still sending reads the
    // answer instead of a reset connection (the body is capped).
    crate::records::documents::upload::drain(&mut form).await;
    let patient_side =
        context::authenticated().is_some_and(|a| a.role == crate::auth::Role::Patient);
    let page = conversation_page(patient_side, &fields.conversation);
    context::answer_write(
        sent,
        |_| format!("{page}#latest"),
        |error| format!("{page}?{}#reply", crate::ui::problem_in_address(error)),
    )
}

/// What a patient is told before writing: not for emergencies, and when the practice answers.
#[server(endpoint = "messages/notice")]
pub async fn load_compose_notice() -> Result<ComposeNotice, AppError> {
    use crate::auth::api::context;
    context::signed_in()?;
    let site = use_context::<std::sync::Arc<crate::site::model::SiteContent>>()
        .ok_or_else(|| AppError::internal("the practice's content is not loaded"))?;
    Ok(ComposeNotice {
        practice: site.practice.name.clone(),
        phone: site.practice.phone.clone(),
        hours: site
            .practice
            .hours
            .iter()
            .map(|h| format!("{} {}", h.days, h.hours))
            .collect(),
    })
}

/// How the signed-in person hears of waiting messages.
#[server(endpoint = "messages/preferences")]
pub async fn load_notice_preferences() -> Result<NoticePreferences, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let (by_email, by_text) = super::notices::preferences(me.db(), me.auth.user_id).await?;
    Ok(NoticePreferences {
        by_email,
        by_text,
        can_text: me.auth.role == crate::auth::Role::Patient,
    })
}

/// Keeps how the signed-in person hears of waiting messages (each box ticked or not).
#[server(endpoint = "messages/preferences/save")]
pub async fn save_notice_preferences(
    #[server(default)] by_email: String,
    #[server(default)] by_text: String,
) -> Result<(), AppError> {
    use crate::auth::api::context;
    use crate::auth::{guard, Action, Resource};
    let me = context::signed_in()?;
    let page = if me.auth.role == crate::auth::Role::Patient {
        "/portal/messages"
    } else {
        "/dashboard/messages"
    };
    let saved = async {
        let permit = guard::permit(
            me.db(),
            me.now(),
            &me.caller,
            Action::Write,
            Resource::Account {
                user_id: me.auth.user_id,
            },
            None,
            "account.message_notices",
        )
        .await?;
        let by_text = !by_text.is_empty() && me.auth.role == crate::auth::Role::Patient;
        let (user, by_email) = (me.auth.user_id, !by_email.is_empty());
        super::notices::set_preferences(permit.txn(), user, by_email, by_text, me.now()).await?;
        permit.commit().await
    }
    .await;
    context::answer_write(
        saved,
        |()| format!("{page}?saved=1#notices"),
        |error| format!("{page}?{}#notices", crate::ui::problem_in_address(error)),
    )
}

/// The signed-in person's messages containing `q`.
#[server(endpoint = "messages/search")]
pub async fn search_messages(q: String) -> Result<Vec<SearchHit>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let found = super::search::search(&me, &q).await;
    if let Err(error) = &found {
        context::set_status(error.status());
    }
    found
}

/// Gives conversation `conversation` to a colleague (`to`: their public id; empty: nobody), or
/// marks it done (`done` = "1") or open again (`done` = "0").
#[server(endpoint = "messages/manage")]
pub async fn manage_conversation(
    conversation: String,
    #[server(default)] to: Option<String>,
    #[server(default)] done: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let page = conversation_page(false, &conversation);
    let change = match (to, done.as_deref()) {
        (Some(to), _) => super::manage::Change::Assign(to),
        (None, Some("1")) => super::manage::Change::Done(true),
        (None, Some(_)) => super::manage::Change::Done(false),
        (None, None) => super::manage::Change::Done(true),
    };
    let managed = super::manage::manage(&me, &conversation, change).await;
    context::answer_write(
        managed,
        |()| page.clone(),
        |error| format!("{page}?{}", crate::ui::problem_in_address(error)),
    )
}

/// The practice's automatic reply out of hours, for the physician (who sets it); `None` for
/// anyone else.
#[server(endpoint = "messages/auto-reply")]
pub async fn load_auto_reply() -> Result<Option<AutoReply>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    if me.auth.role != crate::auth::Role::Physician {
        return Ok(None);
    }
    super::auto_reply::current(me.db()).await.map(Some)
}

/// Turns the automatic reply on (`enabled` ticked) or off, with its words.
#[server(endpoint = "messages/auto-reply/save")]
pub async fn save_auto_reply(
    #[server(default)] enabled: String,
    #[server(default)] text: String,
) -> Result<(), AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let saved = super::auto_reply::save(&me, !enabled.is_empty(), &text).await;
    context::answer_write(
        saved,
        |()| "/dashboard/messages?auto_reply=saved#auto-reply".to_owned(),
        |error| {
            format!(
                "/dashboard/messages?{}#auto-reply",
                crate::ui::problem_in_address(error)
            )
        },
    )
}

//! A message with a file (server only). The form streams in: its small fields first
//! (`conversation`, `body`), then `file`. Who may write to the conversation is checked before
//! the file's bytes are read; the file's type is told from its first bytes; the bytes go sealed
//! into the document store as they come (never whole in memory); then the message, the file's
//! document in the patient's record and their link are written in one audited transaction. A
//! refused or cut-off file leaves nothing behind, and a message that fails keeps its draft on
//! the page.

use super::entity::conversation;
use super::files::Attached;
use super::model::MessageText;
use crate::auth::context::SignedIn;
use crate::auth::{can, guard, Action};
use crate::records::documents::model::MediaType;
use crate::records::documents::refusal::DocumentRefusal;
use crate::records::documents::service::{discard, put};
use crate::records::documents::upload::{first_bytes, small_text, today};
use crate::storage::Objects;
use crate::AppError;
use bytes::Bytes;
use multer::Multipart;

/// The form's fields other than the file.
#[derive(Debug, Default)]
pub struct Fields {
    pub conversation: String,
    pub body: String,
}

/// Reads the form and sends its message, with its file when one was chosen. Returns the
/// message's number in its conversation; `fields` keeps what the form said.
pub async fn receive(
    me: &SignedIn,
    objects: &Objects,
    form: &mut Multipart<'static>,
    fields: &mut Fields,
) -> Result<i64, AppError> {
    let interrupted = |_| AppError::from(DocumentRefusal::Interrupted);
    while let Some(mut field) = form.next_field().await.map_err(interrupted)? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if name != "file" {
            let value = small_text(field).await?;
            match name.as_str() {
                "conversation" => fields.conversation = value,
                "body" => fields.body = value,
                _ => {}
            }
            continue;
        }
        // A form whose file was left empty sends an empty part: a message without a file.
        let start = first_bytes(&mut field).await?;
        if start.is_empty() {
            break;
        }
        let text = MessageText::beside_file(&fields.body)?;
        let conversation = super::service::find(me, &fields.conversation, "message.send").await?;
        may_write(me, &conversation).await?;
        let media_type = MediaType::sniff(&start).ok_or(DocumentRefusal::WrongType)?;
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let body =
            futures::StreamExt::chain(futures::stream::iter([Ok(Bytes::from(start))]), field);
        let date = today(me).await?;
        let attached = Attached {
            stored: put(objects, body).await?,
            file_name,
            media_type,
            date,
        };
        let sent = super::service::reply_in(me, &conversation, &text, Some(&attached)).await;
        if sent.is_err() {
            discard(objects, &attached.stored).await;
        }
        return sent;
    }
    let text = MessageText::parse(&fields.body)?;
    super::service::reply(me, &fields.conversation, &text).await
}

/// Refuses (audited) a caller who may not write to `conversation`, before a file is read.
async fn may_write(me: &SignedIn, conversation: &conversation::Model) -> Result<(), AppError> {
    let resource = super::service::messages(conversation.patient_id);
    if can(&me.caller.actor, Action::Write, &resource) {
        return Ok(());
    }
    let refused = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Write,
        resource,
        None,
        "message.send",
    )
    .await;
    Err(refused.err().unwrap_or(AppError::Forbidden))
}

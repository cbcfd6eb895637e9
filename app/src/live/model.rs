//! What a live event says.

use serde::{Deserialize, Serialize};

/// What happened (`live_event.kind`, and the event's name on the stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum LiveKind {
    /// A notification for this person (subject: its id).
    Notification,
    /// This person's notifications were read, in some tab.
    NotificationsRead,
    /// A message in a conversation this person is in (subject: the conversation's id).
    Message,
    /// Messages of a conversation this person is in were read (subject: the conversation).
    MessagesRead,
}

crate::stored_words!(LiveKind, "live event kind", {
    Notification => "notification",
    NotificationsRead => "notifications_read",
    Message => "message",
    MessagesRead => "messages_read",
});

/// One event for one person, as a stream sends it: `seq` is its number in that person's events
/// (1, 2, 3, … with no gaps), the stream's event id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub user_id: i32,
    pub seq: i64,
    pub kind: LiveKind,
    /// The id of what changed (a notification, a conversation), if one.
    pub subject: Option<String>,
}

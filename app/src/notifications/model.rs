use serde::{Deserialize, Serialize};

/// One notification as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i32,
    pub title: String,
    pub body: String,
    /// A path inside Bedside, e.g. `/portal/visits`.
    pub link: Option<String>,
    /// "Dec 4, 8:00 AM", in the practice's time zone.
    pub when: String,
    pub unread: bool,
}

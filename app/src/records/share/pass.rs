//! The passes a share link hands out after it is opened (server only), each sealed under the
//! practice's keys and bound to the link's id, so none can be made, changed or moved to another
//! link: the viewer's pass to download the record's files for an hour (the name the person gave
//! rides in it), and a manifest's `location` of one document for a recipient's app.

use super::model::VIEWING_MINUTES;
use crate::crypto::{FieldContext, Keyring};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Viewing {
    recipient: String,
    /// Unix seconds.
    until: i64,
}

fn viewing_context(link_public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "share_link",
        column: "viewing_pass",
        row: link_public_id,
    }
}

/// The pass for `recipient`, who just opened link `link_public_id`.
pub fn viewing_pass(
    keyring: &Keyring,
    link_public_id: &str,
    recipient: &str,
    now: DateTime<Utc>,
) -> String {
    let viewing = Viewing {
        recipient: recipient.to_owned(),
        until: (now + chrono::Duration::minutes(VIEWING_MINUTES)).timestamp(),
    };
    let plain = serde_json::to_vec(&viewing).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(keyring.encrypt(&viewing_context(link_public_id), &plain))
}

/// Who pass `pass` was given to, if it is this link's and still good at `now`.
pub(super) fn open_pass(
    keyring: &Keyring,
    link_public_id: &str,
    pass: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    let sealed = URL_SAFE_NO_PAD.decode(pass.trim()).ok()?;
    let plain = keyring
        .decrypt(&viewing_context(link_public_id), &sealed)
        .ok()?;
    let viewing: Viewing = serde_json::from_slice(&plain).ok()?;
    (now.timestamp() < viewing.until).then_some(viewing.recipient)
}

/// How long a `location` in a manifest stays good (the specification: short-lived, an hour at
/// most).
pub const LOCATION_MINUTES: i64 = 60;

#[derive(Serialize, Deserialize)]
pub(super) struct Location {
    pub document: String,
    pub recipient: String,
    /// Unix seconds.
    until: i64,
}

fn location_context(link_public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "share_link",
        column: "file_location",
        row: link_public_id,
    }
}

/// The path segment of document `document`'s `location` in a manifest for `recipient`: sealed
/// to the link, good for an hour.
pub fn location_pass(
    keyring: &Keyring,
    link_public_id: &str,
    document: &str,
    recipient: &str,
    now: DateTime<Utc>,
) -> String {
    let location = Location {
        document: document.to_owned(),
        recipient: recipient.trim().chars().take(200).collect(),
        until: (now + chrono::Duration::minutes(LOCATION_MINUTES)).timestamp(),
    };
    let plain = serde_json::to_vec(&location).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(keyring.encrypt(&location_context(link_public_id), &plain))
}

/// The document and recipient location `pass` names, if it is this link's and still good at
/// `now`.
pub(super) fn open_location(
    keyring: &Keyring,
    link_public_id: &str,
    pass: &str,
    now: DateTime<Utc>,
) -> Option<Location> {
    let sealed = URL_SAFE_NO_PAD.decode(pass.trim()).ok()?;
    let plain = keyring
        .decrypt(&location_context(link_public_id), &sealed)
        .ok()?;
    let location: Location = serde_json::from_slice(&plain).ok()?;
    (now.timestamp() < location.until).then_some(location)
}

//! Share links' wire types and rules that need no database: how long a link may live, what a
//! passcode must be, what each use of a link came to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest a link may stay open, and the default.
pub const MAX_DAYS: i64 = 30;
pub const DEFAULT_DAYS: i64 = 7;
/// Wrong passcodes a link takes in its whole life before it stops opening.
pub const MAX_PASSCODE_FAILURES: i32 = 10;
/// The shortest passcode.
pub const MIN_PASSCODE: usize = 6;
/// The longest label (the specification's limit).
pub const MAX_LABEL: usize = 80;

/// What one use of a link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum AccessOutcome {
    /// The shared record was handed out.
    Opened,
    WrongPasscode,
    /// Asked for after it expired, was revoked or locked.
    Closed,
}

crate::stored_words!(AccessOutcome, "share access outcome", {
    Opened => "opened",
    WrongPasscode => "wrong_passcode",
    Closed => "closed",
});

/// How a link was used: by a SMART Health Links app asking for the manifest, or by a person in
/// the practice's viewer page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessVia {
    App,
    Browser,
}

impl AccessVia {
    /// What was opened, as the patient reads it in the list of uses.
    pub fn label(self) -> &'static str {
        match self {
            AccessVia::App => "The shared record, in a health app",
            AccessVia::Browser => "The shared record, in a web browser",
        }
    }
}

/// Why a link opens nothing any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkEnded {
    Revoked,
    Expired,
    /// Too many wrong passcodes.
    Locked,
}

impl LinkEnded {
    /// The viewer's explanation.
    pub fn message(self) -> &'static str {
        match self {
            LinkEnded::Revoked => "This link was revoked by the person who shared it.",
            LinkEnded::Expired => "This link has expired.",
            LinkEnded::Locked => "This link was locked after too many wrong passcodes.",
        }
    }

    /// As the patient's list shows it.
    pub fn status(self) -> &'static str {
        match self {
            LinkEnded::Revoked => "Revoked",
            LinkEnded::Expired => "Expired",
            LinkEnded::Locked => "Locked",
        }
    }
}

impl AccessOutcome {
    pub fn label(self) -> &'static str {
        match self {
            AccessOutcome::Opened => "Opened",
            AccessOutcome::WrongPasscode => "Wrong passcode",
            AccessOutcome::Closed => "Refused: the link had ended",
        }
    }
}

/// What a new link shares and how, as its form says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewShare {
    /// "For Dr. Chen, cardiology" (at most 80 characters).
    pub label: String,
    pub chart: bool,
    /// The visit notes (those signed when the link is opened).
    pub notes: bool,
    pub documents: bool,
    /// Days it stays open (1–30).
    pub days: i64,
    /// Empty: none.
    pub passcode: String,
}

impl NewShare {
    /// The problems to fix, by field.
    pub fn problems(&self) -> crate::FieldErrors {
        let mut errors = crate::FieldErrors::default();
        if self.label.trim().is_empty() || self.label.chars().count() > MAX_LABEL {
            errors.add(
                "label",
                format!("Say who it is for, in at most {MAX_LABEL} characters."),
            );
        }
        if !(self.chart || self.notes || self.documents) {
            errors.add("parts", "Choose at least one part of your record to share.");
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            errors.add("days", format!("Choose between 1 and {MAX_DAYS} days."));
        }
        let passcode = self.passcode.trim();
        if !passcode.is_empty() && passcode.chars().count() < MIN_PASSCODE {
            errors.add(
                "passcode",
                format!("Use at least {MIN_PASSCODE} characters, or leave it empty."),
            );
        }
        errors
    }
}

/// A link as its patient sees it in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSummary {
    pub public_id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// "December 7, 2026", in the practice's time zone.
    pub created: String,
    /// "December 14, 2026, 10:42 am".
    pub expires: String,
    pub passcode: bool,
    /// What it shares: "Chart, visit notes".
    pub parts: String,
    /// `None`: it still opens.
    pub ended: Option<LinkEnded>,
    /// Every use, newest first.
    pub accesses: Vec<ShareAccess>,
}

/// One use of a link: when, by whom (as the recipient said), from where, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareAccess {
    pub at: DateTime<Utc>,
    /// "December 7, 2026, 10:42 am", in the practice's time zone.
    pub when: String,
    pub outcome: AccessOutcome,
    pub recipient: String,
    pub from: String,
    /// `None` for uses kept before this was recorded.
    pub via: Option<AccessVia>,
    /// The file downloaded (its title), when the use was one document's file.
    pub file: Option<String>,
}

/// A link just made: its `shlink:/` payload (for a SMART Health Links app), and the address to
/// send, which opens the practice's viewer in a browser and carries the same payload after `#`
/// (the specification's viewer-prefixed form, so an app reading it finds the link too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCreated {
    pub public_id: String,
    pub shlink: String,
    pub address: String,
}

/// The parts a link shares, in words.
pub fn parts_label(chart: bool, notes: bool, documents: bool) -> String {
    let parts: Vec<&str> = [
        (chart, "Chart"),
        (notes, "visit notes"),
        (documents, "documents"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let text = parts.join(", ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// What the viewer page shows at a link's address: the form to open it, the record, or why it
/// opens nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum SharedView {
    /// No such link.
    Unknown,
    Ended(LinkEnded),
    Ask(ViewerAsk),
    Record(Box<SharedRecord>),
}

/// The form before a link opens: who is asking (kept, and shown to the patient), and the
/// passcode when the link has one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewerAsk {
    pub label: String,
    pub passcode: bool,
    pub expires: String,
    /// As typed (never the passcode).
    pub recipient: String,
    pub errors: crate::FieldErrors,
    /// Wrong passcodes the link still takes, after a wrong one.
    pub remaining: Option<i32>,
}

/// How long the viewer may download a shared record's files after opening it.
pub const VIEWING_MINUTES: i64 = 60;

/// A shared record as the viewer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRecord {
    pub label: String,
    pub patient_name: String,
    /// "March 12, 1984".
    pub born: String,
    /// "December 14, 2026".
    pub expires: String,
    pub chart: Option<Vec<crate::records::model::ChartEntry>>,
    pub notes: Option<Vec<crate::records::notes::model::FiledNote>>,
    pub documents: Option<Vec<crate::records::documents::model::DocumentSummary>>,
    /// Where the documents' files are asked for (`/shl/{secret}/view/files/`), and the sealed
    /// pass that lets this viewer download them for an hour without the passcode again.
    pub files_at: String,
    pub viewing: String,
}

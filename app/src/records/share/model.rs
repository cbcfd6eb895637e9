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
    pub passcode: bool,
    /// Every use, newest first.
    pub accesses: Vec<ShareAccess>,
}

/// One use of a link: when, by whom (as the recipient said), from where, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareAccess {
    pub at: DateTime<Utc>,
    pub outcome: AccessOutcome,
    pub recipient: String,
    pub from: String,
}

/// A link just made: its `shlink:/` link (for a SMART Health Links app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCreated {
    pub public_id: String,
    pub shlink: String,
}

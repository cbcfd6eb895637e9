//! Access grants' wire types and the rules that need no database.

use crate::auth::Grant;
use serde::{Deserialize, Serialize};

/// The longest a staff member may be let in at once, and the default.
pub const MAX_DAYS: i64 = 30;
pub const DEFAULT_DAYS: i64 = 7;
/// The longest reason.
pub const MAX_REASON: usize = 500;
/// An emergency read lasts this long, and its reason is at least this long.
pub const EMERGENCY_MINUTES: i64 = 60;
pub const MIN_EMERGENCY_REASON: usize = 20;

impl Grant {
    /// As the physician reads it.
    pub fn label(self) -> &'static str {
        match self {
            Grant::Care => "Chart access",
            Grant::BreakGlass => "Emergency access",
        }
    }
}

/// A staff member the physician lets work on a patient's chart, as the form says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGrant {
    /// The staff member's public id.
    pub staff: String,
    /// Days it lasts (1–30).
    pub days: i64,
    /// Why (optional): "Coordinating her referral".
    pub reason: String,
}

impl NewGrant {
    /// The problems to fix, by field.
    pub fn problems(&self) -> crate::FieldErrors {
        let mut errors = crate::FieldErrors::default();
        if self.staff.trim().is_empty() {
            errors.add("staff", "Choose the staff member to let in.");
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            errors.add("days", format!("Choose between 1 and {MAX_DAYS} days."));
        }
        if self.reason.chars().count() > MAX_REASON {
            errors.add(
                "reason",
                format!("Keep the reason under {MAX_REASON} characters."),
            );
        }
        errors
    }
}

/// A grant as the physician sees it on the patient's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantSummary {
    pub public_id: String,
    pub kind: Grant,
    /// Who was let in.
    pub person: String,
    pub granted_by: String,
    /// "December 7, 2026, 10:42 am", in the practice's time zone.
    pub from: String,
    pub until: String,
    pub reason: String,
    /// Still lets them in.
    pub active: bool,
    pub revoked: bool,
}

/// A staff member who can be let in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChoice {
    pub public_id: String,
    pub name: String,
}

/// How far back the physician's dashboard lists the administrator's emergency reads.
pub const EMERGENCY_NOTICE_DAYS: i64 = 30;

/// An emergency read of a patient's record, as the physician's dashboard tells her of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyRead {
    /// The patient's public id (their chart's address).
    pub patient: String,
    pub patient_name: String,
    /// Who read it, when, until when, and why.
    pub grant: GrantSummary,
}

/// The physician's panel: the staff to choose from and every grant, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessOverview {
    pub staff: Vec<StaffChoice>,
    pub grants: Vec<GrantSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_someone_for_one_to_thirty_days() {
        let ok = NewGrant {
            staff: "abc".into(),
            days: 7,
            reason: String::new(),
        };
        assert!(ok.problems().is_empty());
        let none = NewGrant {
            staff: " ".into(),
            days: 31,
            reason: "x".repeat(501),
        };
        let problems = none.problems();
        for field in ["staff", "days", "reason"] {
            assert!(problems.get(field).is_some(), "{field}");
        }
        assert!(NewGrant { days: 0, ..ok }.problems().get("days").is_some());
    }
}

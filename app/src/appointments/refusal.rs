//! Why a change to a visit was refused: a stable code that pages and tests match, and the
//! sentence the patient or physician reads. Compiled for the browser too (the pages show it).

use crate::AppError;
use serde::{Deserialize, Serialize};

/// A visit could not be booked, moved, cancelled or completed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitRefusal {
    /// Someone else took the time first (the holds' constraint decided, P2).
    JustTaken,
    /// Another booking of the member took the year's last included visit at the same moment,
    /// or a move lands in a membership year already used up.
    AllowanceJustUsed,
    /// A freed time offered from the waitlist is no longer held (the hold ended, or was let go).
    OfferGone,
    /// Inside 24 hours, the late terms shown were not confirmed, or changed since: these are
    /// the current ones.
    LateTerms { terms: String },
    /// Inside 24 hours a visit is not moved online.
    LateReschedule,
    /// The visit has started.
    Started,
    /// The visit has not started yet (it cannot be completed).
    NotStarted,
    /// The visit is over (completed).
    Over,
    /// The visit was cancelled already.
    Cancelled,
    /// A follow-up interval that is not one of those offered.
    FollowUpInterval,
}

impl VisitRefusal {
    /// Every refusal that needs no details, for reading a code back.
    const PLAIN: [VisitRefusal; 9] = [
        VisitRefusal::JustTaken,
        VisitRefusal::AllowanceJustUsed,
        VisitRefusal::OfferGone,
        VisitRefusal::LateReschedule,
        VisitRefusal::Started,
        VisitRefusal::NotStarted,
        VisitRefusal::Over,
        VisitRefusal::Cancelled,
        VisitRefusal::FollowUpInterval,
    ];

    /// The refusal a code stands for (the late terms without their text: the page shows them
    /// with the visit).
    pub fn from_code(code: &str) -> Option<VisitRefusal> {
        if code == "late_terms" {
            return Some(VisitRefusal::LateTerms {
                terms: String::new(),
            });
        }
        Self::PLAIN.into_iter().find(|r| r.code() == code)
    }

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            VisitRefusal::JustTaken => "taken",
            VisitRefusal::AllowanceJustUsed => "allowance_used_meanwhile",
            VisitRefusal::OfferGone => "offer_gone",
            VisitRefusal::LateTerms { .. } => "late_terms",
            VisitRefusal::LateReschedule => "late_move",
            VisitRefusal::Started => "started",
            VisitRefusal::NotStarted => "not_started",
            VisitRefusal::Over => "over",
            VisitRefusal::Cancelled => "cancelled",
            VisitRefusal::FollowUpInterval => "follow_up_interval",
        }
    }

    /// What the person reads.
    pub fn message(&self) -> String {
        match self {
            VisitRefusal::JustTaken => {
                "That time was just taken by someone else. Please choose another time.".into()
            }
            VisitRefusal::AllowanceJustUsed => "There is no included visit left in that membership year. Please look at the terms again.".into(),
            VisitRefusal::OfferGone => "That time is no longer held for you: the 30 minutes passed or you let it go. You are off the waitlist for that day; the times still free are on the booking page.".into(),
            VisitRefusal::LateTerms { .. } => "The terms of cancelling that visit changed, or were not confirmed. Its current terms are shown with it below.".into(),
            VisitRefusal::LateReschedule => "This visit starts in less than 24 hours, so it can no longer be moved. You can cancel it (your membership's late-cancellation terms, shown with the visit, apply) and book a new time, or call the practice.".into(),
            VisitRefusal::Started => "This visit has already started, so it can no longer be changed online. Please call the practice.".into(),
            VisitRefusal::NotStarted => "This visit has not started yet.".into(),
            VisitRefusal::Over => "This visit is over.".into(),
            VisitRefusal::Cancelled => "This visit was cancelled already.".into(),
            VisitRefusal::FollowUpInterval => {
                "Please choose one of the follow-up intervals offered.".into()
            }
        }
    }
}

/// The code a refused change of the visit list goes back to the list with (post/redirect/get).
pub fn problem_code(error: &AppError) -> &'static str {
    match error {
        AppError::Refused(crate::Refusal::Visit(refusal)) => refusal.code(),
        AppError::Validation(fields) if fields.get("reason").is_some() => "reason",
        AppError::Validation(_) => "terms",
        AppError::Unauthorized => "signed_out",
        AppError::Forbidden | AppError::NotFound(_) => "gone",
        _ => "failed",
    }
}

/// What the visit list says for a problem code in its address.
pub fn problem_message(code: &str) -> Option<String> {
    if let Some(refusal) = VisitRefusal::from_code(code) {
        return Some(refusal.message());
    }
    let message = match code {
        "reason" => "Please say briefly what the visit is about (up to 500 characters), then book the held time.",
        "terms" => "The terms of the held time changed. Please read them again below.",
        "signed_out" => "You were signed out. Please sign in again; nothing was changed.",
        "gone" => "That visit can no longer be changed online. Please call the practice.",
        "failed" => "Something went wrong on our side; nothing was changed. Please try again in a moment.",
        _ => return None,
    };
    Some(message.to_owned())
}

/// The code a refused booking, move or waitlist join goes back to the booking page with: the
/// refusal's own code, or the field that needs fixing.
pub fn booking_problem_code(error: &AppError) -> String {
    match error {
        AppError::Refused(crate::Refusal::Visit(refusal)) => refusal.code().to_owned(),
        AppError::Refused(crate::Refusal::Booking(refusal)) => refusal.code().to_owned(),
        AppError::Conflict(_) => VisitRefusal::JustTaken.code().to_owned(),
        AppError::Validation(fields) => ["reason", "day", "time_zone", "starts_at"]
            .into_iter()
            .find(|field| fields.get(field).is_some())
            .unwrap_or("starts_at")
            .to_owned(),
        AppError::Unauthorized => "signed_out".to_owned(),
        _ => "failed".to_owned(),
    }
}

/// What the booking page says for a problem code in its address. The membership's rules are
/// said in general words here (the address carries no tier names); in place, the page shows
/// the refusal's own message.
pub fn booking_problem_message(code: &str) -> String {
    if let Some(refusal) = VisitRefusal::from_code(code) {
        return refusal.message();
    }
    let message = match code {
        "reason" => "Please tell the physician briefly what the visit is about (up to 500 characters).",
        "starts_at" => "That time is no longer offered. Please choose one of the times below.",
        "fee" => "The terms of this visit changed since the page was shown. Please read them below and book again.",
        "allowance" => "No included visit is left for that time. Please read the terms below.",
        "horizon" => "That time is further ahead than your membership books. Please choose one of the times below.",
        "same_day" => "Your membership books from tomorrow on. Please choose one of the times below, or call the practice for something urgent.",
        "not_included" => "Your membership does not include that kind of visit. Please choose another kind.",
        "membership" => "Booking visits is part of an active membership.",
        "time_zone" => "Please choose one of the time zones listed.",
        "day" => "Please choose one of the days listed for the waitlist.",
        "signed_out" => "You were signed out. Please sign in again; nothing was booked.",
        _ => "The visit could not be booked. Please try again, or call the practice.",
    };
    message.to_owned()
}

/// What a page says for an error of a change made in place: a refusal's or a field's own
/// message.
pub fn in_place_message(error: &AppError) -> String {
    match error {
        AppError::Validation(fields) => fields
            .0
            .values()
            .next()
            .cloned()
            .unwrap_or_else(|| error.to_string()),
        other => other.to_string(),
    }
}

/// What the visit list says for an error of a change made in place (hydrated).
pub fn problem_of(error: &AppError) -> String {
    match error {
        AppError::Refused(_) => error.to_string(),
        other => problem_message(problem_code(other)).unwrap_or_else(|| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_code_and_a_message() {
        let mut all = VisitRefusal::PLAIN.to_vec();
        all.push(VisitRefusal::LateTerms {
            terms: "Cancelling now costs $40.".into(),
        });
        let codes: std::collections::BTreeSet<&str> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
        assert!(all.iter().all(|r| r.message().ends_with('.')));
        for refusal in &all {
            let back = VisitRefusal::from_code(refusal.code()).expect("read back");
            assert_eq!(back.code(), refusal.code());
            assert_eq!(
                problem_message(refusal.code()),
                Some(back.message()),
                "the page says what the refusal says"
            );
        }
        assert_eq!(VisitRefusal::from_code("no such code"), None);
    }
}

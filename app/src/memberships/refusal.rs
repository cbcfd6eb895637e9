//! Why a change to a membership, or a refund, was refused: a stable code that pages and tests
//! match, and the sentence the member or admin reads. Compiled for the browser too.

use serde::{Deserialize, Serialize};

/// A member's change (paying, a new card, another plan, cancelling) could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembershipRefusal {
    /// The processor declined the card; nothing changed.
    CardDeclined,
    /// Only an active membership is changed online.
    NotActive,
    /// The plan chosen is the one the member has.
    AlreadyYours,
    /// Billed outside the portal (no subscription with the processor).
    BilledOutside,
    /// Nothing paid, so there is no period to end.
    NoPaidPeriod,
}

impl MembershipRefusal {
    pub const ALL: [MembershipRefusal; 5] = [
        MembershipRefusal::CardDeclined,
        MembershipRefusal::NotActive,
        MembershipRefusal::AlreadyYours,
        MembershipRefusal::BilledOutside,
        MembershipRefusal::NoPaidPeriod,
    ];

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            MembershipRefusal::CardDeclined => "declined",
            MembershipRefusal::NotActive => "not_active",
            MembershipRefusal::AlreadyYours => "already_yours",
            MembershipRefusal::BilledOutside => "billed_outside",
            MembershipRefusal::NoPaidPeriod => "no_paid_period",
        }
    }

    pub fn from_code(code: &str) -> Option<MembershipRefusal> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn message(&self) -> String {
        match self {
            MembershipRefusal::CardDeclined => {
                "Your card was declined, so nothing changed. Update your card and try again."
            }
            MembershipRefusal::NotActive => {
                "Only an active membership can be changed online. Please call the practice."
            }
            MembershipRefusal::AlreadyYours => "That is your membership already.",
            MembershipRefusal::BilledOutside => {
                "This membership is billed outside the portal; please call the practice to change it."
            }
            MembershipRefusal::NoPaidPeriod => {
                "This membership has no paid period to end; please call us."
            }
        }
        .to_owned()
    }
}

/// A refund the admin asked for could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefundRefusal {
    /// Unpaid, or refunded in full already.
    NothingLeft { invoice: String },
    /// Paid some other way (no processor invoice to refund).
    NotThroughProcessor,
    /// The processor refused (another refund got there first, say).
    ProcessorRefused { invoice: String },
}

impl RefundRefusal {
    /// The stable code. Never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            RefundRefusal::NothingLeft { .. } => "nothing_left",
            RefundRefusal::NotThroughProcessor => "not_through_processor",
            RefundRefusal::ProcessorRefused { .. } => "processor_refused",
        }
    }

    pub fn message(&self) -> String {
        match self {
            RefundRefusal::NothingLeft { invoice } => {
                format!("Invoice {invoice} has nothing left to refund.")
            }
            RefundRefusal::NotThroughProcessor => {
                "This invoice was not paid through the processor.".to_owned()
            }
            RefundRefusal::ProcessorRefused { invoice } => format!(
                "The payment processor refused this refund: invoice {invoice} may have been refunded in the meantime. Reload the page to see what is left to refund."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_membership_refusal_has_its_own_code_and_reads_back_from_it() {
        let mut codes: Vec<_> = MembershipRefusal::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), MembershipRefusal::ALL.len());
        for refusal in MembershipRefusal::ALL {
            assert_eq!(MembershipRefusal::from_code(refusal.code()), Some(refusal));
        }
    }
}

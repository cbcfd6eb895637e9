//! Why a communication from the chart could not go: a stable code and what to do instead.

use serde::{Deserialize, Serialize};

/// Why a communication could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HubRefusal {
    /// The patient has no account, so no email address.
    NoEmail,
    /// No mobile number in the record.
    NoMobile,
    /// The patient has no portal account to read a secure message in.
    NoPortal,
}

impl HubRefusal {
    const ALL: [HubRefusal; 3] = [
        HubRefusal::NoEmail,
        HubRefusal::NoMobile,
        HubRefusal::NoPortal,
    ];

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(self) -> &'static str {
        match self {
            HubRefusal::NoEmail => "no_email",
            HubRefusal::NoMobile => "no_mobile",
            HubRefusal::NoPortal => "no_portal",
        }
    }

    /// The refusal a code stands for.
    pub fn from_code(code: &str) -> Option<HubRefusal> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the physician or staff member reads.
    pub fn message(self) -> &'static str {
        match self {
            HubRefusal::NoEmail => {
                "This patient has no email address on file: send a secure message or a text instead."
            }
            HubRefusal::NoMobile => {
                "There is no mobile number in this patient's record: add one to their details, or choose email."
            }
            HubRefusal::NoPortal => {
                "This patient has no portal account to read a secure message in: send an email or a text instead."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HubRefusal;

    #[test]
    fn every_refusal_code_reads_back() {
        for r in HubRefusal::ALL {
            assert_eq!(HubRefusal::from_code(r.code()), Some(r));
        }
    }
}

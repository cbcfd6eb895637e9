//! Why a share link was not made or changed: a stable code, the sentence the patient reads, and
//! the HTTP status another client gets.

use serde::{Deserialize, Serialize};

/// A link could not be made or changed, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareRefusal {
    /// The form was posted without JavaScript: a link's address is shown once, on the page that
    /// made it, and is never stored, so a page that cannot show it must not make it.
    NeedsScript,
}

impl ShareRefusal {
    const ALL: [ShareRefusal; 1] = [ShareRefusal::NeedsScript];

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(self) -> &'static str {
        match self {
            ShareRefusal::NeedsScript => "needs_script",
        }
    }

    /// The refusal a code stands for.
    pub fn from_code(code: &str) -> Option<ShareRefusal> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the patient reads.
    pub fn message(self) -> &'static str {
        match self {
            ShareRefusal::NeedsScript => {
                "No link was made. A link's address is shown only once, on this page, and is never stored; this page needs JavaScript to show it. Turn JavaScript on and try again."
            }
        }
    }

    /// The HTTP status another client gets.
    pub fn status(self) -> http::StatusCode {
        match self {
            ShareRefusal::NeedsScript => http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShareRefusal;

    #[test]
    fn every_code_reads_back_as_its_refusal() {
        for refusal in ShareRefusal::ALL {
            assert_eq!(ShareRefusal::from_code(refusal.code()), Some(refusal));
            assert!(!refusal.message().is_empty());
        }
        assert_eq!(ShareRefusal::from_code("nope"), None);
    }
}

//! Why a file was not added to the record: a stable code, the sentence the person reads, and the
//! HTTP status another client gets. Nothing is left behind by a refused upload.

use serde::{Deserialize, Serialize};

/// A document could not be added, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentRefusal {
    /// The form came without a file, or with an empty one.
    NoFile,
    /// The bytes are not a PDF, JPEG or PNG (whatever the name says).
    WrongType,
    /// Over 25 MB.
    TooLarge,
    /// The connection ended before the whole file arrived.
    Interrupted,
    /// Files are attached to a note while it is a draft; a signed note does not change.
    NoteSigned,
    /// The visit named is not one of this patient's, or was cancelled.
    NotThisVisit,
}

impl DocumentRefusal {
    const ALL: [DocumentRefusal; 6] = [
        DocumentRefusal::NoFile,
        DocumentRefusal::WrongType,
        DocumentRefusal::TooLarge,
        DocumentRefusal::Interrupted,
        DocumentRefusal::NoteSigned,
        DocumentRefusal::NotThisVisit,
    ];

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(self) -> &'static str {
        match self {
            DocumentRefusal::NoFile => "no_file",
            DocumentRefusal::WrongType => "wrong_type",
            DocumentRefusal::TooLarge => "too_large",
            DocumentRefusal::Interrupted => "interrupted",
            DocumentRefusal::NoteSigned => "note_signed",
            DocumentRefusal::NotThisVisit => "not_this_visit",
        }
    }

    /// The refusal a code stands for.
    pub fn from_code(code: &str) -> Option<DocumentRefusal> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the person reads.
    pub fn message(self) -> &'static str {
        match self {
            DocumentRefusal::NoFile => "Choose a file to add: none was sent, or it was empty.",
            DocumentRefusal::WrongType => {
                "This file is not a PDF, JPEG or PNG, so it was not added. Save or scan it as one of those and try again."
            }
            DocumentRefusal::TooLarge => {
                "This file is larger than 25 MB, so it was not added. Scan it at a lower resolution, or split it, and try again."
            }
            DocumentRefusal::Interrupted => {
                "The connection ended before the whole file arrived, so nothing was added. Try again."
            }
            DocumentRefusal::NoteSigned => {
                "This note is signed, so files can no longer be attached to it. Add the file to the patient's documents instead."
            }
            DocumentRefusal::NotThisVisit => {
                "That visit is not one of this patient's, or it was cancelled, so nothing was attached."
            }
        }
    }

    /// The HTTP status another client gets.
    pub fn status(self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            DocumentRefusal::NoFile => StatusCode::UNPROCESSABLE_ENTITY,
            DocumentRefusal::WrongType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            DocumentRefusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            DocumentRefusal::Interrupted => StatusCode::BAD_REQUEST,
            DocumentRefusal::NoteSigned | DocumentRefusal::NotThisVisit => StatusCode::CONFLICT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_refusal() {
        for refusal in DocumentRefusal::ALL {
            assert_eq!(DocumentRefusal::from_code(refusal.code()), Some(refusal));
        }
        assert_eq!(DocumentRefusal::from_code("nope"), None);
    }
}

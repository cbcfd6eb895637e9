//! Why a change to a visit note was refused: a stable code and the sentence the physician reads.

use serde::{Deserialize, Serialize};

/// A visit note could not be saved or signed, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteRefusal {
    /// The note was saved from another window after this one last saved: nothing was written
    /// over.
    ChangedMeanwhile,
    /// The note is signed: it no longer changes (an addendum corrects it).
    Signed,
    /// The visit was cancelled: there is nothing to document.
    VisitCancelled,
    /// An addendum is for a signed note; a draft is still edited directly.
    NotSigned,
}

impl NoteRefusal {
    const ALL: [NoteRefusal; 4] = [
        NoteRefusal::ChangedMeanwhile,
        NoteRefusal::Signed,
        NoteRefusal::VisitCancelled,
        NoteRefusal::NotSigned,
    ];

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(self) -> &'static str {
        match self {
            NoteRefusal::ChangedMeanwhile => "changed_meanwhile",
            NoteRefusal::Signed => "signed",
            NoteRefusal::VisitCancelled => "visit_cancelled",
            NoteRefusal::NotSigned => "not_signed",
        }
    }

    /// The refusal a code stands for.
    pub fn from_code(code: &str) -> Option<NoteRefusal> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the physician reads.
    pub fn message(self) -> &'static str {
        match self {
            NoteRefusal::ChangedMeanwhile => {
                "This note was saved from another window after this one, so this save was not written over it. Copy anything you need from this page, then reload it to see the newer note."
            }
            NoteRefusal::Signed => {
                "This note is signed and no longer changes. Add an addendum below to correct or add to it."
            }
            NoteRefusal::VisitCancelled => "This visit was cancelled, so it has no note.",
            NoteRefusal::NotSigned => {
                "Addenda are for signed notes: edit the draft itself instead."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_refusal() {
        for refusal in NoteRefusal::ALL {
            assert_eq!(NoteRefusal::from_code(refusal.code()), Some(refusal));
        }
        assert_eq!(NoteRefusal::from_code("nope"), None);
    }
}

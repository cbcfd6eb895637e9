//! Why a change to the chart was refused: a stable code and the sentence the person reads.

use serde::{Deserialize, Serialize};

/// A chart entry could not be changed, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartRefusal {
    /// Someone changed the entry after this form was filled in: nothing was written over.
    ChangedMeanwhile,
    /// The entry was removed (by someone else, or in another tab).
    Removed,
}

impl ChartRefusal {
    const ALL: [ChartRefusal; 2] = [ChartRefusal::ChangedMeanwhile, ChartRefusal::Removed];

    /// The stable code (in addresses, in tests). Never changes once released.
    pub fn code(self) -> &'static str {
        match self {
            ChartRefusal::ChangedMeanwhile => "changed_meanwhile",
            ChartRefusal::Removed => "removed",
        }
    }

    /// The refusal a code stands for.
    pub fn from_code(code: &str) -> Option<ChartRefusal> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the person reads.
    pub fn message(self) -> &'static str {
        match self {
            ChartRefusal::ChangedMeanwhile => {
                "This entry was changed by someone else after you opened it, so your change was not saved. The chart now shows the newer version: check it, and make your change again if it is still needed."
            }
            ChartRefusal::Removed => {
                "This entry was removed in the meantime, so your change was not saved. Its history is kept."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_refusal() {
        for refusal in ChartRefusal::ALL {
            assert_eq!(ChartRefusal::from_code(refusal.code()), Some(refusal));
        }
        assert_eq!(ChartRefusal::from_code("nope"), None);
    }
}

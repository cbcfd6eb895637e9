//! The chart as pages see it: its sections, an entry and its versions, and the form that adds or
//! changes an entry (every field as typed, checked into a [`ChartItem`] by [`ChartItem::parse`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The parts of a patient's chart, in the order the chart shows them (allergies first: they are
/// what must never be missed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum ChartSection {
    Allergy,
    Problem,
    Medication,
    Immunization,
    FamilyHistory,
    EmergencyContact,
    Insurance,
}

crate::stored_words!(ChartSection, "chart section", {
    Allergy => "allergy",
    Problem => "problem",
    Medication => "medication",
    Immunization => "immunization",
    FamilyHistory => "family_history",
    EmergencyContact => "emergency_contact",
    Insurance => "insurance",
});

impl ChartSection {
    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            ChartSection::Allergy => "Allergies",
            ChartSection::Problem => "Problems and medical history",
            ChartSection::Medication => "Medications",
            ChartSection::Immunization => "Immunizations",
            ChartSection::FamilyHistory => "Family history",
            ChartSection::EmergencyContact => "Emergency contacts",
            ChartSection::Insurance => "Insurance for outside care",
        }
    }

    /// What one entry is called ("Add an allergy").
    pub fn one(self) -> &'static str {
        match self {
            ChartSection::Allergy => "an allergy",
            ChartSection::Problem => "a problem or past condition",
            ChartSection::Medication => "a medication",
            ChartSection::Immunization => "an immunization",
            ChartSection::FamilyHistory => "a family history entry",
            ChartSection::EmergencyContact => "an emergency contact",
            ChartSection::Insurance => "an insurance plan",
        }
    }

    /// Whether a patient keeps this section of their own chart themselves. Immunizations are
    /// recorded by the practice (they are given or verified there); everything else the patient
    /// knows best and may keep current, and the physician sees every change in the history.
    pub fn kept_by_patient(self) -> bool {
        self != ChartSection::Immunization
    }
}

/// How severe an allergic reaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
    LifeThreatening,
    Unknown,
}

crate::stored_words!(Severity, "allergy severity", {
    Mild => "mild",
    Moderate => "moderate",
    Severe => "severe",
    LifeThreatening => "life_threatening",
    Unknown => "unknown",
});

impl Severity {
    pub const CHOICES: &'static [(&'static str, &'static str)] = &[
        ("unknown", "Not known"),
        ("mild", "Mild"),
        ("moderate", "Moderate"),
        ("severe", "Severe"),
        ("life_threatening", "Life-threatening"),
    ];

    pub fn label(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(value, _)| *value == self.as_str())
            .map_or("Not known", |(_, label)| label)
    }
}

/// Whether a problem is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProblemStatus {
    Active,
    Resolved,
    Inactive,
}

crate::stored_words!(ProblemStatus, "problem status", {
    Active => "active",
    Resolved => "resolved",
    Inactive => "inactive",
});

impl ProblemStatus {
    pub const CHOICES: &'static [(&'static str, &'static str)] = &[
        ("active", "Current"),
        ("inactive", "Not active now"),
        ("resolved", "Resolved"),
    ];

    pub fn label(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(value, _)| *value == self.as_str())
            .map_or("Current", |(_, label)| label)
    }
}

/// What one chart entry says: sealed as one value, never sent anywhere but to a page of someone
/// the policy lets read the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "section", rename_all = "snake_case")]
pub enum ChartItem {
    Allergy {
        substance: String,
        reaction: Option<String>,
        severity: Severity,
    },
    Problem {
        condition: String,
        onset: Option<String>,
        status: ProblemStatus,
    },
    Medication {
        name: String,
        dose: Option<String>,
        how_taken: Option<String>,
        started: Option<NaiveDate>,
        stopped: Option<NaiveDate>,
        prescriber: Option<String>,
    },
    Immunization {
        vaccine: String,
        given_on: Option<NaiveDate>,
        note: Option<String>,
    },
    FamilyHistory {
        relative: String,
        condition: String,
    },
    EmergencyContact {
        name: String,
        relationship: Option<String>,
        phone: String,
    },
    Insurance {
        payer: String,
        member_id: String,
        group_number: Option<String>,
    },
}

impl ChartItem {
    pub fn section(&self) -> ChartSection {
        match self {
            ChartItem::Allergy { .. } => ChartSection::Allergy,
            ChartItem::Problem { .. } => ChartSection::Problem,
            ChartItem::Medication { .. } => ChartSection::Medication,
            ChartItem::Immunization { .. } => ChartSection::Immunization,
            ChartItem::FamilyHistory { .. } => ChartSection::FamilyHistory,
            ChartItem::EmergencyContact { .. } => ChartSection::EmergencyContact,
            ChartItem::Insurance { .. } => ChartSection::Insurance,
        }
    }

    /// The entry in one line, as the chart lists it.
    pub fn headline(&self) -> String {
        match self {
            ChartItem::Allergy { substance, .. } => substance.clone(),
            ChartItem::Problem { condition, .. } => condition.clone(),
            ChartItem::Medication { name, dose, .. } => match dose {
                Some(dose) => format!("{name} {dose}"),
                None => name.clone(),
            },
            ChartItem::Immunization { vaccine, .. } => vaccine.clone(),
            ChartItem::FamilyHistory {
                relative,
                condition,
            } => format!("{relative}: {condition}"),
            ChartItem::EmergencyContact { name, .. } => name.clone(),
            ChartItem::Insurance { payer, .. } => payer.clone(),
        }
    }

    /// The rest of the entry, in a few words.
    pub fn details(&self) -> String {
        let joined = |parts: Vec<Option<String>>| {
            parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")
        };
        let on = |d: &Option<NaiveDate>, what: &str| {
            d.map(|d| format!("{what} {}", d.format("%b %-d, %Y")))
        };
        match self {
            ChartItem::Allergy {
                reaction, severity, ..
            } => joined(vec![Some(severity.label().to_owned()), reaction.clone()]),
            ChartItem::Problem { onset, status, .. } => joined(vec![
                Some(status.label().to_owned()),
                onset.as_ref().map(|o| format!("since {o}")),
            ]),
            ChartItem::Medication {
                how_taken,
                started,
                stopped,
                prescriber,
                ..
            } => joined(vec![
                how_taken.clone(),
                on(started, "started"),
                on(stopped, "stopped"),
                prescriber.as_ref().map(|p| format!("prescribed by {p}")),
            ]),
            ChartItem::Immunization { given_on, note, .. } => {
                joined(vec![on(given_on, "given"), note.clone()])
            }
            ChartItem::FamilyHistory { .. } => String::new(),
            ChartItem::EmergencyContact {
                relationship,
                phone,
                ..
            } => joined(vec![relationship.clone(), Some(phone.clone())]),
            ChartItem::Insurance {
                member_id,
                group_number,
                ..
            } => joined(vec![
                Some(format!("member ID {member_id}")),
                group_number.as_ref().map(|g| format!("group {g}")),
            ]),
        }
    }
}

/// One entry of the chart, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartEntry {
    pub public_id: String,
    pub version: i32,
    pub item: ChartItem,
    /// Who changed it last, and when (in the practice's words: "Dr. Elena Marsh, Dec 2, 2026").
    pub updated_by: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A patient's chart, section by section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub patient: String,
    pub patient_name: String,
    pub entries: Vec<ChartEntry>,
    /// The sections this reader may change.
    pub can_edit: Vec<ChartSection>,
}

impl Chart {
    /// The entries of `section`, in the order they were added.
    pub fn of(&self, section: ChartSection) -> impl Iterator<Item = &ChartEntry> {
        self.entries
            .iter()
            .filter(move |e| e.item.section() == section)
    }
}

/// What happened in one version of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum ChartChange {
    Added,
    Changed,
    Removed,
}

crate::stored_words!(ChartChange, "chart change", {
    Added => "added",
    Changed => "changed",
    Removed => "removed",
});

impl ChartChange {
    pub fn label(self) -> &'static str {
        match self {
            ChartChange::Added => "Added",
            ChartChange::Changed => "Changed",
            ChartChange::Removed => "Removed",
        }
    }
}

/// One version of an entry: who, when, what it said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartVersion {
    pub version: i32,
    pub change: ChartChange,
    pub item: ChartItem,
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

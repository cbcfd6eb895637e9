//! A visit's note as pages see it: the four parts of a SOAP note, the prescriptions, the
//! follow-up the physician recommends, and the form that saves it (every field as typed, checked
//! by [`NoteDraft::parse`]).

use crate::appointments::model::VisitType;
use crate::FieldErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a note stands: a draft the physician is still writing (only the practice sees it), or
/// signed (immutable, in the patient's record; corrections are addenda).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum NoteStatus {
    Draft,
    Signed,
}

crate::stored_words!(NoteStatus, "visit note status", {
    Draft => "draft",
    Signed => "signed",
});

/// Longest text of one part of a note (about ten pages).
pub const MAX_PART: usize = 20_000;
/// Most prescriptions on one note.
pub const MAX_PRESCRIPTIONS: usize = 20;
/// Most refills a prescription may allow (a year of monthly fills).
pub const MAX_REFILLS: u32 = 11;

/// One prescription written at the visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prescription {
    /// "Lisinopril".
    pub drug: String,
    /// "10 mg tablet".
    pub strength: String,
    /// "One tablet by mouth once a day".
    pub directions: String,
    pub quantity: u32,
    pub refills: u32,
}

/// What a note says. Kept sealed as one value (AES-256-GCM, bound to the note).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteContent {
    /// What the patient reports.
    pub subjective: String,
    /// Examination and measurements.
    pub objective: String,
    pub assessment: String,
    pub plan: String,
    pub prescriptions: Vec<Prescription>,
    /// See the patient again in this many weeks (one of the intervals the booking page
    /// offers), or no follow-up needed.
    pub follow_up_weeks: Option<u32>,
}

impl NoteContent {
    /// The follow-up in words, for the note and the patient.
    pub fn follow_up(&self) -> String {
        follow_up_label(self.follow_up_weeks)
    }
}

/// "In 4 weeks", "No follow-up needed".
pub fn follow_up_label(weeks: Option<u32>) -> String {
    match weeks {
        None => "No follow-up needed".to_owned(),
        Some(1) => "In 1 week".to_owned(),
        Some(w) => format!("In {w} weeks"),
    }
}

/// A correction or addition to a signed note, by whom and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addendum {
    pub text: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// "December 1, 2026, 4:10 pm", in the practice's time zone.
    pub when: String,
}

/// The visit a note documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteVisit {
    pub appointment: String,
    pub patient: String,
    pub patient_name: String,
    pub starts_at: DateTime<Utc>,
    /// "Tuesday, December 1, 2026, 9:40 am" in the practice's time zone.
    pub when: String,
    pub visit_type: VisitType,
    /// What the patient wrote when booking.
    pub reason: String,
    /// Marked completed (by signing its note, or earlier by hand).
    pub completed: bool,
}

/// What a note holds, sealed as one value: a draft keeps exactly what was typed (an autosave
/// never fails on a half-written prescription); signing checks it into a [`NoteContent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteBody {
    Draft(NoteDraft),
    Signed(NoteContent),
}

/// A note as its author and the practice see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitNote {
    pub public_id: String,
    pub status: NoteStatus,
    /// Counts its saves: a save from an older version is refused, never written over.
    pub version: i32,
    pub body: NoteBody,
    pub updated_at: DateTime<Utc>,
    /// "December 1, 10:42 am", in the practice's time zone.
    pub updated: String,
    /// Who signed it and when ("December 1, 2026, 4:10 pm").
    pub signed: Option<(String, String)>,
    pub addenda: Vec<Addendum>,
    /// Files attached to the visit's note (a lab result, an ECG, a photo).
    pub attachments: Vec<crate::records::documents::model::DocumentSummary>,
}

/// The note page: the visit, the note if one was started, and the patient's allergies (what
/// must never be missed when prescribing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotePage {
    pub visit: NoteVisit,
    pub note: Option<VisitNote>,
    /// "Penicillin (hives, severe)".
    pub allergies: Vec<String>,
    /// Files attached to the visit's note (before the note was first saved too).
    pub attachments: Vec<crate::records::documents::model::DocumentSummary>,
    /// The caller may write and sign it.
    pub can_write: bool,
}

/// A signed note in the patient's record (the portal), or any note in the physician's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledNote {
    pub visit: NoteVisit,
    pub note: VisitNote,
}

/// What a save did: the version now stored and when, and whether it was signed. A draft saved
/// on the way to signing stays saved when the signing is refused (`not_signed` says why: a
/// field to fix, or a rule such as a visit that has not started).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteSaved {
    pub version: i32,
    pub at: DateTime<Utc>,
    /// "10:42 am", in the practice's time zone.
    pub time: String,
    pub signed: bool,
    pub not_signed: Option<crate::AppError>,
}

/// One prescription row of the form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrescriptionForm {
    #[serde(default)]
    pub drug: String,
    #[serde(default)]
    pub strength: String,
    #[serde(default)]
    pub directions: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub refills: String,
}

impl PrescriptionForm {
    fn is_blank(&self) -> bool {
        [
            &self.drug,
            &self.strength,
            &self.directions,
            &self.quantity,
            &self.refills,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }
}

impl From<&Prescription> for PrescriptionForm {
    fn from(p: &Prescription) -> Self {
        PrescriptionForm {
            drug: p.drug.clone(),
            strength: p.strength.clone(),
            directions: p.directions.clone(),
            quantity: p.quantity.to_string(),
            refills: p.refills.to_string(),
        }
    }
}

/// A note as typed (the form posts it as `note[subjective]`, `note[prescriptions][0][drug]`,
/// …): what a draft keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDraft {
    #[serde(default)]
    pub subjective: String,
    #[serde(default)]
    pub objective: String,
    #[serde(default)]
    pub assessment: String,
    #[serde(default)]
    pub plan: String,
    #[serde(default)]
    pub prescriptions: Vec<PrescriptionForm>,
    #[serde(default)]
    pub follow_up_weeks: String,
}

/// The name of field `part` of prescription row `row` (also its error's key).
pub fn prescription_field(row: usize, part: &str) -> String {
    format!("prescriptions.{row}.{part}")
}

/// The version a form was filled in from, as posted: `None` for a note not saved yet.
pub fn parse_version(text: &str) -> Result<Option<i32>, FieldErrors> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse().map(Some).map_err(|_| {
            FieldErrors::single("version", "Reload the note page and make the change again.")
        }),
    }
}

impl NoteDraft {
    fn parts(&self) -> [(&'static str, &'static str, &String); 4] {
        [
            ("subjective", "subjective part", &self.subjective),
            ("objective", "objective part", &self.objective),
            ("assessment", "assessment", &self.assessment),
            ("plan", "plan", &self.plan),
        ]
    }

    /// Whether a draft fits what a note may hold (each part at most [`MAX_PART`] characters, at
    /// most [`MAX_PRESCRIPTIONS`] rows): the only check a draft gets.
    pub fn check_size(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        for (name, what, text) in self.parts() {
            let length = text.trim().chars().count();
            if length > MAX_PART {
                errors.add(
                    name,
                    format!("Please keep the {what} to {MAX_PART} characters (it has {length})."),
                );
            }
        }
        let rows = self.prescriptions.iter().filter(|p| !p.is_blank()).count();
        if rows > MAX_PRESCRIPTIONS || self.prescriptions.len() > 2 * MAX_PRESCRIPTIONS {
            errors.add(
                "prescriptions",
                format!("A note holds at most {MAX_PRESCRIPTIONS} prescriptions."),
            );
        }
        let long = |p: &PrescriptionForm| {
            [&p.drug, &p.strength, &p.directions, &p.quantity, &p.refills]
                .iter()
                .any(|f| f.chars().count() > 1000)
        };
        if self.prescriptions.iter().any(long) {
            errors.add("prescriptions", "A prescription's field is too long.");
        }
        if self.follow_up_weeks.len() > 8 {
            errors.add("follow_up_weeks", "Choose a follow-up from the list.");
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The note a draft is, ready to sign, or every field to fix (keyed by field name; a
    /// prescription's by [`prescription_field`]). Blank prescription rows are left out. A
    /// signed note says at least what the physician concluded and what happens next.
    pub fn parse(&self, follow_up_choices: &[u32]) -> Result<NoteContent, FieldErrors> {
        let mut errors = self.check_size().err().unwrap_or_default();
        for (name, what, text) in self.parts() {
            if matches!(name, "assessment" | "plan") && text.trim().is_empty() {
                errors.add(
                    name,
                    format!("Write the {what} before signing: a signed note says it."),
                );
            }
        }
        let [subjective, objective, assessment, plan] =
            self.parts().map(|(_, _, text)| text.trim().to_owned());
        let mut prescriptions = Vec::new();
        for (row, form) in self.prescriptions.iter().enumerate() {
            if form.is_blank() {
                continue;
            }
            let mut field = |name: &str, max: usize, what: &str, text: &str| -> String {
                let text = text.trim();
                if text.is_empty() {
                    errors.add(&prescription_field(row, name), format!("Write the {what}."));
                } else if text.chars().count() > max {
                    errors.add(
                        &prescription_field(row, name),
                        format!("Please keep the {what} to {max} characters."),
                    );
                }
                text.to_owned()
            };
            let drug = field("drug", 200, "drug's name", &form.drug);
            let strength = field(
                "strength",
                100,
                "strength (for example 10 mg tablet)",
                &form.strength,
            );
            let directions = field("directions", 500, "directions", &form.directions);
            let quantity = match form.quantity.trim().parse::<u32>() {
                Ok(q) if (1..=1000).contains(&q) => q,
                _ => {
                    errors.add(
                        &prescription_field(row, "quantity"),
                        "Write how many to dispense, a whole number from 1 to 1000.",
                    );
                    0
                }
            };
            let refills = match form.refills.trim() {
                "" => 0,
                text => match text.parse::<u32>() {
                    Ok(r) if r <= MAX_REFILLS => r,
                    _ => {
                        errors.add(
                            &prescription_field(row, "refills"),
                            format!("Refills are a whole number from 0 to {MAX_REFILLS}."),
                        );
                        0
                    }
                },
            };
            prescriptions.push(Prescription {
                drug,
                strength,
                directions,
                quantity,
                refills,
            });
        }
        let follow_up_weeks = match self.follow_up_weeks.trim() {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(w) if follow_up_choices.contains(&w) => Some(w),
                _ => {
                    errors.add("follow_up_weeks", "Choose a follow-up from the list.");
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(NoteContent {
                subjective,
                objective,
                assessment,
                plan,
                prescriptions,
                follow_up_weeks,
            })
        } else {
            Err(errors)
        }
    }
}

impl From<&NoteContent> for NoteDraft {
    fn from(note: &NoteContent) -> Self {
        NoteDraft {
            subjective: note.subjective.clone(),
            objective: note.objective.clone(),
            assessment: note.assessment.clone(),
            plan: note.plan.clone(),
            prescriptions: note
                .prescriptions
                .iter()
                .map(PrescriptionForm::from)
                .collect(),
            follow_up_weeks: note
                .follow_up_weeks
                .map(|w| w.to_string())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WEEKS: &[u32] = &[1, 2, 4, 6, 12];

    fn rx(drug: &str, quantity: &str, refills: &str) -> PrescriptionForm {
        PrescriptionForm {
            drug: drug.into(),
            strength: "10 mg tablet".into(),
            directions: "One tablet by mouth once a day".into(),
            quantity: quantity.into(),
            refills: refills.into(),
        }
    }

    #[test]
    fn blank_prescription_rows_are_left_out_and_filled_ones_are_checked() {
        let form = NoteDraft {
            assessment: " Hypertension, controlled ".into(),
            plan: "Continue lisinopril".into(),
            prescriptions: vec![
                rx("Lisinopril", "30", "5"),
                PrescriptionForm::default(),
                rx("Atorvastatin", "90", ""),
            ],
            follow_up_weeks: "12".into(),
            ..Default::default()
        };
        let note = form.parse(WEEKS).expect("valid");
        assert_eq!(note.assessment, "Hypertension, controlled");
        assert_eq!(note.prescriptions.len(), 2);
        assert_eq!(note.prescriptions[1].refills, 0);
        assert_eq!(note.follow_up_weeks, Some(12));
    }

    #[test]
    fn a_half_written_prescription_names_each_field_to_fix_by_its_row() {
        let form = NoteDraft {
            prescriptions: vec![
                rx("Lisinopril", "30", "5"),
                PrescriptionForm {
                    drug: "Amoxicillin".into(),
                    quantity: "0".into(),
                    refills: "12".into(),
                    ..Default::default()
                },
            ],
            follow_up_weeks: "5".into(),
            ..Default::default()
        };
        let errors = form.parse(WEEKS).expect_err("invalid");
        for key in [
            "prescriptions.1.strength",
            "prescriptions.1.directions",
            "prescriptions.1.quantity",
            "prescriptions.1.refills",
            "follow_up_weeks",
        ] {
            assert!(errors.get(key).is_some(), "{key}: {errors:?}");
        }
        assert!(errors.get("prescriptions.0.drug").is_none());
        assert!(errors.get("prescriptions.1.drug").is_none());
    }

    #[test]
    fn a_note_is_signed_only_with_an_assessment_and_a_plan_but_a_draft_holds_anything() {
        let mut draft = NoteDraft {
            prescriptions: vec![PrescriptionForm {
                drug: "Amox".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(draft.check_size(), Ok(()), "a half-typed draft is kept");
        let missing = draft.parse(WEEKS).expect_err("not signable");
        assert!(missing.get("assessment").is_some() && missing.get("plan").is_some());
        draft.assessment = "Well adult".into();
        draft.plan = "Routine labs".into();
        draft.prescriptions.clear();
        assert!(draft.parse(WEEKS).is_ok());
        draft.plan = "x".repeat(MAX_PART + 1);
        assert!(draft
            .check_size()
            .expect_err("too long")
            .get("plan")
            .is_some());
    }

    #[test]
    fn the_version_a_form_was_filled_in_from_reads_back() {
        assert_eq!(parse_version(""), Ok(None));
        assert_eq!(parse_version(" 7 "), Ok(Some(7)));
        assert!(parse_version("seven").is_err());
    }

    proptest! {
        /// What the form holds comes back from a parse unchanged (but trimmed): nothing typed
        /// is lost or altered on the way to the sealed note.
        #[test]
        fn parsing_keeps_every_word_typed(
            parts in proptest::collection::vec("[a-zA-Z0-9 .,;:'()\n-]{0,200}[a-z]", 4),
            quantity in 1u32..=1000,
            refills in 0u32..=MAX_REFILLS,
        ) {
            let form = NoteDraft {
                subjective: parts[0].clone(),
                objective: parts[1].clone(),
                assessment: parts[2].clone(),
                plan: parts[3].clone(),
                prescriptions: vec![rx("Metformin", &quantity.to_string(), &refills.to_string())],
                ..Default::default()
            };
            let note = form.parse(WEEKS).expect("valid");
            prop_assert_eq!(&note.subjective, parts[0].trim());
            prop_assert_eq!(&note.objective, parts[1].trim());
            prop_assert_eq!(&note.assessment, parts[2].trim());
            prop_assert_eq!(&note.plan, parts[3].trim());
            prop_assert_eq!(note.prescriptions[0].quantity, quantity);
            prop_assert_eq!(note.prescriptions[0].refills, refills);
            prop_assert_eq!(NoteDraft::from(&note).parse(WEEKS).expect("valid"), note);
        }
    }
}

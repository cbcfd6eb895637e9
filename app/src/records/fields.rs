//! The fields of the chart's entry form: each one's name (also the key of its error), label,
//! kind of input, and what it holds in an entry; the form as posted, and how it is checked into
//! a [`ChartItem`].

use super::model::{ChartItem, ChartSection, ProblemStatus, Severity};
use crate::domain::{BoundedText, PhoneNumber};
use crate::FieldErrors;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One field of the entry form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartField {
    Substance,
    Reaction,
    Severity,
    Condition,
    Onset,
    ProblemStatus,
    MedicationName,
    Dose,
    HowTaken,
    Started,
    Stopped,
    Prescriber,
    Vaccine,
    GivenOn,
    Note,
    Relative,
    FamilyCondition,
    ContactName,
    Relationship,
    Phone,
    Payer,
    MemberId,
    GroupNumber,
}

/// How a field is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, required or not.
    Text {
        required: bool,
    },
    Date,
    Phone,
    /// One of fixed choices (value, label).
    Choice(&'static [(&'static str, &'static str)]),
}

impl ChartField {
    /// The form field's `name` (also the key of its error).
    pub fn name(self) -> &'static str {
        match self {
            ChartField::Substance => "substance",
            ChartField::Reaction => "reaction",
            ChartField::Severity => "severity",
            ChartField::Condition => "condition",
            ChartField::Onset => "onset",
            ChartField::ProblemStatus => "status",
            ChartField::MedicationName => "medication",
            ChartField::Dose => "dose",
            ChartField::HowTaken => "how_taken",
            ChartField::Started => "started",
            ChartField::Stopped => "stopped",
            ChartField::Prescriber => "prescriber",
            ChartField::Vaccine => "vaccine",
            ChartField::GivenOn => "given_on",
            ChartField::Note => "note",
            ChartField::Relative => "relative",
            ChartField::FamilyCondition => "family_condition",
            ChartField::ContactName => "contact_name",
            ChartField::Relationship => "relationship",
            ChartField::Phone => "phone",
            ChartField::Payer => "payer",
            ChartField::MemberId => "member_id",
            ChartField::GroupNumber => "group_number",
        }
    }

    /// The field a form field's `name` names.
    pub fn by_name(name: &str) -> Option<ChartField> {
        ChartSection::ALL
            .iter()
            .flat_map(|s| s.fields().iter().copied())
            .find(|f| f.name() == name)
    }

    /// How to fill it in, for a form that came back without JavaScript (the address names the
    /// field, never what was typed).
    pub fn how_to_fill(self) -> &'static str {
        match self.kind() {
            FieldKind::Text { required: true } => "Please fill this in, in 200 characters or fewer.",
            FieldKind::Text { required: false } => "Keep it to 200 characters or fewer.",
            FieldKind::Date => "Please give the date as year-month-day, like 2024-03-15.",
            FieldKind::Phone => "Use digits, spaces, dashes, dots, parentheses and a leading +, like (207) 555-0100.",
            FieldKind::Choice(_) => "Please choose one of the options.",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChartField::Substance => "Allergic to",
            ChartField::Reaction => "Reaction (optional)",
            ChartField::Severity => "Severity",
            ChartField::Condition => "Condition",
            ChartField::Onset => "Since (optional)",
            ChartField::ProblemStatus => "Status",
            ChartField::MedicationName => "Medication",
            ChartField::Dose => "Dose (optional)",
            ChartField::HowTaken => "How taken (optional)",
            ChartField::Started => "Started (optional)",
            ChartField::Stopped => "Stopped (optional)",
            ChartField::Prescriber => "Prescribed by (optional)",
            ChartField::Vaccine => "Vaccine",
            ChartField::GivenOn => "Given on (optional)",
            ChartField::Note => "Note (optional)",
            ChartField::Relative => "Relative",
            ChartField::FamilyCondition => "Their condition",
            ChartField::ContactName => "Name",
            ChartField::Relationship => "Relationship (optional)",
            ChartField::Phone => "Phone",
            ChartField::Payer => "Insurer",
            ChartField::MemberId => "Member ID",
            ChartField::GroupNumber => "Group number (optional)",
        }
    }

    pub fn kind(self) -> FieldKind {
        const REQUIRED: FieldKind = FieldKind::Text { required: true };
        const OPTIONAL: FieldKind = FieldKind::Text { required: false };
        match self {
            ChartField::Substance
            | ChartField::Condition
            | ChartField::MedicationName
            | ChartField::Vaccine
            | ChartField::Relative
            | ChartField::FamilyCondition
            | ChartField::ContactName
            | ChartField::Payer
            | ChartField::MemberId => REQUIRED,
            ChartField::Started | ChartField::Stopped | ChartField::GivenOn => FieldKind::Date,
            ChartField::Phone => FieldKind::Phone,
            ChartField::Severity => FieldKind::Choice(Severity::CHOICES),
            ChartField::ProblemStatus => FieldKind::Choice(ProblemStatus::CHOICES),
            _ => OPTIONAL,
        }
    }

    /// What the field holds in `item`, as the form shows it.
    pub fn value_in(self, item: &ChartItem) -> String {
        let date = |d: &Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        match (self, item) {
            (ChartField::Substance, ChartItem::Allergy { substance, .. }) => substance.clone(),
            (ChartField::Reaction, ChartItem::Allergy { reaction, .. }) => text(reaction),
            (ChartField::Severity, ChartItem::Allergy { severity, .. }) => {
                severity.as_str().to_owned()
            }
            (ChartField::Condition, ChartItem::Problem { condition, .. })
            | (ChartField::FamilyCondition, ChartItem::FamilyHistory { condition, .. }) => {
                condition.clone()
            }
            (ChartField::Onset, ChartItem::Problem { onset, .. }) => text(onset),
            (ChartField::ProblemStatus, ChartItem::Problem { status, .. }) => {
                status.as_str().to_owned()
            }
            (ChartField::MedicationName, ChartItem::Medication { name, .. }) => name.clone(),
            (ChartField::Dose, ChartItem::Medication { dose, .. }) => text(dose),
            (ChartField::HowTaken, ChartItem::Medication { how_taken, .. }) => text(how_taken),
            (ChartField::Started, ChartItem::Medication { started, .. }) => date(started),
            (ChartField::Stopped, ChartItem::Medication { stopped, .. }) => date(stopped),
            (ChartField::Prescriber, ChartItem::Medication { prescriber, .. }) => text(prescriber),
            (ChartField::Vaccine, ChartItem::Immunization { vaccine, .. }) => vaccine.clone(),
            (ChartField::GivenOn, ChartItem::Immunization { given_on, .. }) => date(given_on),
            (ChartField::Note, ChartItem::Immunization { note, .. }) => text(note),
            (ChartField::Relative, ChartItem::FamilyHistory { relative, .. }) => relative.clone(),
            (ChartField::ContactName, ChartItem::EmergencyContact { name, .. }) => name.clone(),
            (ChartField::Relationship, ChartItem::EmergencyContact { relationship, .. }) => {
                text(relationship)
            }
            (ChartField::Phone, ChartItem::EmergencyContact { phone, .. }) => phone.clone(),
            (ChartField::Payer, ChartItem::Insurance { payer, .. }) => payer.clone(),
            (ChartField::MemberId, ChartItem::Insurance { member_id, .. }) => member_id.clone(),
            (ChartField::GroupNumber, ChartItem::Insurance { group_number, .. }) => {
                text(group_number)
            }
            _ => String::new(),
        }
    }
}

impl ChartSection {
    /// The form fields of an entry of this section: its name, label and kind of input.
    pub fn fields(self) -> &'static [ChartField] {
        use ChartField as F;
        match self {
            ChartSection::Allergy => &[F::Substance, F::Reaction, F::Severity],
            ChartSection::Problem => &[F::Condition, F::Onset, F::ProblemStatus],
            ChartSection::Medication => &[
                F::MedicationName,
                F::Dose,
                F::HowTaken,
                F::Started,
                F::Stopped,
                F::Prescriber,
            ],
            ChartSection::Immunization => &[F::Vaccine, F::GivenOn, F::Note],
            ChartSection::FamilyHistory => &[F::Relative, F::FamilyCondition],
            ChartSection::EmergencyContact => &[F::ContactName, F::Relationship, F::Phone],
            ChartSection::Insurance => &[F::Payer, F::MemberId, F::GroupNumber],
        }
    }
}

impl ChartItem {
    /// The form's fields for `section`, each checked; what does not fit is a field error by the
    /// field's name.
    pub fn parse(section: ChartSection, form: &ChartEntryForm) -> Result<ChartItem, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut text = |field: ChartField, what: &str| -> Option<String> {
            let typed = form.get(field.name());
            let required = matches!(field.kind(), FieldKind::Text { required: true });
            if typed.trim().is_empty() && !required {
                return None;
            }
            match BoundedText::<1, 200>::parse(typed, what) {
                Ok(text) => Some(text.as_str().to_owned()),
                Err(message) => {
                    errors.add(field.name(), message);
                    None
                }
            }
        };
        let item = match section {
            ChartSection::Allergy => ChartItem::Allergy {
                substance: text(ChartField::Substance, "what you are allergic to")
                    .unwrap_or_default(),
                reaction: text(ChartField::Reaction, "the reaction"),
                severity: Severity::parse(form.get("severity")).unwrap_or(Severity::Unknown),
            },
            ChartSection::Problem => ChartItem::Problem {
                condition: text(ChartField::Condition, "the condition").unwrap_or_default(),
                onset: text(ChartField::Onset, "since when"),
                status: ProblemStatus::parse(form.get("status")).unwrap_or(ProblemStatus::Active),
            },
            ChartSection::Medication => ChartItem::Medication {
                name: text(ChartField::MedicationName, "the medication").unwrap_or_default(),
                dose: text(ChartField::Dose, "the dose"),
                how_taken: text(ChartField::HowTaken, "how it is taken"),
                started: None,
                stopped: None,
                prescriber: text(ChartField::Prescriber, "who prescribed it"),
            },
            ChartSection::Immunization => ChartItem::Immunization {
                vaccine: text(ChartField::Vaccine, "the vaccine").unwrap_or_default(),
                given_on: None,
                note: text(ChartField::Note, "the note"),
            },
            ChartSection::FamilyHistory => ChartItem::FamilyHistory {
                relative: text(ChartField::Relative, "the relative").unwrap_or_default(),
                condition: text(ChartField::FamilyCondition, "the condition").unwrap_or_default(),
            },
            ChartSection::EmergencyContact => ChartItem::EmergencyContact {
                name: text(ChartField::ContactName, "their name").unwrap_or_default(),
                relationship: text(ChartField::Relationship, "how you know them"),
                phone: String::new(),
            },
            ChartSection::Insurance => ChartItem::Insurance {
                payer: text(ChartField::Payer, "the insurer").unwrap_or_default(),
                member_id: text(ChartField::MemberId, "the member ID").unwrap_or_default(),
                group_number: text(ChartField::GroupNumber, "the group number"),
            },
        };
        // Dates and phone numbers: their own rules.
        let mut date = |field: ChartField| -> Option<NaiveDate> {
            let typed = form.get(field.name()).trim();
            if typed.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(typed, "%Y-%m-%d") {
                Ok(date) => Some(date),
                Err(_) => {
                    errors.add(
                        field.name(),
                        "Please give the date as year-month-day, like 2024-03-15.",
                    );
                    None
                }
            }
        };
        let item = match item {
            ChartItem::Medication {
                name,
                dose,
                how_taken,
                prescriber,
                ..
            } => {
                let started = date(ChartField::Started);
                let stopped = date(ChartField::Stopped);
                if let (Some(from), Some(to)) = (started, stopped) {
                    if to < from {
                        errors.add("stopped", "The stop date is before the start date.");
                    }
                }
                ChartItem::Medication {
                    name,
                    dose,
                    how_taken,
                    started,
                    stopped,
                    prescriber,
                }
            }
            ChartItem::Immunization { vaccine, note, .. } => ChartItem::Immunization {
                vaccine,
                given_on: date(ChartField::GivenOn),
                note,
            },
            ChartItem::EmergencyContact {
                name, relationship, ..
            } => {
                let phone = match PhoneNumber::parse(form.get("phone")) {
                    Ok(phone) => phone.as_str().to_owned(),
                    Err(message) => {
                        errors.add("phone", message);
                        String::new()
                    }
                };
                ChartItem::EmergencyContact {
                    name,
                    relationship,
                    phone,
                }
            }
            other => other,
        };
        if errors.is_empty() {
            Ok(item)
        } else {
            Err(errors)
        }
    }
}

/// The entry form as posted: the section, which entry (empty for a new one) and the version the
/// person saw, and every field as typed (those of other sections stay empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartEntryForm {
    pub patient: String,
    pub section: String,
    /// The entry's public id; empty to add one.
    pub entry: String,
    /// The version the form was filled in from: a save over a newer one is refused, never
    /// silently written over.
    pub version: String,
    pub substance: String,
    pub reaction: String,
    pub severity: String,
    pub condition: String,
    pub onset: String,
    pub status: String,
    pub medication: String,
    pub dose: String,
    pub how_taken: String,
    pub started: String,
    pub stopped: String,
    pub prescriber: String,
    pub vaccine: String,
    pub given_on: String,
    pub note: String,
    pub relative: String,
    pub family_condition: String,
    pub contact_name: String,
    pub relationship: String,
    pub phone: String,
    pub payer: String,
    pub member_id: String,
    pub group_number: String,
}

impl ChartEntryForm {
    /// The field called `name`, as typed.
    pub fn get(&self, name: &str) -> &str {
        match name {
            "substance" => &self.substance,
            "reaction" => &self.reaction,
            "severity" => &self.severity,
            "condition" => &self.condition,
            "onset" => &self.onset,
            "status" => &self.status,
            "medication" => &self.medication,
            "dose" => &self.dose,
            "how_taken" => &self.how_taken,
            "started" => &self.started,
            "stopped" => &self.stopped,
            "prescriber" => &self.prescriber,
            "vaccine" => &self.vaccine,
            "given_on" => &self.given_on,
            "note" => &self.note,
            "relative" => &self.relative,
            "family_condition" => &self.family_condition,
            "contact_name" => &self.contact_name,
            "relationship" => &self.relationship,
            "phone" => &self.phone,
            "payer" => &self.payer,
            "member_id" => &self.member_id,
            "group_number" => &self.group_number,
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::model::*;

    fn form(section: &str, fields: &[(&str, &str)]) -> ChartEntryForm {
        let mut form = ChartEntryForm {
            section: section.into(),
            ..Default::default()
        };
        for (name, value) in fields {
            let slot = match *name {
                "substance" => &mut form.substance,
                "severity" => &mut form.severity,
                "medication" => &mut form.medication,
                "started" => &mut form.started,
                "stopped" => &mut form.stopped,
                "contact_name" => &mut form.contact_name,
                "phone" => &mut form.phone,
                "relative" => &mut form.relative,
                "family_condition" => &mut form.family_condition,
                other => panic!("no field {other}"),
            };
            *slot = (*value).to_owned();
        }
        form
    }

    #[test]
    fn an_allergy_is_read_trimmed_with_its_severity_and_an_empty_reaction_is_none() {
        let item = ChartItem::parse(
            ChartSection::Allergy,
            &form(
                "allergy",
                &[("substance", "  Penicillin "), ("severity", "severe")],
            ),
        );
        assert_eq!(
            item,
            Ok(ChartItem::Allergy {
                substance: "Penicillin".into(),
                reaction: None,
                severity: Severity::Severe,
            })
        );
    }

    #[test]
    fn each_problem_is_a_field_error_by_the_fields_name() {
        let errors = ChartItem::parse(
            ChartSection::Medication,
            &form(
                "medication",
                &[
                    ("medication", ""),
                    ("started", "March"),
                    ("stopped", "2020-01-01"),
                ],
            ),
        )
        .expect_err("two problems");
        assert!(errors.get("medication").is_some());
        assert!(errors.get("started").is_some());
        let errors = ChartItem::parse(
            ChartSection::Medication,
            &form(
                "medication",
                &[
                    ("medication", "Metformin"),
                    ("started", "2021-05-01"),
                    ("stopped", "2020-01-01"),
                ],
            ),
        )
        .expect_err("stopped before it started");
        assert_eq!(errors.len(), 1);
        assert!(errors.get("stopped").is_some());
        let errors = ChartItem::parse(
            ChartSection::EmergencyContact,
            &form(
                "emergency_contact",
                &[("contact_name", "Luis"), ("phone", "home")],
            ),
        )
        .expect_err("no number");
        assert!(errors.get("phone").is_some());
    }

    #[test]
    fn every_field_name_belongs_to_one_section_and_reads_back_what_it_shows() {
        let mut seen = std::collections::HashSet::new();
        for section in ChartSection::ALL {
            for field in section.fields() {
                assert!(seen.insert(field.name()), "{} twice", field.name());
                assert_eq!(ChartField::by_name(field.name()), Some(*field));
            }
        }
        let item = ChartItem::FamilyHistory {
            relative: "Mother".into(),
            condition: "Type 2 diabetes".into(),
        };
        let shown: Vec<(&str, String)> = ChartSection::FamilyHistory
            .fields()
            .iter()
            .map(|f| (f.name(), f.value_in(&item)))
            .collect();
        let again = ChartItem::parse(
            ChartSection::FamilyHistory,
            &form(
                "family_history",
                &shown
                    .iter()
                    .map(|(n, v)| (*n, v.as_str()))
                    .collect::<Vec<_>>(),
            ),
        );
        assert_eq!(again, Ok(item));
    }
}

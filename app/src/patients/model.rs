//! Patient data as pages see it.

use crate::domain::{BoundedText, PhoneNumber};
use crate::FieldErrors;
use serde::{Deserialize, Serialize};

/// A patient's demographics (PHI: every read of this is audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientProfile {
    pub public_id: String,
    pub legal_name: String,
    pub date_of_birth: chrono::NaiveDate,
    pub phone: Option<String>,
    /// What they like to be called, when they said.
    pub preferred_name: Option<String>,
}

impl PatientProfile {
    /// What to call them: their preferred name, else the first word of their legal name.
    pub fn called(&self) -> String {
        match &self.preferred_name {
            Some(name) => name.clone(),
            None => self
                .legal_name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// A line of the physician's patient list: no PHI beyond the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientListing {
    pub public_id: String,
    pub legal_name: String,
}

/// The portal's "My details" form, as posted: every field as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsForm {
    /// Empty removes the number.
    #[serde(default)]
    pub phone: String,
    /// Empty: call them by their legal name.
    #[serde(default)]
    pub preferred_name: String,
}

impl DetailsForm {
    /// How to fill `field` in, for a form that came back without JavaScript (the address names
    /// the field, never what was typed).
    pub fn how_to_fill(field: &str) -> &'static str {
        match field {
            "phone" => "Use digits, spaces, dashes, dots, parentheses and a leading +, like (207) 555-0100.",
            "preferred_name" => "Keep it to 60 characters.",
            _ => "Please check this field and save again.",
        }
    }
}

/// A patient's details, checked: the type is the proof.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub phone: Option<PhoneNumber>,
    pub preferred_name: Option<BoundedText<1, 60>>,
}

impl Details {
    /// The form's fields, each checked; what does not fit is a field error by the field's name.
    pub fn parse(form: &DetailsForm) -> Result<Details, FieldErrors> {
        let mut errors = FieldErrors::default();
        let phone = match form.phone.trim() {
            "" => None,
            typed => match PhoneNumber::parse(typed) {
                Ok(phone) => Some(phone),
                Err(message) => {
                    errors.add("phone", message);
                    None
                }
            },
        };
        let preferred_name = match form.preferred_name.trim() {
            "" => None,
            typed => match BoundedText::parse(typed, "the name you like to be called") {
                Ok(name) => Some(name),
                Err(message) => {
                    errors.add("preferred_name", message);
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Details {
                phone,
                preferred_name,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_take_a_phone_or_none_and_say_what_to_fix() {
        let parsed = Details::parse(&DetailsForm {
            phone: " (207) 555-0100 ".into(),
            ..DetailsForm::default()
        })
        .expect("a phone");
        assert_eq!(
            parsed.phone.map(|p| p.as_str().to_owned()),
            Some("(207) 555-0100".into())
        );
        assert_eq!(
            Details::parse(&DetailsForm::default()),
            Ok(Details::default())
        );
        let named = Details::parse(&DetailsForm {
            preferred_name: " Mia ".into(),
            ..DetailsForm::default()
        })
        .expect("a name");
        assert_eq!(
            named.preferred_name.map(|n| n.as_str().to_owned()),
            Some("Mia".into())
        );
        let long = Details::parse(&DetailsForm {
            preferred_name: "M".repeat(61),
            ..DetailsForm::default()
        })
        .expect_err("too long");
        assert!(long.get("preferred_name").is_some());
        let refused = Details::parse(&DetailsForm {
            phone: "call me".into(),
            ..DetailsForm::default()
        })
        .expect_err("not a number");
        assert!(refused.get("phone").is_some());
    }
}

/// A visit coming up, as the physician's patient page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingVisit {
    pub appointment: String,
    /// "Fri, Jun 19 at 10:00 am", in the practice's time zone.
    pub when: String,
    pub visit_type: crate::appointments::VisitType,
    pub reason: String,
}

/// Where a patient's membership stands, for the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryMembership {
    pub tier: String,
    /// "Active", "Payment overdue", …
    pub status: String,
    /// "June 1, 2026": when it became active.
    pub since: Option<String>,
}

/// What the physician's patient page shows beside the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub upcoming: Vec<UpcomingVisit>,
    /// `None`: no membership, or not the caller's to see.
    pub membership: Option<SummaryMembership>,
}

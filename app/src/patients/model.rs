//! Patient data as pages see it.

use crate::domain::PhoneNumber;
use crate::FieldErrors;
use serde::{Deserialize, Serialize};

/// A patient's demographics (PHI: every read of this is audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientProfile {
    pub public_id: String,
    pub legal_name: String,
    pub date_of_birth: chrono::NaiveDate,
    pub phone: Option<String>,
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
}

impl DetailsForm {
    /// How to fill `field` in, for a form that came back without JavaScript (the address names
    /// the field, never what was typed).
    pub fn how_to_fill(field: &str) -> &'static str {
        match field {
            "phone" => "Use digits, spaces, dashes, dots, parentheses and a leading +, like (207) 555-0100.",
            _ => "Please check this field and save again.",
        }
    }
}

/// A patient's details, checked: the type is the proof.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub phone: Option<PhoneNumber>,
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
        if errors.is_empty() {
            Ok(Details { phone })
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
        })
        .expect("a phone");
        assert_eq!(
            parsed.phone.map(|p| p.as_str().to_owned()),
            Some("(207) 555-0100".into())
        );
        assert_eq!(
            Details::parse(&DetailsForm::default()),
            Ok(Details { phone: None })
        );
        let refused = Details::parse(&DetailsForm {
            phone: "call me".into(),
        })
        .expect_err("not a number");
        assert!(refused.get("phone").is_some());
    }
}

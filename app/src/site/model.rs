//! What the public website shows, and what a visitor sends through the contact form.

use crate::domain::format_usd;
use crate::domain::{BoundedText, Email, PhoneNumber};
use crate::error::FieldErrors;
use serde::{Deserialize, Serialize};

/// Everything the public pages show, loaded from the database and kept in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteContent {
    pub practice: Practice,
    pub services: Vec<Service>,
    pub tiers: Vec<MembershipTier>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Practice {
    pub name: String,
    pub tagline: String,
    pub intro: String,
    pub physician: Physician,
    pub address: Address,
    pub phone: String,
    pub email: String,
    pub hours: Vec<OpeningHours>,
    pub time_zone: String,
    pub privacy_notice: String,
    pub privacy_notice_version: String,
    /// What a member agrees to on joining; consents name the version.
    pub membership_agreement: String,
    pub membership_agreement_version: String,
}

impl Practice {
    /// The lines under the practice's name on a printed page: street, town, phone and email.
    pub fn letterhead(&self) -> Vec<String> {
        vec![
            self.address.street.clone(),
            self.address.second_line(),
            format!("{}  {}", self.phone, self.email),
        ]
    }

    /// A `tel:` link for the practice's phone number: digits and a leading `+` only.
    pub fn tel_href(&self) -> String {
        let digits: String = self
            .phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        format!("tel:{digits}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Physician {
    pub name: String,
    pub credentials: String,
    pub photo: String,
    pub photo_alt: String,
    pub bio: String,
    pub years_of_experience: i32,
    pub specialties: Vec<String>,
    pub board_certifications: Vec<String>,
    pub education: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub locality: String,
    pub region: String,
    pub postal_code: String,
}

impl Address {
    /// "Portland, ME 04101"
    pub fn second_line(&self) -> String {
        format!("{}, {} {}", self.locality, self.region, self.postal_code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    pub days: String,
    pub hours: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub description: String,
    pub highlights: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipTier {
    pub slug: String,
    pub name: String,
    pub tagline: String,
    pub monthly_price_cents: i64,
    pub annual_price_cents: i64,
    /// `None` means unlimited visits.
    pub visits_per_year: Option<i32>,
    pub includes_in_person: bool,
    pub includes_telemedicine: bool,
    pub includes_home_visits: bool,
    pub max_dependents: i32,
    pub commitment_months: i32,
    pub cancellation_policy: String,
    /// Said from `late_fee_cents` (see `appointments::benefits::late_policy_text`).
    pub late_cancellation_policy: String,
    pub benefits: Vec<String>,
    pub featured: bool,
    /// How many days ahead members may book.
    pub booking_horizon_days: i32,
    pub same_day_booking: bool,
    /// A visit beyond the yearly allowance (`None`: not offered).
    pub extra_visit_fee_cents: Option<i64>,
    /// A home visit where the tier does not include them (`None`: not offered).
    pub home_visit_fee_cents: Option<i64>,
    /// `None`: a late cancellation counts as a visit.
    pub late_fee_cents: Option<i64>,
}

impl MembershipTier {
    /// What paying yearly saves over twelve monthly payments, in cents (never negative).
    pub fn annual_savings_cents(&self) -> i64 {
        (self.monthly_price_cents * 12 - self.annual_price_cents).max(0)
    }

    /// "12 visits a year" or "Unlimited visits".
    pub fn visit_allowance(&self) -> String {
        match self.visits_per_year {
            None => "Unlimited visits".to_owned(),
            Some(1) => "1 visit a year".to_owned(),
            Some(n) => format!("{n} visits a year"),
        }
    }

    /// "Yes", "$150 each" or "No".
    pub fn home_visits(&self) -> String {
        match (self.includes_home_visits, self.home_visit_fee_cents) {
            (true, _) => "Included".to_owned(),
            (false, Some(cents)) => format!("{} each", format_usd(cents)),
            (false, None) => "Not offered".to_owned(),
        }
    }

    /// "Same day, up to 60 days ahead" or "From the next day, up to 30 days ahead".
    pub fn booking_window(&self) -> String {
        let first = if self.same_day_booking {
            "Same day"
        } else {
            "From the next day"
        };
        format!("{first}, up to {} days ahead", self.booking_horizon_days)
    }

    /// What a visit beyond the allowance costs, for tiers with an allowance.
    pub fn extra_visits(&self) -> String {
        match (self.visits_per_year, self.extra_visit_fee_cents) {
            (None, _) => "Not needed: unlimited".to_owned(),
            (Some(_), Some(cents)) => format!("{} each", format_usd(cents)),
            (Some(_), None) => "Not offered".to_owned(),
        }
    }

    /// "No commitment", "3-month commitment", "12-month commitment".
    pub fn commitment(&self) -> String {
        match self.commitment_months {
            0 => "No minimum commitment".to_owned(),
            n => format!("{n}-month commitment"),
        }
    }
}

/// Years between the year a physician began practising and `current_year`.
pub fn years_of_experience(practicing_since: i32, current_year: i32) -> i32 {
    (current_year - practicing_since).max(0)
}

/// What a visitor's inquiry is about; it decides nothing but helps the practice triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InquiryTopic {
    Membership,
    Visit,
    Billing,
    Other,
}

impl InquiryTopic {
    pub const ALL: [InquiryTopic; 4] = [
        InquiryTopic::Membership,
        InquiryTopic::Visit,
        InquiryTopic::Billing,
        InquiryTopic::Other,
    ];

    pub fn value(self) -> &'static str {
        match self {
            InquiryTopic::Membership => "membership",
            InquiryTopic::Visit => "visit",
            InquiryTopic::Billing => "billing",
            InquiryTopic::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InquiryTopic::Membership => "Joining the practice",
            InquiryTopic::Visit => "Visits and scheduling",
            InquiryTopic::Billing => "Fees and billing",
            InquiryTopic::Other => "Something else",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.value() == value)
    }
}

/// The contact form exactly as the visitor filled it in: kept as typed so that a form with an
/// error comes back with everything still in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub message: String,
    /// The honeypot: hidden from people, filled in by bots.
    #[serde(default)]
    pub website: String,
}

impl ContactForm {
    /// True when the hidden field was filled in, which only a bot does.
    pub fn is_spam(&self) -> bool {
        !self.website.trim().is_empty()
    }
}

pub type PersonName = BoundedText<1, 100>;
pub type InquiryMessage = BoundedText<10, 4000>;

/// A contact-form inquiry that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInquiry {
    pub name: PersonName,
    pub email: Email,
    pub phone: Option<PhoneNumber>,
    pub topic: InquiryTopic,
    pub message: InquiryMessage,
}

impl ContactInquiry {
    /// Checks every field and reports every problem at once, keyed by field name.
    pub fn parse(form: &ContactForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = PersonName::parse(&form.name, "your name").map_err(|e| errors.add("name", e));
        let email = Email::parse(&form.email).map_err(|e| errors.add("email", e));
        let phone = if form.phone.trim().is_empty() {
            Ok(None)
        } else {
            PhoneNumber::parse(&form.phone)
                .map(Some)
                .map_err(|e| errors.add("phone", e))
        };
        let topic = InquiryTopic::parse(&form.topic)
            .ok_or_else(|| errors.add("topic", "Please choose what your message is about."));
        let message = InquiryMessage::parse(&form.message, "your message")
            .map_err(|e| errors.add("message", e));
        match (name, email, phone, topic, message) {
            (Ok(name), Ok(email), Ok(phone), Ok(topic), Ok(message)) => Ok(ContactInquiry {
                name,
                email,
                phone,
                topic,
                message,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid_form() -> ContactForm {
        ContactForm {
            name: "Ann Lee".into(),
            email: "ann@example.com".into(),
            phone: "".into(),
            topic: "membership".into(),
            message: "Do you accept new members in March?".into(),
            website: "".into(),
        }
    }

    #[test]
    fn a_complete_form_becomes_an_inquiry() {
        let inquiry = ContactInquiry::parse(&valid_form()).expect("valid");
        assert_eq!(inquiry.name.as_str(), "Ann Lee");
        assert_eq!(inquiry.phone, None);
        assert_eq!(inquiry.topic, InquiryTopic::Membership);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let form = ContactForm {
            name: " ".into(),
            email: "ann@".into(),
            phone: "call me".into(),
            topic: "free-stuff".into(),
            message: "hi".into(),
            website: "".into(),
        };
        let errors = ContactInquiry::parse(&form).expect_err("invalid");
        for field in ["name", "email", "phone", "topic", "message"] {
            assert!(errors.get(field).is_some(), "{field} should have a message");
        }
    }

    #[test]
    fn a_filled_honeypot_marks_spam() {
        assert!(!valid_form().is_spam());
        assert!(ContactForm {
            website: "http://spam.example".into(),
            ..valid_form()
        }
        .is_spam());
    }

    #[test]
    fn dollars_are_grouped_and_cents_shown_only_when_present() {
        assert_eq!(format_usd(0), "$0");
        assert_eq!(format_usd(19_900), "$199");
        assert_eq!(format_usd(185_000), "$1,850");
        assert_eq!(format_usd(1_950), "$19.50");
        assert_eq!(format_usd(123_456_789), "$1,234,567.89");
        assert_eq!(format_usd(-5_000), "-$50");
    }

    #[test]
    fn experience_counts_whole_years_and_is_never_negative() {
        assert_eq!(years_of_experience(2008, 2026), 18);
        assert_eq!(years_of_experience(2030, 2026), 0);
    }

    proptest! {
        #[test]
        fn formatted_dollars_read_back_as_the_same_cents(cents in 0i64..10_000_000_000) {
            let text = format_usd(cents);
            let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
            let parsed: i64 = digits.parse().expect("digits");
            let expected = if cents % 100 == 0 { cents / 100 } else { cents };
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn topic_values_round_trip(index in 0usize..4) {
            let topic = InquiryTopic::ALL[index];
            prop_assert_eq!(InquiryTopic::parse(topic.value()), Some(topic));
        }
    }
}

//! What the communication hub's composer sends and its history shows.

use crate::error::FieldErrors;
use crate::AppError;
use serde::{Deserialize, Serialize};

/// The longest text message, in characters (three SMS segments).
pub const TEXT_MAX: usize = 480;
/// A template's longest name, in characters.
pub const TEMPLATE_NAME_MAX: usize = 80;
/// What a template's words may hold, replaced by the patient's first name when it is used.
pub const FIRST_NAME: &str = "{first_name}";

pub use super::refusal::HubRefusal;

/// How the practice reaches a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum Channel {
    /// A secure message in the portal (sealed; the patient is told without content).
    Message,
    /// An email to the address the patient signs in with.
    Email,
    /// A text to the mobile number in the patient's record.
    Text,
}

crate::stored_words!(Channel, "communication channel", {
    Message => "message",
    Email => "email",
    Text => "text",
});

impl Channel {
    /// "Secure message".
    pub fn label(self) -> &'static str {
        match self {
            Channel::Message => "Secure message",
            Channel::Email => "Email",
            Channel::Text => "Text message",
        }
    }
}

/// What the composer sends: checked, ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub channel: Channel,
    /// Empty for a text.
    pub subject: String,
    pub body: String,
}

impl Composed {
    /// The form as a communication, or what to fix (`channel`, `subject`, `body`).
    pub fn parse(channel: &str, subject: &str, body: &str) -> Result<Composed, AppError> {
        let mut errors = FieldErrors::default();
        let channel = Channel::parse(channel.trim());
        if channel.is_none() {
            errors.add(
                "channel",
                "Choose how to send it: secure message, email or text.",
            );
        }
        let subject = subject.trim();
        let body = body.trim();
        let needs_subject = channel != Some(Channel::Text);
        if needs_subject && subject.is_empty() {
            errors.add("subject", "Give it a subject.");
        } else if subject.chars().count() > super::super::model::SUBJECT_MAX {
            errors.add(
                "subject",
                format!(
                    "A subject can be at most {} characters.",
                    super::super::model::SUBJECT_MAX
                ),
            );
        }
        let most = match channel {
            Some(Channel::Text) => TEXT_MAX,
            _ => super::super::model::BODY_MAX,
        };
        let length = body.chars().count();
        if body.is_empty() {
            errors.add("body", "Write what to send.");
        } else if length > most {
            errors.add(
                "body",
                format!("This can be at most {most} characters; it has {length}. Shorten it, or send a secure message."),
            );
        }
        match channel {
            Some(channel) if errors.is_empty() => Ok(Composed {
                channel,
                subject: if needs_subject {
                    subject.to_owned()
                } else {
                    String::new()
                },
                body: body.to_owned(),
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// A saved template's words, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub name: String,
    pub subject: String,
    pub body: String,
}

impl TemplateText {
    /// The form as a template, or what to fix (`name`, `subject`, `body`).
    pub fn parse(name: &str, subject: &str, body: &str) -> Result<TemplateText, AppError> {
        let mut errors = FieldErrors::default();
        let (name, subject, body) = (name.trim(), subject.trim(), body.trim());
        if name.is_empty() {
            errors.add("name", "Name the template, e.g. “Lab results are in”.");
        } else if name.chars().count() > TEMPLATE_NAME_MAX {
            errors.add(
                "name",
                format!("A name can be at most {TEMPLATE_NAME_MAX} characters."),
            );
        }
        if subject.chars().count() > super::super::model::SUBJECT_MAX {
            errors.add(
                "subject",
                format!(
                    "A subject can be at most {} characters.",
                    super::super::model::SUBJECT_MAX
                ),
            );
        }
        if body.is_empty() {
            errors.add("body", "Write the template's words.");
        } else if body.chars().count() > super::super::model::BODY_MAX {
            errors.add(
                "body",
                format!(
                    "A template can be at most {} characters.",
                    super::super::model::BODY_MAX
                ),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(TemplateText {
            name: name.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
        })
    }
}

/// A saved template, as the composer and the templates page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub public_id: String,
    pub name: String,
    pub subject: String,
    pub body: String,
}

impl Template {
    /// The template's words for a patient called `first_name`.
    pub fn for_patient(&self, first_name: &str) -> (String, String) {
        (
            self.subject.replace(FIRST_NAME, first_name),
            self.body.replace(FIRST_NAME, first_name),
        )
    }
}

/// One communication with the patient, as their history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub channel: Channel,
    /// "Dec 7, 2026, 9:42 AM".
    pub at: String,
    /// Who sent it ("Maria Lopez" for a conversation she began).
    pub by: String,
    /// Where it went: an address or number, or "the portal".
    pub to: String,
    pub subject: String,
    /// The words (a secure conversation: its first message).
    pub body: String,
    /// "Sent", "Waiting to be sent", "Not sent yet: trying again", or "3 messages" for a
    /// conversation.
    pub status: String,
    /// A conversation's page.
    pub link: Option<String>,
}

/// The hub on a patient's chart: how they can be reached, the templates, the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hub {
    pub first_name: String,
    /// The address an email goes to, if any.
    pub email: Option<String>,
    /// The number a text goes to, if any.
    pub mobile: Option<String>,
    /// Whether the patient has a portal account (a secure message can be read).
    pub portal: bool,
    pub templates: Vec<Template>,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_needs_no_subject_and_is_kept_short() {
        let text = Composed::parse("text", "ignored", " Your results are in. ").expect("ok");
        assert_eq!((text.channel, text.subject.as_str()), (Channel::Text, ""));
        assert_eq!(text.body, "Your results are in.");
        let long = "a".repeat(TEXT_MAX + 1);
        let Err(AppError::Validation(errors)) = Composed::parse("text", "", &long) else {
            panic!("a long text is refused");
        };
        assert!(errors.get("body").is_some_and(|m| m.contains("481")));
    }

    #[test]
    fn an_email_or_message_needs_a_subject_and_words_and_a_known_channel() {
        let Err(AppError::Validation(errors)) = Composed::parse("email", " ", " ") else {
            panic!("refused");
        };
        assert!(errors.get("subject").is_some() && errors.get("body").is_some());
        let Err(AppError::Validation(errors)) = Composed::parse("fax", "Hi", "Hello") else {
            panic!("refused");
        };
        assert!(errors.get("channel").is_some());
        let ok = Composed::parse("message", "Results", "All normal.").expect("ok");
        assert_eq!(ok.channel, Channel::Message);
    }

    #[test]
    fn a_template_takes_the_patients_first_name() {
        let t = Template {
            public_id: "t".into(),
            name: "Results".into(),
            subject: "Your results, {first_name}".into(),
            body: "Hello {first_name}, your results are in.".into(),
        };
        assert_eq!(
            t.for_patient("Maria"),
            (
                "Your results, Maria".to_owned(),
                "Hello Maria, your results are in.".to_owned()
            )
        );
    }

    #[test]
    fn a_template_needs_a_name_and_words() {
        let Err(AppError::Validation(errors)) = TemplateText::parse("", "", "") else {
            panic!("refused");
        };
        assert!(errors.get("name").is_some() && errors.get("body").is_some());
        assert!(TemplateText::parse("Refill", "", "Your refill is ready.").is_ok());
    }
}

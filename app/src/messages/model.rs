//! What messaging's pages show and send.

use crate::error::FieldErrors;
use crate::AppError;
use serde::{Deserialize, Serialize};

/// The longest subject, in characters.
pub const SUBJECT_MAX: usize = 120;
/// The longest message, in characters.
pub const BODY_MAX: usize = 10_000;
/// Where a message with a file is posted (`multipart/form-data`: `conversation`, `body`, then
/// `file`, which may be left empty).
pub const ATTACH_PATH: &str = "/api/messages/send-file";

/// A message as typed: its words, trimmed and within bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    /// `body` as a message, or what to fix (`body`).
    pub fn parse(body: &str) -> Result<MessageText, AppError> {
        let mut errors = FieldErrors::default();
        let text = check_body(body, &mut errors);
        match text {
            Some(text) if errors.is_empty() => Ok(text),
            _ => Err(AppError::Validation(errors)),
        }
    }

    /// `body` beside a file: it may be empty (the file says it), not too long.
    pub fn beside_file(body: &str) -> Result<MessageText, AppError> {
        if body.trim().is_empty() {
            return Ok(MessageText(String::new()));
        }
        MessageText::parse(body)
    }

    /// Whether there are no words (a file sent on its own).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_body(body: &str, errors: &mut FieldErrors) -> Option<MessageText> {
    let body = body.trim();
    if body.is_empty() {
        errors.add("body", "Write your message.");
        return None;
    }
    let length = body.chars().count();
    if length > BODY_MAX {
        errors.add(
            "body",
            format!("A message can be at most {BODY_MAX} characters; this one has {length}. Split it into two."),
        );
        return None;
    }
    Some(MessageText(body.to_owned()))
}

/// A new conversation as typed: a subject and the first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub subject: String,
    pub first: MessageText,
}

impl NewConversation {
    /// The form's fields, or every field to fix (`subject`, `body`).
    pub fn parse(subject: &str, body: &str) -> Result<NewConversation, AppError> {
        let mut errors = FieldErrors::default();
        let subject = subject.trim();
        if subject.is_empty() {
            errors.add("subject", "Give your message a subject.");
        } else if subject.chars().count() > SUBJECT_MAX {
            errors.add(
                "subject",
                format!("A subject can be at most {SUBJECT_MAX} characters."),
            );
        }
        let first = check_body(body, &mut errors);
        match first {
            Some(first) if errors.is_empty() => Ok(NewConversation {
                subject: subject.to_owned(),
                first,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// One conversation in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub public_id: String,
    pub subject: String,
    /// The patient's name (the practice's lists) or the practice's (the patient's).
    pub with: String,
    /// The patient's public id.
    pub patient: String,
    /// When its last message came, in the practice's time.
    pub last_at: String,
    /// Messages to the reader they have not opened.
    pub unread: u64,
    /// Who in the practice looks after it, by name.
    pub assigned_to: Option<String>,
    /// Assigned to the reader.
    pub mine: bool,
    pub done: bool,
}

/// Who read a message, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub who: String,
    pub at: String,
}

/// One message as its conversation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub public_id: String,
    /// Its place in the conversation (the server's order).
    pub seq: i64,
    pub from: String,
    /// Sent by the reader.
    pub mine: bool,
    pub body: String,
    pub at: String,
    /// The practice's automatic reply.
    pub automatic: bool,
    /// For the reader's own messages: who else has read it.
    pub read_by: Vec<Receipt>,
    /// The files that came with it (documents of the patient's record).
    pub files: Vec<MessageFile>,
}

/// A file that came with a message: a document of the patient's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFile {
    /// The document's public id.
    pub public_id: String,
    pub title: String,
    /// "JPEG image · 2.1 MB".
    pub about: String,
}

/// A conversation, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationView {
    pub public_id: String,
    pub subject: String,
    pub with: String,
    pub patient: String,
    pub messages: Vec<MessageView>,
    pub done: bool,
    pub assigned_to: Option<String>,
    /// For the practice: who it can be assigned to, and who has it (public id).
    pub colleagues: Vec<Colleague>,
    pub assigned_to_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_trimmed_and_an_empty_or_long_one_says_what_to_fix() {
        assert_eq!(
            MessageText::parse("  Hello \n").expect("accepted").as_str(),
            "Hello"
        );
        let empty = MessageText::parse("   ").expect_err("refused");
        assert!(
            matches!(empty, AppError::Validation(e) if e.get("body") == Some("Write your message."))
        );
        let long = "x".repeat(BODY_MAX + 1);
        assert!(matches!(
            MessageText::parse(&long).expect_err("refused"),
            AppError::Validation(e) if e.get("body").is_some_and(|m| m.contains("10001"))
        ));
        assert!(MessageText::parse(&"é".repeat(BODY_MAX)).is_ok());
    }

    #[test]
    fn a_new_conversation_names_every_field_to_fix() {
        let AppError::Validation(errors) = NewConversation::parse(" ", "").expect_err("refused")
        else {
            panic!("validation")
        };
        assert_eq!(errors.len(), 2);
        let ok = NewConversation::parse(" Refill ", " Could I get a refill? ").expect("accepted");
        assert_eq!(ok.subject, "Refill");
        assert_eq!(ok.first.as_str(), "Could I get a refill?");
        assert!(NewConversation::parse(&"s".repeat(SUBJECT_MAX + 1), "hi").is_err());
    }
}

/// What the compose page tells a patient before they write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeNotice {
    pub practice: String,
    pub phone: String,
    /// When the practice reads messages ("Mon–Fri 8:00 am – 5:00 pm").
    pub hours: Vec<String>,
}

/// How a person hears of waiting messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticePreferences {
    pub by_email: bool,
    pub by_text: bool,
    /// Texts are offered to patients (to the mobile number in their record).
    pub can_text: bool,
}

/// The longest search, in characters.
pub const SEARCH_MAX: usize = 100;

/// One message a search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub conversation: String,
    pub subject: String,
    pub with: String,
    pub from: String,
    pub at: String,
    /// The words around the match.
    pub excerpt: String,
}

/// Up to `width` characters of `text` around its first case-insensitive match of `needle`
/// (already lowercased), with "…" where it was cut.
pub fn excerpt(text: &str, needle: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    // Lowercasing can change lengths (rarely); fall back to the start then.
    let at = if lower.len() == chars.len() {
        let needle: Vec<char> = needle.chars().collect();
        (0..lower.len())
            .find(|i| lower[*i..].starts_with(&needle))
            .unwrap_or(0)
    } else {
        0
    };
    let start = at.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut out: String = chars[start..end].iter().collect();
    if start > 0 {
        out.insert(0, '…');
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod search_tests {
    use super::excerpt;

    #[test]
    fn an_excerpt_shows_the_words_around_the_match() {
        let text = "My blood pressure was high this morning, 150 over 95, and I felt dizzy.";
        let e = excerpt(text, "dizzy", 30);
        assert!(e.contains("dizzy"), "{e}");
        assert!(e.starts_with('…'));
        assert_eq!(excerpt("short", "sh", 30), "short");
        assert!(excerpt("Ünïcode café DIZZY", "dizzy", 40).contains("DIZZY"));
    }
}

/// Someone in the practice a conversation can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colleague {
    pub public_id: String,
    pub name: String,
}

/// Which of the inbox's conversations to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum InboxFilter {
    /// Every conversation not marked done.
    #[default]
    Open,
    /// With messages waiting for the reader.
    Unread,
    /// Assigned to the reader.
    Mine,
    /// Marked done.
    Done,
    /// All of them.
    All,
}

impl InboxFilter {
    pub const ALL: [InboxFilter; 5] = [
        InboxFilter::Open,
        InboxFilter::Unread,
        InboxFilter::Mine,
        InboxFilter::Done,
        InboxFilter::All,
    ];

    /// The word in the address (`?show=`).
    pub fn as_str(self) -> &'static str {
        match self {
            InboxFilter::Open => "open",
            InboxFilter::Unread => "unread",
            InboxFilter::Mine => "mine",
            InboxFilter::Done => "done",
            InboxFilter::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InboxFilter::Open => "Open",
            InboxFilter::Unread => "Unread",
            InboxFilter::Mine => "Assigned to me",
            InboxFilter::Done => "Done",
            InboxFilter::All => "All",
        }
    }

    /// The filter a word names; the default for anything else.
    pub fn parse(word: &str) -> InboxFilter {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == word)
            .unwrap_or_default()
    }
}

/// The practice's automatic reply out of office hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReply {
    pub enabled: bool,
    pub text: String,
}

/// The automatic reply's words until the practice writes its own.
pub const DEFAULT_AUTO_REPLY: &str = "Thank you for your message. Our office is closed right now; we will answer when we open. If this is an emergency, call 911.";
/// The longest automatic reply, in characters.
pub const AUTO_REPLY_MAX: usize = 1_000;

/// The inbox narrowed further: to patients whose name holds a word, and to conversations with a
/// message on or after a day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxNarrowing {
    /// Lower case; `None` for every patient.
    pub patient: Option<String>,
    pub since: Option<chrono::NaiveDate>,
}

impl InboxNarrowing {
    /// The form's `patient` and `since` (YYYY-MM-DD, as a date field sends it), or what to fix.
    pub fn parse(patient: &str, since: &str) -> Result<InboxNarrowing, AppError> {
        let patient = patient.trim();
        let since = since.trim();
        let since = if since.is_empty() {
            None
        } else {
            Some(
                chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d")
                    .map_err(|_| AppError::field("since", "Use a date like 2026-12-01."))?,
            )
        };
        if patient.chars().count() > 100 {
            return Err(AppError::field(
                "patient",
                "Shorten the name to at most 100 characters.",
            ));
        }
        Ok(InboxNarrowing {
            patient: (!patient.is_empty()).then(|| patient.to_lowercase()),
            since,
        })
    }
}

//! Documents in the record (issue 14 §3): lab results, imaging reports, letters, photos, scanned
//! cards, and the files attached to a visit note. The wire types and the checks made before a
//! byte is stored: the kind and date a person chose, and the file's type read from its bytes.

use crate::FieldErrors;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The largest file the record takes: 25 MB (MiB, as browsers and phones count).
pub const MAX_BYTES: u64 = 25 * 1024 * 1024;
/// Longest title.
pub const MAX_TITLE: usize = 120;
/// The upload's address (its form posts there without JavaScript as well).
pub const UPLOAD_PATH: &str = "/api/records/documents/upload";

/// What a document is, in the practice's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum DocumentKind {
    LabResult,
    Imaging,
    Letter,
    Referral,
    InsuranceCard,
    Photo,
    Other,
}

crate::stored_words!(DocumentKind, "document kind", {
    LabResult => "lab_result",
    Imaging => "imaging",
    Letter => "letter",
    Referral => "referral",
    InsuranceCard => "insurance_card",
    Photo => "photo",
    Other => "other",
});

impl DocumentKind {
    /// "Lab result".
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::LabResult => "Lab result",
            DocumentKind::Imaging => "Imaging report",
            DocumentKind::Letter => "Letter",
            DocumentKind::Referral => "Referral",
            DocumentKind::InsuranceCard => "Insurance card",
            DocumentKind::Photo => "Photo",
            DocumentKind::Other => "Other document",
        }
    }
}

/// The file types the record keeps, told from the file's first bytes (never from its name or
/// what the browser claims): a file that only says it is a PDF is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
}

crate::stored_words!(MediaType, "media type", {
    Pdf => "pdf",
    Jpeg => "jpeg",
    Png => "png",
});

impl MediaType {
    /// Bytes enough to tell every kept type.
    pub const SNIFF_BYTES: usize = 8;

    /// The type `start` (a file's first bytes) begins like, if it is one the record keeps.
    pub fn sniff(start: &[u8]) -> Option<MediaType> {
        if start.starts_with(b"%PDF-") {
            Some(MediaType::Pdf)
        } else if start.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaType::Jpeg)
        } else if start.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(MediaType::Png)
        } else {
            None
        }
    }

    /// The MIME type a download is served with.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// The extension a downloaded file gets.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
        }
    }

    /// "PDF".
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Pdf => "PDF",
            MediaType::Jpeg => "JPEG image",
            MediaType::Png => "PNG image",
        }
    }
}

/// What a person says about a file they add: checked before a byte of it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentDetails {
    pub kind: DocumentKind,
    /// The document's own date (when the sample was taken, the letter written).
    pub date: NaiveDate,
    /// Empty: the file's name is used.
    pub title: String,
}

impl DocumentDetails {
    /// The form's `kind`, `date` (`YYYY-MM-DD`; empty is `today`) and `title`, checked; a date
    /// after `today` is a typo (a result cannot come from the future).
    pub fn parse(
        kind: &str,
        date: &str,
        title: &str,
        today: NaiveDate,
    ) -> Result<DocumentDetails, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = DocumentKind::parse(kind.trim());
        if kind.is_none() {
            errors.add("kind", "Choose what kind of document this is.");
        }
        let date = match date.trim() {
            "" => Some(today),
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if date > today => {
                    errors.add(
                        "date",
                        "The document's date cannot be after today: check the year.",
                    );
                    None
                }
                Ok(date) => Some(date),
                Err(_) => {
                    errors.add("date", "Enter the document's date, like 2026-03-14.");
                    None
                }
            },
        };
        let title: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.chars().count() > MAX_TITLE {
            errors.add(
                "title",
                format!("Shorten the title to at most {MAX_TITLE} characters."),
            );
        }
        match (kind, date) {
            (Some(kind), Some(date)) if errors.is_empty() => {
                Ok(DocumentDetails { kind, date, title })
            }
            _ => Err(errors),
        }
    }
}

/// The title a document is shown with: the one given, else the file's name without its
/// extension, else its kind.
pub fn title_for(given: &str, file_name: &str, kind: DocumentKind) -> String {
    if !given.trim().is_empty() {
        return given.trim().to_owned();
    }
    let stem = match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.trim().is_empty() => stem,
        _ => file_name,
    };
    let stem: String = stem
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE)
        .collect();
    if stem.trim().is_empty() {
        kind.label().to_owned()
    } else {
        stem.trim().to_owned()
    }
}

/// A document in a list: what it is, never its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSummary {
    pub public_id: String,
    pub title: String,
    pub kind: DocumentKind,
    pub date: NaiveDate,
    pub media_type: MediaType,
    pub size: u64,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    /// The visit whose note it is attached to.
    pub visit: Option<String>,
}

impl DocumentSummary {
    /// "2.4 MB PDF".
    pub fn size_and_type(&self) -> String {
        format!("{} {}", human_size(self.size), self.media_type.label())
    }
}

/// "812 KB", "2.4 MB".
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).max(1.0))
    } else {
        let mb = format!("{:.1}", b / (KB * KB));
        format!("{} MB", mb.strip_suffix(".0").unwrap_or(&mb))
    }
}

/// A patient's documents, and whether the reader may add one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Documents {
    pub patient: String,
    pub documents: Vec<DocumentSummary>,
    pub can_upload: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 17).expect("a date")
    }

    #[test]
    fn the_type_is_told_from_the_bytes_not_the_name() {
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::sniff(b"<html><script>"), None);
        assert_eq!(MediaType::sniff(b"MZ\x90\0"), None);
        assert_eq!(MediaType::sniff(b"%PD"), None);
        assert_eq!(MediaType::sniff(b""), None);
    }

    #[test]
    fn details_are_checked_and_an_empty_date_is_today() {
        let details =
            DocumentDetails::parse("lab_result", "", "  Lipid   panel ", today()).expect("fine");
        assert_eq!(details.kind, DocumentKind::LabResult);
        assert_eq!(details.date, today());
        assert_eq!(details.title, "Lipid panel");
        let errors = DocumentDetails::parse("x-ray", "2027-01-01", &"t".repeat(121), today())
            .expect_err("three problems");
        assert!(errors.get("kind").is_some());
        assert!(errors.get("date").is_some());
        assert!(errors.get("title").is_some());
        let errors = DocumentDetails::parse("letter", "14/03/2026", "", today()).expect_err("date");
        assert!(errors.get("date").is_some_and(|m| m.contains("2026-03-14")));
    }

    #[test]
    fn a_missing_title_comes_from_the_file_name() {
        assert_eq!(
            title_for("", "CBC results.pdf", DocumentKind::LabResult),
            "CBC results"
        );
        assert_eq!(title_for("Mine", "x.pdf", DocumentKind::LabResult), "Mine");
        assert_eq!(title_for("", ".pdf", DocumentKind::Photo), ".pdf");
        assert_eq!(title_for("", "", DocumentKind::Photo), "Photo");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(900), "900 bytes");
        assert_eq!(human_size(812 * 1024), "812 KB");
        assert_eq!(human_size(2_516_582), "2.4 MB");
        assert_eq!(human_size(MAX_BYTES), "25 MB");
    }
}

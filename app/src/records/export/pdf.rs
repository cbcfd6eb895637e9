//! The exported record as PDF: the practice's letterhead, who it is and when it was exported,
//! then the chart section by section, each signed note in full, and the list of documents. Real
//! text on as many US Letter pages as it takes.

use crate::pdf_text::Pages;
use crate::records::documents::model::DocumentSummary;
use crate::records::model::{ChartEntry, ChartSection};
use crate::records::notes::model::{FiledNote, NoteBody};

/// Everything an exported record shows.
pub struct RecordDocument {
    pub practice_name: String,
    pub practice_lines: Vec<String>,
    pub patient_name: String,
    /// "Date of birth: March 12, 1984".
    pub patient_line: String,
    /// "Exported on June 17, 2026 by Maria Lopez".
    pub exported: String,
    /// `None`: the chart was not asked for.
    pub chart: Option<Vec<ChartEntry>>,
    pub notes: Vec<FiledNote>,
    /// `None`: the list was not asked for.
    pub documents: Option<Vec<DocumentSummary>>,
}

/// Renders `doc` as PDF bytes.
pub fn render(doc: &RecordDocument) -> Result<Vec<u8>, String> {
    let mut pages = Pages::new(&format!("Health record, {}", doc.patient_name), "Record")?;
    pages.letterhead(&doc.practice_name, &doc.practice_lines);
    pages.line("Health record", 18.0, true, 8.0);
    pages.line(&doc.patient_name, 12.0, true, 7.0);
    pages.line(&doc.patient_line, 10.0, false, 5.0);
    pages.line(&doc.exported, 10.0, false, 5.0);
    if let Some(entries) = &doc.chart {
        pages.title("Chart");
        for section in ChartSection::ALL {
            pages.heading(section.title());
            let mut any = false;
            for entry in entries.iter().filter(|e| e.item.section() == *section) {
                any = true;
                let details = entry.item.details();
                pages.paragraph(&if details.is_empty() {
                    entry.item.headline()
                } else {
                    format!("{} - {details}", entry.item.headline())
                });
            }
            if !any {
                pages.paragraph(match section {
                    ChartSection::Allergy => "No known allergies recorded.",
                    _ => "Nothing recorded.",
                });
            }
        }
    }
    if !doc.notes.is_empty() {
        pages.title("Visit notes");
        for filed in &doc.notes {
            let NoteBody::Signed(content) = &filed.note.body else {
                continue;
            };
            pages.heading(&format!(
                "{} - {}",
                filed.visit.when,
                filed.visit.visit_type.label()
            ));
            let signed = filed
                .note
                .signed
                .as_ref()
                .map(|(by, at)| format!("Signed by {by} on {at}."))
                .unwrap_or_default();
            let addenda: Vec<(String, String)> = filed
                .note
                .addenda
                .iter()
                .map(|a| (a.text.clone(), format!("Added by {} on {}.", a.by, a.when)))
                .collect();
            crate::records::notes::pdf::write_note(&mut pages, content, &signed, &addenda);
            for file in &filed.note.attachments {
                pages.paragraph(&format!(
                    "Attached: {} ({})",
                    file.title,
                    file.size_and_type()
                ));
            }
            pages.gap(4.0);
        }
    }
    if let Some(documents) = &doc.documents {
        pages.title("Documents");
        if documents.is_empty() {
            pages.paragraph("No documents.");
        }
        for d in documents {
            pages.paragraph(&format!(
                "{} - {}, {} ({}), added by {}",
                d.title,
                d.kind.label(),
                d.date.format("%B %-d, %Y"),
                d.size_and_type(),
                d.uploaded_by
            ));
        }
    }
    pages.finish()
}

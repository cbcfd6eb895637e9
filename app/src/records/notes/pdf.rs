//! A signed visit note as PDF (R4.3): the practice, the patient, the visit, the four parts,
//! prescriptions, follow-up, who signed it and the addenda, on as many US Letter pages as it
//! takes. Real text (printpdf's built-in Helvetica), so it can be searched, copied and read
//! aloud.

use super::model::NoteContent;
use crate::pdf_text::Pages;

/// Everything a printed note shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteDocument {
    pub practice_name: String,
    pub practice_lines: Vec<String>,
    pub patient_name: String,
    /// "Date of birth: March 12, 1984".
    pub patient_line: String,
    /// "Wednesday, June 17, 2026, 8:40 am · Office visit".
    pub visit: String,
    pub content: NoteContent,
    /// "Signed by Dr. Elena Marsh on June 17, 2026, 9:30 am".
    pub signed: String,
    /// Each addendum and its "Added by … on …".
    pub addenda: Vec<(String, String)>,
}

/// Renders `doc` as PDF bytes.
pub fn render(doc: &NoteDocument) -> Result<Vec<u8>, String> {
    let mut pages = Pages::new(&format!("Visit note, {}", doc.patient_name), "Note")?;
    pages.letterhead(&doc.practice_name, &doc.practice_lines);
    pages.line("Visit note", 18.0, true, 8.0);
    pages.line(&doc.patient_name, 12.0, true, 7.0);
    pages.line(&doc.patient_line, 10.0, false, 5.0);
    pages.line(&doc.visit, 10.0, false, 5.0);
    write_note(&mut pages, &doc.content, &doc.signed, &doc.addenda);
    pages.finish()
}

/// A signed note's parts, prescriptions, follow-up, signature and addenda, written on `pages`
/// (the note's own PDF, and each note in the exported record).
pub(crate) fn write_note(
    pages: &mut Pages,
    c: &NoteContent,
    signed: &str,
    addenda: &[(String, String)],
) {
    for (title, text) in [
        ("Subjective", &c.subjective),
        ("Objective", &c.objective),
        ("Assessment", &c.assessment),
        ("Plan", &c.plan),
    ] {
        if !text.is_empty() {
            pages.heading(title);
            pages.paragraph(text);
        }
    }
    if !c.prescriptions.is_empty() {
        pages.heading("Prescriptions");
        for p in &c.prescriptions {
            let refills = match p.refills {
                0 => "no refills".to_owned(),
                1 => "1 refill".to_owned(),
                n => format!("{n} refills"),
            };
            pages.paragraph(&format!(
                "{} {}: {}. Quantity {}, {}.",
                p.drug, p.strength, p.directions, p.quantity, refills
            ));
        }
    }
    pages.heading("Follow-up");
    pages.paragraph(&c.follow_up());
    pages.gap(4.0);
    pages.paragraph(signed);
    if !addenda.is_empty() {
        pages.heading("Addenda");
        for (text, by) in addenda {
            pages.paragraph(text);
            pages.line(by, 9.0, false, 4.5);
            pages.gap(2.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::notes::model::Prescription;

    #[test]
    fn a_long_note_runs_onto_more_pages_and_starts_like_a_pdf() {
        let doc = NoteDocument {
            practice_name: "Harbor Street Medicine".into(),
            practice_lines: vec!["12 Harbor St".into()],
            patient_name: "Maria Lopez".into(),
            patient_line: "Date of birth: March 12, 1984".into(),
            visit: "Wednesday, June 17, 2026 · Office visit".into(),
            content: NoteContent {
                subjective: "Headaches. ".repeat(800),
                assessment: "Migraine".into(),
                plan: "Diary".into(),
                prescriptions: vec![Prescription {
                    drug: "Sumatriptan".into(),
                    strength: "100 mg tablet".into(),
                    directions: "One at onset".into(),
                    quantity: 9,
                    refills: 2,
                }],
                ..Default::default()
            },
            signed: "Signed by Dr. Elena Marsh".into(),
            addenda: vec![("Diary reviewed.".into(), "Added by Dr. Elena Marsh".into())],
        };
        let bytes = render(&doc).expect("rendered");
        assert!(bytes.starts_with(b"%PDF-"));
        // One media box per page.
        let pages = bytes.windows(8).filter(|w| w == b"MediaBox").count();
        assert!(pages >= 2, "{pages} pages");
    }
}

//! Invoices and receipts as PDF (R6.1–R6.2): an A4/Letter-friendly page with the practice, the
//! member, itemized lines in integer cents, and a note for HSA/FSA claims. Drawn with printpdf's
//! built-in Helvetica and Courier (no font files, no system libraries).

use crate::domain::format_usd;
use crate::pdf_text::printable;
use printpdf::{BuiltinFont, Color, Line, Mm, Point, Rgb};

/// Everything a printed invoice shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDocument {
    pub practice_name: String,
    pub practice_lines: Vec<String>,
    pub number: String,
    pub issued_on: String,
    /// `Some(day)` makes it a receipt.
    pub paid_on: Option<String>,
    pub bill_to: Vec<String>,
    pub period: Option<String>,
    pub lines: Vec<(String, i64)>,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub refunded_cents: i64,
}

/// Renders `doc` as PDF bytes.
pub fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, String> {
    let title = if doc.paid_on.is_some() {
        "Receipt"
    } else {
        "Invoice"
    };
    let crate::pdf_text::Letter {
        pdf,
        first: canvas,
        regular,
        bold,
    } = crate::pdf_text::Letter::new(&format!("{title} {}", doc.number), "Invoice")?;
    let mono = pdf
        .add_builtin_font(BuiltinFont::Courier)
        .map_err(|e| e.to_string())?;
    {
        let text = |s: &str, size: f32, x: f32, y: f32, font: &printpdf::IndirectFontRef| {
            canvas.use_text(printable(s), size, Mm(x), Mm(y), font);
        };
        // Courier is 0.6 em wide per character: amounts are right-aligned at `right`.
        let amount = |cents: i64, size: f32, right: f32, y: f32| {
            let s = format_usd(cents);
            let width = s.chars().count() as f32 * 0.6 * size * 0.3528;
            canvas.use_text(s, size, Mm(right - width), Mm(y), &mono);
        };
        let rule = |y: f32| {
            canvas.add_line(Line {
                points: vec![
                    (Point::new(Mm(20.0), Mm(y)), false),
                    (Point::new(Mm(195.9), Mm(y)), false),
                ],
                is_closed: false,
            });
        };
        canvas.set_outline_color(Color::Rgb(Rgb::new(0.11, 0.31, 0.36, None)));
        canvas.set_outline_thickness(0.8);

        let mut y = 255.0;
        text(&doc.practice_name, 18.0, 20.0, y, &bold);
        for line in &doc.practice_lines {
            y -= 5.5;
            text(line, 10.0, 20.0, y, &regular);
        }
        text(title, 22.0, 150.0, 255.0, &bold);
        text(&format!("No. {}", doc.number), 10.0, 150.0, 248.0, &regular);
        text(
            &format!("Issued {}", doc.issued_on),
            10.0,
            150.0,
            242.5,
            &regular,
        );
        if let Some(paid) = &doc.paid_on {
            text(&format!("Paid {paid}"), 10.0, 150.0, 237.0, &regular);
        }

        y = y.min(232.0) - 10.0;
        text("Billed to", 10.0, 20.0, y, &bold);
        for line in &doc.bill_to {
            y -= 5.5;
            text(line, 10.0, 20.0, y, &regular);
        }
        if let Some(period) = &doc.period {
            y -= 8.0;
            text(
                &format!("Service period: {period}"),
                10.0,
                20.0,
                y,
                &regular,
            );
        }

        y -= 12.0;
        text("Description", 10.0, 20.0, y, &bold);
        text("Amount", 10.0, 181.5, y, &bold);
        y -= 3.0;
        rule(y);
        for (description, cents) in &doc.lines {
            y -= 7.0;
            text(description, 10.0, 20.0, y, &regular);
            amount(*cents, 10.0, 195.9, y);
        }
        y -= 4.0;
        rule(y);
        y -= 7.0;
        text("Total", 11.0, 130.0, y, &bold);
        amount(doc.total_cents, 11.0, 195.9, y);
        if doc.paid_on.is_some() {
            y -= 6.5;
            text("Paid", 10.0, 130.0, y, &regular);
            amount(doc.paid_cents, 10.0, 195.9, y);
        }
        if doc.refunded_cents > 0 {
            y -= 6.5;
            text("Refunded", 10.0, 130.0, y, &regular);
            amount(doc.refunded_cents, 10.0, 195.9, y);
        }
        if doc.paid_on.is_none() {
            y -= 6.5;
            text("Amount due", 10.0, 130.0, y, &bold);
            amount(doc.total_cents - doc.paid_cents, 10.0, 195.9, y);
        }

        y -= 16.0;
        for note in [
            "For HSA/FSA claims: this is an itemized statement of periodic fees for direct primary",
            "care services from the practice named above. Whether a plan reimburses them is the",
            "plan's decision. Membership is not health insurance.",
        ] {
            text(note, 9.0, 20.0, y, &regular);
            y -= 4.8;
        }
    }
    pdf.save_to_bytes().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_renders_as_a_pdf_and_odd_characters_do_not_break_it() {
        let doc = InvoiceDocument {
            practice_name: "Harbor Street Medicine".into(),
            practice_lines: vec![
                "214 Harbor Street — Suite 3".into(),
                "Portland, ME 04101".into(),
            ],
            number: "2026-00001".into(),
            issued_on: "November 27, 2026".into(),
            paid_on: Some("November 27, 2026".into()),
            bill_to: vec!["Zoë Nguyễn".into(), "12 Pine St".into()],
            period: Some("Nov 27, 2026 to Dec 27, 2026".into()),
            lines: vec![("Complete membership (monthly)".into(), 19_900)],
            total_cents: 19_900,
            paid_cents: 19_900,
            refunded_cents: 0,
        };
        let bytes = render(&doc).expect("renders");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() > 1_000);
        assert_eq!(printable("Nguyễn — ok"), "Nguy?n - ok");
    }
}

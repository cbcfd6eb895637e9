//! Text for PDFs drawn with printpdf's built-in fonts: a US Letter document with them, text
//! they can write (they speak Windows-1252, so anything outside it is written plainly), and
//! paragraphs wrapped to a page's width.

use printpdf::{
    BuiltinFont, IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference,
};

/// A new US Letter document titled `title`: its first page's layer, and Helvetica regular and
/// bold.
pub struct Letter {
    pub pdf: PdfDocumentReference,
    pub first: PdfLayerReference,
    pub regular: IndirectFontRef,
    pub bold: IndirectFontRef,
}

impl Letter {
    pub fn new(title: &str, layer: &str) -> Result<Letter, String> {
        let (pdf, page, first) = PdfDocument::new(printable(title), Mm(215.9), Mm(279.4), layer);
        let regular = pdf
            .add_builtin_font(BuiltinFont::Helvetica)
            .map_err(|e| e.to_string())?;
        let bold = pdf
            .add_builtin_font(BuiltinFont::HelveticaBold)
            .map_err(|e| e.to_string())?;
        let first = pdf.get_page(page).get_layer(first);
        Ok(Letter {
            pdf,
            first,
            regular,
            bold,
        })
    }
}

/// `text` with the characters the built-in fonts lack replaced by plain ones.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '–' | '—' => '-',
            '‘' | '’' => '\'',
            '“' | '”' => '"',
            '·' => '-',
            c if (c as u32) < 0x100 => c,
            _ => '?',
        })
        .collect()
}

/// `text` in lines of at most `width` characters: broken at spaces, its own line breaks kept,
/// a word longer than a line split.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(word.drain(..width).collect());
            }
            let word: String = word.into_iter().collect();
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_break_at_spaces_and_keep_the_texts_own_breaks() {
        assert_eq!(
            wrap("One tablet by mouth\nonce a day", 12),
            vec!["One tablet", "by mouth", "once a day"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(
            printable("Hypertension – stable · “ok”"),
            "Hypertension - stable - \"ok\""
        );
    }

    proptest! {
        /// Wrapping loses no word and makes no line longer than asked.
        #[test]
        fn wrapping_keeps_every_word_within_the_width(text in "[a-z ]{0,300}", width in 5usize..60) {
            let lines = wrap(&text, width);
            prop_assert!(lines.iter().all(|l| l.chars().count() <= width));
            let joined: String = lines.join(" ").split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            prop_assert_eq!(joined, original);
        }
    }
}

//! Text for PDFs drawn with printpdf's built-in fonts: a US Letter document with them, text
//! they can write (they speak Windows-1252, so anything outside it is written plainly),
//! paragraphs wrapped to a page's width, and [`Pages`], which writes lines down as many pages as
//! they take (a visit note, an exported record).

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

const LEFT: f32 = 20.0;
const TOP: f32 = 259.0;
const BOTTOM: f32 = 22.0;
/// Characters of 10 pt Helvetica that fit 176 mm, with room to spare.
const WIDTH: usize = 92;

/// Writes lines down the page, starting a new page when one is full.
pub struct Pages {
    pdf: PdfDocumentReference,
    layer: PdfLayerReference,
    y: f32,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    layer_name: String,
}

impl Pages {
    /// A new document titled `title`, at the top of its first page.
    pub fn new(title: &str, layer: &str) -> Result<Pages, String> {
        let Letter {
            pdf,
            first,
            regular,
            bold,
        } = Letter::new(title, layer)?;
        Ok(Pages {
            pdf,
            layer: first,
            y: TOP + 6.0,
            regular,
            bold,
            layer_name: layer.to_owned(),
        })
    }

    fn room(&mut self, needed: f32) {
        if self.y - needed < BOTTOM {
            let (page, layer) = self
                .pdf
                .add_page(Mm(215.9), Mm(279.4), self.layer_name.as_str());
            self.layer = self.pdf.get_page(page).get_layer(layer);
            self.y = TOP;
        }
    }

    /// One line of `size` points, `step` mm below the last.
    pub fn line(&mut self, text: &str, size: f32, bold: bool, step: f32) {
        self.room(step);
        self.y -= step;
        let font = if bold { &self.bold } else { &self.regular };
        self.layer
            .use_text(printable(text), size, Mm(LEFT), Mm(self.y), font);
    }

    /// Body text, wrapped to the page.
    pub fn paragraph(&mut self, text: &str) {
        for line in wrap(text, WIDTH) {
            self.line(&line, 10.0, false, 4.8);
        }
    }

    /// A section's heading, kept with at least a line of what follows.
    pub fn heading(&mut self, text: &str) {
        self.room(14.0);
        self.y -= 3.0;
        self.line(text, 11.0, true, 6.0);
    }

    /// A part's title, larger, starting a new page when little room is left.
    pub fn title(&mut self, text: &str) {
        self.room(40.0);
        self.y -= 6.0;
        self.line(text, 15.0, true, 8.0);
    }

    /// Empty space of `mm`.
    pub fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    /// The practice's name and address at the top.
    pub fn letterhead(&mut self, name: &str, lines: &[String]) {
        self.line(name, 16.0, true, 6.0);
        for line in lines {
            self.line(line, 9.0, false, 4.5);
        }
        self.y -= 6.0;
    }

    /// The document's bytes.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        self.pdf.save_to_bytes().map_err(|e| e.to_string())
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

//! What goes into an exported record, as the export form (a plain GET form) asks for it.

/// The parts of a record to put in one PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportChoice {
    /// Allergies, problems, medications, immunizations, family history, contacts, insurance.
    pub chart: bool,
    /// Which signed notes, by their visit's public id (`None`: all of them).
    pub notes: Option<Vec<String>>,
    /// The list of documents (their files come as the zip).
    pub documents: bool,
}

impl ExportChoice {
    /// Everything.
    pub fn whole() -> ExportChoice {
        ExportChoice {
            chart: true,
            notes: None,
            documents: true,
        }
    }

    /// The choice a query's pairs make: `chart`, `documents`, and a `note` per visit. A query
    /// that names no part (a plain link) asks for the whole record; one that names parts but
    /// ticks none is `None` (nothing to export: the form says so).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<ExportChoice> {
        let mut asked = false;
        let mut choice = ExportChoice {
            chart: false,
            notes: Some(Vec::new()),
            documents: false,
        };
        for (key, value) in pairs {
            match key {
                "chart" => choice.chart = true,
                "documents" => choice.documents = true,
                "note" => {
                    if let Some(notes) = choice.notes.as_mut() {
                        notes.push(value.to_owned());
                    }
                }
                // The form always sends this, so an empty tick list is told from a plain link.
                "parts" => {}
                _ => continue,
            }
            asked = true;
        }
        if !asked {
            return Some(ExportChoice::whole());
        }
        let nothing =
            !choice.chart && !choice.documents && choice.notes.as_ref().is_some_and(Vec::is_empty);
        (!nothing).then_some(choice)
    }

    /// Whether visit `visit`'s note is in.
    pub fn has_note(&self, visit: &str) -> bool {
        self.notes
            .as_ref()
            .is_none_or(|notes| notes.iter().any(|n| n == visit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_link_is_the_whole_record_and_a_form_with_nothing_ticked_is_nothing() {
        assert_eq!(ExportChoice::from_pairs([]), Some(ExportChoice::whole()));
        assert_eq!(ExportChoice::from_pairs([("parts", "1")]), None);
        let choice = ExportChoice::from_pairs([("parts", "1"), ("note", "v1"), ("documents", "1")])
            .expect("a choice");
        assert!(!choice.chart && choice.documents);
        assert!(choice.has_note("v1") && !choice.has_note("v2"));
        assert!(ExportChoice::whole().has_note("anything"));
    }
}

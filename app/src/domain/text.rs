use serde::{Deserialize, Serialize};

/// Free text a person typed, trimmed, between `MIN` and `MAX` characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundedText<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> BoundedText<MIN, MAX> {
    /// `what` names the field in the message, e.g. "your name".
    pub fn parse(input: &str, what: &str) -> Result<Self, String> {
        let value = input.trim();
        let length = value.chars().count();
        if length == 0 && MIN > 0 {
            Err(format!("Please enter {what}."))
        } else if length < MIN {
            Err(format!(
                "Please write at least {MIN} characters for {what}."
            ))
        } else if length > MAX {
            Err(format!(
                "Please keep {what} to {MAX} characters or fewer (it has {length})."
            ))
        } else {
            Ok(BoundedText(value.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Name = BoundedText<1, 5>;

    #[test]
    fn bounds_are_inclusive_and_counted_in_characters() {
        assert!(Name::parse("", "your name").is_err());
        assert!(Name::parse("   ", "your name").is_err());
        assert_eq!(
            Name::parse(" Zoë ", "your name").map(|n| n.as_str().to_owned()),
            Ok("Zoë".into())
        );
        assert!(Name::parse("ÉÉÉÉÉ", "your name").is_ok());
        assert!(Name::parse("ÉÉÉÉÉÉ", "your name").is_err());
    }

    proptest! {
        #[test]
        fn accepted_text_is_within_bounds(input in ".{0,10}") {
            if let Ok(text) = BoundedText::<2, 8>::parse(&input, "it") {
                let n = text.as_str().chars().count();
                prop_assert!((2..=8).contains(&n));
                prop_assert_eq!(text.as_str(), input.trim());
            }
        }
    }
}

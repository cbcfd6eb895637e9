use serde::{Deserialize, Serialize};
use std::fmt;

/// A telephone number with 7 to 15 digits (the E.164 limit), written with the usual
/// separators (spaces, dots, dashes, parentheses) and an optional leading `+`.
/// The number is kept as the person wrote it; [`PhoneNumber::digits`] gives the digits alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let value = input.trim();
        if value.is_empty() {
            return Err("Please enter a phone number.");
        }
        let allowed = value
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0));
        let digits = value.chars().filter(char::is_ascii_digit).count();
        if !allowed {
            return Err("A phone number may contain only digits, spaces, dashes, dots, parentheses and a leading +.");
        }
        if !(7..=15).contains(&digits) {
            return Err(
                "Please enter a phone number with 7 to 15 digits, for example (207) 555-0142.",
            );
        }
        Ok(PhoneNumber(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits alone, with the leading `+` kept when there was one.
    pub fn digits(&self) -> String {
        let digits: String = self.0.chars().filter(char::is_ascii_digit).collect();
        if self.0.starts_with('+') {
            format!("+{digits}")
        } else {
            digits
        }
    }
}

impl PhoneNumber {
    /// The number in E.164 form for a text message, or `None` when it cannot be known. The
    /// practice is in North America: a number written without `+` is read as a North American
    /// one (10 digits, or 11 starting with 1); any other country needs its `+` prefix.
    pub fn e164(&self) -> Option<String> {
        let digits = self.digits();
        if digits.starts_with('+') {
            return Some(digits);
        }
        match digits.len() {
            10 => Some(format!("+1{digits}")),
            11 if digits.starts_with('1') => Some(format!("+{digits}")),
            _ => None,
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_formats_are_accepted() {
        for ok in [
            "(207) 555-0142",
            "+1 207 555 0142",
            "207.555.0142",
            "+44 20 7946 0958",
        ] {
            assert!(PhoneNumber::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            PhoneNumber::parse("+1 (207) 555-0142").map(|p| p.digits()),
            Ok("+12075550142".into())
        );
    }

    #[test]
    fn text_messages_go_to_e164_numbers_with_north_america_as_the_default() {
        let e164 = |text: &str| PhoneNumber::parse(text).ok().and_then(|p| p.e164());
        assert_eq!(e164("(207) 555-0142"), Some("+12075550142".into()));
        assert_eq!(e164("1 207 555 0142"), Some("+12075550142".into()));
        assert_eq!(e164("+44 20 7946 0958"), Some("+442079460958".into()));
        assert_eq!(e164("555-0142"), None);
    }

    #[test]
    fn letters_and_wrong_lengths_are_rejected() {
        for bad in [
            "",
            "555-CALL-NOW",
            "12345",
            "1234567890123456",
            "1+2075550142",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_number_of_7_to_15_digits_is_accepted(digits in "[0-9]{7,15}") {
            let phone = PhoneNumber::parse(&digits).expect("valid");
            prop_assert_eq!(phone.digits(), digits);
        }
    }
}

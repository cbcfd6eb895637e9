use serde::{Deserialize, Serialize};
use std::fmt;

/// An email address that passed Bedside's checks: trimmed, at most 254 characters, one `@`,
/// a local part of at most 64 characters and a domain with at least one dot.
///
/// Deliberately stricter than RFC 5322 (no quoted local parts, no IP-literal domains): these are
/// patients' everyday addresses, and a typo caught here is an email that is not lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let value = input.trim();
        if value.is_empty() {
            return Err("Please enter your email address.");
        }
        if value.chars().count() > 254 {
            return Err("That email address is too long.");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err("Please enter an email address like name@example.com.");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if local_ok && domain_ok {
            Ok(Email(value.to_owned()))
        } else {
            Err("Please enter an email address like name@example.com.")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn everyday_addresses_are_accepted() {
        for ok in [
            "ann@example.com",
            " j.doe+visits@mail.example.org ",
            "o'neil@ex-ample.co",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn typos_are_rejected_with_a_message() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "ann@exa mple.com",
            "ann..b@example.com",
            "ann@-example.com",
            "ann@example.c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_parsed_address_is_trimmed_and_parses_again(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,20}", tld in "[a-z]{2,6}") {
            let raw = format!("  {local}@{domain}.{tld}\n");
            let email = Email::parse(&raw).expect("valid");
            prop_assert_eq!(email.as_str(), raw.trim());
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
        }

        #[test]
        fn parsing_never_panics(input in ".{0,300}") {
            let _ = Email::parse(&input);
        }
    }
}

//! The calendar document (RFC 5545) every `.ics` Bedside sends starts from.

use icalendar::Calendar;

/// Bedside's product identifier: RFC 5545 §3.7.3 allows exactly one `PRODID` per calendar, and
/// strict calendar clients refuse a file with two.
pub const PRODUCT_ID: &str = "-//Bedside//Visits//EN";

/// An empty calendar with `VERSION`, Bedside's one `PRODID` and `CALSCALE`. (The crate's
/// `Calendar::new()` adds a `PRODID` of its own, so a second one could not be added to it.)
pub fn new_calendar() -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODUCT_ID))
        .append_property(("CALSCALE", "GREGORIAN"));
    calendar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calendar_has_one_version_one_product_id_and_one_scale() {
        let text = new_calendar().to_string();
        for name in ["VERSION:", "PRODID:", "CALSCALE:"] {
            assert_eq!(
                text.lines().filter(|l| l.starts_with(name)).count(),
                1,
                "{name} in {text}"
            );
        }
        assert!(text.contains(&format!("PRODID:{PRODUCT_ID}")));
    }
}

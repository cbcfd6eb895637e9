//! Wire types of visits.

use serde::{Deserialize, Serialize};

/// How a visit happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VisitType {
    InPerson,
    Telemedicine,
    HomeVisit,
}

impl VisitType {
    pub const ALL: [VisitType; 3] = [
        VisitType::InPerson,
        VisitType::Telemedicine,
        VisitType::HomeVisit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitType::InPerson => "in_person",
            VisitType::Telemedicine => "telemedicine",
            VisitType::HomeVisit => "home_visit",
        }
    }

    pub fn parse(text: &str) -> Option<VisitType> {
        VisitType::ALL.into_iter().find(|v| v.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            VisitType::InPerson => "Office visit",
            VisitType::Telemedicine => "Video visit",
            VisitType::HomeVisit => "Home visit",
        }
    }
}

/// One bookable time, as the booking page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOption {
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// "9:40 am", in the practice's time zone.
    pub time: String,
}

/// The free times of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySlots {
    /// "Tuesday, December 1".
    pub day: String,
    pub slots: Vec<SlotOption>,
}

/// What the booking page offers for one kind of visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingOptions {
    pub visit_type: VisitType,
    pub offered: Vec<VisitType>,
    /// "Eastern Time (America/New_York)".
    pub time_zone: String,
    pub days: Vec<DaySlots>,
}

/// A booked visit in the patient's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub public_id: String,
    pub visit_type: VisitType,
    pub when: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
}

/// One visit on the physician's agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// "9:40 am – 10:10 am".
    pub time: String,
    pub patient_public_id: String,
    pub patient_name: String,
    pub visit_type: VisitType,
    pub reason: String,
}

/// The agenda of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaDay {
    /// "Today, Friday, November 27".
    pub day: String,
    pub visits: Vec<AgendaItem>,
}

/// The schedule as its settings page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub time_zone: String,
    pub hours: Vec<HoursRow>,
    pub days_off: Vec<DayOffRow>,
    pub can_edit: bool,
}

/// One block of weekly hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursRow {
    pub id: i32,
    pub visit_type: VisitType,
    /// "Monday".
    pub weekday: String,
    /// "8:00 am – 12:00 pm".
    pub time: String,
}

/// A day the practice is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOffRow {
    pub id: i32,
    pub date: chrono::NaiveDate,
    pub label: String,
    pub note: Option<String>,
}

/// Parses "08:30" (the value of a time input) into minutes after midnight, on the five-minute
/// grid of the schedule.
pub fn parse_minutes(text: &str) -> Result<i32, &'static str> {
    let (h, m) = text
        .trim()
        .split_once(':')
        .ok_or("Enter a time like 08:30.")?;
    let (h, m): (i32, i32) = (
        h.parse().map_err(|_| "Enter a time like 08:30.")?,
        m.get(..2)
            .unwrap_or(m)
            .parse()
            .map_err(|_| "Enter a time like 08:30.")?,
    );
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err("Enter a time between 00:00 and 23:55.");
    }
    if m % 5 != 0 {
        return Err("Use five-minute steps (like 08:30 or 08:35).");
    }
    Ok(h * 60 + m)
}

/// Every message the schedule form can come back with. The page names one by its index in the
/// address (`?error=3`), so a crafted link cannot make the page say something else.
pub const SCHEDULE_MESSAGES: [&str; 9] = [
    "The change could not be saved. Please check the form and try again.",
    "Enter a time like 08:30.",
    "Enter a time between 00:00 and 23:55.",
    "Use five-minute steps (like 08:30 or 08:35).",
    "The hours must end after they start.",
    "Choose a day of the week.",
    "Choose a date.",
    "Choose today or a later day.",
    "These hours overlap hours already set for that day and kind of visit.",
];

/// The index of `message` in [`SCHEDULE_MESSAGES`] (0, the general one, if absent).
pub fn schedule_message_index(message: &str) -> usize {
    SCHEDULE_MESSAGES
        .iter()
        .position(|m| *m == message)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::parse_minutes;

    #[test]
    fn times_are_read_from_time_inputs_on_a_five_minute_grid() {
        assert_eq!(parse_minutes("08:30"), Ok(510));
        assert_eq!(parse_minutes("13:05:00"), Ok(785));
        assert!(parse_minutes("8:07").is_err());
        assert!(parse_minutes("24:00").is_err());
        assert!(parse_minutes("noon").is_err());
    }

    #[test]
    fn every_message_of_the_time_parser_is_a_known_schedule_message() {
        for bad in ["8:07", "24:00", "noon"] {
            let message = parse_minutes(bad).expect_err("bad");
            assert_ne!(super::schedule_message_index(message), 0, "{message}");
        }
    }
}

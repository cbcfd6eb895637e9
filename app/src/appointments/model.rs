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

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

//! Patient data as pages see it.

use serde::{Deserialize, Serialize};

/// A patient's demographics (PHI: every read of this is audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientProfile {
    pub public_id: String,
    pub legal_name: String,
    pub date_of_birth: chrono::NaiveDate,
    pub phone: Option<String>,
}

/// A line of the physician's patient list: no PHI beyond the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientListing {
    pub public_id: String,
    pub legal_name: String,
}

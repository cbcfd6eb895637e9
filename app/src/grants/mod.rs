//! Access beyond one's role (issue 14 §7): the physician lets a staff member work on one
//! patient's chart for a time; the administrator opens a record in an emergency with a reason
//! (`emergency`), shown to the physician. The policy says what a grant allows (`auth::policy::can_with`); the guard looks up the
//! grant a person holds (`lookup`) when their role alone says no, and names it in the audit.

pub mod api;
pub mod model;
mod pages;

mod notices;

pub use notices::{EmergencyReadsNotice, WhoElseOpenedMyRecord};
pub use pages::{AccessPanel, EmergencyAccessPage};

#[cfg(feature = "ssr")]
pub mod disclosure;
#[cfg(feature = "ssr")]
pub mod emergency;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod lookup;
#[cfg(feature = "ssr")]
pub mod service;

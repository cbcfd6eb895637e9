//! Enrollment and where a membership stands, in rooms:
//! - [`enrollment`]: joining (P1);
//! - [`standing`]: where a membership stands as payments and confirmations arrive;
//! - [`overview`]: the member's page;
//! - [`changes`]: changing the plan, cancelling, keeping it.
//!
//! Enrollment writes the account, the patient, the sealed profile, the pending membership,
//! the consents, the dependents and the confirmation email's job in one transaction: all of
//! them or none (P1). A membership becomes active when its email is confirmed **and** a
//! payment has arrived, in whichever order the two happen.

use super::entity::{household_member, membership, membership_consent, patient_profile};
use super::model::{
    plan_change, proration_cents, BillingPeriod, Enrollment, MembershipOverview, MembershipStatus,
    PlanChange, PlanOption,
};
use super::notices::{self, MembershipEmail};
use super::refusal::MembershipRefusal;
use crate::audit::service::{self as audit, AuditActor, ClientInfo};
use crate::audit::Outcome;
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::guard;
use crate::auth::service::{Identity, PreparedAccount};
use crate::auth::{Action, Resource, Role};
use crate::billing::entity::invoice;
use crate::billing::processor::{PaymentProcessor, PriceChange, ProcessorError};
use crate::crypto::{Encrypted, Keyring};
use crate::patients::entity::patient;
use crate::patients::service::{create as create_patient, NewPatient};
use crate::site::entity::membership_tier;
use crate::AppError;
use chrono::{DateTime, Months, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

mod changes;
mod enrollment;
mod overview;
mod standing;

pub use changes::*;
pub use enrollment::*;
pub use overview::*;
pub use standing::*;

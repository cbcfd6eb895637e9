//! The one door to protected data: ask the policy, audit the attempt, and hand back the
//! transaction the access must run in (P5, P9).
//!
//! ```ignore
//! let permit = guard::permit(db, clock.now(), &caller, Action::Read, resource, patient, "patient_profile.read").await?;
//! let row = patient::Entity::find_by_id(id).one(permit.txn()).await?;
//! permit.commit().await?;
//! ```
//! A denied attempt is recorded (in its own transaction) and answered with `Forbidden`. An
//! allowed one is recorded inside the returned transaction: if the audit row cannot be written
//! or the transaction does not commit, the caller gets an error instead of the data.

use super::policy::{can, Action, Actor, Resource};
use crate::audit::service::{self as audit, AuditActor, AuditEvent, ClientInfo};
use crate::audit::Outcome;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

/// The person making a request, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    /// A short, non-secret reference to the session.
    pub session_ref: Option<String>,
    pub client: ClientInfo,
}

impl Caller {
    pub fn audit_actor(&self) -> AuditActor {
        AuditActor {
            user_id: self.actor.user_id,
            role: self.actor.role,
            session_ref: self.session_ref.clone(),
        }
    }
}

/// An allowed, audited access in progress.
pub struct Permit {
    txn: DatabaseTransaction,
}

impl Permit {
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Commits the access together with its audit row.
    pub async fn commit(self) -> Result<(), AppError> {
        self.txn.commit().await.map_err(AppError::from)
    }
}

/// Decides and records `verb` by `caller` on `resource` (concerning patient `patient`).
pub async fn permit(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    action: Action,
    resource: Resource,
    patient: Option<String>,
    verb: &str,
) -> Result<Permit, AppError> {
    let allowed = can(&caller.actor, action, &resource);
    let event = AuditEvent {
        actor: Some(caller.audit_actor()),
        action: verb.to_owned(),
        resource_type: resource.kind().to_owned(),
        resource_id: resource_id(&resource),
        patient_id: patient,
        outcome: if allowed {
            Outcome::Allowed
        } else {
            Outcome::Denied
        },
        detail: None,
    };
    if !allowed {
        audit::record_alone(db, now, &caller.client, &event).await?;
        tracing::warn!(
            user = caller.actor.user_id,
            role = %caller.actor.role,
            verb,
            "access denied by policy"
        );
        return Err(AppError::Forbidden);
    }
    let txn = db.begin().await?;
    audit::record(&txn, now, &caller.client, &event).await?;
    Ok(Permit { txn })
}

/// Records an attempt on something that does not exist (as a denial: nothing was shown).
pub async fn record_missing(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    verb: &str,
    resource_type: &str,
    asked_for: &str,
) -> Result<(), AppError> {
    let mut event = audit::event(
        Some(caller.audit_actor()),
        verb,
        resource_type,
        Some(asked_for.chars().take(64).collect()),
        None,
        Outcome::Denied,
    );
    event.detail = Some("no such record".into());
    audit::record_alone(db, now, &caller.client, &event).await?;
    Ok(())
}

fn resource_id(resource: &Resource) -> Option<String> {
    match resource {
        Resource::PatientProfile { patient_id }
        | Resource::PatientChart { patient_id }
        | Resource::Appointments { patient_id } => Some(patient_id.to_string()),
        Resource::Account { user_id } => Some(user_id.to_string()),
        Resource::PatientDirectory
        | Resource::Agenda
        | Resource::Schedule
        | Resource::StaffDirectory
        | Resource::MembershipTiers
        | Resource::AuditLog => None,
    }
}

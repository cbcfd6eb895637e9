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

use super::model::Role;
use super::policy::{can, can_with, Action, Actor, Resource};
use crate::audit::service::{self as audit, AuditActor, AuditEvent, ClientInfo};
use crate::audit::Outcome;
use crate::crypto::AuditSeal;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

/// The person making a request, with where it came from, and the seal their accesses are
/// audited under (derived from the encryption keys: whoever writes to the database cannot
/// make one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    /// A short, non-secret reference to the session.
    pub session_ref: Option<String>,
    pub client: ClientInfo,
    pub seal: AuditSeal,
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

/// An allowed access in progress: its work runs in [`txn`](Self::txn), and its audit row is
/// written with it by [`commit`](Self::commit). Dropped without committing, neither the work
/// nor the row remains.
///
/// A change writes its rows in its own transaction. On PostgreSQL they are written last, just
/// before the commit, because appending to the audit chain locks its head row until the
/// transaction ends: taken at the start, that lock would make every audited write wait for the
/// whole of the one before it (bookings would run one at a time); taken at the end, it is held
/// for one statement. On SQLite, which has one writer at a time, a change writes its row first
/// (a transaction that read before it wrote could not become the writer once another had
/// committed).
///
/// A read writes none inside its transaction: its rows are written after it, before anything
/// read is handed back, together with the rows of the other reads finishing at the same time
/// (`audit::group`: one lock on the chain's head and one commit for all of them, which is what
/// lets chart reads pass the chain's one-commit-at-a-time ceiling). A read then takes no lock
/// while it reads, so pages that read health data do not queue behind each other for SQLite's
/// one write lock either.
pub struct Permit {
    txn: DatabaseTransaction,
    /// Rows still to write at commit.
    pending: Vec<AuditEvent>,
    at: DateTime<Utc>,
    client: ClientInfo,
    seal: AuditSeal,
    /// Reads: the rows are written after the read, on this connection (`audit::group`).
    after: Option<DatabaseConnection>,
}

impl Permit {
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Records `event` with this access as well (an agenda's one entry per patient shown).
    pub fn record_also(&mut self, event: AuditEvent) {
        self.pending.push(event);
    }

    /// Writes the audit rows not yet written and commits the access with them: both or
    /// neither (a read's data is not handed back unless its rows are written).
    pub async fn commit(self) -> Result<(), AppError> {
        let Permit {
            txn,
            pending,
            at,
            client,
            seal,
            after,
        } = self;
        let Some(db) = after else {
            for event in &pending {
                audit::record(&txn, &seal, at, &client, event).await?;
            }
            return txn.commit().await.map_err(AppError::from);
        };
        txn.commit().await?;
        crate::audit::group::append(&db, seal, at, client, pending)
            .await
            .map_err(AppError::from)
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
    let event = decide(db, now, caller, action, resource, patient, verb).await?;
    let txn = db.begin().await?;
    let sqlite = db.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let (pending, after) = match (sqlite, action) {
        (_, Action::Read) => (vec![event], Some(db.clone())),
        (true, Action::Write) => {
            audit::record(&txn, &caller.seal, now, &caller.client, &event).await?;
            (Vec::new(), None)
        }
        (false, Action::Write) => (vec![event], None),
    };
    Ok(Permit {
        txn,
        pending,
        at: now,
        client: caller.client.clone(),
        seal: caller.seal.clone(),
        after,
    })
}

/// An allowed change that waits on an outside service (a payment processor) between the
/// decision and the write. Its audit row is written with the change, after it, in the change's
/// transaction ([`record_with`](Self::record_with)), or as failed, with why, when the change
/// does not happen ([`record_failed`](Self::record_failed)): the log never says a change was
/// made that then failed.
#[must_use = "an approval must be recorded, with the change or as failed"]
pub struct Approval {
    event: AuditEvent,
    at: DateTime<Utc>,
    client: ClientInfo,
    seal: AuditSeal,
}

impl Approval {
    /// Records the change as made, in `txn` (the change's own, after its writes).
    pub async fn record_with(self, txn: &DatabaseTransaction) -> Result<(), AppError> {
        audit::record(txn, &self.seal, self.at, &self.client, &self.event).await?;
        Ok(())
    }

    /// Records the change as made when it was made elsewhere (the processor refunded).
    pub async fn record_done(self, db: &DatabaseConnection) -> Result<(), AppError> {
        audit::record_alone(db, &self.seal, self.at, &self.client, &self.event).await?;
        Ok(())
    }

    /// Records that the change did not happen, and why.
    pub async fn record_failed(
        mut self,
        db: &DatabaseConnection,
        why: &AppError,
    ) -> Result<(), AppError> {
        self.event.outcome = Outcome::Failed;
        self.event.detail = Some(why.to_string().chars().take(200).collect());
        audit::record_alone(db, &self.seal, self.at, &self.client, &self.event).await?;
        Ok(())
    }
}

/// Decides `verb` by `caller` on `resource` now, and leaves the allowed row to be written with
/// the change ([`Approval`]); a denial is recorded at once and answered `Forbidden`.
pub async fn approve(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    action: Action,
    resource: Resource,
    patient: Option<String>,
    verb: &str,
) -> Result<Approval, AppError> {
    let event = decide(db, now, caller, action, resource, patient, verb).await?;
    Ok(Approval {
        event,
        at: now,
        client: caller.client.clone(),
        seal: caller.seal.clone(),
    })
}

/// Asks the policy; records a denial (and answers `Forbidden`), or returns the allowed row to
/// write.
async fn decide(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    action: Action,
    resource: Resource,
    patient: Option<String>,
    verb: &str,
) -> Result<AuditEvent, AppError> {
    let mut allowed = can(&caller.actor, action, &resource);
    let mut held = None;
    // Beyond the role: a grant this person holds for this patient now (staff the physician let
    // in, the administrator's emergency read). Looked up only when the role alone says no.
    if let (false, Role::Staff | Role::Admin, Some(patient_id)) =
        (allowed, caller.actor.role, resource.patient())
    {
        held = crate::grants::lookup::active(db, caller.actor.user_id, patient_id, now).await?;
        if let Some((grant, _)) = &held {
            allowed = can_with(&caller.actor, action, &resource, Some(*grant));
        }
    }
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
        // Which grant let them in (the physician reads it in the log).
        detail: held
            .filter(|_| allowed)
            .map(|(grant, id)| format!("{} grant {id}", grant.as_str())),
    };
    if !allowed {
        audit::record_alone(db, &caller.seal, now, &caller.client, &event).await?;
        tracing::warn!(
            user = caller.actor.user_id,
            role = %caller.actor.role,
            verb,
            "access denied by policy"
        );
        return Err(AppError::Forbidden);
    }
    Ok(event)
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
    audit::record_alone(db, &caller.seal, now, &caller.client, &event).await?;
    Ok(())
}

fn resource_id(resource: &Resource) -> Option<String> {
    match resource {
        Resource::PatientProfile { patient_id }
        | Resource::PatientChart { patient_id }
        | Resource::PatientHistory { patient_id }
        | Resource::Appointments { patient_id }
        | Resource::Membership { patient_id }
        | Resource::AccessGrants { patient_id }
        | Resource::EmergencyAccess { patient_id }
        | Resource::ShareLinks { patient_id }
        | Resource::Messages { patient_id } => Some(patient_id.to_string()),
        Resource::Account { user_id } => Some(user_id.to_string()),
        Resource::PatientDirectory
        | Resource::Billing
        | Resource::Agenda
        | Resource::Schedule
        | Resource::StaffDirectory
        | Resource::MembershipTiers
        | Resource::AuditLog
        | Resource::EmergencyReads
        | Resource::Inbox
        | Resource::Templates => None,
    }
}

//! Patient records: created sealed, read and changed only through the guard (audited).

use super::entity::patient;
use super::model::{Details, PatientListing, PatientProfile};
use crate::auth::context::SignedIn;
use crate::auth::guard::{self, Caller};
use crate::auth::{Action, Resource, Role};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::domain::PhoneNumber;
use crate::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

fn context<'a>(column: &'a str, public_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        table: "patient",
        column,
        row: public_id,
    }
}

/// What a new patient record holds.
#[derive(Debug, Clone)]
pub struct NewPatient {
    pub user_id: Option<i32>,
    pub legal_name: String,
    pub date_of_birth: NaiveDate,
    pub phone: Option<PhoneNumber>,
}

/// Stores a new patient, sealing the PHI columns. Runs inside the caller's transaction
/// (enrollment creates the account and the patient together).
pub async fn create(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    new: &NewPatient,
    now: DateTime<Utc>,
) -> Result<patient::Model, AppError> {
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let seal_err = |e: crate::crypto::CryptoError| AppError::internal(format_args!("sealing: {e}"));
    let date_of_birth = Encrypted::seal(
        keyring,
        &context("date_of_birth", &public_id),
        &new.date_of_birth,
    )
    .map_err(seal_err)?;
    let phone = match &new.phone {
        Some(phone) => Some(
            Encrypted::seal(
                keyring,
                &context("phone", &public_id),
                &phone.as_str().to_owned(),
            )
            .map_err(seal_err)?,
        ),
        None => None,
    };
    let sealed_name = Encrypted::seal(keyring, &context("legal_name", &public_id), &new.legal_name)
        .map_err(seal_err)?;
    Ok(patient::ActiveModel {
        public_id: Set(public_id),
        user_id: Set(new.user_id),
        legal_name: Set(String::new()),
        sealed_legal_name: Set(Some(sealed_name)),
        date_of_birth: Set(date_of_birth),
        phone: Set(phone),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// A patient's legal name, opened (a row from before names were sealed has it in plain text
/// until the server's next start seals it).
pub fn legal_name(keyring: &Keyring, row: &patient::Model) -> Result<String, AppError> {
    match &row.sealed_legal_name {
        Some(sealed) => sealed
            .open(keyring, &context("legal_name", &row.public_id))
            .map_err(|e| {
                AppError::internal(format_args!("opening patient {}: {e}", row.public_id))
            }),
        None => Ok(row.legal_name.clone()),
    }
}

/// Seals the names of patients written before names were sealed, and empties their plain
/// text. Returns how many it sealed.
pub async fn seal_old_names(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
) -> Result<u64, AppError> {
    let old = patient::Entity::find()
        .filter(patient::Column::SealedLegalName.is_null())
        .all(conn)
        .await?;
    let mut sealed = 0;
    for row in old {
        let name = Encrypted::seal(
            keyring,
            &context("legal_name", &row.public_id),
            &row.legal_name,
        )
        .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
        let mut active: patient::ActiveModel = row.into();
        active.sealed_legal_name = Set(Some(name));
        active.legal_name = Set(String::new());
        active.update(conn).await?;
        sealed += 1;
    }
    Ok(sealed)
}

pub(crate) async fn find(
    db: &DatabaseConnection,
    public_id: &str,
) -> Result<Option<patient::Model>, AppError> {
    Ok(patient::Entity::find()
        .filter(patient::Column::PublicId.eq(public_id))
        .one(db)
        .await?)
}

/// An unknown id is "not found" to the practice and "forbidden" to a patient, who must not
/// learn which ids exist.
async fn missing(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    verb: &str,
    public_id: &str,
) -> AppError {
    if let Err(e) = guard::record_missing(db, now, caller, verb, "patient_profile", public_id).await
    {
        return e;
    }
    match caller.actor.role {
        Role::Patient | Role::Admin => AppError::Forbidden,
        Role::Physician | Role::Staff => AppError::NotFound("That patient".into()),
    }
}

/// Patient `row`'s profile, opened (for a read already permitted and audited).
pub(crate) fn open_profile(
    keyring: &Keyring,
    row: &patient::Model,
) -> Result<PatientProfile, AppError> {
    let open_err = |e: crate::crypto::CryptoError| {
        AppError::internal(format_args!("opening patient {}: {e}", row.public_id))
    };
    let date_of_birth = row
        .date_of_birth
        .open(keyring, &context("date_of_birth", &row.public_id))
        .map_err(open_err)?;
    let phone = match &row.phone {
        Some(sealed) => Some(
            sealed
                .open(keyring, &context("phone", &row.public_id))
                .map_err(open_err)?,
        ),
        None => None,
    };
    let preferred_name = match &row.preferred_name {
        Some(sealed) => Some(
            sealed
                .open(keyring, &context("preferred_name", &row.public_id))
                .map_err(open_err)?,
        ),
        None => None,
    };
    Ok(PatientProfile {
        public_id: row.public_id.clone(),
        legal_name: legal_name(keyring, row)?,
        date_of_birth,
        phone,
        preferred_name,
    })
}

/// A patient's row and the caller's permit for an action on one of their resources (refused
/// and audited when the policy says no; an unknown patient is audited as such).
pub(crate) struct OpenPatient {
    pub row: patient::Model,
    pub permit: guard::Permit,
}

/// Finds patient `public_id` and asks the guard for `action` on `resource` of theirs.
pub(crate) async fn open_patient(
    me: &SignedIn,
    public_id: &str,
    action: Action,
    resource: impl FnOnce(i32) -> Resource,
    verb: &'static str,
) -> Result<OpenPatient, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let Some(row) = find(db, public_id).await? else {
        return Err(missing(db, now, caller, verb, public_id).await);
    };
    let resource = resource(row.id);
    let at = Some(row.public_id.clone());
    let permit = guard::permit(db, now, caller, action, resource, at, verb).await?;
    Ok(OpenPatient { row, permit })
}

/// Asks the guard for `action` on `resource` of the patient whose row id is `patient_id`: for
/// a row of theirs already found (a share link, an access grant), read once.
pub(crate) async fn open_patient_by_id(
    me: &SignedIn,
    patient_id: i32,
    action: Action,
    resource: impl FnOnce(i32) -> Resource,
    verb: &'static str,
) -> Result<OpenPatient, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let row = patient::Entity::find_by_id(patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(format_args!("{verb}: a row without its patient")))?;
    let resource = resource(row.id);
    let at = Some(row.public_id.clone());
    let permit = guard::permit(db, now, caller, action, resource, at, verb).await?;
    Ok(OpenPatient { row, permit })
}

fn profile(patient_id: i32) -> Resource {
    Resource::PatientProfile { patient_id }
}

/// Reads a patient's demographics: allowed by the policy, audited with the read.
pub async fn read_profile(me: &SignedIn, public_id: &str) -> Result<PatientProfile, AppError> {
    let OpenPatient { row, permit } =
        open_patient(me, public_id, Action::Read, profile, "patient_profile.read").await?;
    // Read again inside the audited transaction: what is shown is what was logged.
    let row = patient::Entity::find_by_id(row.id)
        .one(permit.txn())
        .await?
        .ok_or_else(|| AppError::NotFound("That patient".into()))?;
    let profile = open_profile(me.keyring(), &row)?;
    permit.commit().await?;
    Ok(profile)
}

/// Changes a patient's details (the patient their own; the physician and staff anyone's):
/// allowed by the policy, audited, sealed.
pub async fn update_details(
    me: &SignedIn,
    public_id: &str,
    details: &Details,
) -> Result<(), AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        public_id,
        Action::Write,
        profile,
        "patient_profile.update",
    )
    .await?;
    let (keyring, now) = (me.keyring(), me.now());
    let seal = |column: &str, value: &str| {
        Encrypted::seal(keyring, &context(column, &row.public_id), &value.to_owned())
            .map_err(|e| AppError::internal(format_args!("sealing: {e}")))
    };
    let phone = match &details.phone {
        Some(phone) => Some(seal("phone", phone.as_str())?),
        None => None,
    };
    let preferred_name = match &details.preferred_name {
        Some(name) => Some(seal("preferred_name", name.as_str())?),
        None => None,
    };
    let mut active: patient::ActiveModel = row.clone().into();
    active.phone = Set(phone);
    active.preferred_name = Set(preferred_name);
    active.updated_at = Set(now);
    active.update(permit.txn()).await?;
    permit.commit().await
}

/// The physician's and staff's list of patients (names only), audited as one read, sorted by
/// name and narrowed to those whose name holds every word of `query` (any case). Names are
/// sealed, so they are opened and then sorted and matched here: a practice's few thousand
/// patients take milliseconds, and no index of names rests on disk (DECISIONS #55).
pub async fn directory(me: &SignedIn, query: &str) -> Result<Vec<PatientListing>, AppError> {
    let keyring = me.keyring();
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Read,
        Resource::PatientDirectory,
        None,
        "patient_directory.read",
    )
    .await?;
    let rows = patient::Entity::find().all(permit.txn()).await?;
    permit.commit().await?;
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut listed = Vec::with_capacity(rows.len());
    for row in &rows {
        let name = legal_name(keyring, row)?;
        let lower = name.to_lowercase();
        if words.iter().all(|word| lower.contains(word.as_str())) {
            listed.push((
                lower,
                PatientListing {
                    public_id: row.public_id.clone(),
                    legal_name: name,
                },
            ));
        }
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(listed.into_iter().map(|(_, listing)| listing).collect())
}

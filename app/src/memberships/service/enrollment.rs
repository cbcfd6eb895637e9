//! Joining: the account, the patient, the sealed profile, the pending membership, the consents,
//! the dependents and the confirmation email, all in one transaction (P1).

use super::*;

/// The documents a new member consents to.
pub mod documents {
    pub const MEMBERSHIP_AGREEMENT: &str = "membership_agreement";
    pub const PRIVACY_NOTICE: &str = "privacy_notice";
}

/// Where the consent was given, and the versions the visitor was shown.
#[derive(Debug, Clone, Default)]
pub struct ConsentContext {
    pub client: ClientInfo,
    pub membership_agreement_version: String,
    pub privacy_notice_version: String,
}

/// The steps of an enrollment, in order. The P1 test makes any one of them fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollStep {
    Account,
    Patient,
    Profile,
    Membership,
    Consents,
    Dependents,
    ConfirmationEmail,
    Audit,
}

impl EnrollStep {
    pub const ALL: [EnrollStep; 8] = [
        EnrollStep::Account,
        EnrollStep::Patient,
        EnrollStep::Profile,
        EnrollStep::Membership,
        EnrollStep::Consents,
        EnrollStep::Dependents,
        EnrollStep::ConfirmationEmail,
        EnrollStep::Audit,
    ];
}

/// What enrollment made.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub user: user_account::Model,
    pub patient_public_id: String,
    pub membership_public_id: String,
    /// The confirmation email's job (to run at once).
    pub confirmation_job: i32,
}

pub(super) fn seal_err(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing: {e}"))
}

/// Enrolls a visitor. `checkpoint` is called after each step; an error from it (or from any
/// step) rolls the whole enrollment back. Production passes `|_| Ok(())`.
pub async fn enroll(
    db: &DatabaseConnection,
    keyring: &Keyring,
    account: &PreparedAccount,
    enrollment: &Enrollment,
    consent: &ConsentContext,
    now: DateTime<Utc>,
    mut checkpoint: impl FnMut(EnrollStep) -> Result<(), AppError>,
) -> Result<Enrolled, AppError> {
    let tier = membership_tier::Entity::find()
        .filter(membership_tier::Column::Slug.eq(enrollment.tier_slug.as_str()))
        .filter(membership_tier::Column::Active.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("That membership".into()))?;
    let txn = db.begin().await?;
    let user = Identity::insert_account(&txn, keyring, account, now).await?;
    checkpoint(EnrollStep::Account)?;
    let patient = create_patient(
        &txn,
        keyring,
        &NewPatient {
            user_id: Some(user.id),
            legal_name: enrollment.legal_name.clone(),
            date_of_birth: enrollment.date_of_birth,
            phone: Some(enrollment.phone.clone()),
        },
        now,
    )
    .await?;
    checkpoint(EnrollStep::Patient)?;
    patient_profile::ActiveModel {
        patient_id: Set(patient.id),
        address: Set(Encrypted::seal(
            keyring,
            &crate::memberships::profile::profile_context("address", &patient.public_id),
            &enrollment.address,
        )
        .map_err(seal_err)?),
        emergency_contact: Set(Encrypted::seal(
            keyring,
            &crate::memberships::profile::profile_context("emergency_contact", &patient.public_id),
            &enrollment.emergency,
        )
        .map_err(seal_err)?),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    checkpoint(EnrollStep::Profile)?;
    let membership = membership::ActiveModel {
        public_id: Set(uuid::Uuid::new_v4().simple().to_string()),
        patient_id: Set(patient.id),
        tier_id: Set(tier.id),
        billing_period: Set(enrollment.period),
        status: Set(MembershipStatus::Pending),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    checkpoint(EnrollStep::Membership)?;
    for (document, version) in [
        (
            documents::MEMBERSHIP_AGREEMENT,
            &consent.membership_agreement_version,
        ),
        (documents::PRIVACY_NOTICE, &consent.privacy_notice_version),
    ] {
        membership_consent::ActiveModel {
            membership_id: Set(membership.id),
            document: Set(document.to_owned()),
            version: Set(version.chars().take(32).collect()),
            accepted_at: Set(now),
            ip: Set(consent
                .client
                .ip
                .as_deref()
                .map(|ip| ip.chars().take(64).collect())),
            user_agent: Set(consent
                .client
                .user_agent
                .as_deref()
                .map(|ua| ua.chars().take(255).collect())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    checkpoint(EnrollStep::Consents)?;
    for dependent in &enrollment.dependents {
        let record = create_patient(
            &txn,
            keyring,
            &NewPatient {
                user_id: None,
                legal_name: dependent.legal_name.clone(),
                date_of_birth: dependent.date_of_birth,
                phone: None,
            },
            now,
        )
        .await?;
        household_member::ActiveModel {
            membership_id: Set(membership.id),
            patient_id: Set(record.id),
            relationship: Set(dependent.relationship.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    checkpoint(EnrollStep::Dependents)?;
    let confirmation_job = notices::enqueue(
        &txn,
        &MembershipEmail::ConfirmEmail { user_id: user.id },
        now,
    )
    .await?;
    checkpoint(EnrollStep::ConfirmationEmail)?;
    let mut event = audit::event(
        Some(AuditActor {
            user_id: user.id,
            role: Role::Patient,
            session_ref: None,
        }),
        "membership.enroll",
        "membership",
        Some(membership.public_id.clone()),
        Some(patient.public_id.clone()),
        Outcome::Allowed,
    );
    event.detail = Some(format!(
        "{} {}, {} dependents",
        tier.slug,
        enrollment.period.as_str(),
        enrollment.dependents.len()
    ));
    audit::record(&txn, keyring.audit_seal(), now, &consent.client, &event).await?;
    checkpoint(EnrollStep::Audit)?;
    txn.commit().await?;
    Ok(Enrolled {
        user,
        patient_public_id: patient.public_id,
        membership_public_id: membership.public_id,
        confirmation_job,
    })
}

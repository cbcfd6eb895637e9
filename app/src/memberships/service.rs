//! Enrollment and where a membership stands.
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
use crate::auth::entity::user_account;
use crate::auth::guard::{self, Caller};
use crate::auth::service::{Identity, PreparedAccount};
use crate::auth::{Action, Resource, Role};
use crate::billing::entity::invoice;
use crate::billing::processor::{PaymentProcessor, PriceChange, ProcessorError};
use crate::crypto::{Encrypted, FieldContext, Keyring};
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

fn seal_err(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing: {e}"))
}

fn profile_context<'a>(column: &'a str, patient_public_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        table: "patient_profile",
        column,
        row: patient_public_id,
    }
}

/// A member's postal address, opened (for their invoices).
pub async fn address_of(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient: &patient::Model,
) -> Result<Option<super::model::PostalAddress>, AppError> {
    let Some(profile) = patient_profile::Entity::find()
        .filter(patient_profile::Column::PatientId.eq(patient.id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    profile
        .address
        .open(keyring, &profile_context("address", &patient.public_id))
        .map(Some)
        .map_err(|e| AppError::internal(format_args!("opening an address: {e}")))
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
            &profile_context("address", &patient.public_id),
            &enrollment.address,
        )
        .map_err(seal_err)?),
        emergency_contact: Set(Encrypted::seal(
            keyring,
            &profile_context("emergency_contact", &patient.public_id),
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

/// The membership with this public id.
pub async fn by_ref(
    conn: &impl ConnectionTrait,
    public_id: &str,
) -> Result<Option<membership::Model>, AppError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::PublicId.eq(public_id))
        .one(conn)
        .await?)
}

/// The membership paid by this processor subscription.
pub async fn by_subscription(
    conn: &impl ConnectionTrait,
    subscription_id: &str,
) -> Result<Option<membership::Model>, AppError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::ProcessorSubscriptionId.eq(subscription_id))
        .one(conn)
        .await?)
}

/// The membership of a signed-in patient's own record.
pub async fn of_user(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<(patient::Model, membership::Model)>, AppError> {
    let Some(patient) = patient::Entity::find()
        .filter(patient::Column::UserId.eq(user_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let membership = membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient.id))
        .one(conn)
        .await?;
    Ok(membership.map(|m| (patient, m)))
}

/// Where `m` stands.
pub fn status_of(m: &membership::Model) -> MembershipStatus {
    m.status
}

async fn email_confirmed(conn: &impl ConnectionTrait, patient_id: i32) -> Result<bool, AppError> {
    let Some(patient) = patient::Entity::find_by_id(patient_id).one(conn).await? else {
        return Ok(false);
    };
    let Some(user_id) = patient.user_id else {
        return Ok(false);
    };
    Ok(user_account::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .is_some_and(|u| u.email_verified_at.is_some()))
}

/// Keeps the processor's customer and subscription ids (from a completed checkout).
pub async fn link_processor(
    conn: &impl ConnectionTrait,
    m: &membership::Model,
    customer_id: Option<&str>,
    subscription_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<membership::Model, AppError> {
    let mut active: membership::ActiveModel = m.clone().into();
    if let Some(customer) = customer_id {
        active.processor_customer_id = Set(Some(customer.to_owned()));
    }
    if let Some(subscription) = subscription_id {
        active.processor_subscription_id = Set(Some(subscription.to_owned()));
    }
    active.updated_at = Set(now);
    Ok(active.update(conn).await?)
}

/// What a change did, for the caller's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Became(MembershipStatus),
}

/// Makes the membership active if it is confirmed and paid, once (the welcome email goes out
/// on the first activation, and the commitment period starts then).
async fn settle(
    conn: &impl ConnectionTrait,
    m: membership::Model,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let status = status_of(&m);
    let paid = m.current_period_end.is_some_and(|end| end > now);
    if status == MembershipStatus::Cancelled || status == MembershipStatus::Active || !paid {
        return Ok(Change::Unchanged);
    }
    if !email_confirmed(conn, m.patient_id).await? {
        return Ok(Change::Unchanged);
    }
    let first = m.activated_at.is_none();
    let commitment = if first {
        let months = membership_tier::Entity::find_by_id(m.tier_id)
            .one(conn)
            .await?
            .map_or(0, |t| t.commitment_months);
        u32::try_from(months)
            .ok()
            .filter(|m| *m > 0)
            .and_then(|months| now.checked_add_months(Months::new(months)))
    } else {
        m.commitment_ends_at
    };
    let id = m.id;
    let public_id = m.public_id.clone();
    let mut active: membership::ActiveModel = m.into();
    active.status = Set(MembershipStatus::Active);
    active.suspended_at = Set(None);
    if first {
        active.activated_at = Set(Some(now));
        active.commitment_ends_at = Set(commitment);
    }
    active.updated_at = Set(now);
    active.update(conn).await?;
    if first {
        notices::enqueue(
            conn,
            &MembershipEmail::Welcome {
                membership: public_id,
            },
            now,
        )
        .await?;
    }
    tracing::info!(membership = id, first, "membership active");
    Ok(Change::Became(MembershipStatus::Active))
}

/// A payment covered `period_end`: the membership is paid through the later of that and what
/// it had, and becomes active if its email is confirmed.
pub async fn record_paid_period(
    conn: &impl ConnectionTrait,
    m: &membership::Model,
    period_start: Option<DateTime<Utc>>,
    period_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let mut active: membership::ActiveModel = m.clone().into();
    if m.current_period_end.is_none_or(|end| period_end > end) {
        active.current_period_end = Set(Some(period_end));
        active.current_period_start = Set(period_start.or(Some(now)));
    }
    // A move planned for the end of the period happens with the first payment after it.
    if let (Some(tier), Some(at)) = (m.pending_tier_id, m.change_at) {
        if period_start.is_some_and(|start| start >= at - chrono::Duration::minutes(1)) {
            active.tier_id = Set(tier);
            if let Some(period) = m.pending_billing_period {
                active.billing_period = Set(period);
            }
            active.pending_tier_id = Set(None);
            active.pending_billing_period = Set(None);
            active.change_at = Set(None);
        }
    }
    if matches!(
        status_of(m),
        MembershipStatus::PastDue | MembershipStatus::Suspended
    ) {
        // Paid again: back to "pending" for a moment, and `settle` decides.
        active.status = Set(MembershipStatus::Pending);
    }
    active.updated_at = Set(now);
    let updated = active.update(conn).await?;
    settle(conn, updated, now).await
}

/// The email was confirmed: activate the membership if it is paid.
pub async fn after_email_confirmed(
    db: &DatabaseConnection,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let txn = db.begin().await?;
    let Some((_, m)) = of_user(&txn, user_id).await? else {
        return Ok(Change::Unchanged);
    };
    let change = settle(&txn, m, now).await?;
    txn.commit().await?;
    Ok(change)
}

/// Moves an active membership to `status` (past due, suspended, cancelled). A cancelled
/// membership stays cancelled.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    m: &membership::Model,
    status: MembershipStatus,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let current = status_of(m);
    if current == status || current == MembershipStatus::Cancelled {
        return Ok(Change::Unchanged);
    }
    let mut active: membership::ActiveModel = m.clone().into();
    active.status = Set(status);
    match status {
        MembershipStatus::Suspended => active.suspended_at = Set(Some(now)),
        MembershipStatus::Cancelled => active.cancelled_at = Set(Some(now)),
        _ => {}
    }
    active.updated_at = Set(now);
    active.update(conn).await?;
    Ok(Change::Became(status))
}

/// A day in the practice's calendar, as the portal writes it.
fn day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%B %-d, %Y").to_string()
}

/// The signed-in patient's membership, for the portal (audited read).
pub async fn overview(
    db: &DatabaseConnection,
    keyring: &crate::crypto::Keyring,
    now: DateTime<Utc>,
    caller: &Caller,
    time_zone: Tz,
) -> Result<Option<MembershipOverview>, AppError> {
    let Some(patient_id) = caller.actor.patient_id else {
        return Ok(None);
    };
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Membership { patient_id },
        None,
        "membership.read",
    )
    .await?;
    let txn = permit.txn();
    let Some(m) = membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient_id))
        .one(txn)
        .await?
    else {
        permit.commit().await?;
        return Ok(None);
    };
    let tier = membership_tier::Entity::find_by_id(m.tier_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
    let user = match caller.actor.role {
        Role::Patient => {
            user_account::Entity::find_by_id(caller.actor.user_id)
                .one(txn)
                .await?
        }
        _ => None,
    };
    let dependents = household_member::Entity::find()
        .filter(household_member::Column::MembershipId.eq(m.id))
        .all(txn)
        .await?;
    let mut names = Vec::new();
    for member in dependents {
        if let Some(p) = patient::Entity::find_by_id(member.patient_id)
            .one(txn)
            .await?
        {
            names.push(crate::patients::service::legal_name(keyring, &p)?);
        }
    }
    let invoices = invoice::Entity::find()
        .filter(invoice::Column::MembershipId.eq(m.id))
        .order_by_desc(invoice::Column::IssuedAt)
        .all(txn)
        .await?;
    let next_retry = crate::billing::service::next_retry(txn, &invoices, now).await?;
    let lines = crate::billing::entity::invoice_line::Entity::find()
        .filter(
            crate::billing::entity::invoice_line::Column::InvoiceId
                .is_in(invoices.iter().map(|i| i.id).collect::<Vec<_>>()),
        )
        .all(txn)
        .await?;
    let period = m.billing_period;
    let status = status_of(&m);
    let tiers = membership_tier::Entity::find()
        .filter(membership_tier::Column::Active.eq(true))
        .order_by_asc(membership_tier::Column::SortOrder)
        .all(txn)
        .await?;
    let changeable = status == MembershipStatus::Active && m.cancel_at.is_none();
    let options = match (changeable, m.current_period_start, m.current_period_end) {
        (true, Some(start), Some(end)) => tiers
            .iter()
            .flat_map(|t| {
                [BillingPeriod::Monthly, BillingPeriod::Annual]
                    .into_iter()
                    .map(move |p| (t, p))
            })
            .filter(|(t, p)| !(t.id == tier.id && *p == period))
            .filter(|(t, _)| Some(t.id) != m.pending_tier_id)
            .map(|(t, p)| {
                let (old, new) = (price_of(&tier, period), price_of(t, p));
                PlanOption {
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                    period: p,
                    price_cents: new,
                    change: plan_change(
                        old,
                        period,
                        new,
                        p,
                        proration_cents(old, new, start, end, now),
                    ),
                    starts_on: day(end, time_zone),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let pending_change = match (m.pending_tier_id, m.change_at) {
        (Some(id), Some(at)) => tiers
            .iter()
            .find(|t| t.id == id)
            .map(|t| (t.name.clone(), day(at, time_zone))),
        _ => None,
    };
    let paid = m.current_period_end.is_some_and(|end| end > now);
    let overview = MembershipOverview {
        public_id: m.public_id.clone(),
        tier_name: tier.name.clone(),
        period,
        price_cents: price_of(&tier, period),
        status,
        email_confirmed: user.as_ref().is_some_and(|u| u.email_verified_at.is_some()),
        email: user.map(|u| u.email).unwrap_or_default(),
        paid_through: m.current_period_end.map(|end| day(end, time_zone)),
        commitment_ends: m.commitment_ends_at.map(|end| day(end, time_zone)),
        dependents: names,
        payment_due: match status {
            MembershipStatus::Pending => !paid,
            MembershipStatus::PastDue | MembershipStatus::Suspended => true,
            MembershipStatus::Active | MembershipStatus::Cancelled => false,
        },
        next_retry: next_retry.map(|at| day(at, time_zone)),
        options,
        pending_change,
        would_end_on: (status == MembershipStatus::Active && m.cancel_at.is_none())
            .then(|| ends_if_cancelled(&m, now).map(|at| day(at, time_zone)))
            .flatten(),
        ends_on: m.cancel_at.map(|at| day(at, time_zone)),
        form_key: uuid::Uuid::new_v4().simple().to_string(),
        invoices: invoices
            .iter()
            .map(|i| {
                // The membership line, then any visit fees billed with it, each with its amount.
                let mut own: Vec<_> = lines.iter().filter(|l| l.invoice_id == i.id).collect();
                own.sort_by_key(|l| l.id);
                let extras: Vec<String> = own
                    .iter()
                    .skip(1)
                    .filter(|l| l.kind == "visit_fee" || l.kind == "late_fee")
                    .map(|l| {
                        format!(
                            "{} ({})",
                            l.description,
                            crate::site::model::format_usd(l.amount_cents)
                        )
                    })
                    .collect();
                let described = own.first().map(|l| {
                    if extras.is_empty() {
                        l.description.clone()
                    } else {
                        format!("{}. Also: {}", l.description, extras.join("; "))
                    }
                });
                crate::billing::service::summary(i, described.as_deref(), time_zone)
            })
            .collect(),
    };
    permit.commit().await?;
    Ok(Some(overview))
}

/// A tier's price for `period`, in cents.
pub fn price_of(tier: &membership_tier::Model, period: BillingPeriod) -> i64 {
    period.pick(tier.monthly_price_cents, tier.annual_price_cents)
}

/// The day a membership cancelled now ends: the end of the paid period, and never before the
/// commitment ends (the member is billed as usual until then).
pub fn ends_if_cancelled(m: &membership::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let paid_through = m.current_period_end?;
    Some(match m.commitment_ends_at {
        Some(commitment) if commitment > paid_through && commitment > now => {
            // Renewals continue to the period that covers the commitment's end. A period
            // ending on the commitment's last day covers it (the processor counts whole
            // seconds; the commitment was set to the microsecond).
            let mut end = paid_through;
            let months = m.billing_period.months();
            while end < commitment - chrono::Duration::days(1) {
                end = end.checked_add_months(Months::new(months))?;
            }
            end
        }
        _ => paid_through,
    })
}

fn processor_error(e: ProcessorError) -> AppError {
    match e {
        ProcessorError::Declined(_) => MembershipRefusal::CardDeclined.into(),
        other => AppError::internal(other),
    }
}

/// The caller's own active membership, for a change: the access is decided now and audited
/// with the change ([`apply_audited`]), after the processor has agreed, so the log never says a
/// change was made that then failed.
async fn own_active(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    verb: &str,
) -> Result<(guard::Approval, membership::Model, membership_tier::Model), AppError> {
    let patient_id = caller.actor.patient_id.ok_or(AppError::Forbidden)?;
    let approval = guard::approve(
        db,
        now,
        caller,
        Action::Write,
        Resource::Membership { patient_id },
        None,
        verb,
    )
    .await?;
    let found = async {
        let m = membership::Entity::find()
            .filter(membership::Column::PatientId.eq(patient_id))
            .one(db)
            .await?
            .ok_or_else(|| AppError::NotFound("Your membership".into()))?;
        if status_of(&m) != MembershipStatus::Active {
            return Err(MembershipRefusal::NotActive.into());
        }
        let tier = membership_tier::Entity::find_by_id(m.tier_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
        Ok((m, tier))
    }
    .await;
    match found {
        Ok((m, tier)) => Ok((approval, m, tier)),
        Err(error) => {
            approval.record_failed(db, &error).await?;
            Err(error)
        }
    }
}

/// Writes a prepared change of a membership and its audit row, after it, in one transaction;
/// a change that failed before this (the processor refused, a rule said no) is audited as
/// failed, with why, and its error returned.
async fn apply_audited<R>(
    db: &DatabaseConnection,
    approval: guard::Approval,
    prepared: Result<(Option<membership::ActiveModel>, R), AppError>,
) -> Result<R, AppError> {
    match prepared {
        Ok((change, result)) => {
            let txn = db.begin().await?;
            if let Some(change) = change {
                change.update(&txn).await?;
            }
            approval.record_with(&txn).await?;
            txn.commit().await?;
            Ok(result)
        }
        Err(error) => {
            approval.record_failed(db, &error).await?;
            Err(error)
        }
    }
}

/// Moves the caller's membership to `tier_slug` billed `period`: a dearer one now (the
/// difference for the rest of the period charged today), anything else at the end of the paid
/// period. The processor is asked first; Bedside records the change only once it agreed.
pub async fn change_plan(
    db: &DatabaseConnection,
    processor: &dyn PaymentProcessor,
    caller: &Caller,
    tier_slug: &str,
    period: BillingPeriod,
    form_key: &str,
    now: DateTime<Utc>,
) -> Result<PlanChange, AppError> {
    let (approval, m, current) = own_active(db, now, caller, "membership.change").await?;
    let prepared = prepare_plan_change(
        db, processor, &m, &current, tier_slug, period, form_key, now,
    )
    .await;
    apply_audited(db, approval, prepared).await
}

/// The processor's agreement to a plan change, and the change to write.
#[allow(clippy::too_many_arguments)]
async fn prepare_plan_change(
    db: &DatabaseConnection,
    processor: &dyn PaymentProcessor,
    m: &membership::Model,
    current: &membership_tier::Model,
    tier_slug: &str,
    period: BillingPeriod,
    form_key: &str,
    now: DateTime<Utc>,
) -> Result<(Option<membership::ActiveModel>, PlanChange), AppError> {
    let target = membership_tier::Entity::find()
        .filter(membership_tier::Column::Slug.eq(tier_slug))
        .filter(membership_tier::Column::Active.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("That membership".into()))?;
    let current_period = m.billing_period;
    if target.id == current.id && period == current_period {
        return Err(MembershipRefusal::AlreadyYours.into());
    }
    let (Some(start), Some(end), Some(subscription)) = (
        m.current_period_start,
        m.current_period_end,
        m.processor_subscription_id.clone(),
    ) else {
        return Err(MembershipRefusal::BilledOutside.into());
    };
    let (old, new) = (price_of(current, current_period), price_of(&target, period));
    let change = plan_change(
        old,
        current_period,
        new,
        period,
        proration_cents(old, new, start, end, now),
    );
    processor
        .change_price(&PriceChange {
            subscription_id: subscription,
            amount_cents: new,
            period,
            description: format!("{} membership, billed {}", target.name, period.billed()),
            prorate_now: matches!(change, PlanChange::UpgradeNow { .. }),
            idempotency_key: format!(
                "{}:{}:{}:{form_key}",
                m.public_id,
                target.slug,
                period.as_str()
            ),
        })
        .await
        .map_err(processor_error)?;
    let mut active: membership::ActiveModel = m.clone().into();
    match change {
        PlanChange::UpgradeNow { .. } => {
            active.tier_id = Set(target.id);
            active.pending_tier_id = Set(None);
            active.pending_billing_period = Set(None);
            active.change_at = Set(None);
        }
        PlanChange::AtPeriodEnd => {
            active.pending_tier_id = Set(Some(target.id));
            active.pending_billing_period = Set(Some(period));
            active.change_at = Set(Some(end));
        }
    }
    active.updated_at = Set(now);
    Ok((Some(active), change))
}

/// Withdraws a move planned for the end of the period: the current price continues.
pub async fn keep_current_plan(
    db: &DatabaseConnection,
    processor: &dyn PaymentProcessor,
    caller: &Caller,
    form_key: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (approval, m, current) = own_active(db, now, caller, "membership.keep_plan").await?;
    let prepared = async {
        if m.pending_tier_id.is_none() {
            return Ok((None, ()));
        }
        let period = m.billing_period;
        if let Some(subscription) = m.processor_subscription_id.clone() {
            processor
                .change_price(&PriceChange {
                    subscription_id: subscription,
                    amount_cents: price_of(&current, period),
                    period,
                    description: format!("{} membership", current.name),
                    prorate_now: false,
                    idempotency_key: format!("{}:keep:{form_key}", m.public_id),
                })
                .await
                .map_err(processor_error)?;
        }
        let mut active: membership::ActiveModel = m.clone().into();
        active.pending_tier_id = Set(None);
        active.pending_billing_period = Set(None);
        active.change_at = Set(None);
        active.updated_at = Set(now);
        Ok((Some(active), ()))
    }
    .await;
    apply_audited(db, approval, prepared).await
}

/// Cancels the caller's membership: it ends on the day [`ends_if_cancelled`] gives, billed as
/// usual until then. `keep` withdraws a cancellation.
pub async fn cancel_or_keep(
    db: &DatabaseConnection,
    processor: &dyn PaymentProcessor,
    caller: &Caller,
    keep: bool,
    form_key: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let verb = if keep {
        "membership.keep"
    } else {
        "membership.cancel"
    };
    let (approval, m, _) = own_active(db, now, caller, verb).await?;
    let prepared = async {
        let ends = if keep {
            None
        } else {
            Some(ends_if_cancelled(&m, now).ok_or(MembershipRefusal::NoPaidPeriod)?)
        };
        if let Some(subscription) = &m.processor_subscription_id {
            processor
                .cancel_at(
                    subscription,
                    ends,
                    &format!(
                        "{}:{}:{form_key}",
                        m.public_id,
                        if keep { "keep" } else { "cancel" }
                    ),
                )
                .await
                .map_err(processor_error)?;
        }
        let mut active: membership::ActiveModel = m.clone().into();
        active.cancel_at = Set(ends);
        active.updated_at = Set(now);
        Ok((Some(active), ends))
    }
    .await;
    apply_audited(db, approval, prepared).await
}

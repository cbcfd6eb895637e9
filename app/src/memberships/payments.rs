//! Opening the processor's hosted pages for a member: the first payment of a pending
//! membership, and a new card on file. Each returns the page's address; the member's browser
//! goes there (Bedside never sees a card number).

use super::entity::membership;
use super::model::MembershipStatus;
use super::service::{by_ref, of_user, price_of};
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::billing::processor::{CheckoutMode, CheckoutRequest, PaymentProcessor};
use crate::AppError;
use sea_orm::EntityTrait;

/// The signed-in patient's own membership, the access audited under `verb`.
pub async fn own_membership(me: &SignedIn, verb: &str) -> Result<membership::Model, AppError> {
    let patient_id = me.caller.actor.patient_id.ok_or(AppError::Forbidden)?;
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Write,
        Resource::Membership { patient_id },
        None,
        verb,
    )
    .await?;
    let found = of_user(permit.txn(), me.caller.actor.user_id).await;
    permit.commit().await?;
    found?
        .map(|(_, m)| m)
        .ok_or_else(|| AppError::NotFound("Your membership".into()))
}

/// The processor's checkout for a pending membership's first payment, or `None` when nothing
/// is due (paid already, or not pending): the page shows where it stands.
pub async fn first_payment_page(
    me: &SignedIn,
    processor: &dyn PaymentProcessor,
    practice: &str,
) -> Result<Option<String>, AppError> {
    let m = own_membership(me, "membership.checkout").await?;
    let paid = m.current_period_end.is_some_and(|end| end > me.now());
    if m.status != MembershipStatus::Pending || paid {
        return Ok(None);
    }
    checkout_page(me.db(), processor, practice, &m.public_id)
        .await
        .map(Some)
}

/// Opens the processor's checkout for the first payment of the membership `membership_ref`
/// (also right after joining); its address.
pub async fn checkout_page(
    db: &sea_orm::DatabaseConnection,
    processor: &dyn PaymentProcessor,
    practice: &str,
    membership_ref: &str,
) -> Result<String, AppError> {
    use crate::site::entity::membership_tier;
    let m = by_ref(db, membership_ref)
        .await?
        .ok_or_else(|| AppError::NotFound("That membership".into()))?;
    let tier = membership_tier::Entity::find_by_id(m.tier_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
    let period = m.billing_period;
    let checkout = processor
        .start_checkout(&CheckoutRequest {
            mode: CheckoutMode::Subscribe,
            membership_ref: m.public_id.clone(),
            customer_email: email_of_member(db, &m).await?,
            customer_id: m.processor_customer_id.clone(),
            description: format!(
                "{practice}: {} membership, billed {}",
                tier.name,
                period.billed()
            ),
            amount_cents: price_of(&tier, period),
            period,
            success_url: "/portal/membership?paid=1".into(),
            cancel_url: "/portal/membership?checkout=cancelled".into(),
            // One checkout per membership, tier and period: a second press opens the same page.
            idempotency_key: format!("{}:{}:{}", m.public_id, tier.slug, period.as_str()),
        })
        .await
        .map_err(|e| AppError::internal(format_args!("{e}")))?;
    Ok(checkout.url)
}

/// The processor's page for putting a new card on file (then the open invoice is charged), or
/// `None` for a membership with no customer at the processor yet.
pub async fn new_card_page(
    me: &SignedIn,
    processor: &dyn PaymentProcessor,
) -> Result<Option<String>, AppError> {
    let m = own_membership(me, "membership.replace_card").await?;
    let Some(customer) = m.processor_customer_id.clone() else {
        return Ok(None);
    };
    let checkout = processor
        .start_checkout(&CheckoutRequest {
            mode: CheckoutMode::ReplaceCard,
            membership_ref: m.public_id.clone(),
            customer_email: email_of_member(me.db(), &m).await?,
            customer_id: Some(customer),
            description: "Your card for membership fees".into(),
            amount_cents: 0,
            period: m.billing_period,
            success_url: "/portal/membership?card=1".into(),
            cancel_url: "/portal/membership".into(),
            idempotency_key: format!("card:{}:{}", m.public_id, m.updated_at.timestamp()),
        })
        .await
        .map_err(|e| AppError::internal(format_args!("{e}")))?;
    Ok(Some(checkout.url))
}

async fn email_of_member(
    db: &sea_orm::DatabaseConnection,
    m: &membership::Model,
) -> Result<String, AppError> {
    use crate::auth::entity::user_account;
    use crate::patients::entity::patient;
    let user_id = patient::Entity::find_by_id(m.patient_id)
        .one(db)
        .await?
        .and_then(|p| p.user_id)
        .ok_or_else(|| AppError::internal("the member has no account"))?;
    user_account::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|u| u.email)
        .ok_or_else(|| AppError::internal("the member's account is missing"))
}

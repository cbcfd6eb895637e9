//! The membership page's server functions: its data, and every change a member makes there
//! (pay, a new card, the confirmation link again, another plan, cancel), used through
//! `ActionForm`. The hosted payment pages are the processor's: a function opening one answers
//! with its address, and the browser goes there.

use super::model::MembershipOverview;
use crate::AppError;
use leptos::prelude::*;

/// The signed-in patient's membership and billing history (`None`: no membership, e.g. a
/// patient the practice added by hand).
#[server]
pub async fn load_membership() -> Result<Option<MembershipOverview>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let time_zone = crate::appointments::service::schedule::practice_time_zone(me.db()).await?;
    super::service::overview(&me, time_zone).await
}

/// What a change on the membership page did (the page says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MembershipChange {
    /// A new confirmation link was sent.
    LinkSent,
    /// A dearer plan started now.
    Upgraded,
    /// The new plan starts when the paid period ends.
    Scheduled,
    /// Cancelled: active until the end of the period.
    Cancelled,
    /// A planned change or cancellation withdrawn.
    Kept,
}

impl MembershipChange {
    /// How the outcome goes into the page's address (post/redirect/get).
    pub fn query(self) -> &'static str {
        match self {
            MembershipChange::LinkSent => "sent=1",
            MembershipChange::Upgraded => "changed=upgraded",
            MembershipChange::Scheduled => "changed=scheduled",
            MembershipChange::Cancelled => "changed=cancelled",
            MembershipChange::Kept => "changed=kept",
        }
    }
}

#[cfg(feature = "ssr")]
fn back_to_membership(change: &MembershipChange) -> String {
    format!("/portal/membership?{}", change.query())
}

/// Where a refused plain form post of the membership page goes: the page, with the refusal's
/// code.
#[cfg(feature = "ssr")]
fn refused_on_membership(error: &AppError) -> String {
    let code = match error {
        AppError::Refused(crate::Refusal::Membership(refusal)) => refusal.code(),
        AppError::Unauthorized => return "/signin?next=/portal/membership".to_owned(),
        AppError::RateLimited { .. } => "too_many",
        AppError::Forbidden => "forbidden",
        _ => "unavailable",
    };
    format!("/portal/membership?problem={code}")
}

/// The form key the page sent (see `MembershipOverview::form_key`), or a fresh one.
#[cfg(feature = "ssr")]
pub(crate) fn form_key(key: Option<&str>) -> String {
    let key: String = key
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    if key.is_empty() {
        uuid::Uuid::new_v4().simple().to_string()
    } else {
        key
    }
}

/// The processor's page to go to (a hosted checkout), or the membership page when there is
/// nothing to pay.
#[cfg(feature = "ssr")]
fn hosted_page(result: Result<Option<String>, AppError>) -> Result<String, AppError> {
    result.map(|page| page.unwrap_or_else(|| "/portal/membership".to_owned()))
}

/// Opens the processor's checkout for the first fee of a pending membership: the address to
/// go to (a plain form post is sent there).
#[server(endpoint = "membership/checkout")]
pub async fn pay_first_fee() -> Result<String, AppError> {
    use crate::auth::api::context;
    let page = async {
        let me = context::signed_in()?;
        let practice = context::practice_name();
        let payments = context::payments()?;
        super::payments::first_payment_page(&me, payments.as_ref(), &practice).await
    }
    .await;
    context::answer_write(hosted_page(page), Clone::clone, refused_on_membership)
}

/// Opens the processor's page for a new card: the address to go to.
#[server(endpoint = "membership/card")]
pub async fn replace_card() -> Result<String, AppError> {
    use crate::auth::api::context;
    let page = async {
        let me = context::signed_in()?;
        let payments = context::payments()?;
        super::payments::new_card_page(&me, payments.as_ref()).await
    }
    .await;
    context::answer_write(hosted_page(page), Clone::clone, refused_on_membership)
}

/// Sends the email confirmation link again (a few times a minute at most).
#[server(endpoint = "membership/resend")]
pub async fn resend_confirmation() -> Result<MembershipChange, AppError> {
    use crate::auth::api::context;
    let sent = async {
        let me = context::signed_in()?;
        super::payments::own_membership(&me, "membership.resend_confirmation").await?;
        context::limit(&[format!("resend:{}", me.caller.actor.user_id)]).await?;
        let email = super::notices::MembershipEmail::ConfirmEmail {
            user_id: me.caller.actor.user_id,
        };
        let job = super::notices::enqueue(me.db(), &email, me.now()).await?;
        me.run_soon(job, "membership confirmation email");
        Ok(MembershipChange::LinkSent)
    }
    .await;
    context::answer_write(sent, back_to_membership, refused_on_membership)
}

/// Moves to another membership (`tier`, its slug) or billing period (`monthly`, `annual`): a
/// dearer one at once (the difference charged today), others when the paid period ends.
#[server(endpoint = "membership/change")]
pub async fn change_plan(
    tier: String,
    period: String,
    key: Option<String>,
) -> Result<MembershipChange, AppError> {
    use super::model::{BillingPeriod, PlanChange};
    use crate::auth::api::context;
    let changed = async {
        let me = context::signed_in()?;
        let period = BillingPeriod::parse(&period)
            .ok_or_else(|| AppError::field("period", "Choose monthly or annual billing."))?;
        let payments = context::payments()?;
        let key = form_key(key.as_deref());
        let change =
            super::service::change_plan(&me, payments.as_ref(), &tier, period, &key).await?;
        // An upgrade's charge is reported by the processor: deliver it now, so the page shows it.
        me.run_due_now().await;
        Ok(match change {
            PlanChange::UpgradeNow { .. } => MembershipChange::Upgraded,
            PlanChange::AtPeriodEnd => MembershipChange::Scheduled,
        })
    }
    .await;
    context::answer_write(changed, back_to_membership, refused_on_membership)
}

/// Withdraws a move planned for the end of the period.
#[server(endpoint = "membership/keep-plan")]
pub async fn keep_plan(key: Option<String>) -> Result<MembershipChange, AppError> {
    use crate::auth::api::context;
    let kept = async {
        let me = context::signed_in()?;
        let payments = context::payments()?;
        super::service::keep_current_plan(&me, payments.as_ref(), &form_key(key.as_deref()))
            .await?;
        Ok(MembershipChange::Kept)
    }
    .await;
    context::answer_write(kept, back_to_membership, refused_on_membership)
}

/// Cancels the membership at the end of its period (`choice` = `cancel`), or withdraws a
/// cancellation (`keep`).
#[server(endpoint = "membership/cancel")]
pub async fn cancel_membership(
    choice: String,
    key: Option<String>,
) -> Result<MembershipChange, AppError> {
    use crate::auth::api::context;
    let done = async {
        let me = context::signed_in()?;
        let keep = match choice.as_str() {
            "cancel" => false,
            "keep" => true,
            _ => {
                return Err(AppError::field(
                    "choice",
                    "This form cancels a membership or keeps it; nothing else.",
                ))
            }
        };
        let payments = context::payments()?;
        let key = form_key(key.as_deref());
        let ends = super::service::cancel_or_keep(&me, payments.as_ref(), keep, &key).await?;
        Ok(match ends {
            Some(_) => MembershipChange::Cancelled,
            None => MembershipChange::Kept,
        })
    }
    .await;
    context::answer_write(done, back_to_membership, refused_on_membership)
}

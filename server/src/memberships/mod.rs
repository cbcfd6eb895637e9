//! The membership forms: joining (`POST /join`), confirming the email (`POST /join/confirm`),
//! paying (`POST /portal/membership/checkout`), replacing the card
//! (`POST /portal/membership/card`) and sending the confirmation link again
//! (`POST /portal/membership/resend`). Each works without JavaScript: success redirects, a
//! refused form comes back with its messages and everything typed (but the password).

use crate::auth::handlers::{auth_of, client_of, ip_key, parse, too_many};
use crate::startup::{render_page, AppState};
use app::auth::guard::{self, Caller};
use app::auth::service::{NewAccount, PreparedAccount};
use app::auth::{Action, Resource, Role};
use app::billing::processor::{CheckoutMode, CheckoutRequest};
use app::memberships::model::{BillingPeriod, Enrollment, EnrollmentForm, MembershipStatus};
use app::memberships::notices::{self as member_notices, MembershipEmail};
use app::memberships::service::{self as memberships, ConsentContext};
use app::memberships::JoinPageState;
use app::AppError;
use axum::{
    body::Body,
    extract::{Request, State},
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;
use sea_orm::EntityTrait;

async fn refuse(
    state: &AppState,
    parts: http::request::Parts,
    page: JoinPageState,
    status: StatusCode,
) -> Response {
    render_page(state, parts, page, status).await
}

/// `POST /join`
pub async fn join(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, form) = match parse::<EnrollmentForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let client = client_of(&parts);
    let Some(site) = state.site.current() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "This practice's website is being set up.",
        )
            .into_response();
    };
    let Some(tier) = site.tiers.iter().find(|t| t.slug == form.tier).cloned() else {
        return Redirect::to("/join").into_response();
    };
    if let Err(wait) = state.attempt_limits.check(&[ip_key(&client)]).await {
        let page = JoinPageState {
            form: form.without_password(),
            problem: Some(too_many(wait)),
            ..Default::default()
        };
        return refuse(&state, parts, page, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let now = state.clock.now();
    let enrollment = match Enrollment::parse(&form, &tier, now.date_naive()) {
        Ok(enrollment) => enrollment,
        Err(errors) => {
            let page = JoinPageState {
                form: form.without_password(),
                errors,
                problem: None,
            };
            return refuse(&state, parts, page, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    // The same answer and the same work whether or not the address already has an account:
    // the password is checked and hashed either way, and the page says "check your email"
    // either way. An address in use gets an email to its owner instead of a second account.
    let existing = match state
        .identity
        .account_with_email(enrollment.email.as_str())
        .await
    {
        Ok(existing) => existing,
        Err(error) => return error.into_response(),
    };
    let prepared: PreparedAccount = match state
        .identity
        .prepare_account(&NewAccount {
            email: enrollment.email.as_str().to_owned(),
            display_name: enrollment.legal_name.clone(),
            role: Role::Patient,
            password: enrollment.password.clone(),
        })
        .await
    {
        Ok(prepared) => prepared,
        Err(AppError::Validation(errors)) => {
            let page = JoinPageState {
                form: form.without_password(),
                errors,
                problem: None,
            };
            return refuse(&state, parts, page, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(error) => return error.into_response(),
    };
    if let Some(user_id) = existing {
        return match tell_the_owner(&state, user_id, now).await {
            Ok(()) => Redirect::to(CHECK_YOUR_EMAIL).into_response(),
            Err(error) => error.into_response(),
        };
    }
    let consent = ConsentContext {
        client: client.clone(),
        membership_agreement_version: site.practice.membership_agreement_version.clone(),
        privacy_notice_version: site.practice.privacy_notice_version.clone(),
    };
    let enrolled = match memberships::enroll(
        &state.db,
        &state.keyring,
        &prepared,
        &enrollment,
        &consent,
        now,
        |_| Ok(()),
    )
    .await
    {
        Ok(enrolled) => enrolled,
        Err(AppError::Validation(errors)) => {
            let page = JoinPageState {
                form: form.without_password(),
                errors,
                problem: None,
            };
            return refuse(&state, parts, page, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(error) => {
            tracing::error!(%error, "enrollment failed; nothing was stored");
            let page = JoinPageState {
                form: form.without_password(),
                problem: Some(
                    "We could not complete your enrollment just now, and nothing was saved. Please try again in a minute, or call us."
                        .into(),
                ),
                ..Default::default()
            };
            return refuse(&state, parts, page, error.status()).await;
        }
    };
    tracing::info!(membership = %enrolled.membership_public_id, tier = %tier.slug, "enrolled");
    state
        .jobs
        .run_soon(enrolled.confirmation_job, "membership confirmation email");
    // Not signed in here: that would tell a stranger the address was free. The emailed link
    // confirms the address; the new member then signs in and pays.
    Redirect::to(CHECK_YOUR_EMAIL).into_response()
}

/// Where the join form sends everyone who filled it in correctly.
pub const CHECK_YOUR_EMAIL: &str = "/join/confirm?outcome=sent";

/// Queues the "you already have an account" email to the owner of an address in use.
async fn tell_the_owner(
    state: &AppState,
    user_id: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use crate::jobs::address_in_use;
    let job = app::jobs::enqueue(
        &state.db,
        app::jobs::NewJob {
            kind: address_in_use::KIND,
            payload: &address_in_use::Payload { user_id },
            run_at: now,
            dedupe_key: Some(address_in_use::dedupe_key(user_id, now)),
            max_attempts: 5,
        },
        now,
    )
    .await?;
    state.jobs.run_soon(job, "address in use email");
    Ok(())
}

/// Opens the processor's checkout for a pending membership's first payment; its URL.
async fn start_payment(state: &AppState, membership_ref: &str) -> Result<String, AppError> {
    use app::site::entity::membership_tier;
    let m = memberships::by_ref(&state.db, membership_ref)
        .await?
        .ok_or_else(|| AppError::NotFound("That membership".into()))?;
    let tier = membership_tier::Entity::find_by_id(m.tier_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
    let period = m.billing_period;
    let email = email_of_membership(state, &m).await?;
    let practice = state
        .site
        .current()
        .map_or_else(|| "Bedside".to_owned(), |s| s.practice.name.clone());
    let checkout = state
        .payments
        .start_checkout(&CheckoutRequest {
            mode: CheckoutMode::Subscribe,
            membership_ref: m.public_id.clone(),
            customer_email: email,
            customer_id: m.processor_customer_id.clone(),
            description: format!(
                "{practice}: {} membership, billed {}",
                tier.name,
                period.billed()
            ),
            amount_cents: memberships::price_of(&tier, period),
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

async fn email_of_membership(
    state: &AppState,
    m: &app::memberships::entity::membership::Model,
) -> Result<String, AppError> {
    use app::auth::entity::user_account;
    use app::patients::entity::patient;
    let user_id = patient::Entity::find_by_id(m.patient_id)
        .one(&state.db)
        .await?
        .and_then(|p| p.user_id)
        .ok_or_else(|| AppError::internal("the member has no account"))?;
    Ok(user_account::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .map(|u| u.email)
        .unwrap_or_default())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    token: String,
}

/// `POST /join/confirm`: uses the emailed token.
pub async fn confirm(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, form) = match parse::<ConfirmForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    if let Err(wait) = state
        .attempt_limits
        .check(&[ip_key(&client_of(&parts))])
        .await
    {
        return (StatusCode::TOO_MANY_REQUESTS, too_many(wait)).into_response();
    }
    match state.identity.confirm_email(&form.token).await {
        Ok(Some(user_id)) => {
            match memberships::after_email_confirmed(&state.db, user_id, state.clock.now()).await {
                Ok(change) => tracing::info!(user = user_id, ?change, "email confirmed"),
                Err(error) => {
                    // The address is confirmed; activation is retried by the next payment
                    // event or confirmation view. Say so in the log, not to the patient.
                    tracing::error!(user = user_id, %error, "could not settle the membership after confirmation");
                }
            }
            Redirect::to("/join/confirm?outcome=confirmed").into_response()
        }
        Ok(None) => Redirect::to("/join/confirm?outcome=invalid").into_response(),
        Err(error) => error.into_response(),
    }
}

/// The signed-in patient and their membership, with the access audited.
async fn own_membership(
    state: &AppState,
    parts: &http::request::Parts,
    verb: &str,
) -> Result<(Caller, app::memberships::entity::membership::Model), Response> {
    let Some(caller) = auth_of(parts).and_then(|auth| auth.caller(&client_of(parts))) else {
        return Err(Redirect::to("/signin?next=/portal/membership").into_response());
    };
    let Some(patient_id) = caller.actor.patient_id else {
        return Err(AppError::Forbidden.into_response());
    };
    let now = state.clock.now();
    let permit = match guard::permit(
        &state.db,
        now,
        &caller,
        Action::Write,
        Resource::Membership { patient_id },
        None,
        verb,
    )
    .await
    {
        Ok(permit) => permit,
        Err(error) => return Err(error.into_response()),
    };
    let found = memberships::of_user(permit.txn(), caller.actor.user_id).await;
    if let Err(error) = permit.commit().await {
        return Err(error.into_response());
    }
    match found {
        Ok(Some((_, m))) => Ok((caller, m)),
        Ok(None) => Err(Redirect::to("/portal/membership").into_response()),
        Err(error) => Err(error.into_response()),
    }
}

/// `POST /portal/membership/checkout`: pay the first fee.
pub async fn checkout(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, _body) = request.into_parts();
    let (_, m) = match own_membership(&state, &parts, "membership.checkout").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let paid = m
        .current_period_end
        .is_some_and(|end| end > state.clock.now());
    if memberships::status_of(&m) != MembershipStatus::Pending || paid {
        return Redirect::to("/portal/membership").into_response();
    }
    match start_payment(&state, &m.public_id).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not open checkout");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The payment page could not be opened just now. Nothing was charged; please try again in a minute.",
            )
                .into_response()
        }
    }
}

/// `POST /portal/membership/card`: put a new card on file (then the open invoice is charged).
pub async fn replace_card(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, _body) = request.into_parts();
    let (_, m) = match own_membership(&state, &parts, "membership.replace_card").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(customer) = m.processor_customer_id.clone() else {
        return Redirect::to("/portal/membership").into_response();
    };
    let email = match email_of_membership(&state, &m).await {
        Ok(email) => email,
        Err(error) => return error.into_response(),
    };
    let period = m.billing_period;
    let started = state
        .payments
        .start_checkout(&CheckoutRequest {
            mode: CheckoutMode::ReplaceCard,
            membership_ref: m.public_id.clone(),
            customer_email: email,
            customer_id: Some(customer),
            description: "Your card for membership fees".into(),
            amount_cents: 0,
            period,
            success_url: "/portal/membership?card=1".into(),
            cancel_url: "/portal/membership".into(),
            idempotency_key: format!("card:{}:{}", m.public_id, m.updated_at.timestamp()),
        })
        .await;
    match started {
        Ok(checkout) => Redirect::to(&checkout.url).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not open the card page");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The card page could not be opened just now; please try again in a minute.",
            )
                .into_response()
        }
    }
}

/// `POST /portal/membership/resend`: a new confirmation link.
pub async fn resend_confirmation(
    State(state): State<AppState>,
    request: Request<Body>,
) -> Response {
    let (parts, _body) = request.into_parts();
    let (caller, _) = match own_membership(&state, &parts, "membership.resend_confirmation").await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let key = format!("resend:{}", caller.actor.user_id);
    if let Err(wait) = state.attempt_limits.check(&[key]).await {
        return (StatusCode::TOO_MANY_REQUESTS, too_many(wait)).into_response();
    }
    let now = state.clock.now();
    let job = member_notices::enqueue(
        &state.db,
        &MembershipEmail::ConfirmEmail {
            user_id: caller.actor.user_id,
        },
        now,
    )
    .await;
    match job {
        Ok(job) => {
            state.jobs.run_soon(job, "membership confirmation email");
            Redirect::to("/portal/membership?sent=1").into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// `GET /portal/membership/invoices/{public_id}.pdf`: a member's own invoice or receipt.
pub async fn download_invoice(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    request: Request<Body>,
) -> Response {
    use app::billing::entity::invoice;
    use sea_orm::{ColumnTrait, QueryFilter};
    let (parts, _body) = request.into_parts();
    let Some(caller) = auth_of(&parts).and_then(|auth| auth.caller(&client_of(&parts))) else {
        return Redirect::to("/signin?next=/portal/membership").into_response();
    };
    let Some(patient_id) = caller.actor.patient_id else {
        return AppError::Forbidden.into_response();
    };
    let public_id = file.trim_end_matches(".pdf");
    let now = state.clock.now();
    let permit = match guard::permit(
        &state.db,
        now,
        &caller,
        Action::Read,
        Resource::Membership { patient_id },
        None,
        "invoice.download",
    )
    .await
    {
        Ok(permit) => permit,
        Err(error) => return error.into_response(),
    };
    let own = async {
        let Some(found) = invoice::Entity::find()
            .filter(invoice::Column::PublicId.eq(public_id))
            .one(permit.txn())
            .await?
        else {
            return Ok(None);
        };
        let mine = app::memberships::entity::membership::Entity::find_by_id(found.membership_id)
            .one(permit.txn())
            .await?
            .is_some_and(|m| m.patient_id == patient_id);
        Ok::<_, AppError>(mine.then_some(found))
    }
    .await;
    let found = match own {
        Ok(Some(found)) => found,
        Ok(None) => {
            drop(permit);
            // Someone else's invoice, or none: the same answer, and the attempt is kept.
            if let Err(e) = guard::record_missing(
                &state.db,
                now,
                &caller,
                "invoice.download",
                "invoice",
                public_id,
            )
            .await
            {
                return e.into_response();
            }
            return AppError::NotFound("That invoice".into()).into_response();
        }
        Err(error) => return error.into_response(),
    };
    let Some(site) = state.site.current() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let time_zone = match app::appointments::service::practice_time_zone(&state.db).await {
        Ok(tz) => tz,
        Err(error) => return error.into_response(),
    };
    let pdf = app::billing::documents::pdf_of(
        permit.txn(),
        &state.keyring,
        &site.practice,
        time_zone,
        &found,
        now,
    )
    .await;
    let pdf = match pdf {
        Ok(pdf) => pdf,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = permit.commit().await {
        return error.into_response();
    }
    (
        [
            (http::header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    app::billing::documents::file_name(&found)
                ),
            ),
        ],
        pdf,
    )
        .into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ChangeForm {
    tier: String,
    period: String,
    /// `cancel` or `keep` on the cancel form; `keep` on the pending-change notice.
    choice: String,
    /// The page's form key (see `MembershipOverview::form_key`).
    key: String,
}

impl ChangeForm {
    /// The page's key, or a fresh one for a client that did not send it.
    fn key(&self) -> String {
        let key: String = self
            .key
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
}

fn signed_in_caller(parts: &http::request::Parts) -> Option<Caller> {
    auth_of(parts).and_then(|auth| auth.caller(&client_of(parts)))
}

fn to_sign_in() -> Response {
    Redirect::to("/signin?next=/portal/membership").into_response()
}

/// Where a refused change sends the member: the membership page, saying why.
fn refused(error: &AppError) -> Response {
    let code = match error {
        AppError::Conflict(message) if message.contains("declined") => "declined",
        AppError::Conflict(_) => "not_changeable",
        AppError::Forbidden | AppError::Unauthorized => return error.clone().into_response(),
        _ => "unavailable",
    };
    Redirect::to(&format!("/portal/membership?problem={code}")).into_response()
}

/// `POST /portal/membership/change`: move to another membership or billing period.
pub async fn change_plan(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, form) = match parse::<ChangeForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(caller) = signed_in_caller(&parts) else {
        return to_sign_in();
    };
    let Some(period) = BillingPeriod::parse(&form.period) else {
        return (StatusCode::BAD_REQUEST, "Choose monthly or annual billing.").into_response();
    };
    match memberships::change_plan(
        &state.db,
        state.payments.as_ref(),
        &caller,
        &form.tier,
        period,
        &form.key(),
        state.clock.now(),
    )
    .await
    {
        Ok(change) => {
            // An upgrade's charge is reported by the processor: deliver it now.
            if let Err(e) = state.jobs.run_due().await {
                tracing::warn!(error = %e, "could not run the payment jobs now; the worker will");
            }
            let to = match change {
                app::memberships::model::PlanChange::UpgradeNow { .. } => "upgraded",
                app::memberships::model::PlanChange::AtPeriodEnd => "scheduled",
            };
            Redirect::to(&format!("/portal/membership?changed={to}")).into_response()
        }
        Err(error) => refused(&error),
    }
}

/// `POST /portal/membership/keep-plan`: withdraw a move planned for the end of the period.
pub async fn keep_plan(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, form) = match parse::<ChangeForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(caller) = signed_in_caller(&parts) else {
        return to_sign_in();
    };
    match memberships::keep_current_plan(
        &state.db,
        state.payments.as_ref(),
        &caller,
        &form.key(),
        state.clock.now(),
    )
    .await
    {
        Ok(()) => Redirect::to("/portal/membership?changed=kept").into_response(),
        Err(error) => refused(&error),
    }
}

/// `POST /portal/membership/cancel`: cancel (`choice=cancel`) or withdraw a cancellation
/// (`choice=keep`).
pub async fn cancel(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, form) = match parse::<ChangeForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(caller) = signed_in_caller(&parts) else {
        return to_sign_in();
    };
    let keep = match form.choice.as_str() {
        "cancel" => false,
        "keep" => true,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "This form cancels a membership or keeps it; nothing else.",
            )
                .into_response()
        }
    };
    match memberships::cancel_or_keep(
        &state.db,
        state.payments.as_ref(),
        &caller,
        keep,
        &form.key(),
        state.clock.now(),
    )
    .await
    {
        Ok(Some(_)) => Redirect::to("/portal/membership?changed=cancelled").into_response(),
        Ok(None) => Redirect::to("/portal/membership?changed=kept").into_response(),
        Err(error) => refused(&error),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RefundForm {
    invoice: String,
    amount: String,
    key: String,
}

/// `POST /admin/billing/refund`: refund part or all of an invoice (admin).
pub async fn refund(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, form) = match parse::<RefundForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(caller) = signed_in_caller(&parts) else {
        return Redirect::to("/signin?next=/admin/billing").into_response();
    };
    // Codes, not text: the page says what each means (no message of the request's making is
    // shown on a page).
    let problem =
        |code: &str| Redirect::to(&format!("/admin/billing?problem={code}")).into_response();
    let Some(amount) = app::billing::admin::parse_dollars(&form.amount) else {
        return problem("amount");
    };
    let key = if form.key.is_empty() {
        uuid::Uuid::new_v4().simple().to_string()
    } else {
        form.key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect()
    };
    match app::billing::admin::refund(
        &state.db,
        state.payments.as_ref(),
        state.clock.now(),
        &caller,
        &form.invoice,
        amount,
        &key,
    )
    .await
    {
        Ok(()) => {
            if let Err(e) = state.jobs.run_due().await {
                tracing::warn!(error = %e, "could not run the payment jobs now; the worker will");
            }
            Redirect::to("/admin/billing?refunded=1").into_response()
        }
        Err(AppError::Validation(_)) => problem("amount"),
        Err(AppError::Conflict(_)) => problem("nothing_left"),
        Err(error) => error.into_response(),
    }
}

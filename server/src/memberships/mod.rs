//! Joining (`POST /join`), confirming the email (`POST /join/confirm`) and a member's invoice
//! PDFs. The join pages do not hydrate (DECISIONS #9): a refused form comes back with its
//! messages and everything typed (but the password). The membership page's changes are
//! server functions (`app::memberships::api`).

pub mod emails;

use crate::auth::handlers::{ip_key, too_many};
use crate::plain_form::PlainForm;
use crate::state::AppState;
use app::auth::guard;
use app::auth::service::{NewAccount, PreparedAccount};
use app::auth::{Action, Resource, Role};
use app::memberships::model::{Enrollment, EnrollmentForm};
use app::memberships::service::{self as memberships, ConsentContext};
use app::memberships::JoinPageState;
use app::{AppError, FieldErrors};
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;
use sea_orm::EntityTrait;

/// Joining, confirming the email, a member's invoices.
pub fn routes() -> crate::area::Area {
    crate::area::Area::new()
        .post("/join", join)
        .post("/join/confirm", confirm)
        .get("/portal/membership/invoices/{file}", download_invoice)
}

/// `POST /join`
pub async fn join(State(state): State<AppState>, posted: PlainForm<EnrollmentForm>) -> Response {
    let form = &posted.form;
    let client = &posted.client;
    // The form again, with what was typed (never the password) and what to fix.
    let again = |errors, problem| JoinPageState {
        form: form.clone().without_password(),
        errors,
        problem,
    };
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
    if let Err(wait) = state.attempt_limits.check(&[ip_key(client)]).await {
        let page = again(FieldErrors::default(), Some(too_many(wait)));
        return posted
            .show_again(&state, page, StatusCode::TOO_MANY_REQUESTS)
            .await;
    }
    let now = state.clock.now();
    let enrollment = match Enrollment::parse(form, &tier, now.date_naive()) {
        Ok(enrollment) => enrollment,
        Err(errors) => {
            let page = again(errors, None);
            return posted
                .show_again(&state, page, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
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
            let page = again(errors, None);
            return posted
                .show_again(&state, page, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
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
            let page = again(errors, None);
            return posted
                .show_again(&state, page, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        Err(error) => {
            tracing::error!(%error, "enrollment failed; nothing was stored");
            let page = again(
                FieldErrors::default(),
                Some(
                    "We could not complete your enrollment just now, and nothing was saved. Please try again in a minute, or call us."
                        .into(),
                ),
            );
            return posted.show_again(&state, page, error.status()).await;
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
    use crate::auth::address_in_use;
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

#[derive(Debug, Default, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    token: String,
}

/// `POST /join/confirm`: uses the emailed token.
pub async fn confirm(State(state): State<AppState>, posted: PlainForm<ConfirmForm>) -> Response {
    let PlainForm { form, client, .. } = posted;
    if let Err(wait) = state.attempt_limits.check(&[ip_key(&client)]).await {
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

/// `GET /portal/membership/invoices/{public_id}.pdf`: a member's own invoice or receipt.
pub async fn download_invoice(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    auth: Option<axum::Extension<app::auth::service::Authenticated>>,
    axum::Extension(client): axum::Extension<app::audit::service::ClientInfo>,
) -> Response {
    use app::billing::entity::invoice;
    use sea_orm::{ColumnTrait, QueryFilter};
    let Some(caller) = auth.and_then(|axum::Extension(auth)| auth.caller(&client)) else {
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
    let time_zone = match app::appointments::service::schedule::practice_time_zone(&state.db).await
    {
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

/// The membership's jobs: its emails.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    emails::register(services, scheduler);
}

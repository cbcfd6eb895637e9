//! `POST /contact`: the contact form, working with or without JavaScript.
//!
//! A valid message is stored, emailed to the practice and acknowledged to the visitor, then the
//! browser is redirected to the thank-you view (post/redirect/get, so a reload does not send it
//! twice). A rejected form is rendered again with the messages and everything the visitor typed.

use crate::plain_form::{retry_after, PlainForm};
use crate::state::AppState;
use app::site::model::{ContactForm, ContactInquiry};
use app::site::{service, ContactPageState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use std::net::IpAddr;

/// `POST /contact`
pub async fn submit(State(state): State<AppState>, posted: PlainForm<ContactForm>) -> Response {
    let form = posted.form.clone();
    if form.is_spam() {
        // Answer as if it worked, so the bot learns nothing; store and send nothing.
        tracing::info!("contact form: honeypot filled, message dropped");
        return Redirect::to("/contact?sent=1").into_response();
    }
    let inquiry = match ContactInquiry::parse(&form) {
        Ok(inquiry) => inquiry,
        Err(errors) => {
            let page = ContactPageState {
                form,
                errors,
                rate_limited_minutes: None,
            };
            return posted
                .show_again(&state, page, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    // The gate always records the client's address; without one, every such request shares
    // one allowance (deny rather than let it through unlimited).
    let ip: IpAddr = posted
        .client
        .ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if let Err(wait_seconds) = state.contact_limit.check(ip) {
        let page = ContactPageState {
            form,
            rate_limited_minutes: Some(wait_seconds.div_ceil(60)),
            ..Default::default()
        };
        let shown = posted
            .show_again(&state, page, StatusCode::TOO_MANY_REQUESTS)
            .await;
        return retry_after(shown, wait_seconds);
    }
    if state.site.current().is_none() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "This practice's website is being set up.",
        )
            .into_response();
    }
    // The inquiry and the job that emails about it commit together: nothing is stored that
    // would not be answered.
    let now = state.clock.now();
    let stored = async {
        let txn = state.db.begin().await?;
        let id = service::record_inquiry(&txn, &state.keyring, &inquiry, Some(ip.to_string()), now)
            .await?;
        let job = app::jobs::enqueue(
            &txn,
            app::jobs::NewJob {
                kind: super::contact_emails::KIND,
                payload: &super::contact_emails::Payload { inquiry_id: id },
                run_at: now,
                dedupe_key: Some(format!("contact.notify:{id}")),
                max_attempts: 10,
            },
            now,
        )
        .await?;
        txn.commit().await?;
        Ok::<_, app::AppError>((id, job))
    }
    .await;
    let (id, job) = match stored {
        Ok(stored) => stored,
        Err(error) => {
            // Nothing was stored: show the form again, filled in, with the reason.
            let mut page = ContactPageState {
                form,
                ..Default::default()
            };
            page.errors.add(
                "message",
                format!("{error} Your message was not sent; please try again."),
            );
            return posted.show_again(&state, page, error.status()).await;
        }
    };
    tracing::info!(
        inquiry = id,
        topic = inquiry.topic.value(),
        "contact inquiry received"
    );
    // Send now, without keeping the visitor waiting for the mail server; if it fails, the
    // scheduler retries with back-off.
    state.jobs.run_soon(job, "contact inquiry emails");
    Redirect::to("/contact?sent=1").into_response()
}

use sea_orm::TransactionTrait;

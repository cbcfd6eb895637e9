//! `POST /contact`: the contact form, working with or without JavaScript.
//!
//! A valid message is stored, emailed to the practice and acknowledged to the visitor, then the
//! browser is redirected to the thank-you view (post/redirect/get, so a reload does not send it
//! twice). A rejected form is rendered again with the messages and everything the visitor typed.

use crate::startup::AppState;
use app::site::model::{ContactForm, ContactInquiry};
use app::site::{service, ContactPageState};
use axum::{
    body::Body,
    extract::{ConnectInfo, State},
    http::{HeaderMap, Request, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};
use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
};

/// Messages per client address per hour; a process-local limit (several processes each allow
/// this many: acceptable for spam control, and it needs no shared store).
#[derive(Debug, Clone)]
pub struct ContactRateLimit(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl ContactRateLimit {
    pub fn per_hour(messages: u32) -> Self {
        let quota = Quota::per_hour(NonZeroU32::new(messages.max(1)).unwrap_or(NonZeroU32::MIN));
        ContactRateLimit(Arc::new(governor::RateLimiter::keyed(quota)))
    }

    /// `Err(seconds to wait)` when `ip` has sent its allowance.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.0.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(governor::clock::DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }

    /// Forgets addresses whose allowance has refilled; run now and then to bound memory.
    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}

/// The visitor's address: the TCP peer, or behind a trusted proxy the last `X-Forwarded-For` hop.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, behind_proxy: bool) -> IpAddr {
    if behind_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let form = match Form::<ContactForm>::from_request(
        Request::from_parts(parts.clone(), body),
        &(),
    )
    .await
    {
        Ok(Form(form)) => form,
        Err(rejection) => return (StatusCode::BAD_REQUEST, rejection.body_text()).into_response(),
    };
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
            return render_contact(&state, parts, page, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let ip = client_ip(&parts.headers, peer, state.settings.behind_proxy);
    if let Err(wait_seconds) = state.contact_limit.check(ip) {
        let page = ContactPageState {
            form,
            rate_limited_minutes: Some(wait_seconds.div_ceil(60)),
            ..Default::default()
        };
        let mut response = render_contact(&state, parts, page, StatusCode::TOO_MANY_REQUESTS).await;
        if let Ok(value) = wait_seconds.to_string().parse() {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, value);
        }
        return response;
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
                kind: crate::jobs::contact::KIND,
                payload: &crate::jobs::contact::Payload { inquiry_id: id },
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
            return render_contact(&state, parts, page, error.status()).await;
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

/// Renders the contact page for `parts`' request with `page` as its state.
async fn render_contact(
    state: &AppState,
    parts: http::request::Parts,
    page: ContactPageState,
    status: StatusCode,
) -> Response {
    crate::startup::render_page(state, parts, page, status).await
}

use axum::extract::FromRequest;
use sea_orm::TransactionTrait;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarded_address_is_trusted_only_behind_a_proxy() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("header"),
        );
        assert_eq!(client_ip(&headers, peer, false), peer.ip());
        assert_eq!(
            client_ip(&headers, peer, true),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn an_address_is_limited_after_its_hourly_allowance() {
        let limit = ContactRateLimit::per_hour(2);
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(limit.check(ip).is_ok());
        assert!(limit.check(ip).is_ok());
        let wait = limit.check(ip).expect_err("third message in the hour");
        assert!(wait > 0 && wait <= 3600);
        assert!(
            limit.check("192.0.2.2".parse().expect("ip")).is_ok(),
            "other visitors are unaffected"
        );
    }
}

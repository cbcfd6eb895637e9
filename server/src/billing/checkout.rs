//! The built-in processor's hosted checkout page (`/pay/checkout/{id}`): Stripe's test mode,
//! served by Bedside, for a fresh machine and the demo.

use super::local::{self, CardRefusal, LocalProcessor, TestCard};
use crate::state::AppState;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn local_processor(state: &AppState) -> Option<&LocalProcessor> {
    state.local_payments.as_ref()
}

fn checkout_page(
    session: &local::entity::local_checkout::Model,
    error: Option<&str>,
    typed: &CardForm,
) -> Html<String> {
    let subscribing = session.mode == local::entity::CheckoutKind::Subscription;
    let amount = app::domain::format_usd(session.amount_cents);
    let what = if subscribing {
        format!(
            "<p class=\"price\"><span class=\"amount\">{amount}</span> a {}</p>",
            escape(session.interval.as_str())
        )
    } else {
        "<p>Save a new card for future payments.</p>".to_owned()
    };
    let error = error
        .map(|e| {
            format!(
                "<div class=\"notice notice-error\" role=\"alert\" id=\"card-error\"><p>{}</p></div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let invalid = if error.is_empty() {
        ""
    } else {
        " aria-invalid=\"true\" aria-describedby=\"card-error\""
    };
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payment · Bedside test payments</title><link rel="stylesheet" href="/pkg/bedside.css"></head>
<body class="pay-page"><main class="section container narrow">
<p class="test-mode">Test mode: no real money moves</p>
<h1>{title}</h1>
<p class="lead">{description}</p>
{what}
<p class="fine-print">For {email}</p>
{error}
<form class="form card" method="post" action="/pay/checkout/{id}">
<div class="field"><label for="card_number">Card number</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" maxlength="23" required value="{number}"{invalid}></div>
<div class="field-row">
<div class="field"><label for="expiry">Expiry (MM / YY)</label><input id="expiry" name="expiry" autocomplete="cc-exp" maxlength="7" required placeholder="12 / 30" value="{expiry}"></div>
<div class="field"><label for="cvc">Security code</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required value=""></div>
</div>
<div class="field"><label for="cardholder">Name on card</label><input id="cardholder" name="cardholder" autocomplete="cc-name" maxlength="100" required value="{name}"></div>
<button class="button button-block" type="submit">{button}</button>
</form>
<p><a href="{cancel}">Cancel and go back</a></p>
<section class="fine-print" aria-labelledby="test-cards"><h2 id="test-cards">Test cards</h2>
<p>This is Bedside's built-in payment processor, used until the practice connects Stripe. Use any future expiry date and any 3-digit code.</p>
<ul><li><code>4242 4242 4242 4242</code>: payment succeeds</li><li><code>4000 0000 0000 0002</code>: declined</li><li><code>4000 0000 0000 0341</code>: can be saved, but charges to it fail</li></ul></section>
</main></body></html>"#,
        title = if subscribing {
            "Start your membership"
        } else {
            "Update your card"
        },
        description = escape(&session.description),
        email = escape(&session.customer_email),
        id = escape(&session.session_id),
        number = escape(&typed.card_number),
        expiry = escape(&typed.expiry),
        name = escape(&typed.cardholder),
        button = if subscribing {
            format!("Pay {amount}")
        } else {
            "Save card".to_owned()
        },
        cancel = escape(&session.cancel_url),
    ))
}

/// `GET /pay/checkout/{id}`: the built-in processor's hosted payment page.
pub async fn show_checkout(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(processor) = local_processor(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match processor.checkout(&id).await {
        Ok(Some(session)) if session.status == local::entity::CheckoutStatus::Open => {
            checkout_page(&session, None, &CardForm::default()).into_response()
        }
        Ok(Some(session)) => Redirect::to(&session.success_url).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "This payment page does not exist.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "loading a checkout session");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CardForm {
    card_number: String,
    expiry: String,
    cvc: String,
    cardholder: String,
}

/// Checks what a payment form would check before asking the bank.
fn check_card(form: &CardForm, today: chrono::NaiveDate) -> Result<TestCard, String> {
    use chrono::Datelike;
    let digits: String = form
        .card_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if !(12..=19).contains(&digits.len()) {
        return Err("Your card number is incomplete.".into());
    }
    let (month, year) = form
        .expiry
        .split('/')
        .map(str::trim)
        .collect::<Vec<_>>()
        .as_slice()
        .iter()
        .map(|p| p.parse::<i32>().ok())
        .collect::<Option<Vec<_>>>()
        .and_then(|parts| match parts.as_slice() {
            [m, y] => Some((*m, if *y < 100 { 2000 + *y } else { *y })),
            _ => None,
        })
        .ok_or_else(|| "Please enter the expiry date as MM / YY.".to_owned())?;
    if !(1..=12).contains(&month) {
        return Err("Please enter the expiry date as MM / YY.".into());
    }
    if (year, month) < (today.year(), i32::try_from(today.month()).unwrap_or(1)) {
        return Err("Your card's expiration date is in the past.".into());
    }
    let cvc: String = form.cvc.chars().filter(char::is_ascii_digit).collect();
    if !(3..=4).contains(&cvc.len()) || cvc.len() != form.cvc.trim().len() {
        return Err("Your card's security code is incomplete.".into());
    }
    if form.cardholder.trim().is_empty() {
        return Err("Please enter the name on the card.".into());
    }
    TestCard::from_number(&digits).ok_or_else(|| {
        "Your card was declined: this is the test payment page, so please use one of the test cards listed below.".to_owned()
    })
}

/// `POST /pay/checkout/{id}`: pays (or saves a card) with a test card.
pub async fn submit_checkout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    let Some(processor) = local_processor(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let session = match processor.checkout(&id).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, "This payment page does not exist.").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "loading a checkout session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    if session.status != local::entity::CheckoutStatus::Open {
        return Redirect::to(&session.success_url).into_response();
    }
    let today = state.clock.now().date_naive();
    let card = match check_card(&form, today) {
        Ok(card) => card,
        Err(message) => {
            let mut response = checkout_page(&session, Some(&message), &form).into_response();
            *response.status_mut() = StatusCode::PAYMENT_REQUIRED;
            return response;
        }
    };
    let digits: String = form
        .card_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let last4 = &digits[digits.len().saturating_sub(4)..];
    match processor.complete_checkout(&id, card, last4).await {
        Ok(Ok(completed)) => {
            // Deliver the events now, as Stripe would within a moment; the worker retries any
            // that fail.
            for job in completed.delivery_jobs {
                if let Err(e) = state.jobs.run_now(job).await {
                    tracing::warn!(job, error = %e, "delivering a payment event now failed; the worker will retry");
                }
            }
            Redirect::to(&completed.redirect).into_response()
        }
        Ok(Err(CardRefusal::Declined(message))) => {
            let mut response = checkout_page(&session, Some(&message), &form).into_response();
            *response.status_mut() = StatusCode::PAYMENT_REQUIRED;
            response
        }
        Ok(Err(CardRefusal::SessionGone)) => Redirect::to(&session.success_url).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "completing a checkout");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(number: &str, expiry: &str, cvc: &str) -> CardForm {
        CardForm {
            card_number: number.into(),
            expiry: expiry.into(),
            cvc: cvc.into(),
            cardholder: "Ana Ruiz".into(),
        }
    }

    #[test]
    fn the_test_cards_behave_as_in_stripes_test_mode_and_bad_input_says_what_to_fix() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(
            check_card(&form("4242 4242 4242 4242", "12 / 30", "123"), today),
            Ok(TestCard::Succeeds)
        );
        assert_eq!(
            check_card(&form("4000000000000002", "11/26", "123"), today),
            Ok(TestCard::Declined)
        );
        assert_eq!(
            check_card(&form("4000 0000 0000 0341", "01/2031", "1234"), today),
            Ok(TestCard::FailsWhenCharged)
        );
        assert!(check_card(&form("4242", "12/30", "123"), today)
            .expect_err("short")
            .contains("incomplete"));
        assert!(check_card(&form("4242424242424242", "10/26", "123"), today)
            .expect_err("expired")
            .contains("past"));
        assert!(check_card(&form("4242424242424242", "13/30", "123"), today).is_err());
        assert!(check_card(&form("4242424242424242", "12/30", "12"), today)
            .expect_err("cvc")
            .contains("security code"));
        assert!(check_card(&form("5555555555554444", "12/30", "123"), today)
            .expect_err("not a test card")
            .contains("test cards"));
    }
}

//! The emails a membership sends: the address confirmation link, the welcome, receipts, and
//! what a failed payment means. Each is a job (`membership.email`) enqueued in the transaction
//! that made it necessary, so a rolled-back enrollment or a replayed webhook sends nothing extra.
//! They name no health information.

use super::entity::membership;
use crate::appointments::notices::DeliveryError;
use crate::auth::entity::user_account;
use crate::auth::service::{Identity, TokenPurpose};
use crate::billing::entity::{invoice, invoice_line};
use crate::domain::format_usd;
use crate::jobs::{self, NewJob};
use crate::mail::{Mailer, OutgoingEmail};
use crate::patients::entity::patient;
use crate::site::entity::membership_tier;
use crate::site::model::Practice;
use crate::AppError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

pub const JOB_KIND: &str = "membership.email";

/// One email to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "email", rename_all = "snake_case")]
pub enum MembershipEmail {
    /// The link that confirms the address (a fresh token is made when the job runs, so the
    /// token itself is never stored anywhere but as a hash).
    ConfirmEmail {
        user_id: i32,
    },
    Welcome {
        membership: String,
    },
    Receipt {
        invoice: String,
    },
    PaymentFailed {
        invoice: String,
        attempt: i32,
        next_retry: Option<DateTime<Utc>>,
    },
    Suspended {
        membership: String,
    },
    Refunded {
        invoice: String,
        amount_cents: i64,
    },
}

impl MembershipEmail {
    /// One job per email: a replayed event finds the job already there.
    fn key(&self, now: DateTime<Utc>) -> String {
        match self {
            MembershipEmail::ConfirmEmail { user_id } => {
                format!("membership.confirm:{user_id}:{}", now.timestamp_micros())
            }
            MembershipEmail::Welcome { membership } => format!("membership.welcome:{membership}"),
            MembershipEmail::Receipt { invoice } => format!("billing.receipt:{invoice}"),
            MembershipEmail::PaymentFailed {
                invoice, attempt, ..
            } => format!("billing.failed:{invoice}:{attempt}"),
            MembershipEmail::Suspended { membership } => {
                format!("membership.suspended:{membership}")
            }
            MembershipEmail::Refunded {
                invoice,
                amount_cents,
            } => format!(
                "billing.refund:{invoice}:{amount_cents}:{}",
                now.timestamp_micros()
            ),
        }
    }
}

/// Adds the email's job in the caller's transaction.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    email: &MembershipEmail,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    jobs::enqueue(
        conn,
        NewJob {
            kind: JOB_KIND,
            payload: email,
            run_at: now,
            dedupe_key: Some(email.key(now)),
            max_attempts: 10,
        },
        now,
    )
    .await
}

/// What sending needs.
pub struct EmailSenders<'a> {
    pub db: &'a DatabaseConnection,
    pub keyring: &'a crate::crypto::Keyring,
    pub identity: &'a Identity,
    pub mailer: &'a dyn Mailer,
    pub practice: &'a Practice,
    pub public_url: &'a str,
    pub time_zone: Tz,
}

impl EmailSenders<'_> {
    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }

    fn signature(&self) -> String {
        let p = self.practice;
        format!("{}\n{}\n{}", p.name, p.phone, self.link("/"))
    }

    fn day(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone)
            .format("%B %-d, %Y")
            .to_string()
    }
}

struct Recipient {
    email: String,
    first_name: String,
}

async fn recipient_of_user(
    senders: &EmailSenders<'_>,
    user_id: i32,
) -> Result<Recipient, DeliveryError> {
    let db = senders.db;
    let user = user_account::Entity::find_by_id(user_id)
        .one(db)
        .await
        .map_err(|e| DeliveryError::Retry(e.to_string()))?
        .ok_or_else(|| DeliveryError::Permanent(format!("account {user_id} is gone")))?;
    let name = crate::auth::service::display_name(senders.keyring, &user)
        .map_err(|e| DeliveryError::Retry(e.to_string()))?;
    Ok(Recipient {
        first_name: name.split_whitespace().next().unwrap_or("there").to_owned(),
        email: user.email,
    })
}

async fn membership_and_recipient(
    senders: &EmailSenders<'_>,
    membership_id: Option<i32>,
    public_id: Option<&str>,
) -> Result<(membership::Model, membership_tier::Model, Recipient), DeliveryError> {
    let db = senders.db;
    let retry = |e: sea_orm::DbErr| DeliveryError::Retry(e.to_string());
    let mut query = membership::Entity::find();
    if let Some(id) = membership_id {
        query = query.filter(membership::Column::Id.eq(id));
    }
    if let Some(public_id) = public_id {
        query = query.filter(membership::Column::PublicId.eq(public_id));
    }
    let m = query
        .one(db)
        .await
        .map_err(retry)?
        .ok_or_else(|| DeliveryError::Permanent("the membership is gone".into()))?;
    let tier = membership_tier::Entity::find_by_id(m.tier_id)
        .one(db)
        .await
        .map_err(retry)?
        .ok_or_else(|| DeliveryError::Permanent("the tier is gone".into()))?;
    let user_id = patient::Entity::find_by_id(m.patient_id)
        .one(db)
        .await
        .map_err(retry)?
        .and_then(|p| p.user_id)
        .ok_or_else(|| DeliveryError::Permanent("the member has no account".into()))?;
    let recipient = recipient_of_user(senders, user_id).await?;
    Ok((m, tier, recipient))
}

async fn invoice_of(
    db: &DatabaseConnection,
    public_id: &str,
) -> Result<(invoice::Model, Vec<invoice_line::Model>), DeliveryError> {
    let retry = |e: sea_orm::DbErr| DeliveryError::Retry(e.to_string());
    let found = invoice::Entity::find()
        .filter(invoice::Column::PublicId.eq(public_id))
        .one(db)
        .await
        .map_err(retry)?
        .ok_or_else(|| DeliveryError::Permanent(format!("invoice {public_id} is gone")))?;
    let lines = invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(found.id))
        .all(db)
        .await
        .map_err(retry)?;
    Ok((found, lines))
}

/// Writes and sends one email.
pub async fn deliver(
    senders: &EmailSenders<'_>,
    email: &MembershipEmail,
    now: DateTime<Utc>,
) -> Result<(), DeliveryError> {
    let db = senders.db;
    let practice = &senders.practice.name;
    let outgoing = match email {
        MembershipEmail::ConfirmEmail { user_id } => {
            let recipient = recipient_of_user(senders, *user_id).await?;
            let token = senders
                .identity
                .issue_token(*user_id, TokenPurpose::VerifyEmail)
                .await
                .map_err(|e| DeliveryError::Retry(e.to_string()))?;
            OutgoingEmail {
                to: recipient.email,
                subject: format!("Please confirm your email address for {practice}"),
                text_body: format!(
                    "Hello {},\n\nThank you for joining {practice}. Please confirm this is your email address by opening this link within 48 hours:\n\n{}\n\nYour membership starts once your address is confirmed and your first payment has gone through.\n\nIf you did not sign up, you can ignore this email.\n\n{}\n",
                    recipient.first_name,
                    senders.link(&format!("/join/confirm?token={token}")),
                    senders.signature()
                ),
                ..Default::default()
            }
        }
        MembershipEmail::Welcome { membership } => {
            let (_, tier, recipient) =
                membership_and_recipient(senders, None, Some(membership)).await?;
            OutgoingEmail {
                to: recipient.email,
                subject: format!("Welcome to {practice}"),
                text_body: format!(
                    "Hello {},\n\nWelcome to {practice}! Your {} membership is active.\n\nYou can now book and manage your visits and see your membership and billing in the patient portal:\n{}\n\nWe look forward to meeting you.\n\n{}\n",
                    recipient.first_name,
                    tier.name,
                    senders.link("/portal"),
                    senders.signature()
                ),
                ..Default::default()
            }
        }
        MembershipEmail::Receipt { invoice } => {
            let (found, lines) = invoice_of(db, invoice).await?;
            let (_, _, recipient) =
                membership_and_recipient(senders, Some(found.membership_id), None).await?;
            let items: String = lines
                .iter()
                .map(|line| {
                    format!(
                        "  {:<48} {:>10}\n",
                        line.description,
                        format_usd(line.amount_cents)
                    )
                })
                .collect();
            let pdf = crate::billing::documents::pdf_of(
                db,
                senders.keyring,
                senders.practice,
                senders.time_zone,
                &found,
                now,
            )
            .await
            .map_err(|e| DeliveryError::Retry(e.to_string()))?;
            OutgoingEmail {
                to: recipient.email,
                subject: format!("Your receipt from {practice} ({})", found.number),
                attachments: vec![crate::mail::Attachment {
                    filename: crate::billing::documents::file_name(&found),
                    content_type: "application/pdf".into(),
                    content: pdf,
                }],
                text_body: format!(
                    "Hello {},\n\nThank you: we received your payment of {} on {}.\n\nInvoice {}\n{items}  {:<48} {:>10}\n\nMembership fees for direct primary care may be payable from an HSA or FSA; please check with your plan. Your receipt is attached as a PDF, and all your invoices are in the patient portal:\n{}\n\n{}\n",
                    recipient.first_name,
                    format_usd(found.amount_paid_cents),
                    senders.day(found.paid_at.unwrap_or(now)),
                    found.number,
                    "Total paid",
                    format_usd(found.amount_paid_cents),
                    senders.link("/portal/membership"),
                    senders.signature()
                ),
                ..Default::default()
            }
        }
        MembershipEmail::PaymentFailed {
            invoice,
            next_retry,
            ..
        } => {
            let (found, _) = invoice_of(db, invoice).await?;
            if found.status == crate::billing::model::invoice_status::PAID {
                // Paid since: nothing to tell.
                return Ok(());
            }
            let (_, _, recipient) =
                membership_and_recipient(senders, Some(found.membership_id), None).await?;
            let when = match next_retry {
                Some(at) => format!(
                    "We will try your card again on {}. If you would like to use a different card, you can update it now:",
                    senders.day(*at)
                ),
                None => "Please update your card so we can try again:".to_owned(),
            };
            OutgoingEmail {
                to: recipient.email,
                subject: format!("Your payment to {practice} did not go through"),
                text_body: format!(
                    "Hello {},\n\nWe could not charge {} for your membership (invoice {}). Your membership continues for now.\n\n{when}\n{}\n\n{}\n",
                    recipient.first_name,
                    format_usd(found.total_cents),
                    found.number,
                    senders.link("/portal/membership"),
                    senders.signature()
                ),
                ..Default::default()
            }
        }
        MembershipEmail::Refunded {
            invoice,
            amount_cents,
        } => {
            let (found, _) = invoice_of(db, invoice).await?;
            let (_, _, recipient) =
                membership_and_recipient(senders, Some(found.membership_id), None).await?;
            OutgoingEmail {
                to: recipient.email,
                subject: format!("A refund from {practice} ({})", found.number),
                text_body: format!(
                    "Hello {},\n\nWe have refunded {} of invoice {} to the card it was paid with. Banks usually show a refund within 5 to 10 business days.\n\nYour invoices are in the patient portal:\n{}\n\n{}\n",
                    recipient.first_name,
                    format_usd(*amount_cents),
                    found.number,
                    senders.link("/portal/membership"),
                    senders.signature()
                ),
                ..Default::default()
            }
        }
        MembershipEmail::Suspended { membership } => {
            let (_, _, recipient) =
                membership_and_recipient(senders, None, Some(membership)).await?;
            OutgoingEmail {
                to: recipient.email,
                subject: format!("Your {practice} membership is suspended"),
                text_body: format!(
                    "Hello {},\n\nWe tried your card several times and could not collect your membership fee, so your membership is suspended: booking new visits is paused. Your account and your visits stay safe and available to you.\n\nUpdate your card and we will charge it right away and reactivate your membership:\n{}\n\nIf something has changed, please call us; we are glad to help.\n\n{}\n",
                    recipient.first_name,
                    senders.link("/portal/membership"),
                    senders.signature()
                ),
                ..Default::default()
            }
        }
    };
    senders
        .mailer
        .send(outgoing)
        .await
        .map_err(|e| DeliveryError::Retry(e.to_string()))
}

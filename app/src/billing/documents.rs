//! An invoice's PDF: made from the invoice, its lines, the practice and the member; kept
//! (sealed) once the invoice is paid, so a receipt reads the same every time it is opened.

use super::entity::{invoice, invoice_document, invoice_line};
use super::model::invoice_status;
use super::pdf::{self, InvoiceDocument};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::memberships::entity::membership;
use crate::patients::entity::patient;
use crate::site::model::Practice;
use crate::AppError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

fn context(invoice_public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "invoice_document",
        column: "content",
        row: invoice_public_id,
    }
}

fn day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%B %-d, %Y").to_string()
}

/// The PDF of `found`: the kept one, or a new one (kept if the invoice is paid).
pub async fn pdf_of(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    practice: &Practice,
    time_zone: Tz,
    found: &invoice::Model,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, AppError> {
    if let Some(kept) = invoice_document::Entity::find()
        .filter(invoice_document::Column::InvoiceId.eq(found.id))
        .one(conn)
        .await?
    {
        return kept
            .content
            .open(keyring, &context(&found.public_id))
            .map_err(|e| {
                AppError::internal(format_args!("opening invoice {}: {e}", found.number))
            });
    }
    let m = membership::Entity::find_by_id(found.membership_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal("an invoice's membership is missing"))?;
    let member = patient::Entity::find_by_id(m.patient_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal("a membership's patient is missing"))?;
    let mut bill_to = vec![crate::patients::service::legal_name(keyring, &member)?];
    if let Some(address) = crate::memberships::profile::address_of(conn, keyring, &member).await? {
        bill_to.push(address.street);
        if let Some(second) = address.street2 {
            bill_to.push(second);
        }
        bill_to.push(format!(
            "{}, {} {}",
            address.city, address.region, address.postal_code
        ));
    }
    let lines = invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(found.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.description, l.amount_cents))
        .collect();
    let paid = found.status == invoice_status::PAID || found.status == invoice_status::REFUNDED;
    let document = InvoiceDocument {
        practice_name: practice.name.clone(),
        practice_lines: practice.letterhead(),
        number: found.number.clone(),
        issued_on: day(found.issued_at, time_zone),
        paid_on: found.paid_at.filter(|_| paid).map(|at| day(at, time_zone)),
        bill_to,
        period: match (found.period_start, found.period_end) {
            (Some(start), Some(end)) => Some(format!(
                "{} to {}",
                day(start, time_zone),
                day(end, time_zone)
            )),
            _ => None,
        },
        lines,
        total_cents: found.total_cents,
        paid_cents: found.amount_paid_cents,
        refunded_cents: found.amount_refunded_cents,
    };
    let bytes = pdf::render(&document).map_err(AppError::internal)?;
    if paid {
        let sealed = Encrypted::seal(keyring, &context(&found.public_id), &bytes)
            .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
        let kept = invoice_document::ActiveModel {
            invoice_id: Set(found.id),
            content: Set(sealed),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await;
        // Two first views at once: one keeps its copy; both are the same invoice.
        if let Err(e) = kept {
            if !matches!(AppError::from(e), AppError::Conflict(_)) {
                tracing::warn!(invoice = %found.number, "could not keep the invoice's PDF");
            }
        }
    }
    Ok(bytes)
}

/// The file name a download or an attachment gets.
pub fn file_name(found: &invoice::Model) -> String {
    format!("invoice-{}.pdf", found.number)
}

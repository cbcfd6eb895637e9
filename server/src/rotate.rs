//! `bedside keys rotate`: re-encrypts every sealed value under the active key, so an old key
//! can be retired. Each row is rewritten in its own statement and only when it needs it, so the
//! command can be stopped and run again.

use app::appointments::entity::appointment;
use app::auth::entity::user_account;
use app::billing::entity::invoice_document;
use app::crypto::{FieldContext, Keyring};
use app::mail::{outbox_attachment, outbox_email};
use app::memberships::entity::patient_profile;
use app::notifications::entity::notification;
use app::patients::entity::patient;
use app::site::entity::contact_inquiry;
use app::sms::outbox_sms;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub rows_checked: u64,
    pub values_rotated: u64,
}

fn rotate_value(
    keyring: &Keyring,
    context: FieldContext<'_>,
    sealed: &[u8],
    report: &mut Rotation,
) -> anyhow::Result<Option<Vec<u8>>> {
    if !keyring.needs_rotation(sealed) {
        return Ok(None);
    }
    let fresh = keyring.rotate(&context, sealed).map_err(|e| {
        anyhow::anyhow!(
            "{}.{} of row {}: {e}",
            context.table,
            context.column,
            context.row
        )
    })?;
    report.values_rotated += 1;
    Ok(Some(fresh))
}

/// How many rows the rotation walks (for the progress bar).
pub async fn rows_to_check(db: &DatabaseConnection) -> anyhow::Result<u64> {
    Ok(contact_inquiry::Entity::find().count(db).await?
        + patient::Entity::find().count(db).await?
        + user_account::Entity::find().count(db).await?
        + appointment::Entity::find().count(db).await?
        + patient_profile::Entity::find().count(db).await?
        + invoice_document::Entity::find().count(db).await?
        + outbox_email::Entity::find().count(db).await?
        + outbox_attachment::Entity::find().count(db).await?
        + outbox_sms::Entity::find().count(db).await?
        + notification::Entity::find().count(db).await?)
}

/// Rotates every sealed column; `progress` is called once per row.
pub async fn rotate_all(
    db: &DatabaseConnection,
    keyring: &Keyring,
    progress: impl Fn(u64),
) -> anyhow::Result<Rotation> {
    let mut report = Rotation::default();
    for row in contact_inquiry::Entity::find()
        .order_by_asc(contact_inquiry::Column::Id)
        .all(db)
        .await?
    {
        let context = FieldContext {
            table: "contact_inquiry",
            column: "sealed_details",
            row: &row.public_id,
        };
        if let Some(fresh) = rotate_value(keyring, context, &row.sealed_details, &mut report)? {
            let mut active: contact_inquiry::ActiveModel = row.clone().into();
            active.sealed_details = Set(fresh);
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in patient::Entity::find()
        .order_by_asc(patient::Column::Id)
        .all(db)
        .await?
    {
        let mut active: patient::ActiveModel = row.clone().into();
        let mut changed = false;
        let dob = FieldContext {
            table: "patient",
            column: "date_of_birth",
            row: &row.public_id,
        };
        let dob_bytes = row.date_of_birth.clone().into_bytes();
        if let Some(fresh) = rotate_value(keyring, dob, &dob_bytes, &mut report)? {
            active.date_of_birth = Set(app::crypto::Encrypted::from_bytes(fresh));
            changed = true;
        }
        if let Some(phone) = &row.phone {
            let context = FieldContext {
                table: "patient",
                column: "phone",
                row: &row.public_id,
            };
            let bytes = phone.clone().into_bytes();
            if let Some(fresh) = rotate_value(keyring, context, &bytes, &mut report)? {
                active.phone = Set(Some(app::crypto::Encrypted::from_bytes(fresh)));
                changed = true;
            }
        }
        let name = FieldContext {
            table: "patient",
            column: "legal_name",
            row: &row.public_id,
        };
        if let Some(fresh) = rotate_sealed(keyring, name, &row.sealed_legal_name, &mut report)? {
            active.sealed_legal_name = Set(Some(fresh));
            changed = true;
        }
        let preferred = FieldContext {
            table: "patient",
            column: "preferred_name",
            row: &row.public_id,
        };
        if let Some(fresh) = rotate_sealed(keyring, preferred, &row.preferred_name, &mut report)? {
            active.preferred_name = Set(Some(fresh));
            changed = true;
        }
        if changed {
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in user_account::Entity::find()
        .order_by_asc(user_account::Column::Id)
        .all(db)
        .await?
    {
        let mut active: user_account::ActiveModel = row.clone().into();
        let mut changed = false;
        if let Some(secret) = &row.mfa_secret {
            let context = FieldContext {
                table: "user_account",
                column: "mfa_secret",
                row: &row.public_id,
            };
            let bytes = secret.clone().into_bytes();
            if let Some(fresh) = rotate_value(keyring, context, &bytes, &mut report)? {
                active.mfa_secret = Set(Some(app::crypto::Encrypted::from_bytes(fresh)));
                changed = true;
            }
        }
        let name = FieldContext {
            table: "user_account",
            column: "display_name",
            row: &row.public_id,
        };
        if let Some(fresh) = rotate_sealed(keyring, name, &row.sealed_display_name, &mut report)? {
            active.sealed_display_name = Set(Some(fresh));
            changed = true;
        }
        if changed {
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in appointment::Entity::find()
        .order_by_asc(appointment::Column::Id)
        .all(db)
        .await?
    {
        let context = FieldContext {
            table: "appointment",
            column: "reason",
            row: &row.public_id,
        };
        let bytes = row.reason.clone().into_bytes();
        if let Some(fresh) = rotate_value(keyring, context, &bytes, &mut report)? {
            let mut active: appointment::ActiveModel = row.clone().into();
            active.reason = Set(app::crypto::Encrypted::from_bytes(fresh));
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in patient_profile::Entity::find()
        .order_by_asc(patient_profile::Column::Id)
        .all(db)
        .await?
    {
        // Bound to the patient's public id, like the patient's own sealed columns.
        let owner = patient::Entity::find_by_id(row.patient_id)
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("profile {} has no patient", row.id))?;
        let mut active: patient_profile::ActiveModel = row.clone().into();
        let mut changed = false;
        let address = FieldContext {
            table: "patient_profile",
            column: "address",
            row: &owner.public_id,
        };
        if let Some(fresh) = rotate_value(
            keyring,
            address,
            &row.address.clone().into_bytes(),
            &mut report,
        )? {
            active.address = Set(app::crypto::Encrypted::from_bytes(fresh));
            changed = true;
        }
        let emergency = FieldContext {
            table: "patient_profile",
            column: "emergency_contact",
            row: &owner.public_id,
        };
        if let Some(fresh) = rotate_value(
            keyring,
            emergency,
            &row.emergency_contact.clone().into_bytes(),
            &mut report,
        )? {
            active.emergency_contact = Set(app::crypto::Encrypted::from_bytes(fresh));
            changed = true;
        }
        if changed {
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in invoice_document::Entity::find()
        .order_by_asc(invoice_document::Column::Id)
        .all(db)
        .await?
    {
        let invoice = app::billing::entity::invoice::Entity::find()
            .filter(app::billing::entity::invoice::Column::Id.eq(row.invoice_id))
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("document {} has no invoice", row.id))?;
        let context = FieldContext {
            table: "invoice_document",
            column: "content",
            row: &invoice.public_id,
        };
        if let Some(fresh) = rotate_value(
            keyring,
            context,
            &row.content.clone().into_bytes(),
            &mut report,
        )? {
            let mut active: invoice_document::ActiveModel = row.clone().into();
            active.content = Set(app::crypto::Encrypted::from_bytes(fresh));
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    rotate_outboxes_and_notifications(db, keyring, &progress, &mut report).await?;
    Ok(report)
}

/// A sealed column read as bytes, rotated when it needs it.
fn rotate_sealed(
    keyring: &Keyring,
    context: FieldContext<'_>,
    sealed: &Option<app::crypto::Encrypted<String>>,
    report: &mut Rotation,
) -> anyhow::Result<Option<app::crypto::Encrypted<String>>> {
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    Ok(
        rotate_value(keyring, context, &sealed.clone().into_bytes(), report)?
            .map(app::crypto::Encrypted::from_bytes),
    )
}

/// The local outboxes and the notification centre (migration 23).
async fn rotate_outboxes_and_notifications(
    db: &DatabaseConnection,
    keyring: &Keyring,
    progress: &impl Fn(u64),
    report: &mut Rotation,
) -> anyhow::Result<()> {
    for row in outbox_email::Entity::find().all(db).await? {
        let id = row.id.to_string();
        let context = FieldContext {
            table: "outbox_email",
            column: "sealed_body",
            row: &id,
        };
        if let Some(fresh) = rotate_sealed(keyring, context, &row.sealed_body, report)? {
            let mut active: outbox_email::ActiveModel = row.into();
            active.sealed_body = Set(Some(fresh));
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in outbox_attachment::Entity::find().all(db).await? {
        let email = row.email_id.to_string();
        let context = FieldContext {
            table: "outbox_attachment",
            column: "content",
            row: &email,
        };
        if row.sealed {
            if let Some(fresh) = rotate_value(keyring, context, &row.content, report)? {
                let mut active: outbox_attachment::ActiveModel = row.into();
                active.content = Set(fresh);
                active.update(db).await?;
            }
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in outbox_sms::Entity::find().all(db).await? {
        let id = row.id.to_string();
        let context = FieldContext {
            table: "outbox_sms",
            column: "sealed_body",
            row: &id,
        };
        if let Some(fresh) = rotate_sealed(keyring, context, &row.sealed_body, report)? {
            let mut active: outbox_sms::ActiveModel = row.into();
            active.sealed_body = Set(Some(fresh));
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    for row in notification::Entity::find().all(db).await? {
        let id = row.id.to_string();
        let title = FieldContext {
            table: "notification",
            column: "sealed_title",
            row: &id,
        };
        let body = FieldContext {
            table: "notification",
            column: "sealed_body",
            row: &id,
        };
        let fresh_title = rotate_sealed(keyring, title, &row.sealed_title, report)?;
        let fresh_body = rotate_sealed(keyring, body, &row.sealed_body, report)?;
        if fresh_title.is_some() || fresh_body.is_some() {
            let mut active: notification::ActiveModel = row.clone().into();
            if let Some(fresh) = fresh_title {
                active.sealed_title = Set(Some(fresh));
            }
            if let Some(fresh) = fresh_body {
                active.sealed_body = Set(Some(fresh));
            }
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    Ok(())
}

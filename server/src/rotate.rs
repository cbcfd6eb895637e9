//! `bedside keys rotate`: re-encrypts every sealed value under the active key, so an old key
//! can be retired. Each row is rewritten in its own statement and only when it needs it, so the
//! command can be stopped and run again.
//!
//! Which columns are sealed is declared by each entity ([`SealedRow`]); this file lists only the
//! tables that have any.

use app::appointments::entity::appointment;
use app::auth::entity::user_account;
use app::billing::entity::invoice_document;
use app::crypto::{FieldContext, Keyring, SealedRow};
use app::grants::entity::access_grant;
use app::mail::{outbox_attachment, outbox_email};
use app::memberships::entity::patient_profile;
use app::messages::entity::{conversation, message};
use app::messages::hub::entity::communication;
use app::notifications::entity::notification;
use app::patients::entity::patient;
use app::records::documents::entity::document;
use app::records::entity::{chart_entry, chart_entry_version};
use app::records::notes::entity::{visit_note, visit_note_addendum};
use app::records::share::entity::{share_access, share_link};
use app::site::entity::contact_inquiry;
use app::sms::outbox_sms;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityName, EntityTrait, IntoActiveModel, ModelTrait,
    PaginatorTrait, Set, Value,
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

/// Calls `$each!(Model)` for every table with sealed columns (the attachments of the outbox,
/// sealed or not by a flag, are walked on their own).
macro_rules! sealed_tables {
    ($each:ident) => {
        $each!(contact_inquiry::Model);
        $each!(patient::Model);
        $each!(user_account::Model);
        $each!(appointment::Model);
        $each!(patient_profile::Model);
        $each!(invoice_document::Model);
        $each!(outbox_email::Model);
        $each!(outbox_sms::Model);
        $each!(notification::Model);
        $each!(chart_entry::Model);
        $each!(chart_entry_version::Model);
        $each!(visit_note::Model);
        $each!(visit_note_addendum::Model);
        $each!(document::Model);
        $each!(share_link::Model);
        $each!(share_access::Model);
        $each!(access_grant::Model);
        $each!(conversation::Model);
        $each!(message::Model);
        $each!(communication::Model);
    };
}

/// How many rows the rotation walks (for the progress bar).
pub async fn rows_to_check(db: &DatabaseConnection) -> anyhow::Result<u64> {
    let mut rows = outbox_attachment::Entity::find().count(db).await?;
    macro_rules! count {
        ($model:ty) => {
            rows += <<$model as ModelTrait>::Entity as EntityTrait>::find()
                .count(db)
                .await?;
        };
    }
    sealed_tables!(count);
    Ok(rows)
}

/// Rotates every sealed column; `progress` is called once per row.
pub async fn rotate_all(
    db: &DatabaseConnection,
    keyring: &Keyring,
    progress: impl Fn(u64),
) -> anyhow::Result<Rotation> {
    let mut report = Rotation::default();
    macro_rules! rotate {
        ($model:ty) => {
            rotate_table::<$model>(db, keyring, &progress, &mut report).await?;
        };
    }
    sealed_tables!(rotate);
    rotate_attachments(db, keyring, &progress, &mut report).await?;
    Ok(report)
}

/// Rotates the sealed columns of every row of `M`'s table.
async fn rotate_table<M>(
    db: &DatabaseConnection,
    keyring: &Keyring,
    progress: &impl Fn(u64),
    report: &mut Rotation,
) -> anyhow::Result<()>
where
    M: SealedRow + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
    M::Entity: EntityTrait<Model = M>,
    <M::Entity as EntityTrait>::ActiveModel: ActiveModelTrait<Entity = M::Entity> + Send,
{
    let table = M::Entity::default().table_name();
    for row in M::Entity::find().all(db).await? {
        let bound = row.bound_to(db).await?;
        let mut active = row.clone().into_active_model();
        let mut changed = false;
        for sealed in M::sealed_columns() {
            let Value::Bytes(Some(bytes)) = row.get(sealed.column) else {
                continue;
            };
            let context = FieldContext {
                table,
                column: sealed.bound_as,
                row: &bound,
            };
            if let Some(fresh) = rotate_value(keyring, context, &bytes, report)? {
                active.set(sealed.column, Value::Bytes(Some(fresh)));
                changed = true;
            }
        }
        if changed {
            active.update(db).await?;
        }
        report.rows_checked += 1;
        progress(1);
    }
    Ok(())
}

/// The outbox's attachments: each sealed or not, as its flag says.
async fn rotate_attachments(
    db: &DatabaseConnection,
    keyring: &Keyring,
    progress: &impl Fn(u64),
    report: &mut Rotation,
) -> anyhow::Result<()> {
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
    Ok(())
}

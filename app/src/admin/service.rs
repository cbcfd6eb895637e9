//! Reading the audit log for the admin page.

use super::model::AuditPage;
use crate::audit::{service as audit, AuditEntry, AuditFilter};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::patients::entity::patient;
use crate::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

const PAGE_SIZE: u64 = 50;

pub async fn audit_log(me: &SignedIn, filter: &AuditFilter) -> Result<AuditPage, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::AuditLog,
        None,
        "audit_log.read",
    )
    .await?;
    let txn = permit.txn();
    // The admin types an email (or an id); the log stores account ids and patient public ids.
    let actor = match filter.actor.trim() {
        "" => None,
        typed => Some(
            user_account::Entity::find()
                .filter(
                    sea_orm::Condition::any()
                        .add(user_account::Column::Email.eq(typed.to_lowercase()))
                        .add(user_account::Column::PublicId.eq(typed)),
                )
                .one(txn)
                .await?
                .map(|u| u.id),
        ),
    };
    let patient = match filter.patient.trim() {
        "" => None,
        typed if typed.contains('@') => {
            let account = user_account::Entity::find()
                .filter(user_account::Column::Email.eq(typed.to_lowercase()))
                .one(txn)
                .await?;
            let record = match account {
                Some(account) => {
                    patient::Entity::find()
                        .filter(patient::Column::UserId.eq(account.id))
                        .one(txn)
                        .await?
                }
                None => None,
            };
            Some(record.map_or_else(|| "-".to_owned(), |p| p.public_id))
        }
        typed => Some(typed.to_owned()),
    };
    let rows = audit::list(txn, filter, actor, patient, PAGE_SIZE + 1).await?;
    let older = (rows.len() as u64 > PAGE_SIZE).then(|| rows[PAGE_SIZE as usize - 1].seq);
    let rows: Vec<_> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    let ids: Vec<i32> = rows.iter().filter_map(|r| r.actor_user_id).collect();
    let emails: HashMap<i32, String> = user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let entries = rows
        .into_iter()
        .map(|row| {
            let actor = row.actor_user_id.and_then(|id| emails.get(&id).cloned());
            AuditEntry::from_row(row, actor)
        })
        .collect();
    permit.commit().await?;
    Ok(AuditPage { entries, older })
}

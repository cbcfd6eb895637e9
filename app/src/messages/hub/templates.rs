//! The practice's saved templates (server only): its own words, which the composer starts from
//! (`{first_name}` becomes the patient's). Kept as written: a template is not about a patient,
//! and the page says not to put a patient's details in one. Reading and changing them is the
//! physician's and staff's (`Resource::Templates`), each change one audited write.

use super::entity::message_template;
use super::model::{Template, TemplateText};
use crate::auth::context::SignedIn;
use crate::auth::{guard, Action, Resource};
use crate::AppError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// Every template, by name.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Template>, AppError> {
    Ok(message_template::Entity::find()
        .order_by_asc(message_template::Column::Name)
        .order_by_asc(message_template::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| Template {
            public_id: t.public_id,
            name: t.name,
            subject: t.subject,
            body: t.body,
        })
        .collect())
}

/// The templates, for whoever keeps them (one audited read).
pub async fn list(me: &SignedIn) -> Result<Vec<Template>, AppError> {
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Read,
        Resource::Templates,
        None,
        "template.list",
    )
    .await?;
    let templates = all(permit.txn()).await?;
    permit.commit().await?;
    Ok(templates)
}

/// Adds a template (`public_id` empty) or changes template `public_id`. Returns its id.
pub async fn save(me: &SignedIn, public_id: &str, text: TemplateText) -> Result<String, AppError> {
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Write,
        Resource::Templates,
        None,
        "template.save",
    )
    .await?;
    let txn = permit.txn();
    let id = if public_id.is_empty() {
        let id = uuid::Uuid::new_v4().simple().to_string();
        message_template::Entity::insert(message_template::ActiveModel {
            public_id: Set(id.clone()),
            name: Set(text.name),
            subject: Set(text.subject),
            body: Set(text.body),
            updated_by: Set(Some(me.auth.user_id)),
            updated_at: Set(me.now()),
            ..Default::default()
        })
        .exec_without_returning(txn)
        .await?;
        id
    } else {
        let changed = message_template::Entity::update_many()
            .col_expr(message_template::Column::Name, Expr::val(text.name))
            .col_expr(message_template::Column::Subject, Expr::val(text.subject))
            .col_expr(message_template::Column::Body, Expr::val(text.body))
            .col_expr(
                message_template::Column::UpdatedBy,
                Expr::val(Some(me.auth.user_id)),
            )
            .col_expr(message_template::Column::UpdatedAt, Expr::val(me.now()))
            .filter(message_template::Column::PublicId.eq(public_id))
            .exec(txn)
            .await?;
        if changed.rows_affected == 0 {
            return Err(AppError::NotFound("That template".into()));
        }
        public_id.to_owned()
    };
    permit.commit().await?;
    Ok(id)
}

/// Removes template `public_id`.
pub async fn remove(me: &SignedIn, public_id: &str) -> Result<(), AppError> {
    let permit = guard::permit(
        me.db(),
        me.now(),
        &me.caller,
        Action::Write,
        Resource::Templates,
        None,
        "template.remove",
    )
    .await?;
    let removed = message_template::Entity::delete_many()
        .filter(message_template::Column::PublicId.eq(public_id))
        .exec(permit.txn())
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("That template".into()));
    }
    permit.commit().await
}

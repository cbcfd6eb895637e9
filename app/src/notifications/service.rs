//! Creating, counting and reading one account's notifications. Only the account's own rows are
//! ever selected: every query filters by the caller's user id.

use super::entity::notification;
use super::model::Notification;
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::live::{model::LiveKind, service as live};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

/// How many notifications the page shows (the newest).
pub const PAGE_SIZE: u64 = 50;

fn context<'a>(column: &'a str, id: &'a str) -> FieldContext<'a> {
    FieldContext {
        table: "notification",
        column,
        row: id,
    }
}

/// Seals `title` and `body` into `row` (bound to its id) and empties the plain-text columns.
async fn seal_into(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    row: notification::Model,
    title: &str,
    body: &str,
) -> Result<(), AppError> {
    let id = row.id.to_string();
    let sealed_title = Encrypted::seal(keyring, &context("sealed_title", &id), &title.to_owned())
        .map_err(AppError::internal)?;
    let sealed_body = Encrypted::seal(keyring, &context("sealed_body", &id), &body.to_owned())
        .map_err(AppError::internal)?;
    let mut row: notification::ActiveModel = row.into();
    row.sealed_title = Set(Some(sealed_title));
    row.sealed_body = Set(Some(sealed_body));
    row.title = Set(String::new());
    row.body = Set(String::new());
    row.update(conn).await?;
    Ok(())
}

/// The title and body of `row`, opened (a row written before sealing has them in plain text).
fn words(keyring: &Keyring, row: &notification::Model) -> Result<(String, String), AppError> {
    let id = row.id.to_string();
    let open = |sealed: &Option<Encrypted<String>>, column: &str, plain: &str| match sealed {
        Some(sealed) => sealed
            .open(keyring, &context(column, &id))
            .map_err(|e| AppError::internal(format_args!("opening a notification: {e}"))),
        None => Ok(plain.to_owned()),
    };
    Ok((
        open(&row.sealed_title, "sealed_title", &row.title)?,
        open(&row.sealed_body, "sealed_body", &row.body)?,
    ))
}

/// Adds a notification for `user_id`, in the caller's transaction; its words are sealed, and
/// the person's open pages hear of it once the transaction commits (`live`).
pub async fn create(
    conn: &DatabaseTransaction,
    keyring: &Keyring,
    user_id: i32,
    title: &str,
    body: &str,
    link: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let row = notification::ActiveModel {
        user_id: Set(user_id),
        title: Set(String::new()),
        body: Set(String::new()),
        link: Set(link.map(str::to_owned)),
        created_at: Set(now),
        read_at: Set(None),
        sealed_title: Set(None),
        sealed_body: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let id = row.id;
    seal_into(conn, keyring, row, title, body).await?;
    live::publish(
        conn,
        user_id,
        LiveKind::Notification,
        Some(&id.to_string()),
        now,
    )
    .await?;
    Ok(id)
}

/// Seals notifications written before the centre was sealed (migration 23 has no keys), and
/// empties their plain text. Returns how many it sealed.
pub async fn seal_old_rows(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
) -> Result<u64, AppError> {
    let old = notification::Entity::find()
        .filter(notification::Column::SealedTitle.is_null())
        .all(conn)
        .await?;
    let mut sealed = 0;
    for row in old {
        let (title, body) = (row.title.clone(), row.body.clone());
        seal_into(conn, keyring, row, &title, &body).await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// How many of `user_id`'s notifications are unread.
pub async fn unread_count(conn: &impl ConnectionTrait, user_id: i32) -> Result<u64, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(conn)
        .await?)
}

/// The title of `user_id`'s newest unread notification.
pub async fn newest_unread_title(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    user_id: i32,
) -> Result<Option<String>, AppError> {
    let newest = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .one(conn)
        .await?;
    newest
        .map(|row| words(keyring, &row).map(|(title, _)| title))
        .transpose()
}

/// The newest notifications of `user_id`, then marks them read (opening the centre reads them);
/// the person's other open pages hear that they were read.
pub async fn open(
    db: &DatabaseConnection,
    keyring: &Keyring,
    user_id: i32,
    time_zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    if rows.iter().any(|row| row.read_at.is_none()) {
        let txn = db.begin().await?;
        let read = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Some(now).into())
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&txn)
            .await?;
        if read.rows_affected > 0 {
            live::publish(&txn, user_id, LiveKind::NotificationsRead, None, now).await?;
        }
        txn.commit().await?;
    }
    rows.into_iter()
        .map(|row| {
            let (title, body) = words(keyring, &row)?;
            Ok(Notification {
                id: row.id,
                title,
                body,
                link: row.link,
                when: row
                    .created_at
                    .with_timezone(&time_zone)
                    .format("%b %-d, %-I:%M %p")
                    .to_string(),
                unread: row.read_at.is_none(),
            })
        })
        .collect()
}

//! Creating, counting and reading one account's notifications. Only the account's own rows are
//! ever selected: every query filters by the caller's user id.

use super::entity::notification;
use super::model::Notification;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// How many notifications the page shows (the newest).
pub const PAGE_SIZE: u64 = 50;

/// Adds a notification for `user_id`, in the caller's transaction.
pub async fn create(
    conn: &impl ConnectionTrait,
    user_id: i32,
    title: &str,
    body: &str,
    link: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let row = notification::ActiveModel {
        user_id: Set(user_id),
        title: Set(title.to_owned()),
        body: Set(body.to_owned()),
        link: Set(link.map(str::to_owned)),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
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
    user_id: i32,
) -> Result<Option<String>, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .one(conn)
        .await?
        .map(|n| n.title))
}

/// The newest notifications of `user_id`, then marks them read (opening the centre reads them).
pub async fn open(
    conn: &impl ConnectionTrait,
    user_id: i32,
    time_zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(PAGE_SIZE)
        .all(conn)
        .await?;
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Some(now).into())
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Notification {
            id: row.id,
            title: row.title,
            body: row.body,
            link: row.link,
            when: row
                .created_at
                .with_timezone(&time_zone)
                .format("%b %-d, %-I:%M %p")
                .to_string(),
            unread: row.read_at.is_none(),
        })
        .collect())
}

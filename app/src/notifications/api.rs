//! The notification centre's server function.

use super::model::Notification;
use crate::AppError;
use leptos::prelude::*;

/// The signed-in person's notifications, newest first; opening them marks them read.
#[server(endpoint = "notifications/open")]
pub async fn open_notifications() -> Result<Vec<Notification>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let db = me.db();
    let time_zone = crate::appointments::service::schedule::practice_time_zone(db).await?;
    super::service::open(db, me.keyring(), me.auth.user_id, time_zone, me.now()).await
}

//! The membership page's server function.

use super::model::MembershipOverview;
use crate::AppError;
use leptos::prelude::*;

/// The signed-in patient's membership and billing history (`None`: no membership, e.g. a
/// patient the practice added by hand).
#[server]
pub async fn load_membership() -> Result<Option<MembershipOverview>, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let db = me.db();
    let time_zone = crate::appointments::service::practice_time_zone(db).await?;
    super::service::overview(db, me.keyring(), me.now(), &me.caller, time_zone).await
}

//! The membership page's server function.

use super::model::MembershipOverview;
use crate::AppError;
use leptos::prelude::*;

/// The signed-in patient's membership and billing history (`None`: no membership, e.g. a
/// patient the practice added by hand).
#[server]
pub async fn load_membership() -> Result<Option<MembershipOverview>, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    let db = identity.db();
    let time_zone = crate::appointments::service::practice_time_zone(db).await?;
    super::service::overview(db, identity.keyring(), identity.now(), &caller, time_zone).await
}

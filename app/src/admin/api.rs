//! Admin server functions.

use crate::audit::{AuditEntry, AuditFilter};
use crate::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub older: Option<i64>,
}

/// The audit log, filtered (admin only; reading it is itself audited).
#[server]
pub async fn audit_log(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    super::service::audit_log(identity.db(), identity.now(), &caller, &filter).await
}

//! Rows written before a table's words were sealed: migrations have no keys, so the server seals
//! them when it starts with its keys, and empties their plain text (migration 23). Once done,
//! each start finds nothing left and costs three indexed look-ups.

use app::crypto::Keyring;
use sea_orm::DatabaseConnection;

pub async fn seal_old_rows(db: &DatabaseConnection, keyring: &Keyring) -> anyhow::Result<()> {
    let emails = crate::mail::outbox::seal_old_rows(db, keyring).await?;
    let texts = crate::sms::outbox::seal_old_rows(db, keyring).await?;
    let notifications = app::notifications::service::seal_old_rows(db, keyring)
        .await
        .map_err(|e| anyhow::anyhow!("sealing notifications: {e}"))?;
    if emails + texts + notifications > 0 {
        tracing::info!(
            emails,
            texts,
            notifications,
            "sealed rows written before their table was sealed"
        );
    }
    Ok(())
}

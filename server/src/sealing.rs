//! Rows written before a table's words were sealed: migrations have no keys, so the server seals
//! them when it starts with its keys, and empties their plain text (migrations 23 and 24). Once
//! done, each start finds nothing left and costs five indexed look-ups.

use app::crypto::Keyring;
use sea_orm::DatabaseConnection;

pub async fn seal_old_rows(db: &DatabaseConnection, keyring: &Keyring) -> anyhow::Result<()> {
    let emails = crate::mail::outbox::seal_old_rows(db, keyring).await?;
    let texts = crate::sms::outbox::seal_old_rows(db, keyring).await?;
    let notifications = app::notifications::service::seal_old_rows(db, keyring)
        .await
        .map_err(|e| anyhow::anyhow!("sealing notifications: {e}"))?;
    let patients = app::patients::service::seal_old_names(db, keyring)
        .await
        .map_err(|e| anyhow::anyhow!("sealing patients' names: {e}"))?;
    let accounts = app::auth::service::seal_old_names(db, keyring)
        .await
        .map_err(|e| anyhow::anyhow!("sealing accounts' names: {e}"))?;
    if emails + texts + notifications + patients + accounts > 0 {
        tracing::info!(
            emails,
            texts,
            notifications,
            patients,
            accounts,
            "sealed rows written before their table was sealed"
        );
    }
    Ok(())
}

/// Seals the audit entries written before the log had seals (migration 25), on the first start
/// with seals only: while no anchor has been exported to `anchor_file` yet. After that, the
/// anchors outside the database are the reference, and an entry without a seal is reported as
/// tampering, never sealed (sealing it would vouch for whatever the database now says).
pub async fn seal_audit_history(
    db: &DatabaseConnection,
    keyring: &Keyring,
    anchor_file: &std::path::Path,
) -> anyhow::Result<()> {
    if anchor_file.exists() {
        return Ok(());
    }
    let sealed = app::audit::service::seal_history(db, keyring.audit_seal())
        .await
        .map_err(|e| anyhow::anyhow!("sealing the audit log: {e}"))?;
    if sealed > 0 {
        tracing::info!(
            entries = sealed,
            "sealed the audit entries written before seals existed"
        );
    }
    Ok(())
}

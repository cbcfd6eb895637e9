//! The local outboxes and the notification centre keep their words encrypted (issue 12 §6):
//! an email's body holds a reset or confirmation link and a patient's name, a text names a
//! visit, a notification says what happened to whom.
//! - `outbox_email.sealed_body`, `outbox_sms.sealed_body`: AES-256-GCM, bound to the row's id;
//! - `outbox_attachment.sealed`: the file's bytes are sealed in place (bound to its email's id);
//! - `notification.sealed_title`, `sealed_body`: bound to the row's id.
//!
//! Migrations have no keys, so the plaintext columns stay for rows written before this; the
//! server seals those at start-up and empties their plaintext (`bedside::sealing`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ADDED: [(&str, &str); 4] = [
    ("outbox_email", "sealed_body"),
    ("outbox_sms", "sealed_body"),
    ("notification", "sealed_title"),
    ("notification", "sealed_body"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for (table, column) in ADDED {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(binary_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("outbox_attachment")
                    .add_column(boolean("sealed").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbox_attachment")
                    .drop_column("sealed")
                    .to_owned(),
            )
            .await?;
        for (table, column) in ADDED.iter().rev() {
            manager
                .alter_table(Table::alter().table(*table).drop_column(*column).to_owned())
                .await?;
        }
        Ok(())
    }
}

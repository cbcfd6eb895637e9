//! People's names are sealed like the rest of a patient's details (issue 12 §6):
//! `patient.sealed_legal_name` and `user_account.sealed_display_name` (a patient's account
//! carries the same name), AES-256-GCM bound to the row's public id.
//!
//! Migrations have no keys, so the plaintext columns stay for rows written before this; the
//! server seals those at start-up and empties their plaintext (`bedside::sealing`). The
//! patient directory is sorted and searched after opening the names, in memory: a practice's
//! few thousand patients take milliseconds, and no keyed index of names is kept on disk
//! (DECISIONS #55).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ADDED: [(&str, &str); 2] = [
    ("patient", "sealed_legal_name"),
    ("user_account", "sealed_display_name"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in ADDED {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

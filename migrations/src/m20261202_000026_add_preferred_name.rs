//! The name a patient likes to be called (`patient.preferred_name`), sealed like the rest of
//! their details (AES-256-GCM bound to the row's public id): the portal greets them by it and
//! the physician sees it beside the legal name.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("patient")
                    .add_column(binary_null("preferred_name"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("patient")
                    .drop_column("preferred_name")
                    .to_owned(),
            )
            .await
    }
}

//! A person's own time zone (`user_account.time_zone`, an IANA name): patients see free times and
//! their visits in it; `NULL` means the practice's.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("user_account")
                    .add_column(string_len_null("time_zone", 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("user_account")
                    .drop_column("time_zone")
                    .to_owned(),
            )
            .await
    }
}

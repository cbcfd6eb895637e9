//! The local outbox: every email Bedside sends when no SMTP server is configured.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox_email")
                    .col(pk_auto("id"))
                    .col(string("from_address"))
                    .col(string("to_address"))
                    .col(string_null("reply_to"))
                    .col(string("subject"))
                    .col(text("text_body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_email_to_address")
                    .table("outbox_email")
                    .col("to_address")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("outbox_email").to_owned())
            .await
    }
}

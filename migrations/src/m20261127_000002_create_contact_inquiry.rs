//! Inquiries sent through the public contact form (R8.4).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("contact_inquiry")
                    .col(pk_auto("id"))
                    .col(string("name"))
                    .col(string("email"))
                    .col(string_null("phone"))
                    .col(string("topic"))
                    .col(text("message"))
                    .col(string_null("client_ip"))
                    .col(timestamp_with_time_zone("received_at"))
                    // Set once the practice has been emailed about the inquiry.
                    .col(timestamp_with_time_zone_null("practice_notified_at"))
                    .col(timestamp_with_time_zone_null("acknowledged_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contact_inquiry_received_at")
                    .table("contact_inquiry")
                    .col("received_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("contact_inquiry").to_owned())
            .await
    }
}

//! Contact inquiries may describe a visitor's health: their personal details and message are
//! now stored encrypted (one sealed column, bound to the row's `public_id`).
//!
//! The plaintext table is replaced, not converted: migrations have no access to the encryption
//! keys, and no installation held real inquiries yet (this lands the day the table was made).
//! `down` restores the previous, plaintext shape, empty.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_inquiries(manager).await?;
        manager
            .create_table(
                Table::create()
                    .table("contact_inquiry")
                    .col(pk_auto("id"))
                    // Random, stable identity bound into the ciphertext.
                    .col(string_uniq("public_id"))
                    .col(string("topic"))
                    // AES-256-GCM of {name, email, phone, message, client_ip}.
                    .col(binary("sealed_details"))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(timestamp_with_time_zone_null("practice_notified_at"))
                    .col(timestamp_with_time_zone_null("acknowledged_at"))
                    .to_owned(),
            )
            .await?;
        index_received_at(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_inquiries(manager).await?;
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
                    .col(timestamp_with_time_zone_null("practice_notified_at"))
                    .col(timestamp_with_time_zone_null("acknowledged_at"))
                    .to_owned(),
            )
            .await?;
        index_received_at(manager).await
    }
}

async fn drop_inquiries(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .if_exists()
                .name("contact_inquiry_received_at")
                .table("contact_inquiry")
                .to_owned(),
        )
        .await?;
    manager
        .drop_table(Table::drop().table("contact_inquiry").to_owned())
        .await
}

async fn index_received_at(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
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

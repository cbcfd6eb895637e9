//! The built-in payment processor's own books (used when no Stripe keys are configured).
//!
//! They mirror the few Stripe objects Bedside relies on, so the demo and the tests drive the
//! same checkout → signed webhook → membership path as production:
//! - `local_checkout`: a hosted checkout page's session (subscribe, or replace the card);
//! - `local_customer`: a customer and the card on file — only its brand, last four digits and
//!   how the test card behaves, never the number;
//! - `local_subscription`, `local_invoice`: what is billed and when;
//! - `local_request`: the answer to each idempotency key, so a replayed request charges once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("local_checkout")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("session_id", 64))
                    .col(string_len("mode", 16))
                    .col(string_len("membership_ref", 64))
                    .col(string_len("customer_email", 254))
                    .col(string_len_null("customer_id", 64))
                    .col(string_len("description", 255))
                    .col(big_integer("amount_cents"))
                    .col(string_len("interval", 16))
                    .col(text("success_url"))
                    .col(text("cancel_url"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("local_customer")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("customer_id", 64))
                    .col(string_len("email", 254))
                    .col(string_len_null("card_brand", 32))
                    .col(string_len_null("card_last4", 4))
                    .col(string_len_null("card_behaviour", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("local_subscription")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("subscription_id", 64))
                    .col(string_len("customer_id", 64))
                    .col(string_len("membership_ref", 64))
                    .col(string_len("description", 255))
                    .col(big_integer("amount_cents"))
                    .col(string_len("interval", 16))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("current_period_start"))
                    .col(timestamp_with_time_zone("current_period_end"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("local_invoice")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("invoice_id", 64))
                    .col(string_len("subscription_id", 64))
                    .col(string_len("description", 255))
                    .col(big_integer("amount_cents"))
                    .col(timestamp_with_time_zone("period_start"))
                    .col(timestamp_with_time_zone("period_end"))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("local_request")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("idempotency_key", 255))
                    .col(text("response"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "local_request",
            "local_invoice",
            "local_subscription",
            "local_customer",
            "local_checkout",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Changes a member asks for that take effect later:
//! - `membership.pending_tier_id` / `pending_billing_period` / `change_at`: a move to a cheaper
//!   membership, made at the end of the paid period;
//! - `membership.cancel_at`: the day a cancelled membership ends (the end of the paid period,
//!   and never before the commitment ends).
//!
//! The built-in processor's subscriptions learn the same: a price for the next period and a
//! day to stop.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            ("membership", integer_null("pending_tier_id")),
            ("membership", string_len_null("pending_billing_period", 16)),
            ("membership", timestamp_with_time_zone_null("change_at")),
            ("membership", timestamp_with_time_zone_null("cancel_at")),
            ("local_subscription", big_integer_null("next_amount_cents")),
            ("local_subscription", string_len_null("next_interval", 16)),
            (
                "local_subscription",
                timestamp_with_time_zone_null("cancel_at"),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("local_subscription", "cancel_at"),
            ("local_subscription", "next_interval"),
            ("local_subscription", "next_amount_cents"),
            ("membership", "cancel_at"),
            ("membership", "change_at"),
            ("membership", "pending_billing_period"),
            ("membership", "pending_tier_id"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

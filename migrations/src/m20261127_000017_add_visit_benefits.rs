//! What a membership tier allows when booking (R2.5) and what a late cancellation costs
//! (R2.4), and the per-visit charges that follow (R6.1):
//! - `membership_tier`: how far ahead members may book, whether same-day visits are offered,
//!   the fee for a visit beyond the yearly allowance and for a home visit the tier does not
//!   include (`NULL`: not offered), and the late-cancellation fee (`NULL`: a late
//!   cancellation counts as a visit instead);
//! - `appointment`: whether the visit is included or has a fee (agreed when booking), and what
//!   a late cancellation did;
//! - `allowance_use`: the included visits of a membership year, numbered 1 to the allowance.
//!   The unique (membership, year, number) makes the allowance a database constraint, as the
//!   holds make the physician's time one (P2, P3);
//! - `visit_charge`: a visit fee or late fee owed, once per visit and kind, sent to the payment
//!   processor to be billed with the next membership invoice;
//! - `local_invoice_item`: the built-in processor's pending invoice items (Stripe's
//!   `invoiceitems`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            (
                "membership_tier",
                integer("booking_horizon_days").default(60).to_owned(),
            ),
            (
                "membership_tier",
                boolean("same_day_booking").default(true).to_owned(),
            ),
            ("membership_tier", big_integer_null("extra_visit_fee_cents")),
            ("membership_tier", big_integer_null("home_visit_fee_cents")),
            ("membership_tier", big_integer_null("late_fee_cents")),
            (
                "appointment",
                string_len("coverage", 16).default("included").to_owned(),
            ),
            ("appointment", big_integer_null("fee_cents")),
            ("appointment", string_len_null("late_outcome", 16)),
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
        manager
            .create_table(
                Table::create()
                    .table("allowance_use")
                    .col(pk_auto("id"))
                    .col(integer("membership_id"))
                    .col(timestamp_with_time_zone("year_start"))
                    .col(integer("ordinal"))
                    .col(integer_uniq("appointment_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_allowance_use_membership_id")
                            .from("allowance_use", "membership_id")
                            .to("membership", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_allowance_use_appointment_id")
                            .from("allowance_use", "appointment_id")
                            .to("appointment", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_allowance_use_year_ordinal")
                    .table("allowance_use")
                    .col("membership_id")
                    .col("year_start")
                    .col("ordinal")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("visit_charge")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(integer("membership_id"))
                    .col(integer("appointment_id"))
                    .col(string_len("kind", 16))
                    .col(big_integer("amount_cents"))
                    .col(string_len("description", 255))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("billed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_charge_membership_id")
                            .from("visit_charge", "membership_id")
                            .to("membership", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_charge_appointment_id")
                            .from("visit_charge", "appointment_id")
                            .to("appointment", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_visit_charge_appointment_kind")
                    .table("visit_charge")
                    .col("appointment_id")
                    .col("kind")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("local_invoice_item")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("item_id", 64))
                    .col(string_len("subscription_id", 64))
                    .col(string_len_null("invoice_id", 64))
                    .col(string_len("kind", 32))
                    .col(string_len("description", 255))
                    .col(big_integer("amount_cents"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_local_invoice_item_subscription")
                    .table("local_invoice_item")
                    .col("subscription_id")
                    .col("invoice_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["local_invoice_item", "visit_charge", "allowance_use"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            ("appointment", "late_outcome"),
            ("appointment", "fee_cents"),
            ("appointment", "coverage"),
            ("membership_tier", "late_fee_cents"),
            ("membership_tier", "home_visit_fee_cents"),
            ("membership_tier", "extra_visit_fee_cents"),
            ("membership_tier", "same_day_booking"),
            ("membership_tier", "booking_horizon_days"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Refunds: one row per processor refund (unique, so a replayed event counts once); the
//! invoice's refunded total is their sum. The built-in processor keeps what it refunded per
//! invoice, to refuse refunding more than was paid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("invoice_refund")
                    .col(pk_auto("id"))
                    .col(integer("invoice_id"))
                    .col(string_len_uniq("processor_refund_id", 255))
                    .col(big_integer("amount_cents"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invoice_refund_invoice_id")
                            .from("invoice_refund", "invoice_id")
                            .to("invoice", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("local_invoice")
                    .add_column(big_integer_null("amount_refunded_cents"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("local_invoice")
                    .drop_column("amount_refunded_cents")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("invoice_refund").to_owned())
            .await
    }
}

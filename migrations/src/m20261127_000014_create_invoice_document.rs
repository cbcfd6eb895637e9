//! An invoice's PDF, made once when it is paid (the receipt) and kept, sealed: it names the
//! member and their address.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("invoice_document")
                    .col(pk_auto("id"))
                    .col(integer_uniq("invoice_id"))
                    .col(binary("content"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invoice_document_invoice_id")
                            .from("invoice_document", "invoice_id")
                            .to("invoice", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("invoice_document").to_owned())
            .await
    }
}

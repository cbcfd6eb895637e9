//! A message's files (issue 15 §2): each is a document of the patient's record, stored sealed
//! like every other document; this row says which message brought it. One document belongs to
//! at most one message.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("message_attachment")
                    .col(pk_auto("id"))
                    .col(integer("message_id"))
                    .col(integer_uniq("document_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_attachment_message")
                            .from("message_attachment", "message_id")
                            .to("message", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_attachment_document")
                            .from("message_attachment", "document_id")
                            .to("document", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_message_attachment_message")
                    .table("message_attachment")
                    .col("message_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("message_attachment").to_owned())
            .await
    }
}

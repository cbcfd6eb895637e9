//! The practice's automatic reply out of office hours (issue 15 §2): one row, whether it is
//! on and its words (the practice's, not a patient's: kept as written), who set it and when.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("message_auto_reply")
                    .col(integer("id").primary_key())
                    .col(boolean("enabled"))
                    .col(text("body"))
                    .col(integer_null("updated_by"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_auto_reply_updated_by")
                            .from("message_auto_reply", "updated_by")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("message_auto_reply").to_owned())
            .await
    }
}

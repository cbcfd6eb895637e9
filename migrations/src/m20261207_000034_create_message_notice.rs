//! Notices of waiting messages (issue 15 §3): an email (and a text, if chosen) when a message
//! waits unread for some minutes, with no subject, content or names.
//! - `message_notice`: each notice sent (conversation, person, channel, when): at most one per
//!   conversation and person in 15 minutes.
//! - `message_preference`: how a person wants to hear of waiting messages (email, text); without
//!   a row, by email only.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to(table: &'static str, column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("message_notice")
                    .col(pk_auto("id"))
                    .col(integer("conversation_id"))
                    .col(integer("user_id"))
                    .col(string_len("channel", 16))
                    .col(timestamp_with_time_zone("sent_at"))
                    .foreign_key(&mut to("message_notice", "conversation_id", "conversation"))
                    .foreign_key(&mut to("message_notice", "user_id", "user_account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_message_notice_conversation_user")
                    .table("message_notice")
                    .col("conversation_id")
                    .col("user_id")
                    .col("sent_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("message_preference")
                    .col(integer("user_id").primary_key())
                    .col(boolean("by_email"))
                    .col(boolean("by_text"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut to("message_preference", "user_id", "user_account"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["message_preference", "message_notice"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

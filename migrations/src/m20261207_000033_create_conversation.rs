//! Secure messaging (issue 15 §2): conversations between a patient and the practice.
//! - `conversation`: whose (`patient_id`), the subject sealed (bound to `public_id`), who began
//!   it, when its last message came (`last_message_at`, for the inbox's order), `last_seq` (the
//!   number of its newest message: a sender takes the next by updating this row, so messages
//!   are numbered in the server's order, never the client's clock), who in the practice it is
//!   assigned to, and when the practice marked it done.
//! - `message`: its conversation and number there, the sender, the body sealed (bound to the
//!   conversation's and the message's ids), and whether the practice's automatic reply wrote it.
//! - `message_receipt`: who read which message, when (read receipts, unread counts).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .to_owned()
}

fn index(name: &'static str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        manager
            .create_table(
                Table::create()
                    .table("conversation")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(integer("patient_id"))
                    .col(binary("subject"))
                    .col(integer("started_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_message_at"))
                    .col(big_integer("last_seq"))
                    .col(integer_null("assigned_to"))
                    .col(timestamp_with_time_zone_null("done_at"))
                    .foreign_key(&mut to("conversation", "patient_id", "patient", Restrict))
                    .foreign_key(&mut to("conversation", "started_by", "user_account", Restrict))
                    .foreign_key(&mut to("conversation", "assigned_to", "user_account", SetNull))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_conversation_patient", "conversation", &["patient_id"]))
            .await?;
        manager
            .create_index(index(
                "ix_conversation_last_message_at",
                "conversation",
                &["last_message_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("message")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(integer("conversation_id"))
                    .col(big_integer("seq"))
                    .col(integer("sender_id"))
                    .col(binary("body"))
                    .col(boolean("automatic"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut to("message", "conversation_id", "conversation", Cascade))
                    .foreign_key(&mut to("message", "sender_id", "user_account", Restrict))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ux_message_conversation_seq", "message", &["conversation_id", "seq"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("message_receipt")
                    .col(integer("message_id"))
                    .col(integer("user_id"))
                    .col(timestamp_with_time_zone("read_at"))
                    .primary_key(Index::create().col("message_id").col("user_id"))
                    .foreign_key(&mut to("message_receipt", "message_id", "message", Cascade))
                    .foreign_key(&mut to("message_receipt", "user_id", "user_account", Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_message_receipt_user", "message_receipt", &["user_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["message_receipt", "message", "conversation"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

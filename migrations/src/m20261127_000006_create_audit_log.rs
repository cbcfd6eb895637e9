//! The audit log: append-only, each row hash-chained to the one before (`bedside audit verify`).
//!
//! `audit_chain_head` holds the sequence number and hash of the newest row. Every writer updates
//! it first, inside the transaction of the access being recorded: the row lock (PostgreSQL) or
//! the write lock (SQLite) puts concurrent writers in one order, so the chain never forks, and a
//! deleted newest row is still detected.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_event")
                    .col(big_integer("seq").primary_key())
                    .col(timestamp_with_time_zone("at"))
                    .col(integer_null("actor_user_id"))
                    .col(string_len_null("actor_role", 16))
                    // A short, non-secret reference to the session (a prefix of its digest).
                    .col(string_len_null("session_ref", 16))
                    .col(string_len("action", 64))
                    .col(string_len("resource_type", 32))
                    .col(string_null("resource_id"))
                    .col(string_null("patient_id"))
                    .col(string_null("ip"))
                    .col(string_null("user_agent"))
                    .col(string_len("outcome", 16))
                    .col(string_null("detail"))
                    .col(string_len("prev_hash", 64))
                    .col(string_len("hash", 64))
                    .to_owned(),
            )
            .await?;
        for column in ["at", "actor_user_id", "patient_id"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("audit_event_{column}"))
                        .table("audit_event")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("audit_chain_head")
                    .col(integer("id").primary_key())
                    .col(big_integer("seq"))
                    .col(string_len("hash", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("audit_chain_head")
                    .columns(["id", "seq", "hash"])
                    .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_chain_head").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("audit_event").to_owned())
            .await
    }
}

//! Live events (issue 15 §1): what a signed-in person's open pages are told, numbered per person.
//! - `live_cursor`: each person's last event number. A writer takes the next one by updating
//!   this row in its own transaction, which holds the row until it commits: one person's events
//!   commit in the order of their numbers, with no gaps, so a stream that has sent number n
//!   has missed nothing before it, and refills from n.
//! - `live_event`: one row per event: whom it is for, its number, what happened (`kind`) and to
//!   what (`subject`, an id, never health data). Kept for a day (`live.keep_hours`), so a
//!   dropped stream resumes from its `Last-Event-ID`; `id` names the row for the one-process
//!   bus, which checks an event committed before telling anyone.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn person(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user"))
        .from(table, "user_id")
        .to("user_account", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("live_cursor")
                    .col(integer("user_id").primary_key())
                    .col(big_integer("seq"))
                    .foreign_key(&mut person("live_cursor"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("live_event")
                    .col(string_len("id", 32).primary_key())
                    .col(integer("user_id"))
                    .col(big_integer("seq"))
                    .col(string_len("kind", 32))
                    .col(string_len_null("subject", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut person("live_event"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_live_event_user_seq")
                    .table("live_event")
                    .col("user_id")
                    .col("seq")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_live_event_created_at")
                    .table("live_event")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("live_event").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("live_cursor").to_owned())
            .await
    }
}

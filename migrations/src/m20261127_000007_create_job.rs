//! The durable job queue: work that must happen later or be retried (emails, payment retries,
//! reminders). Jobs survive restarts; a lease lets several Bedside processes share the queue
//! without running one job twice, and lets a crashed process's job be picked up again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("job")
                    .col(pk_auto("id"))
                    .col(string_len("kind", 64))
                    .col(text("payload"))
                    // At most one live job per key (e.g. "reminder:email:appointment-42").
                    .col(string_len_null("dedupe_key", 191).unique_key())
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("run_at"))
                    .col(integer("attempts").default(0))
                    .col(integer("max_attempts"))
                    .col(string_len_null("lease_owner", 64))
                    .col(timestamp_with_time_zone_null("leased_until"))
                    .col(string_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("job_status_run_at")
                    .table("job")
                    .col("status")
                    .col("run_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("job").to_owned())
            .await
    }
}

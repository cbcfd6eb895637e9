//! The physician's schedule: the practice's time zone, how long each kind of visit takes, the
//! weekly hours of each, and date exceptions (vacation, extra hours). Times are minutes after
//! local midnight in the practice's time zone, on a five-minute grid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("schedule_setting")
                    .col(integer("id").primary_key())
                    // An IANA name, e.g. America/New_York.
                    .col(string_len("time_zone", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("visit_length")
                    .col(string_len("visit_type", 32).primary_key())
                    .col(integer("minutes"))
                    .col(integer("buffer_minutes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("weekly_hours")
                    .col(pk_auto("id"))
                    .col(string_len("visit_type", 32))
                    // 0 = Monday … 6 = Sunday.
                    .col(small_integer("weekday"))
                    .col(integer("start_minute"))
                    .col(integer("end_minute"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("schedule_exception")
                    .col(pk_auto("id"))
                    .col(date("on_date"))
                    // "closed" or "extra_hours".
                    .col(string_len("kind", 16))
                    .col(string_len_null("visit_type", 32))
                    .col(integer_null("start_minute"))
                    .col(integer_null("end_minute"))
                    .col(string_null("note"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("schedule_exception_on_date")
                    .table("schedule_exception")
                    .col("on_date")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "schedule_exception",
            "weekly_hours",
            "visit_length",
            "schedule_setting",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

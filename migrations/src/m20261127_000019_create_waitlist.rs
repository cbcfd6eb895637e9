//! The waitlist: a patient waits for a day and a kind of visit; when a time on that day frees
//! up, the first in line is offered it, held for them (an `appointment` in status `offered`,
//! with its holds, so nobody else can take it) until `offered_until`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("waitlist_entry")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(integer("patient_id"))
                    .col(string_len("visit_type", 16))
                    .col(date("day"))
                    .col(string_len("status", 16))
                    .col(integer_null("appointment_id"))
                    .col(timestamp_with_time_zone_null("offered_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waitlist_entry_patient_id")
                            .from("waitlist_entry", "patient_id")
                            .to("patient", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waitlist_entry_appointment_id")
                            .from("waitlist_entry", "appointment_id")
                            .to("appointment", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_waitlist_entry_line")
                    .table("waitlist_entry")
                    .col("day")
                    .col("visit_type")
                    .col("status")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("waitlist_entry").to_owned())
            .await
    }
}

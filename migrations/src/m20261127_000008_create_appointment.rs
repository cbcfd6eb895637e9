//! Booked visits, and the holds that make double-booking impossible.
//!
//! A visit holds every five-minute unit of the physician's time it covers (its buffer
//! included), one row per unit, and `appointment_hold.unit_start` is unique. Two bookings that
//! overlap in any unit cannot both commit, on SQLite and PostgreSQL alike: the database, not the
//! code, keeps the calendar consistent (P2). Cancelling deletes the holds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("appointment")
                    .col(pk_auto("id"))
                    .col(string_uniq("public_id"))
                    .col(integer("patient_id"))
                    .col(string_len("visit_type", 32))
                    .col(timestamp_with_time_zone("starts_at"))
                    .col(timestamp_with_time_zone("ends_at"))
                    // The patient's reason for the visit is health information: sealed.
                    .col(binary("reason"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("cancelled_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appointment_patient_id")
                            .from("appointment", "patient_id")
                            .to("patient", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for column in ["patient_id", "starts_at"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("appointment_{column}"))
                        .table("appointment")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("appointment_hold")
                    .col(timestamp_with_time_zone("unit_start").primary_key())
                    .col(integer("appointment_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appointment_hold_appointment_id")
                            .from("appointment_hold", "appointment_id")
                            .to("appointment", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("appointment_hold_appointment_id")
                    .table("appointment_hold")
                    .col("appointment_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("appointment_hold").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("appointment").to_owned())
            .await
    }
}

//! The patient's chart (issue 14 §1): problems, allergies, medications, immunizations, emergency
//! contacts, insurance and family history, one row per entry.
//! - `chart_entry`: the entry as it stands. Its section is plain (the chart lists allergies
//!   first); what it says is one sealed value (AES-256-GCM, bound to the table, the column and
//!   the entry's public id). `version` counts its changes; a removed entry keeps its row with
//!   `removed_at` set.
//! - `chart_entry_version`: every version of every entry (who, when, what changed, and the
//!   words sealed, bound to the entry's public id and the version), so nothing is overwritten
//!   silently and the history can be read back.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("chart_entry")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 40))
                    .col(integer("patient_id"))
                    .col(string_len("section", 32))
                    .col(integer("version"))
                    .col(binary("content"))
                    .col(integer("updated_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("removed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chart_entry_patient_id")
                            .from("chart_entry", "patient_id")
                            .to("patient", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chart_entry_updated_by")
                            .from("chart_entry", "updated_by")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_chart_entry_patient")
                    .table("chart_entry")
                    .col("patient_id")
                    .col("section")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("chart_entry_version")
                    .col(pk_auto("id"))
                    .col(integer("entry_id"))
                    .col(integer("version"))
                    .col(string_len("change", 16))
                    .col(binary("content"))
                    .col(integer("changed_by"))
                    .col(timestamp_with_time_zone("changed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chart_entry_version_entry_id")
                            .from("chart_entry_version", "entry_id")
                            .to("chart_entry", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chart_entry_version_changed_by")
                            .from("chart_entry_version", "changed_by")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One row per version: two saves of the same version cannot both land.
        manager
            .create_index(
                Index::create()
                    .name("ux_chart_entry_version")
                    .table("chart_entry_version")
                    .col("entry_id")
                    .col("version")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("chart_entry_version").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("chart_entry").to_owned())
            .await
    }
}

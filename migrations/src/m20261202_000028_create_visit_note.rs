//! Visit documentation (issue 14 §2): one note per visit and the addenda of signed notes.
//! - `visit_note`: the note (subjective, objective, assessment, plan, prescriptions, follow-up)
//!   as one sealed value bound to its public id; `status` is `draft` until signed, then the row
//!   never changes again; `version` counts saves, so a save from a stale window is refused.
//! - `visit_note_addendum`: corrections to a signed note, each sealed and bound to its own id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to(table: &'static str, column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("visit_note")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 40))
                    .col(integer_uniq("appointment_id"))
                    .col(integer("patient_id"))
                    .col(string_len("status", 16))
                    .col(integer("version"))
                    .col(binary("content"))
                    .col(integer("author_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(integer_null("signed_by"))
                    .col(timestamp_with_time_zone_null("signed_at"))
                    .foreign_key(&mut to("visit_note", "appointment_id", "appointment"))
                    .foreign_key(&mut to("visit_note", "patient_id", "patient"))
                    .foreign_key(&mut to("visit_note", "author_id", "user_account"))
                    .foreign_key(&mut to("visit_note", "signed_by", "user_account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_visit_note_patient")
                    .table("visit_note")
                    .col("patient_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("visit_note_addendum")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 40))
                    .col(integer("note_id"))
                    .col(binary("text"))
                    .col(integer("written_by"))
                    .col(timestamp_with_time_zone("written_at"))
                    .foreign_key(&mut to("visit_note_addendum", "note_id", "visit_note"))
                    .foreign_key(&mut to("visit_note_addendum", "written_by", "user_account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_visit_note_addendum_note")
                    .table("visit_note_addendum")
                    .col("note_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("visit_note_addendum").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("visit_note").to_owned())
            .await
    }
}

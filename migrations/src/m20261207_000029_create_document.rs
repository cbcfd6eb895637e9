//! Documents in the record (issue 14 §3): one row per file (a lab result, a letter, a photo, a
//! file attached to a visit note). The bytes are in object storage, sealed with the row's own
//! data key; `label` (title, file name) and `data_key` are sealed with the keyring and bound to
//! `public_id`. `kind`, `document_date`, `media_type` and `size_bytes` are plain so lists sort
//! and filter without opening anything. A row is written only once its object is complete.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to(column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_document_{column}"))
        .from("document", column)
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
                    .table("document")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 40))
                    .col(integer("patient_id"))
                    .col(integer_null("appointment_id"))
                    .col(string_len("kind", 24))
                    .col(date("document_date"))
                    .col(string_len("media_type", 8))
                    .col(big_integer("size_bytes"))
                    .col(binary("label"))
                    .col(binary("data_key"))
                    .col(integer("uploaded_by"))
                    .col(timestamp_with_time_zone("uploaded_at"))
                    .foreign_key(&mut to("patient_id", "patient"))
                    .foreign_key(&mut to("appointment_id", "appointment"))
                    .foreign_key(&mut to("uploaded_by", "user_account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_document_patient")
                    .table("document")
                    .col("patient_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_document_appointment")
                    .table("document")
                    .col("appointment_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("document").to_owned())
            .await
    }
}

//! Access grants (issue 14 §7): who may open one patient's chart beyond their role, until when.
//! - `access_grant`: the patient, the person let in (`user_id`), the kind (`care`: a staff
//!   member the physician let work on the chart; `break_glass`: the administrator's emergency
//!   read), who granted it, from when until when, `revoked_at`; the reason sealed (`reason`,
//!   bound to `public_id`). Looked up on every access the role alone refuses, by person and
//!   patient.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to(column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_access_grant_{column}"))
        .from("access_grant", column)
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
                    .table("access_grant")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 40))
                    .col(integer("patient_id"))
                    .col(integer("user_id"))
                    .col(string_len("kind", 16))
                    .col(binary("reason"))
                    .col(integer("granted_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut to("patient_id", "patient"))
                    .foreign_key(&mut to("user_id", "user_account"))
                    .foreign_key(&mut to("granted_by", "user_account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_grant_person_patient")
                    .table("access_grant")
                    .col("user_id")
                    .col("patient_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_grant_patient")
                    .table("access_grant")
                    .col("patient_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("access_grant").to_owned())
            .await
    }
}

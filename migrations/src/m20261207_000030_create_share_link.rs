//! Share links (issue 14 §5): SMART Health Links a patient makes to part of their record.
//! - `share_link`: who made it, for which patient, until when; the manifest URL's secret only as
//!   its SHA-256 (`secret_hash`); what it shares, its label and the files' key sealed together
//!   (`content`, bound to `public_id`); an optional passcode as an argon2id hash; the wrong
//!   passcodes counted for the link's whole life (`passcode_failures`); `revoked_at`.
//! - `share_access`: every use of a link (opened, wrong passcode, after its end), with who
//!   asked and from where sealed (`detail`, bound to the link's public id).

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
                    .table("share_link")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 40))
                    .col(string_len_uniq("secret_hash", 64))
                    .col(integer("patient_id"))
                    .col(integer("created_by"))
                    .col(binary("content"))
                    .col(string_len_null("passcode_hash", 200))
                    .col(integer("passcode_failures"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut to("share_link", "patient_id", "patient"))
                    .foreign_key(&mut to("share_link", "created_by", "user_account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_share_link_patient")
                    .table("share_link")
                    .col("patient_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("share_access")
                    .col(pk_auto("id"))
                    .col(integer("link_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len("outcome", 24))
                    .col(binary("detail"))
                    .foreign_key(&mut to("share_access", "link_id", "share_link"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_share_access_link")
                    .table("share_access")
                    .col("link_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("share_access").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("share_link").to_owned())
            .await
    }
}

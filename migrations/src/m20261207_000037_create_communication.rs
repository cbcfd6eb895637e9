//! The communication hub (issue 15 §4): what the practice sent a patient by email or text from
//! the chart (a sealed copy: to whom, the subject, the words; whether it went out yet), and the
//! practice's saved templates (its own words, not a patient's).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("communication")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(integer("patient_id"))
                    .col(string_len("channel", 16))
                    .col(integer("sent_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(binary("copy"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_communication_patient")
                            .from("communication", "patient_id")
                            .to("patient", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_communication_sent_by")
                            .from("communication", "sent_by")
                            .to("user_account", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_communication_patient")
                    .table("communication")
                    .col("patient_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("message_template")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(string_len("name", 80))
                    .col(string_len("subject", 120))
                    .col(text("body"))
                    .col(integer_null("updated_by"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_template_updated_by")
                            .from("message_template", "updated_by")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("message_template").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("communication").to_owned())
            .await
    }
}

//! What Bedside tells patients about their visits, and through which channel.
//!
//! - `visit_notice`: one row per appointment, notice (confirmation, the 7-day email, the
//!   24-hour text, the 2-hour in-app reminder, "your visit was moved") and visit start time (a
//!   moved visit is reminded again), unique on the three, recording how its delivery went. The scheduler may run a job twice after a crash; this row is what makes a notice go
//!   out once (P10).
//! - `notification`: the in-app notification centre, per account.
//! - `outbox_sms`: text messages kept instead of sent when no SMS provider is configured.
//! - `outbox_attachment`: files attached to outbox emails (a visit's calendar entry).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("visit_notice")
                    .col(pk_auto("id"))
                    .col(integer("appointment_id"))
                    .col(string_len("kind", 32))
                    .col(timestamp_with_time_zone("visit_starts_at"))
                    .col(string_len("channel", 16))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(text_null("detail"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_notice_appointment_id")
                            .from("visit_notice", "appointment_id")
                            .to("appointment", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visit_notice_appointment_kind_start")
                    .table("visit_notice")
                    .col("appointment_id")
                    .col("kind")
                    .col("visit_starts_at")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notification")
                    .col(pk_auto("id"))
                    .col(integer("user_id"))
                    .col(string_len("title", 200))
                    .col(text("body"))
                    .col(string_len_null("link", 300))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_user_id")
                            .from("notification", "user_id")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_user_id")
                    .table("notification")
                    .col("user_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("outbox_sms")
                    .col(pk_auto("id"))
                    .col(string_len("from_number", 32))
                    .col(string_len("to_number", 32))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("outbox_attachment")
                    .col(pk_auto("id"))
                    .col(integer("email_id"))
                    .col(string_len("filename", 200))
                    .col(string_len("content_type", 100))
                    .col(binary("content"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_attachment_email_id")
                            .from("outbox_attachment", "email_id")
                            .to("outbox_email", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_attachment_email_id")
                    .table("outbox_attachment")
                    .col("email_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "outbox_attachment",
            "outbox_sms",
            "notification",
            "visit_notice",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

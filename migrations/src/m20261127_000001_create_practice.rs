//! The practice's public profile, its services and its membership tiers: the content of the
//! public website (R8), edited by the admin.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("practice")
                    .col(pk_auto("id"))
                    .col(string("name"))
                    .col(string("tagline"))
                    .col(text("intro"))
                    .col(string("physician_name"))
                    .col(string("physician_credentials"))
                    .col(string("physician_photo"))
                    .col(string("physician_photo_alt"))
                    .col(text("physician_bio"))
                    .col(integer("practicing_since"))
                    // JSON arrays of strings; small, read together, never queried into.
                    .col(text("specialties"))
                    .col(text("board_certifications"))
                    .col(text("education"))
                    .col(string("street"))
                    .col(string("locality"))
                    .col(string("region"))
                    .col(string("postal_code"))
                    .col(string("phone"))
                    .col(string("email"))
                    // JSON array of {"days": "...", "hours": "..."}.
                    .col(text("hours"))
                    .col(string("time_zone"))
                    .col(text("privacy_notice"))
                    .col(string("privacy_notice_version"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("practice_service")
                    .col(pk_auto("id"))
                    .col(string_uniq("slug"))
                    .col(string("name"))
                    .col(text("summary"))
                    .col(text("description"))
                    // JSON array of strings: what the service includes.
                    .col(text("highlights"))
                    .col(integer("sort_order"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("membership_tier")
                    .col(pk_auto("id"))
                    .col(string_uniq("slug"))
                    .col(string("name"))
                    .col(string("tagline"))
                    // Money is integer cents everywhere.
                    .col(big_integer("monthly_price_cents"))
                    .col(big_integer("annual_price_cents"))
                    // Visits included per membership year; NULL means unlimited.
                    .col(integer_null("visits_per_year"))
                    .col(boolean("includes_in_person"))
                    .col(boolean("includes_telemedicine"))
                    .col(boolean("includes_home_visits"))
                    .col(integer("max_dependents"))
                    .col(integer("commitment_months"))
                    .col(text("cancellation_policy"))
                    .col(text("late_cancellation_policy"))
                    // JSON array of strings.
                    .col(text("benefits"))
                    .col(boolean("featured"))
                    .col(boolean("active"))
                    .col(integer("sort_order"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["membership_tier", "practice_service", "practice"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

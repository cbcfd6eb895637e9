//! Memberships and billing.
//!
//! - `practice` gains the membership agreement and its version (a visitor consents to a
//!   version; a new version is a new text, and old consents keep naming the one they saw).
//! - `membership`: one per patient, its tier and billing period, and where it stands
//!   (`pending` until the email is confirmed and the first payment arrives, then `active`;
//!   `past_due` while a failed renewal is retried, `suspended` after the last retry fails,
//!   `cancelled`). Only the payment processor's ids are kept, never a card.
//! - `membership_consent`: which version of which document was accepted, when and from where.
//! - `patient_profile`: the address and emergency contact, sealed like the patient's own PHI.
//! - `household_member`: a dependent's patient record under a membership.
//! - `invoice` and `invoice_line`: amounts in integer cents, one row per processor invoice
//!   (unique, so a replayed webhook credits once).
//! - `payment_event`: each processor event id once (webhook de-duplication).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn cascade(
    name: &str,
    from: (&'static str, &'static str),
    to: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table("practice")
                    .add_column(text("membership_agreement").default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("practice")
                    .add_column(string_len("membership_agreement_version", 32).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("membership")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(integer_uniq("patient_id"))
                    .col(integer("tier_id"))
                    .col(string_len("billing_period", 16))
                    .col(string_len("status", 16))
                    .col(string_len_null("processor_customer_id", 255))
                    .col(string_len_null("processor_subscription_id", 255))
                    .col(timestamp_with_time_zone_null("current_period_start"))
                    .col(timestamp_with_time_zone_null("current_period_end"))
                    .col(timestamp_with_time_zone_null("commitment_ends_at"))
                    .col(timestamp_with_time_zone_null("activated_at"))
                    .col(timestamp_with_time_zone_null("suspended_at"))
                    .col(timestamp_with_time_zone_null("cancelled_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut cascade(
                        "fk_membership_patient_id",
                        ("membership", "patient_id"),
                        "patient",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_membership_tier_id")
                            .from("membership", "tier_id")
                            .to("membership_tier", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("membership_processor_subscription_id")
                    .table("membership")
                    .col("processor_subscription_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("membership_consent")
                    .col(pk_auto("id"))
                    .col(integer("membership_id"))
                    .col(string_len("document", 32))
                    .col(string_len("version", 32))
                    .col(timestamp_with_time_zone("accepted_at"))
                    .col(string_len_null("ip", 64))
                    .col(string_len_null("user_agent", 255))
                    .foreign_key(&mut cascade(
                        "fk_membership_consent_membership_id",
                        ("membership_consent", "membership_id"),
                        "membership",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("membership_consent_membership_id")
                    .table("membership_consent")
                    .col("membership_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("patient_profile")
                    .col(pk_auto("id"))
                    .col(integer_uniq("patient_id"))
                    .col(binary("address"))
                    .col(binary("emergency_contact"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut cascade(
                        "fk_patient_profile_patient_id",
                        ("patient_profile", "patient_id"),
                        "patient",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("household_member")
                    .col(pk_auto("id"))
                    .col(integer("membership_id"))
                    .col(integer_uniq("patient_id"))
                    .col(string_len("relationship", 32))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut cascade(
                        "fk_household_member_membership_id",
                        ("household_member", "membership_id"),
                        "membership",
                    ))
                    .foreign_key(&mut cascade(
                        "fk_household_member_patient_id",
                        ("household_member", "patient_id"),
                        "patient",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("invoice")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("public_id", 32))
                    .col(string_len_uniq("number", 32))
                    .col(integer("membership_id"))
                    .col(string_len_null("processor_invoice_id", 255))
                    .col(string_len("status", 16))
                    .col(string_len("currency", 3))
                    .col(big_integer("total_cents"))
                    .col(big_integer("amount_paid_cents"))
                    .col(big_integer("amount_refunded_cents"))
                    .col(integer("failed_attempts"))
                    .col(timestamp_with_time_zone_null("period_start"))
                    .col(timestamp_with_time_zone_null("period_end"))
                    .col(timestamp_with_time_zone("issued_at"))
                    .col(timestamp_with_time_zone_null("paid_at"))
                    .foreign_key(&mut cascade(
                        "fk_invoice_membership_id",
                        ("invoice", "membership_id"),
                        "membership",
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, table, columns, unique) in [
            (
                "invoice_processor_invoice_id",
                "invoice",
                &["processor_invoice_id"][..],
                true,
            ),
            (
                "invoice_membership_id",
                "invoice",
                &["membership_id"][..],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for column in columns {
                index.col(*column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("invoice_line")
                    .col(pk_auto("id"))
                    .col(integer("invoice_id"))
                    .col(string_len("kind", 16))
                    .col(string_len("description", 255))
                    .col(integer("quantity"))
                    .col(big_integer("unit_amount_cents"))
                    .col(big_integer("amount_cents"))
                    .col(boolean("hsa_eligible"))
                    .foreign_key(&mut cascade(
                        "fk_invoice_line_invoice_id",
                        ("invoice_line", "invoice_id"),
                        "invoice",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("payment_event")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("event_id", 255))
                    .col(string_len("event_type", 64))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(text_null("outcome"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "payment_event",
            "invoice_line",
            "invoice",
            "household_member",
            "patient_profile",
            "membership_consent",
            "membership",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in ["membership_agreement_version", "membership_agreement"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("practice")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

//! Accounts, their sessions, one-time tokens, MFA recovery codes, and the patient record that
//! holds the first PHI (date of birth and phone, sealed).
//!
//! Secrets are never stored as given: session tokens, recovery codes and emailed tokens are
//! stored as SHA-256 digests (they are 256-bit random, so a fast hash is enough), passwords as
//! argon2id PHC strings, and the TOTP secret and PHI columns as AES-256-GCM ciphertext.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("user_account")
                    .col(pk_auto("id"))
                    .col(string_uniq("public_id"))
                    // Stored lowercased: one account per address whatever the case typed.
                    .col(string_uniq("email"))
                    .col(string("display_name"))
                    .col(string_len("role", 16))
                    .col(string("password_hash"))
                    .col(timestamp_with_time_zone_null("email_verified_at"))
                    .col(timestamp_with_time_zone_null("disabled_at"))
                    // AES-256-GCM of the TOTP secret, bound to the account's public id.
                    .col(binary_null("mfa_secret"))
                    .col(timestamp_with_time_zone_null("mfa_enabled_at"))
                    // The last TOTP time step accepted: a code is good once.
                    .col(big_integer_null("mfa_last_step"))
                    .col(integer("failed_sign_ins").default(0))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("user_session")
                    // SHA-256 of the cookie's token, hex.
                    .col(string_len("id", 64).primary_key())
                    .col(integer("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(boolean("mfa_passed").default(false))
                    .col(string_null("ip"))
                    .col(string_null("user_agent"))
                    .foreign_key(&mut cascade("user_session", "user_id"))
                    .to_owned(),
            )
            .await?;
        index(manager, "user_session", "user_id").await?;
        manager
            .create_table(
                Table::create()
                    .table("account_token")
                    .col(pk_auto("id"))
                    .col(integer("user_id"))
                    .col(string_len("purpose", 32))
                    .col(string_len_uniq("token_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut cascade("account_token", "user_id"))
                    .to_owned(),
            )
            .await?;
        index(manager, "account_token", "user_id").await?;
        manager
            .create_table(
                Table::create()
                    .table("recovery_code")
                    .col(pk_auto("id"))
                    .col(integer("user_id"))
                    .col(string_len("code_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut cascade("recovery_code", "user_id"))
                    .to_owned(),
            )
            .await?;
        index(manager, "recovery_code", "user_id").await?;
        manager
            .create_table(
                Table::create()
                    .table("patient")
                    .col(pk_auto("id"))
                    .col(string_uniq("public_id"))
                    // The patient's own sign-in, when they have one (a dependent may not).
                    .col(integer_null("user_id").unique_key())
                    .col(string("legal_name"))
                    // AES-256-GCM, bound to table, column and public id.
                    .col(binary("date_of_birth"))
                    .col(binary_null("phone"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_patient_user_id")
                            .from("patient", "user_id")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "patient",
            "recovery_code",
            "account_token",
            "user_session",
            "user_account",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A foreign key from `table.column` to the account, deleted with it.
fn cascade(table: &'static str, column: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to("user_account", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(format!("{table}_{column}"))
                .table(table)
                .col(column)
                .to_owned(),
        )
        .await
}

//! Sign-in limits an attacker cannot turn against the owner (issue 12 §2):
//! - `sign_in_client`: wrong passwords counted per account **and** client address (an IPv6
//!   client by its /64), with a back-off that grows for that pair only, and when that pair last
//!   signed in successfully (a known client is not shut out by the account-wide cap);
//! - `user_account.mfa_failures` / `mfa_locked_until`: wrong second-factor codes counted on
//!   their own, not reset by a correct password;
//! - `user_account.mfa_setup_session`: the session that started setting up an authenticator
//!   (only it can confirm the pending secret, which is new each time set-up starts).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sign_in_client")
                    .col(pk_auto("id"))
                    .col(integer("user_id"))
                    .col(string_len("client_key", 64))
                    .col(integer("failures").default(0))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone_null("last_success_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sign_in_client_user_id")
                            .from("sign_in_client", "user_id")
                            .to("user_account", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sign_in_client_user_client")
                    .table("sign_in_client")
                    .col("user_id")
                    .col("client_key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("user_account")
                    .add_column(integer("mfa_failures").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("user_account")
                    .add_column(timestamp_with_time_zone_null("mfa_locked_until"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("user_account")
                    .add_column(string_len_null("mfa_setup_session", 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["mfa_setup_session", "mfa_locked_until", "mfa_failures"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("user_account")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("sign_in_client").to_owned())
            .await
    }
}

//! Each audit entry is sealed with an HMAC under a key kept with the encryption keys, not in the
//! database (issue 12 §5): `audit_seal` holds one seal per entry, over the entry's chain hash
//! (which covers its number, the entry before it and every field). Whoever can write to the
//! database can recompute the hash chain, but not a seal. Like the log, the table only grows:
//! triggers refuse `UPDATE` and `DELETE` (and `TRUNCATE` on PostgreSQL).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFUSAL: &str = "the audit seals are append-only";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_seal")
                    .col(big_integer("seq").primary_key())
                    .col(string_len("seal", 100))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION bedside_audit_seal_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$ \
                     LANGUAGE plpgsql"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal \
                     FOR EACH ROW EXECUTE FUNCTION bedside_audit_seal_append_only()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal \
                     FOR EACH STATEMENT EXECUTE FUNCTION bedside_audit_seal_append_only()",
                )
                .await?;
            }
            _ => {
                for event in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER audit_seal_no_{} BEFORE {event} ON audit_seal \
                         BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
                        event.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_seal; \
                 DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_seal; \
                 DROP FUNCTION IF EXISTS bedside_audit_seal_append_only()",
            )
            .await?;
        }
        manager
            .drop_table(Table::drop().table("audit_seal").to_owned())
            .await
    }
}

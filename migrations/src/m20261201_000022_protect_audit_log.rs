//! The audit log refuses to be rewritten by its own database user: triggers reject `UPDATE`
//! and `DELETE` on `audit_event` (and `TRUNCATE` on PostgreSQL), so a bug, a stray query or
//! anyone with the application's credentials can only append. Dropping the triggers needs the
//! table's owner: run Bedside as a role that does not own its tables (README, "A least-privilege
//! database role").

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFUSAL: &str = "the audit log is append-only";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION bedside_audit_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$ \
                     LANGUAGE plpgsql"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event \
                     FOR EACH ROW EXECUTE FUNCTION bedside_audit_append_only()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event \
                     FOR EACH STATEMENT EXECUTE FUNCTION bedside_audit_append_only()",
                )
                .await?;
            }
            _ => {
                for event in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER audit_event_no_{} BEFORE {event} ON audit_event \
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
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event; \
                     DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event; \
                     DROP FUNCTION IF EXISTS bedside_audit_append_only()",
                )
                .await?;
            }
            _ => {
                for event in ["update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS audit_event_no_{event}"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }
}

//! `schedule_setting.revision`: a number the database itself raises whenever the practice's
//! hours, visit lengths or days off change (triggers on those tables), so a server can keep the
//! schedule in memory and know from one small read whether it is still current — whichever
//! process, tool or test made the change.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables a schedule is made of (besides `schedule_setting` itself).
const TABLES: [&str; 3] = ["weekly_hours", "visit_length", "schedule_exception"];
const EVENTS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];
const BUMP: &str = "UPDATE schedule_setting SET revision = revision + 1";

/// SQLite's triggers (one per table and kind of change): (name, event, table).
fn sqlite_triggers() -> impl Iterator<Item = (String, &'static str, &'static str)> {
    TABLES.into_iter().flat_map(|table| {
        EVENTS.into_iter().map(move |event| {
            let name = format!("{table}_{}_changes_schedule", event.to_lowercase());
            (name, event, table)
        })
    })
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("schedule_setting")
                    .add_column(big_integer("revision").default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION bedside_schedule_changed() RETURNS trigger AS $$ \
                     BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
                ))
                .await?;
                for table in TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_changes_schedule AFTER INSERT OR UPDATE OR DELETE \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bedside_schedule_changed()"
                    ))
                    .await?;
                }
            }
            _ => {
                for (name, event, table) in sqlite_triggers() {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END"
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
                for table in TABLES {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {table}_changes_schedule ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS bedside_schedule_changed()")
                    .await?;
            }
            _ => {
                for (name, _, _) in sqlite_triggers() {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table("schedule_setting")
                    .drop_column("revision")
                    .to_owned(),
            )
            .await
    }
}

//! Bedside's database schema, one migration per change.
//!
//! An applied migration is never edited: a change to the schema is a new file named
//! `mYYYYMMDD_NNNNNN_<verb>_<object>.rs` in this folder; `build.rs` lists the files in the
//! order of their names, so adding the file is all there is to it.

pub use sea_orm_migration::prelude::*;

// `mod` for each `mYYYYMMDD_NNNNNN_*.rs` in this folder and `in_order()`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Runs Bedside's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        in_order()
    }
}

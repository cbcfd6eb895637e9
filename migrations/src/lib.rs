//! Bedside's database schema, one migration per change.
//!
//! An applied migration is never edited: a change to the schema is a new file named
//! `mYYYYMMDD_NNNNNN_<verb>_<object>.rs`, added to [`Migrator::migrations`] in order.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_practice;
mod m20261127_000002_create_contact_inquiry;
mod m20261127_000003_create_outbox_email;
mod m20261127_000004_seal_contact_inquiry;
mod m20261127_000005_create_identity;
mod m20261127_000006_create_audit_log;
mod m20261127_000007_create_job;
mod m20261127_000008_create_appointment;
mod m20261127_000009_create_schedule;
mod m20261127_000010_create_visit_notices;
mod m20261127_000011_create_calendar_feed;
mod m20261127_000012_create_membership;
mod m20261127_000013_create_local_payments;
mod m20261127_000014_create_invoice_document;
mod m20261127_000015_add_membership_changes;
mod m20261127_000016_create_invoice_refund;
mod m20261127_000017_add_visit_benefits;
mod m20261127_000018_add_account_time_zone;
mod m20261127_000019_create_waitlist;
mod m20261128_000020_add_schedule_revision;
mod m20261201_000021_add_sign_in_back_off;
mod m20261201_000022_protect_audit_log;
mod m20261201_000023_seal_outboxes_and_notifications;
mod m20261201_000024_seal_names;
mod m20261201_000025_create_audit_seal;

/// Runs Bedside's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_practice::Migration),
            Box::new(m20261127_000002_create_contact_inquiry::Migration),
            Box::new(m20261127_000003_create_outbox_email::Migration),
            Box::new(m20261127_000004_seal_contact_inquiry::Migration),
            Box::new(m20261127_000005_create_identity::Migration),
            Box::new(m20261127_000006_create_audit_log::Migration),
            Box::new(m20261127_000007_create_job::Migration),
            Box::new(m20261127_000008_create_appointment::Migration),
            Box::new(m20261127_000009_create_schedule::Migration),
            Box::new(m20261127_000010_create_visit_notices::Migration),
            Box::new(m20261127_000011_create_calendar_feed::Migration),
            Box::new(m20261127_000012_create_membership::Migration),
            Box::new(m20261127_000013_create_local_payments::Migration),
            Box::new(m20261127_000014_create_invoice_document::Migration),
            Box::new(m20261127_000015_add_membership_changes::Migration),
            Box::new(m20261127_000016_create_invoice_refund::Migration),
            Box::new(m20261127_000017_add_visit_benefits::Migration),
            Box::new(m20261127_000018_add_account_time_zone::Migration),
            Box::new(m20261127_000019_create_waitlist::Migration),
            Box::new(m20261128_000020_add_schedule_revision::Migration),
            Box::new(m20261201_000021_add_sign_in_back_off::Migration),
            Box::new(m20261201_000022_protect_audit_log::Migration),
            Box::new(m20261201_000023_seal_outboxes_and_notifications::Migration),
            Box::new(m20261201_000024_seal_names::Migration),
            Box::new(m20261201_000025_create_audit_seal::Migration),
        ]
    }
}

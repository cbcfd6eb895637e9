//! Integration tests: each starts the real server on port 0 against its own fresh database,
//! on SQLite and, when `DATABASE_URL` points at PostgreSQL, on PostgreSQL too. Grouped by the
//! feature folders of `app/` and `server/`.

mod appointments;
mod audit_seal;
mod auth;
mod billing;
mod grants;
mod helpers;
mod jobs;
mod live;
mod logs;
mod mail;
mod memberships;
mod messages;
mod notifications;
mod patients;
mod records;
mod sealed_at_rest;
mod server;
mod site;
mod sms;

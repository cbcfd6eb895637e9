//! Integration tests: each starts the real server on port 0 against its own fresh database,
//! on SQLite and, when `DATABASE_URL` points at PostgreSQL, on PostgreSQL too.

mod access;
mod audit_seal;
mod auth;
mod benefits;
mod booking;
mod calendar;
mod contact;
mod helpers;
mod jobs;
mod lockout;
mod logs;
mod mail;
mod memberships;
mod notices;
mod notifications;
mod sealed_at_rest;
mod second_factor;
mod server;
mod site;
mod sms;
mod stripe;
mod waitlist;

//! The `bedside` server: configuration, start-up, the database, outside services and the HTTP
//! stack around the Leptos application. See docs/ARCHITECTURE.md.

#![recursion_limit = "256"]

mod api_status;
pub mod appointments;
pub mod area;
pub mod audit_anchor;
pub mod auth;
pub mod billing;
pub mod bus;
pub mod cli;
pub mod client;
pub mod db;
pub mod demo;
mod demo_chart;
mod demo_lab;
mod demo_messages;
mod demo_visits;
pub mod dev_clock;
pub mod health;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod mail;
pub mod memberships;
pub mod messages;
pub mod plain_form;
pub mod production;
pub mod records;
pub mod rotate;
pub mod sealing;
pub mod security;
pub mod settings;
pub mod site;
pub mod sms;
pub mod startup;
pub mod state;
/// Object storage lives in the app crate (its server functions stream uploads into it).
pub use app::storage;
pub mod telemetry;

pub use settings::Settings;
pub use startup::Application;

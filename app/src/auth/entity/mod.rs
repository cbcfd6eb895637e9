//! Database entities of identity. They stay on the server: pages get `CurrentUser` and
//! `SessionSummary` instead.

pub mod account_token;
pub mod recovery_code;
pub mod sign_in_client;
pub mod user_account;
pub mod user_session;

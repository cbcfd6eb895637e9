//! Secure messaging (issue 15 §2): conversations between a patient and the practice (the
//! physician, and staff the physician let work on that patient's chart). Subjects and bodies
//! are sealed; messages are numbered by the server; a message, and its being read, reach the
//! open pages of everyone in the conversation at once (`live`).

pub mod api;
mod conversation;
pub mod hub;
pub mod model;
mod pages;
mod search_page;

pub use conversation::ConversationPage;
pub use pages::{InboxPage, MyMessagesPage, NewMessagePage};

#[cfg(feature = "ssr")]
pub mod attach;
#[cfg(feature = "ssr")]
pub mod auto_reply;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
mod files;
#[cfg(feature = "ssr")]
pub mod manage;
#[cfg(feature = "ssr")]
pub mod notices;
#[cfg(feature = "ssr")]
pub mod people;
#[cfg(feature = "ssr")]
pub mod reading;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod unread;
#[cfg(feature = "ssr")]
mod writing;

//! The in-app notification centre: short notes for one account (a visit in two hours), an
//! unread count in the header, and a page that lists them.

pub mod api;
pub mod model;
mod pages;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::NotificationsPage;

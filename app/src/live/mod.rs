//! Live events: what a person's open pages are told as it happens (a notification arrived, a
//! message came in, a visit changed). A service announces an event with [`service::publish`]
//! inside the transaction that made it true; the server's bus (`server/src/live`) hands it to
//! the person's open streams once it has committed, in this process or any other on the same
//! database. An event says what changed and its id, never health data: the page fetches what it
//! shows through the usual audited reads. See `docs/ARCHITECTURE.md` (*Live events*).

pub mod client;
pub mod model;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;

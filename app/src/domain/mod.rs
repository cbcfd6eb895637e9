//! Validated values shared by every feature: once parsed, the type is the proof.

mod email;
pub mod money;
mod phone;
mod text;

pub use email::Email;
pub use money::format_usd;
pub use phone::PhoneNumber;
pub use text::BoundedText;

//! Validated values shared by every feature: once parsed, the type is the proof.

mod email;
mod phone;
mod text;

pub use email::Email;
pub use phone::PhoneNumber;
pub use text::BoundedText;

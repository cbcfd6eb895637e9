//! Encryption of health data at rest and short-lived signed tokens (server only).
//!
//! - [`Keyring`]: AES-256-GCM with a random 96-bit nonce per value, the key id inside every
//!   ciphertext (so keys can rotate), and associated data binding the table, column and row, so a
//!   ciphertext copied to another row or column does not decrypt.
//! - [`TokenSigner`]: HS256 JSON Web Tokens with a fixed algorithm list and `exp`/`aud`/`iss`
//!   checked against an injected clock.

mod keyring;
mod sealed_rows;
pub mod stream;
mod tokens;

pub use keyring::{
    AuditSeal, CryptoError, Encrypted, FieldContext, Keyring, MasterKey, SealedField,
};
pub use sealed_rows::{SealedColumn, SealedRow};
pub use tokens::{TokenError, TokenSigner};

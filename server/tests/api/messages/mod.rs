//! Secure messaging (issue 15 §2).

mod conversations;
mod notices;
mod search;

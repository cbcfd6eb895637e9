//! Identity and access: accounts and roles, passwords, sessions with timeouts, TOTP MFA, the
//! access policy, and the sign-in and security pages.

pub mod api;
mod layout;
pub mod model;
pub mod pages;
pub mod policy;

#[cfg(feature = "ssr")]
mod common;
#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod lockout;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod totp;

pub use layout::{AppLayout, IdleWarning};
pub use model::{CurrentUser, Role, SessionSummary};
pub use pages::{
    AuthFormState, ForgotPasswordPage, MfaChallengePage, MfaSetupPage, ResetPasswordPage,
    SecurityPage, SignInPage,
};
pub use policy::{can, can_with, Action, Actor, Grant, Resource};

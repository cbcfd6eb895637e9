//! Identity's rules. The HTTP handlers and server functions call these; every decision is
//! here, tested without a browser. [`Identity`] is one value shared by every request; its
//! methods live in rooms:
//! - [`accounts`]: creating accounts, passwords, turning an account off;
//! - [`sessions`]: signing in and out, the session behind a cookie, a person's devices;
//! - [`mfa`]: the second factor (authenticator codes, recovery codes);
//! - [`tokens`]: one-time emailed links (password reset, email confirmation).

use super::entity::{account_token, recovery_code, user_account};
use super::guard::Caller;
use super::model::{check_new_password, CurrentUser, Role, SessionSummary};
use super::password::{PasswordHasher, Verified};
use super::policy::Actor;
use super::session::{self, sha256_hex, SessionPolicy, SessionRecord, SessionStore, SessionToken};
use super::totp;
use crate::audit::service::{self as audit, AuditActor, AuditEvent, ClientInfo};
use crate::audit::Outcome;
use crate::clock::SharedClock;
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::domain::Email;
use crate::{AppError, FieldErrors};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use std::sync::Arc;

mod accounts;
mod mfa;
mod sessions;
mod tokens;

pub use accounts::{NewAccount, PreparedAccount};
pub use mfa::MfaEnrollment;
pub use tokens::TokenPurpose;

/// Tunables of sign-in, from the settings.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    pub sessions: SessionPolicy,
    /// Consecutive failed sign-ins (or codes) that lock an account.
    pub lockout_after: i32,
    pub lockout_minutes: i64,
    /// Shown in authenticator apps next to the code.
    pub issuer: String,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            sessions: SessionPolicy::default(),
            lockout_after: 20,
            lockout_minutes: 30,
            issuer: "Bedside".into(),
        }
    }
}

/// What an account may do in its current session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Signed in fully.
    Complete,
    /// Password given; the authenticator code (or a recovery code) is next.
    SecondFactorPending,
    /// A practice account without MFA yet: it must set it up before anything else.
    MustEnrollSecondFactor,
}

/// The person behind a request's session cookie.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: i32,
    pub public_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub mfa_enabled: bool,
    pub patient_id: Option<i32>,
    /// The patient record's public id, with `patient_id`.
    pub patient_public_id: Option<String>,
    pub session: SessionRecord,
    pub idle_timeout_seconds: i64,
    /// What this person's accesses are audited under.
    pub seal: crate::crypto::AuditSeal,
}

impl Authenticated {
    pub fn stage(&self) -> Stage {
        if self.session.mfa_passed {
            Stage::Complete
        } else if self.mfa_enabled {
            Stage::SecondFactorPending
        } else {
            Stage::MustEnrollSecondFactor
        }
    }

    /// The actor for policy checks; only a fully signed-in session has one.
    pub fn caller(&self, client: &ClientInfo) -> Option<Caller> {
        (self.stage() == Stage::Complete).then(|| Caller {
            actor: Actor {
                user_id: self.user_id,
                role: self.role,
                patient_id: self.patient_id,
            },
            session_ref: Some(self.session.reference()),
            client: client.clone(),
            seal: self.seal.clone(),
        })
    }

    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
            public_id: self.public_id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            mfa_enabled: self.mfa_enabled,
            idle_timeout_seconds: self.idle_timeout_seconds,
            fully_signed_in: self.stage() == Stage::Complete,
        }
    }

    pub fn audit_actor(&self) -> AuditActor {
        AuditActor {
            user_id: self.user_id,
            role: self.role,
            session_ref: Some(self.session.reference()),
        }
    }
}

/// Why a sign-in (or a code) was refused. Wrong email and wrong password are one answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Unknown address, wrong password, a lock, a disabled account: one answer for all, so the
    /// form tells a guesser nothing (the audit log keeps which it was).
    #[error("That email and password did not let you in. Check both and try again in a few minutes, or reset your password by email.")]
    WrongCredentials,
    #[error("That code did not work. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes.")]
    WrongCode,
    /// Too many wrong codes after one password: the half-open session is ended.
    #[error(
        "That code did not work either. For your safety, please sign in with your password again."
    )]
    PasswordAgain,
    #[error("{0}")]
    Other(AppError),
}

impl SignInError {
    /// A stable code (tests, logs); never match on the message.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::WrongCredentials => "wrong_credentials",
            SignInError::WrongCode => "wrong_code",
            SignInError::PasswordAgain => "password_again",
            SignInError::Other(_) => "other",
        }
    }
}

impl From<AppError> for SignInError {
    fn from(err: AppError) -> Self {
        SignInError::Other(err)
    }
}

impl From<sea_orm::DbErr> for SignInError {
    fn from(err: sea_orm::DbErr) -> Self {
        SignInError::Other(AppError::from(err))
    }
}

/// A new session, to be set as the cookie.
#[derive(Debug)]
pub struct NewSession {
    pub token: SessionToken,
    pub stage: Stage,
    pub role: Role,
}

/// A new account's details.
fn name_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "user_account",
        column: "display_name",
        row: public_id,
    }
}

/// An account's name, opened (a row from before names were sealed has it in plain text until
/// the server's next start seals it).
pub fn display_name(keyring: &Keyring, user: &user_account::Model) -> Result<String, AppError> {
    match &user.sealed_display_name {
        Some(sealed) => sealed
            .open(keyring, &name_context(&user.public_id))
            .map_err(|e| AppError::internal(format_args!("opening account {}: {e}", user.id))),
        None => Ok(user.display_name.clone()),
    }
}

/// Seals the names of accounts written before names were sealed, and empties their plain
/// text. Returns how many it sealed.
pub async fn seal_old_names(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
) -> Result<u64, AppError> {
    let old = user_account::Entity::find()
        .filter(user_account::Column::SealedDisplayName.is_null())
        .all(conn)
        .await?;
    let mut sealed = 0;
    for user in old {
        let name = Encrypted::seal(keyring, &name_context(&user.public_id), &user.display_name)
            .map_err(|e| AppError::internal(format_args!("sealing a name: {e}")))?;
        let mut active: user_account::ActiveModel = user.into();
        active.sealed_display_name = Set(Some(name));
        active.display_name = Set(String::new());
        active.update(conn).await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Identity's services, shared by every request.
#[derive(Clone)]
pub struct Identity {
    db: DatabaseConnection,
    keyring: Keyring,
    hasher: PasswordHasher,
    sessions: Arc<dyn SessionStore>,
    clock: SharedClock,
    config: Arc<IdentityConfig>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

fn mfa_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "user_account",
        column: "mfa_secret",
        row: public_id,
    }
}

/// An audit entry about the account `user` (sign-in steps, credentials), with why.
fn account_event(
    actor: AuditActor,
    action: &str,
    user: &user_account::Model,
    outcome: Outcome,
    detail: &str,
) -> AuditEvent {
    let mut event = audit::event(
        Some(actor),
        action,
        "account",
        Some(user.public_id.clone()),
        None,
        outcome,
    );
    event.detail = Some(detail.to_owned());
    event
}

impl Identity {
    /// The password hasher (argon2id on a bounded pool), also for share links' passcodes.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    pub fn new(
        db: DatabaseConnection,
        keyring: Keyring,
        hasher: PasswordHasher,
        sessions: Arc<dyn SessionStore>,
        clock: SharedClock,
        config: IdentityConfig,
    ) -> Self {
        Identity {
            db,
            keyring,
            hasher,
            sessions,
            clock,
            config: Arc::new(config),
        }
    }

    /// The same accounts, sessions and clock, sealing and opening with `keyring` (key
    /// rotation: what reads with the new keys alone).
    pub fn with_keyring(&self, keyring: Keyring) -> Identity {
        Identity {
            keyring,
            ..self.clone()
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.sessions
    }

    /// Records something a person did to their own account.
    async fn record_own(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
        action: &str,
    ) -> Result<(), AppError> {
        let event = audit::event(
            Some(auth.audit_actor()),
            action,
            "account",
            Some(auth.public_id.clone()),
            None,
            Outcome::Allowed,
        );
        self.record(client, event).await
    }

    async fn record(&self, client: &ClientInfo, event: AuditEvent) -> Result<(), AppError> {
        audit::record_alone(
            &self.db,
            self.keyring.audit_seal(),
            self.now(),
            client,
            &event,
        )
        .await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<user_account::Model>, AppError> {
        Ok(user_account::Entity::find()
            .filter(user_account::Column::Email.eq(email.trim().to_lowercase()))
            .one(&self.db)
            .await?)
    }

    async fn user(&self, id: i32) -> Result<Option<user_account::Model>, AppError> {
        Ok(user_account::Entity::find_by_id(id).one(&self.db).await?)
    }

    fn role_of(user: &user_account::Model) -> Role {
        user.role
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }
}

/// "Firefox on Linux" from a user agent, for the sessions list.
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown device".into();
    };
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let system = if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_described_in_plain_words() {
        assert_eq!(
            describe_device(Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36")),
            "Chrome on Linux"
        );
        assert_eq!(
            describe_device(Some("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1")),
            "Safari on iOS"
        );
        assert_eq!(describe_device(None), "Unknown device");
    }
}

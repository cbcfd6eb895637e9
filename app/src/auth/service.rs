//! Identity's rules: accounts, sign-in with a second factor, sessions, passwords, one-time
//! tokens. The HTTP handlers and server functions call these; every decision is here, tested
//! without a browser.

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
pub struct SignedIn {
    pub token: SessionToken,
    pub stage: Stage,
    pub role: Role,
}

/// What the MFA set-up page shows.
#[derive(Debug, Clone)]
pub struct MfaEnrollment {
    pub qr_svg: String,
    pub manual_key: String,
    pub otpauth_url: String,
}

/// Why a one-time emailed token exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    VerifyEmail,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::VerifyEmail => "verify_email",
        }
    }

    /// Reset links are good for an hour, confirmation links for two days.
    pub fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::PasswordReset => Duration::hours(1),
            TokenPurpose::VerifyEmail => Duration::hours(48),
        }
    }
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

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

/// An account that passed its checks, with its password hashed, ready to store.
#[derive(Clone)]
pub struct PreparedAccount {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    password_hash: String,
}

impl std::fmt::Debug for PreparedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedAccount")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
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

    /// Creates an account (the admin command, the demo).
    pub async fn create_account(&self, new: &NewAccount) -> Result<user_account::Model, AppError> {
        let prepared = self.prepare_account(new).await?;
        Self::insert_account(&self.db, &self.keyring, &prepared, self.now()).await
    }

    /// Checks a new account and hashes its password (the slow part, done before any
    /// transaction opens). Every problem comes back as a field error.
    pub async fn prepare_account(&self, new: &NewAccount) -> Result<PreparedAccount, AppError> {
        let mut errors = FieldErrors::default();
        let email = match Email::parse(&new.email) {
            Ok(email) => Some(email),
            Err(message) => {
                errors.add("email", message);
                None
            }
        };
        if new.display_name.trim().is_empty() {
            errors.add("display_name", "Please enter a name.");
        }
        if let Err(problem) = check_new_password(&new.password, &new.email) {
            errors.add("password", problem.to_string());
        }
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let password_hash = self
            .hasher
            .hash(&new.password)
            .await
            .map_err(|e| e.into_app_error())?;
        Ok(PreparedAccount {
            email: email.as_str().to_lowercase(),
            display_name: new.display_name.trim().to_owned(),
            role: new.role,
            password_hash,
        })
    }

    /// Stores a prepared account on `conn` (enrollment passes its transaction). An address
    /// already in use is a field error on `email`.
    pub async fn insert_account(
        conn: &impl ConnectionTrait,
        keyring: &Keyring,
        prepared: &PreparedAccount,
        now: DateTime<Utc>,
    ) -> Result<user_account::Model, AppError> {
        let public_id = uuid::Uuid::new_v4().simple().to_string();
        let name = Encrypted::seal(keyring, &name_context(&public_id), &prepared.display_name)
            .map_err(|e| AppError::internal(format_args!("sealing a name: {e}")))?;
        let inserted = user_account::ActiveModel {
            public_id: Set(public_id),
            email: Set(prepared.email.clone()),
            display_name: Set(String::new()),
            sealed_display_name: Set(Some(name)),
            role: Set(prepared.role),
            password_hash: Set(prepared.password_hash.clone()),
            failed_sign_ins: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await;
        match inserted {
            Ok(user) => Ok(user),
            Err(err) => match AppError::from(err) {
                AppError::Conflict(_) => {
                    let mut errors = FieldErrors::default();
                    errors.add(
                        "email",
                        "An account with this email address already exists. Sign in instead, or use another address.",
                    );
                    Err(AppError::Validation(errors))
                }
                other => Err(other),
            },
        }
    }

    /// Whether an account uses `email` already (a quick answer for a form, before any work).
    /// The account that uses `email`, if any (enrollment tells its owner by email, never on
    /// the page).
    pub async fn account_with_email(&self, email: &str) -> Result<Option<i32>, AppError> {
        Ok(self.user_by_email(email).await?.map(|user| user.id))
    }

    /// Where to write to an account, and how to greet its owner: `None` for a disabled or
    /// removed account.
    pub async fn address_of(&self, user_id: i32) -> Result<Option<(String, String)>, AppError> {
        let Some(user) = self
            .user(user_id)
            .await?
            .filter(|user| user.disabled_at.is_none())
        else {
            return Ok(None);
        };
        let name = display_name(&self.keyring, &user)?;
        Ok(Some((user.email, name)))
    }

    fn role_of(user: &user_account::Model) -> Role {
        user.role
    }

    async fn new_session(
        &self,
        user: &user_account::Model,
        mfa_passed: bool,
        client: &ClientInfo,
        started: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<SessionToken, AppError> {
        let now = self.now();
        let token = SessionToken::generate();
        let (created_at, expires_at) =
            started.unwrap_or((now, now + self.config.sessions.absolute()));
        let record = SessionRecord {
            id: token.id(),
            user_id: user.id,
            created_at,
            last_seen_at: now,
            expires_at,
            mfa_passed,
            ip: client.ip.clone(),
            user_agent: client
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(255).collect()),
        };
        self.sessions
            .insert(&record)
            .await
            .map_err(AppError::internal)?;
        Ok(token)
    }

    fn lockout_policy(&self) -> super::lockout::LockoutPolicy {
        super::lockout::LockoutPolicy::with_account_cap(
            self.config.lockout_after,
            self.config.lockout_minutes,
        )
    }

    /// Checks an email and password; on success opens a session, which still needs the second
    /// factor when the account has (or must have) one.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, SignInError> {
        let user = self.user_by_email(email).await?;
        let now = self.now();
        let policy = self.lockout_policy();
        let client_key = super::lockout::client_key(client.ip.as_deref());
        let refused = match &user {
            Some(user) => {
                super::lockout::refuses(&self.db, &policy, user, &client_key, now).await?
            }
            None => false,
        };
        // The password is checked whatever else is true (unknown, locked, disabled): the same
        // work, so the time taken tells nothing either.
        let verified = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await
            .map_err(|e| SignInError::Other(e.into_app_error()))?;
        let Some(user) = user else {
            let mut event = audit::event(
                None,
                "session.sign_in",
                "account",
                None,
                None,
                Outcome::Failed,
            );
            event.detail = Some("unknown email".into());
            self.record(client, event).await?;
            return Err(SignInError::WrongCredentials);
        };
        let actor = AuditActor {
            user_id: user.id,
            role: Self::role_of(&user),
            session_ref: None,
        };
        let refusal = if refused {
            Some((Outcome::Denied, "locked"))
        } else if verified == Verified::No {
            Some((Outcome::Failed, "wrong password"))
        } else if user.disabled_at.is_some() {
            Some((Outcome::Denied, "account disabled"))
        } else {
            None
        };
        if let Some((outcome, why)) = refusal {
            if verified == Verified::No {
                super::lockout::note_wrong_password(&self.db, &policy, &user, &client_key, now)
                    .await?;
            }
            let event = account_event(actor, "session.sign_in", &user, outcome, why);
            self.record(client, event).await?;
            return Err(SignInError::WrongCredentials);
        }
        if let Verified::YesWithUpgrade(new_hash) = verified {
            let mut active: user_account::ActiveModel = user.clone().into();
            active.password_hash = Set(new_hash);
            active.update(&self.db).await?;
        }
        super::lockout::note_right_password(&self.db, &user, &client_key, now).await?;
        let role = Self::role_of(&user);
        let mfa_enabled = user.mfa_enabled_at.is_some();
        let stage = if mfa_enabled {
            Stage::SecondFactorPending
        } else if role.requires_mfa() {
            Stage::MustEnrollSecondFactor
        } else {
            // A patient without MFA is fully signed in by the password alone.
            Stage::Complete
        };
        let token = self
            .new_session(&user, stage == Stage::Complete, client, None)
            .await?;
        let mut event = audit::event(
            Some(actor),
            "session.sign_in",
            "account",
            Some(user.public_id.clone()),
            None,
            Outcome::Allowed,
        );
        if let Some(actor) = event.actor.as_mut() {
            actor.session_ref = Some(token.id().chars().take(16).collect());
        }
        event.detail = match stage {
            Stage::Complete => None,
            Stage::SecondFactorPending => Some("second factor pending".into()),
            Stage::MustEnrollSecondFactor => Some("must set up MFA".into()),
        };
        self.record(client, event).await?;
        Ok(SignedIn { token, stage, role })
    }

    /// The session behind a cookie, if it is still good; an expired one is deleted (P8).
    pub async fn authenticate(
        &self,
        token: &SessionToken,
    ) -> Result<Option<Authenticated>, AppError> {
        self.authenticate_with(token, true).await
    }

    /// As [`authenticate`](Self::authenticate); `touch: false` reads the session without
    /// counting the request as activity (the idle warning's own status check).
    pub async fn authenticate_with(
        &self,
        token: &SessionToken,
        touch: bool,
    ) -> Result<Option<Authenticated>, AppError> {
        let id = token.id();
        let Some(record) = self.sessions.get(&id).await.map_err(AppError::internal)? else {
            return Ok(None);
        };
        // The account and, for a patient, their record's ids, in one query.
        let found = user_account::Entity::find_by_id(record.user_id)
            .find_also_related(crate::patients::entity::patient::Entity)
            .one(&self.db)
            .await?;
        let Some((user, patient)) = found else {
            self.sessions
                .remove(&id)
                .await
                .map_err(AppError::internal)?;
            return Ok(None);
        };
        if user.disabled_at.is_some() {
            self.sessions
                .remove(&id)
                .await
                .map_err(AppError::internal)?;
            return Ok(None);
        }
        let role = Self::role_of(&user);
        let now = self.now();
        if let Err(expiry) = session::check(&record, role, &self.config.sessions, now) {
            tracing::info!(user = user.id, ?expiry, "session ended by timeout");
            self.sessions
                .remove(&id)
                .await
                .map_err(AppError::internal)?;
            return Ok(None);
        }
        let last_seen_at = if touch && session::needs_touch(&record, now) {
            self.sessions
                .touch(&id, now)
                .await
                .map_err(AppError::internal)?;
            now
        } else {
            record.last_seen_at
        };
        let (patient_id, patient_public_id) = match (role, patient) {
            (Role::Patient, Some(patient)) => (Some(patient.id), Some(patient.public_id)),
            _ => (None, None),
        };
        let idle = self.config.sessions.idle_timeout(role, record.mfa_passed);
        let name = display_name(&self.keyring, &user)?;
        Ok(Some(Authenticated {
            user_id: user.id,
            public_id: user.public_id,
            email: user.email,
            display_name: name,
            role,
            mfa_enabled: user.mfa_enabled_at.is_some(),
            patient_id,
            patient_public_id,
            session: SessionRecord {
                last_seen_at,
                ..record
            },
            idle_timeout_seconds: idle.num_seconds(),
            seal: self.keyring.audit_seal().clone(),
        }))
    }

    /// Replaces the session with a fresh token that has passed the second factor (a new token
    /// on every privilege change: a token seen before this moment is worth nothing after).
    async fn elevate(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<SessionToken, AppError> {
        let user = self
            .user(auth.user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        self.sessions
            .remove(&auth.session.id)
            .await
            .map_err(AppError::internal)?;
        self.new_session(
            &user,
            true,
            client,
            Some((auth.session.created_at, auth.session.expires_at)),
        )
        .await
    }

    /// Checks the authenticator code (or a recovery code) of a session waiting for it.
    pub async fn complete_second_factor(
        &self,
        auth: &Authenticated,
        code: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, SignInError> {
        let user = self
            .user(auth.user_id)
            .await?
            .ok_or(SignInError::WrongCode)?;
        let now = self.now();
        if super::lockout::codes_locked(&user, now) {
            // Even the right code is refused, with the answer a wrong one gets here, and not
            // counted: a lock that grew with every try would let whoever holds the password
            // keep the owner out for good.
            let event = account_event(
                auth.audit_actor(),
                "session.second_factor",
                &user,
                Outcome::Denied,
                "codes locked after too many wrong ones",
            );
            self.sessions
                .remove(&auth.session.id)
                .await
                .map_err(AppError::internal)?;
            self.record(client, event).await?;
            return Err(SignInError::PasswordAgain);
        }
        let accepted = self.accept_code(&user, code).await?;
        let mut event = audit::event(
            Some(auth.audit_actor()),
            "session.second_factor",
            "account",
            Some(user.public_id.clone()),
            None,
            Outcome::Allowed,
        );
        match accepted {
            None => {
                let after =
                    super::lockout::note_wrong_code(&self.db, &self.lockout_policy(), &user, now)
                        .await?;
                event.outcome = Outcome::Failed;
                if after == super::lockout::AfterWrongCode::PasswordAgain {
                    event.detail = Some("too many wrong codes: password asked again".into());
                    self.sessions
                        .remove(&auth.session.id)
                        .await
                        .map_err(AppError::internal)?;
                }
                self.record(client, event).await?;
                Err(match after {
                    super::lockout::AfterWrongCode::TryAgain => SignInError::WrongCode,
                    super::lockout::AfterWrongCode::PasswordAgain => SignInError::PasswordAgain,
                })
            }
            Some(kind) => {
                event.detail = Some(kind.into());
                self.record(client, event).await?;
                super::lockout::note_right_code(&self.db, &user).await?;
                Ok(self.elevate(auth, client).await?)
            }
        }
    }

    /// `Some("totp")` or `Some("recovery code")` when `code` is good (and now used up).
    async fn accept_code(
        &self,
        user: &user_account::Model,
        code: &str,
    ) -> Result<Option<&'static str>, AppError> {
        if user.mfa_secret.is_none() {
            return Ok(None);
        }
        if self.accept_authenticator_code(user, code).await? {
            return Ok(Some("totp"));
        }
        let normalised = totp::normalise_recovery_code(code);
        if normalised.len() == 16 {
            let used = recovery_code::Entity::update_many()
                .col_expr(recovery_code::Column::UsedAt, Some(self.now()).into())
                .filter(recovery_code::Column::UserId.eq(user.id))
                .filter(recovery_code::Column::CodeHash.eq(sha256_hex(normalised.as_bytes())))
                .filter(recovery_code::Column::UsedAt.is_null())
                .exec(&self.db)
                .await?;
            if used.rows_affected == 1 {
                return Ok(Some("recovery code"));
            }
        }
        Ok(None)
    }

    /// Whether `code` is the authenticator's code now, not used before (it is used up now).
    async fn accept_authenticator_code(
        &self,
        user: &user_account::Model,
        code: &str,
    ) -> Result<bool, AppError> {
        let Some(sealed) = &user.mfa_secret else {
            return Ok(false);
        };
        let secret: Vec<u8> = sealed
            .open(&self.keyring, &mfa_context(&user.public_id))
            .map_err(|e| AppError::internal(format_args!("opening an MFA secret: {e}")))?;
        let unix = u64::try_from(self.now().timestamp()).unwrap_or(0);
        if let Some(step) = totp::verify(&secret, code, unix, user.mfa_last_step) {
            // Conditional update: two requests racing with the same code cannot both win.
            let updated = user_account::Entity::update_many()
                .col_expr(user_account::Column::MfaLastStep, step.into())
                .filter(user_account::Column::Id.eq(user.id))
                .filter(
                    sea_orm::Condition::any()
                        .add(user_account::Column::MfaLastStep.is_null())
                        .add(user_account::Column::MfaLastStep.lt(step)),
                )
                .exec(&self.db)
                .await?;
            return Ok(updated.rows_affected == 1);
        }
        Ok(false)
    }

    /// Starts (or resumes) setting up an authenticator app: the secret is stored sealed but is
    /// not in force until a first code confirms it.
    pub async fn begin_mfa_enrollment(
        &self,
        auth: &Authenticated,
    ) -> Result<MfaEnrollment, AppError> {
        let user = self
            .user(auth.user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if user.mfa_enabled_at.is_some() {
            return Err(AppError::Conflict(
                "Two-step sign-in is already set up.".into(),
            ));
        }
        // A new secret each time set-up starts in a session, bound to that session: a code
        // shown to another session (another device, an earlier sign-in, a screenshot) is worth
        // nothing, and only the session that shows this one can confirm it. Within the session
        // (a reload, a mistyped code) the same secret is shown again.
        let pending = match (&user.mfa_secret, &user.mfa_setup_session) {
            (Some(sealed), Some(session)) if *session == auth.session.id => Some(
                sealed
                    .open(&self.keyring, &mfa_context(&user.public_id))
                    .map_err(|e| AppError::internal(format_args!("opening an MFA secret: {e}")))?,
            ),
            _ => None,
        };
        let secret = match pending {
            Some(secret) => secret,
            None => {
                let secret = totp::new_secret();
                let sealed = Encrypted::seal(&self.keyring, &mfa_context(&user.public_id), &secret)
                    .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
                let mut active: user_account::ActiveModel = user.clone().into();
                active.mfa_secret = Set(Some(sealed));
                active.mfa_last_step = Set(None);
                active.mfa_setup_session = Set(Some(auth.session.id.clone()));
                active.update(&self.db).await?;
                secret
            }
        };
        let url = totp::otpauth_url(&secret, &self.config.issuer, &user.email)
            .ok_or_else(|| AppError::internal("building the otpauth URL"))?;
        Ok(MfaEnrollment {
            qr_svg: totp::qr_svg(&url).ok_or_else(|| AppError::internal("drawing the QR code"))?,
            manual_key: totp::manual_key(&secret),
            otpauth_url: url,
        })
    }

    /// Confirms the authenticator with its first code; returns the recovery codes (shown once)
    /// and the session's new token.
    pub async fn confirm_mfa_enrollment(
        &self,
        auth: &Authenticated,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(Vec<String>, SessionToken), AppError> {
        let user = self
            .user(auth.user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if user.mfa_enabled_at.is_some() {
            return Err(AppError::Conflict(
                "Two-step sign-in is already set up.".into(),
            ));
        }
        if user.mfa_setup_session.as_deref() != Some(auth.session.id.as_str()) {
            let mut errors = FieldErrors::default();
            errors.add(
                "code",
                "Set-up was started again elsewhere. Scan the new code shown on this page, then enter the 6-digit code your app shows.",
            );
            return Err(AppError::Validation(errors));
        }
        if self.accept_code(&user, code).await? != Some("totp") {
            let mut errors = FieldErrors::default();
            errors.add(
                "code",
                "That code did not match. Enter the 6-digit code your app shows now.",
            );
            return Err(AppError::Validation(errors));
        }
        let mut active: user_account::ActiveModel = user.clone().into();
        active.mfa_setup_session = Set(None);
        active.mfa_enabled_at = Set(Some(self.now()));
        active.updated_at = Set(self.now());
        active.update(&self.db).await?;
        let codes = self.replace_recovery_codes(user.id).await?;
        self.record(
            client,
            audit::event(
                Some(auth.audit_actor()),
                "account.mfa_enabled",
                "account",
                Some(user.public_id.clone()),
                None,
                Outcome::Allowed,
            ),
        )
        .await?;
        let token = self.elevate(auth, client).await?;
        Ok((codes, token))
    }

    async fn replace_recovery_codes(&self, user_id: i32) -> Result<Vec<String>, AppError> {
        let codes = totp::new_recovery_codes();
        let now = self.now();
        let txn = self.db.begin().await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        for code in &codes {
            recovery_code::ActiveModel {
                user_id: Set(user_id),
                code_hash: Set(sha256_hex(totp::normalise_recovery_code(code).as_bytes())),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(codes)
    }

    /// New recovery codes (the old ones stop working), after the password is confirmed.
    pub async fn regenerate_recovery_codes(
        &self,
        auth: &Authenticated,
        password: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, AppError> {
        let user = self
            .confirm_password(auth, password, "codes_password")
            .await?;
        // The second factor again: recovery codes are a way past it, so a password alone (or a
        // session left open) must not be enough to mint new ones. A recovery code is not
        // accepted here: it would trade one way past the second factor for ten.
        if !self.accept_authenticator_code(&user, code).await? {
            let event = account_event(
                auth.audit_actor(),
                "account.recovery_codes_replaced",
                &user,
                Outcome::Failed,
                "wrong authenticator code",
            );
            self.record(client, event).await?;
            let mut errors = FieldErrors::default();
            errors.add(
                "codes_code",
                "That code is not right, or was used already. Enter the code your authenticator app shows now.",
            );
            return Err(AppError::Validation(errors));
        }
        let codes = self.replace_recovery_codes(auth.user_id).await?;
        self.record_own(auth, client, "account.recovery_codes_replaced")
            .await?;
        Ok(codes)
    }

    /// How many recovery codes are left.
    pub async fn recovery_codes_left(&self, user_id: i32) -> Result<u64, AppError> {
        use sea_orm::PaginatorTrait;
        Ok(recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// The account, when `password` is its password; else a field error on `field`.
    async fn confirm_password(
        &self,
        auth: &Authenticated,
        password: &str,
        field: &str,
    ) -> Result<user_account::Model, AppError> {
        let user = self
            .user(auth.user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if self
            .hasher
            .verify(password, Some(&user.password_hash))
            .await
            .map_err(|e| e.into_app_error())?
            == Verified::No
        {
            let mut errors = FieldErrors::default();
            errors.add(field, "That is not your current password.");
            return Err(AppError::Validation(errors));
        }
        Ok(user)
    }

    /// Changes the password and signs out every other session.
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self
            .confirm_password(auth, current, "current_password")
            .await?;
        if let Err(problem) = check_new_password(new, &user.email) {
            let mut errors = FieldErrors::default();
            errors.add("new_password", problem.to_string());
            return Err(AppError::Validation(errors));
        }
        let hash = self
            .hasher
            .hash(new)
            .await
            .map_err(|e| e.into_app_error())?;
        let mut active: user_account::ActiveModel = user.into();
        active.password_hash = Set(hash);
        active.updated_at = Set(self.now());
        active.update(&self.db).await?;
        self.sessions
            .remove_all_for_user(auth.user_id, Some(&auth.session.id))
            .await
            .map_err(AppError::internal)?;
        self.record_own(auth, client, "account.password_changed")
            .await
    }

    /// Ends this session.
    pub async fn sign_out(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        self.sessions
            .remove(&auth.session.id)
            .await
            .map_err(AppError::internal)?;
        self.record_own(auth, client, "session.sign_out").await
    }

    /// Where this account is signed in, this session first.
    pub async fn list_sessions(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<SessionSummary>, AppError> {
        let now = self.now();
        let mut list: Vec<SessionSummary> = self
            .sessions
            .list_for_user(auth.user_id)
            .await
            .map_err(AppError::internal)?
            .into_iter()
            .filter(|s| session::check(s, auth.role, &self.config.sessions, now).is_ok())
            .map(|s| SessionSummary {
                reference: s.reference(),
                device: describe_device(s.user_agent.as_deref()),
                ip: s.ip.clone(),
                signed_in_at: s.created_at,
                last_seen_at: s.last_seen_at,
                current: s.id == auth.session.id,
            })
            .collect();
        list.sort_by_key(|s| (!s.current, std::cmp::Reverse(s.last_seen_at)));
        Ok(list)
    }

    /// Signs out one of this account's other sessions.
    pub async fn revoke_session(
        &self,
        auth: &Authenticated,
        reference: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let target = self
            .sessions
            .list_for_user(auth.user_id)
            .await
            .map_err(AppError::internal)?
            .into_iter()
            .find(|s| s.reference() == reference)
            .ok_or_else(|| AppError::NotFound("That session".into()))?;
        self.sessions
            .remove(&target.id)
            .await
            .map_err(AppError::internal)?;
        let mut event = audit::event(
            Some(auth.audit_actor()),
            "session.revoked",
            "account",
            Some(auth.public_id.clone()),
            None,
            Outcome::Allowed,
        );
        event.detail = Some(format!("session {reference}"));
        self.record(client, event).await
    }

    /// Disables (or re-enables) an account; disabling ends its sessions at once.
    pub async fn set_disabled(
        &self,
        caller: &Caller,
        user_public_id: &str,
        disabled: bool,
    ) -> Result<(), AppError> {
        let user = user_account::Entity::find()
            .filter(user_account::Column::PublicId.eq(user_public_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::NotFound("That account".into()))?;
        let permit = super::guard::permit(
            &self.db,
            self.now(),
            caller,
            super::Action::Write,
            super::Resource::Account { user_id: user.id },
            None,
            if disabled {
                "account.disable"
            } else {
                "account.enable"
            },
        )
        .await?;
        let mut active: user_account::ActiveModel = user.clone().into();
        active.disabled_at = Set(disabled.then(|| self.now()));
        active.updated_at = Set(self.now());
        active.update(permit.txn()).await?;
        permit.commit().await?;
        if disabled {
            self.sessions
                .remove_all_for_user(user.id, None)
                .await
                .map_err(AppError::internal)?;
        }
        Ok(())
    }

    /// A single-use token for `purpose`, to be emailed as a link. Earlier unused tokens of the
    /// same purpose stop working.
    pub async fn issue_token(
        &self,
        user_id: i32,
        purpose: TokenPurpose,
    ) -> Result<String, AppError> {
        let token = SessionToken::generate().expose().to_owned();
        let now = self.now();
        let txn = self.db.begin().await?;
        account_token::Entity::update_many()
            .col_expr(account_token::Column::UsedAt, Some(now).into())
            .filter(account_token::Column::UserId.eq(user_id))
            .filter(account_token::Column::Purpose.eq(purpose.as_str()))
            .filter(account_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        account_token::ActiveModel {
            user_id: Set(user_id),
            purpose: Set(purpose.as_str().to_owned()),
            token_hash: Set(sha256_hex(token.as_bytes())),
            created_at: Set(now),
            expires_at: Set(now + purpose.lifetime()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(token)
    }

    /// Uses up a token: the account it belongs to, if it is valid, unexpired and unused.
    pub async fn consume_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<Option<i32>, AppError> {
        let Some(row) = self.usable_token(token, purpose).await? else {
            return Ok(None);
        };
        Ok(self.use_token(&row).await?.then_some(row.user_id))
    }

    /// The unused, unexpired token row for `token`, if any (read only: nothing is used up).
    async fn usable_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<Option<account_token::Model>, AppError> {
        Ok(account_token::Entity::find()
            .filter(account_token::Column::TokenHash.eq(sha256_hex(token.trim().as_bytes())))
            .filter(account_token::Column::Purpose.eq(purpose.as_str()))
            .filter(account_token::Column::UsedAt.is_null())
            .filter(account_token::Column::ExpiresAt.gt(self.now()))
            .one(&self.db)
            .await?)
    }

    /// Marks `row` used; of two simultaneous uses, one wins.
    async fn use_token(&self, row: &account_token::Model) -> Result<bool, AppError> {
        let used = account_token::Entity::update_many()
            .col_expr(account_token::Column::UsedAt, Some(self.now()).into())
            .filter(account_token::Column::Id.eq(row.id))
            .filter(account_token::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(used.rows_affected == 1)
    }

    /// Whether a reset token is usable, without using it (to show the form or an explanation).
    pub async fn token_is_valid(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<bool, AppError> {
        Ok(self.usable_token(token, purpose).await?.is_some())
    }

    /// Starts a password reset: the account and a fresh token, or `None` for an unknown email
    /// (the page answers the same either way).
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<Option<(user_account::Model, String)>, AppError> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(None);
        };
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        let token = self
            .issue_token(user.id, TokenPurpose::PasswordReset)
            .await?;
        let actor = AuditActor {
            user_id: user.id,
            role: Self::role_of(&user),
            session_ref: None,
        };
        self.record(
            client,
            audit::event(
                Some(actor),
                "account.password_reset_requested",
                "account",
                Some(user.public_id.clone()),
                None,
                Outcome::Allowed,
            ),
        )
        .await?;
        Ok(Some((user, token)))
    }

    /// Sets a new password from a reset link; signs out everywhere and lifts a lockout. Returns
    /// the account (as an audit actor), whose other ways in the caller ends too.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<AuditActor, AppError> {
        // Check the password before using up the token, so a rejected password can be retried.
        let Some(row) = self
            .usable_token(token, TokenPurpose::PasswordReset)
            .await?
        else {
            return Err(AppError::NotFound("That reset link".into()));
        };
        let user = self
            .user(row.user_id)
            .await?
            .ok_or_else(|| AppError::NotFound("That account".into()))?;
        if let Err(problem) = check_new_password(new_password, &user.email) {
            let mut errors = FieldErrors::default();
            errors.add("new_password", problem.to_string());
            return Err(AppError::Validation(errors));
        }
        // Hashed before the link is used up: if hashing is refused (busy), the link still works.
        let hash = self
            .hasher
            .hash(new_password)
            .await
            .map_err(|e| e.into_app_error())?;
        if !self.use_token(&row).await? {
            return Err(AppError::NotFound("That reset link".into()));
        }
        let user_id = row.user_id;
        let mut active: user_account::ActiveModel = user.clone().into();
        active.password_hash = Set(hash);
        active.failed_sign_ins = Set(0);
        active.locked_until = Set(None);
        active.updated_at = Set(self.now());
        active.update(&self.db).await?;
        self.sessions
            .remove_all_for_user(user_id, None)
            .await
            .map_err(AppError::internal)?;
        let actor = AuditActor {
            user_id,
            role: Self::role_of(&user),
            session_ref: None,
        };
        self.record(
            client,
            audit::event(
                Some(actor.clone()),
                "account.password_reset",
                "account",
                Some(user.public_id),
                None,
                Outcome::Allowed,
            ),
        )
        .await?;
        Ok(actor)
    }

    /// Marks an email address confirmed from its link.
    pub async fn verify_email(&self, token: &str) -> Result<bool, AppError> {
        Ok(self.confirm_email(token).await?.is_some())
    }

    /// Marks an email address confirmed from its link; the account it belongs to, or `None`
    /// for a link that is unknown, used or expired.
    pub async fn confirm_email(&self, token: &str) -> Result<Option<i32>, AppError> {
        let Some(user_id) = self.consume_token(token, TokenPurpose::VerifyEmail).await? else {
            return Ok(None);
        };
        user_account::Entity::update_many()
            .col_expr(
                user_account::Column::EmailVerifiedAt,
                Some(self.now()).into(),
            )
            .filter(user_account::Column::Id.eq(user_id))
            .exec(&self.db)
            .await?;
        Ok(Some(user_id))
    }

    /// Turns MFA on for an account directly from a known secret (the demo's physician, whose
    /// secret the README prints).
    pub async fn enable_mfa_with_secret(
        &self,
        user_id: i32,
        secret: &[u8],
    ) -> Result<Vec<String>, AppError> {
        let user = self
            .user(user_id)
            .await?
            .ok_or_else(|| AppError::NotFound("That account".into()))?;
        let sealed = Encrypted::seal(
            &self.keyring,
            &mfa_context(&user.public_id),
            &secret.to_vec(),
        )
        .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
        let mut active: user_account::ActiveModel = user.into();
        active.mfa_secret = Set(Some(sealed));
        active.mfa_enabled_at = Set(Some(self.now()));
        active.update(&self.db).await?;
        self.replace_recovery_codes(user_id).await
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

//! Server-side sessions: an opaque 256-bit token in the cookie, its SHA-256 in the store.
//!
//! Timeouts are checked here, in one pure function ([`check`]) both stores share, against the
//! injected clock: idle (15 minutes for the practice's people, 30 for patients, 5 while the second
//! factor is pending) and absolute (12 hours). A session found expired is deleted on sight.

use super::entity::user_session;
use super::model::Role;
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The secret in the cookie. Never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl SessionToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SessionToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts only what [`generate`](Self::generate) makes (43 URL-safe characters).
    pub fn from_cookie(value: &str) -> Option<Self> {
        let ok = value.len() == 43
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SessionToken(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The store's key: hex SHA-256 of the token.
    pub fn id(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What the store keeps about a session. Holds no secret (the id is a digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: i32,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, fixed at creation.
    pub expires_at: DateTime<Utc>,
    /// Whether the second factor was given in this session (or none is set up).
    pub mfa_passed: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl SessionRecord {
    /// A short, non-secret reference (for the audit log and the revoke button).
    pub fn reference(&self) -> String {
        self.id.chars().take(16).collect()
    }
}

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPolicy {
    pub practice_idle_minutes: i64,
    pub patient_idle_minutes: i64,
    pub absolute_hours: i64,
    /// Between the password and the second factor.
    pub pending_mfa_minutes: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            practice_idle_minutes: 15,
            patient_idle_minutes: 30,
            absolute_hours: 12,
            pending_mfa_minutes: 5,
        }
    }
}

impl SessionPolicy {
    pub fn idle_timeout(&self, role: Role, mfa_passed: bool) -> Duration {
        if !mfa_passed {
            return Duration::minutes(self.pending_mfa_minutes);
        }
        match role {
            Role::Patient => Duration::minutes(self.patient_idle_minutes),
            Role::Physician | Role::Staff | Role::Admin => {
                Duration::minutes(self.practice_idle_minutes)
            }
        }
    }

    pub fn absolute(&self) -> Duration {
        Duration::hours(self.absolute_hours)
    }
}

/// Why a session no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Idle,
    Absolute,
}

/// Whether `record` is still good at `now` for a person with `role` (P8).
/// Activity is written to the store at most this often: a page and the requests it makes
/// within a few seconds are one activity. An idle timeout can then end a session up to this
/// much early, never late.
pub const TOUCH_INTERVAL_SECONDS: i64 = 10;

/// Whether a request at `now` must be written to the store as activity.
pub fn needs_touch(record: &SessionRecord, now: DateTime<Utc>) -> bool {
    now - record.last_seen_at >= Duration::seconds(TOUCH_INTERVAL_SECONDS)
}

pub fn check(
    record: &SessionRecord,
    role: Role,
    policy: &SessionPolicy,
    now: DateTime<Utc>,
) -> Result<(), Expiry> {
    if now >= record.expires_at {
        return Err(Expiry::Absolute);
    }
    if now - record.last_seen_at >= policy.idle_timeout(role, record.mfa_passed) {
        return Err(Expiry::Idle);
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct StoreError(pub String);

impl From<sea_orm::DbErr> for StoreError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError(err.to_string())
    }
}

/// Where sessions live: the database by default, Redis when configured (server crate).
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    async fn insert(&self, record: &SessionRecord) -> Result<(), StoreError>;
    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Records activity at `at`.
    async fn touch(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn remove(&self, id: &str) -> Result<(), StoreError>;
    /// Signs a person out everywhere (but `except`); returns how many sessions ended.
    async fn remove_all_for_user(
        &self,
        user_id: i32,
        except: Option<&str>,
    ) -> Result<u64, StoreError>;
    /// Newest activity first.
    async fn list_for_user(&self, user_id: i32) -> Result<Vec<SessionRecord>, StoreError>;
    /// Deletes sessions past their absolute end.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Sessions in the `user_session` table.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        DbSessionStore { db }
    }
}

impl From<user_session::Model> for SessionRecord {
    fn from(row: user_session::Model) -> Self {
        SessionRecord {
            id: row.id,
            user_id: row.user_id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            mfa_passed: row.mfa_passed,
            ip: row.ip,
            user_agent: row.user_agent,
        }
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn insert(&self, record: &SessionRecord) -> Result<(), StoreError> {
        user_session::ActiveModel {
            id: Set(record.id.clone()),
            user_id: Set(record.user_id),
            created_at: Set(record.created_at),
            last_seen_at: Set(record.last_seen_at),
            expires_at: Set(record.expires_at),
            mfa_passed: Set(record.mfa_passed),
            ip: Set(record.ip.clone()),
            user_agent: Set(record.user_agent.clone()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(user_session::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .map(SessionRecord::from))
    }

    async fn touch(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        user_session::Entity::update_many()
            .col_expr(user_session::Column::LastSeenAt, at.into())
            .filter(user_session::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        user_session::Entity::delete_by_id(id.to_owned())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn remove_all_for_user(
        &self,
        user_id: i32,
        except: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut delete =
            user_session::Entity::delete_many().filter(user_session::Column::UserId.eq(user_id));
        if let Some(keep) = except {
            delete = delete.filter(user_session::Column::Id.ne(keep));
        }
        Ok(delete.exec(&self.db).await?.rows_affected)
    }

    async fn list_for_user(&self, user_id: i32) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(user_session::Entity::find()
            .filter(user_session::Column::UserId.eq(user_id))
            .order_by_desc(user_session::Column::LastSeenAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(SessionRecord::from)
            .collect())
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(user_session::Entity::delete_many()
            .filter(user_session::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(
        last_seen_minutes_ago: i64,
        created_hours_ago: i64,
        mfa_passed: bool,
        now: DateTime<Utc>,
    ) -> SessionRecord {
        let created = now - Duration::hours(created_hours_ago);
        SessionRecord {
            id: "x".repeat(64),
            user_id: 1,
            created_at: created,
            last_seen_at: now - Duration::minutes(last_seen_minutes_ago),
            expires_at: created + SessionPolicy::default().absolute(),
            mfa_passed,
            ip: None,
            user_agent: None,
        }
    }

    #[test]
    fn activity_is_written_at_most_every_ten_seconds() {
        let now = crate::clock::test_start();
        let mut seen = record(0, 1, true, now);
        assert!(!needs_touch(&seen, now));
        seen.last_seen_at = now - Duration::seconds(9);
        assert!(!needs_touch(&seen, now));
        seen.last_seen_at = now - Duration::seconds(10);
        assert!(needs_touch(&seen, now));
    }

    #[test]
    fn tokens_are_43_url_safe_characters_and_only_those_are_accepted() {
        let token = SessionToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert_eq!(
            SessionToken::from_cookie(token.expose()),
            Some(token.clone())
        );
        assert_eq!(SessionToken::from_cookie("short"), None);
        assert_eq!(SessionToken::from_cookie(&"a;".repeat(21)), None);
        assert_ne!(token.id(), token.expose());
        assert_eq!(token.id().len(), 64);
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn a_physician_is_signed_out_after_15_idle_minutes_and_a_patient_after_30() {
        let now = crate::clock::test_start();
        let policy = SessionPolicy::default();
        assert_eq!(
            check(&record(14, 1, true, now), Role::Physician, &policy, now),
            Ok(())
        );
        assert_eq!(
            check(&record(15, 1, true, now), Role::Physician, &policy, now),
            Err(Expiry::Idle)
        );
        assert_eq!(
            check(&record(29, 1, true, now), Role::Patient, &policy, now),
            Ok(())
        );
        assert_eq!(
            check(&record(30, 1, true, now), Role::Patient, &policy, now),
            Err(Expiry::Idle)
        );
        assert_eq!(
            check(&record(5, 1, false, now), Role::Patient, &policy, now),
            Err(Expiry::Idle)
        );
        assert_eq!(
            check(&record(0, 12, true, now), Role::Patient, &policy, now),
            Err(Expiry::Absolute)
        );
    }

    proptest! {
        /// P8: whatever the role, activity and age, a session idle past its role's timeout or
        /// older than the absolute limit is never accepted, and any other one is.
        #[test]
        fn p8_no_session_idle_past_its_timeout_is_accepted(
            role in prop::sample::select(Role::ALL.to_vec()),
            idle_seconds in 0i64..4 * 3600,
            age_seconds in 0i64..14 * 3600,
            mfa_passed in any::<bool>(),
        ) {
            let now = crate::clock::test_start();
            let policy = SessionPolicy::default();
            let created = now - Duration::seconds(age_seconds.max(idle_seconds));
            let rec = SessionRecord {
                id: "0".repeat(64),
                user_id: 7,
                created_at: created,
                last_seen_at: now - Duration::seconds(idle_seconds),
                expires_at: created + policy.absolute(),
                mfa_passed,
                ip: None,
                user_agent: None,
            };
            let idle_limit = policy.idle_timeout(role, mfa_passed).num_seconds();
            let accepted = check(&rec, role, &policy, now).is_ok();
            let should = idle_seconds < idle_limit && age_seconds.max(idle_seconds) < policy.absolute().num_seconds();
            prop_assert_eq!(accepted, should);
        }
    }
}

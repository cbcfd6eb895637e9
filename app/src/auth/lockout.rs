//! How many wrong passwords and codes an account takes, counted so that an attacker cannot use
//! the limit against the owner (SECURITY.md, issue 12 §2):
//! - wrong passwords are counted per account **and** client address (an IPv6 client by its /64:
//!   one subscriber holds a whole /64), and that pair backs off, doubling from a minute;
//! - the account as a whole is capped too (a guess spread over many addresses), but the cap does
//!   not shut out a client that has signed in to the account before: a stranger cannot lock the
//!   physician out of her own device;
//! - a lock ends after its time and the count starts again;
//! - wrong second-factor codes are counted on their own: a right password does not reset them.

use super::entity::{sign_in_client, user_account};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use std::net::IpAddr;

/// The limits. Plain numbers, so the rules below are plain functions with plain tests.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Wrong passwords from one client before that client backs off.
    pub per_client_after: i32,
    /// The first back-off; each further wrong password doubles it.
    pub first_back_off: Duration,
    /// The longest back-off.
    pub longest_back_off: Duration,
    /// Wrong passwords, from all clients, before the account is locked to unknown clients.
    pub account_after: i32,
    /// How long that lock lasts.
    pub account_lock: Duration,
    /// Wrong codes after one password before the password is asked again.
    pub codes_per_password: i32,
    /// Wrong codes in all before codes are refused for `account_lock`.
    pub codes_before_lock: i32,
    /// A client that signed in to the account within this long is known.
    pub known_for: Duration,
}

impl LockoutPolicy {
    /// The default limits with the account-wide cap and lock from the settings.
    pub fn with_account_cap(account_after: i32, account_lock_minutes: i64) -> Self {
        LockoutPolicy {
            per_client_after: 5,
            first_back_off: Duration::minutes(1),
            longest_back_off: Duration::hours(1),
            account_after: account_after.max(1),
            account_lock: Duration::minutes(account_lock_minutes.max(1)),
            codes_per_password: 5,
            codes_before_lock: 10,
            known_for: Duration::days(90),
        }
    }

    /// How long one client waits after its `failures`th wrong password in a row: nothing
    /// before [`per_client_after`](Self::per_client_after), then doubling up to the longest.
    pub fn back_off(&self, failures: i32) -> Option<Duration> {
        let beyond = failures - self.per_client_after;
        if beyond < 0 {
            return None;
        }
        let doubled = self
            .first_back_off
            .checked_mul(1_i32.checked_shl(beyond.min(20) as u32).unwrap_or(i32::MAX))
            .unwrap_or(self.longest_back_off);
        Some(doubled.min(self.longest_back_off))
    }
}

/// The client a count is kept for: an IPv4 address as it is, an IPv6 address by its /64 (one
/// subscriber is given a whole /64 and can take any address in it).
pub fn client_key(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    }
}

/// Whether the account refuses this client now (the answer is the same as for a wrong
/// password, so a lock tells a guesser nothing).
pub async fn refuses(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    user: &user_account::Model,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let pair = sign_in_client::Entity::find()
        .filter(sign_in_client::Column::UserId.eq(user.id))
        .filter(sign_in_client::Column::ClientKey.eq(client_key))
        .one(db)
        .await?;
    if pair
        .as_ref()
        .and_then(|p| p.locked_until)
        .is_some_and(|until| until > now)
    {
        return Ok(true);
    }
    let account_locked = user.locked_until.is_some_and(|until| until > now);
    let known = pair
        .and_then(|p| p.last_success_at)
        .is_some_and(|at| now - at < policy.known_for);
    Ok(account_locked && !known)
}

/// Counts a wrong password for the account and for this client, and sets their locks.
pub async fn note_wrong_password(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    user: &user_account::Model,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::ExprTrait;
    // The pair: counted by the database, so attempts at the same moment each count.
    sign_in_client::Entity::insert(sign_in_client::ActiveModel {
        user_id: Set(user.id),
        client_key: Set(client_key.to_owned()),
        failures: Set(1),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            sign_in_client::Column::UserId,
            sign_in_client::Column::ClientKey,
        ])
        .value(
            sign_in_client::Column::Failures,
            Expr::col((sign_in_client::Entity, sign_in_client::Column::Failures)).add(1),
        )
        .value(sign_in_client::Column::UpdatedAt, Expr::val(now))
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let failures = sign_in_client::Entity::find()
        .filter(sign_in_client::Column::UserId.eq(user.id))
        .filter(sign_in_client::Column::ClientKey.eq(client_key))
        .one(db)
        .await?
        .map_or(1, |p| p.failures);
    if let Some(wait) = policy.back_off(failures) {
        sign_in_client::Entity::update_many()
            .col_expr(sign_in_client::Column::LockedUntil, Some(now + wait).into())
            .filter(sign_in_client::Column::UserId.eq(user.id))
            .filter(sign_in_client::Column::ClientKey.eq(client_key))
            .exec(db)
            .await?;
    }

    // The account: a lock that has ended starts the count again (one wrong password every half
    // hour must not keep it locked for ever).
    count_towards_lock(
        db,
        user.id,
        (
            user_account::Column::FailedSignIns,
            user_account::Column::LockedUntil,
        ),
        policy.account_after,
        now + policy.account_lock,
        now,
    )
    .await?;
    Ok(())
}

/// A right password from this client: its count starts again and it is known from now on.
/// The account's count starts again only when it is not locked: the owner signing in from a
/// known device does not lift a lock that strangers are still held by.
pub async fn note_right_password(
    db: &impl ConnectionTrait,
    user: &user_account::Model,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    sign_in_client::Entity::insert(sign_in_client::ActiveModel {
        user_id: Set(user.id),
        client_key: Set(client_key.to_owned()),
        failures: Set(0),
        locked_until: Set(None),
        last_success_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            sign_in_client::Column::UserId,
            sign_in_client::Column::ClientKey,
        ])
        .update_columns([
            sign_in_client::Column::Failures,
            sign_in_client::Column::LockedUntil,
            sign_in_client::Column::LastSuccessAt,
            sign_in_client::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    user_account::Entity::update_many()
        .col_expr(user_account::Column::FailedSignIns, Expr::val(0))
        .col_expr(
            user_account::Column::LockedUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .filter(user_account::Column::Id.eq(user.id))
        .filter(
            sea_orm::Condition::any()
                .add(user_account::Column::LockedUntil.is_null())
                .add(user_account::Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// What a wrong second-factor code leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterWrongCode {
    /// Try another code.
    TryAgain,
    /// Enough codes for one password: the password is asked again.
    PasswordAgain,
}

/// Whether codes are refused now (after too many wrong ones), right or wrong.
pub fn codes_locked(user: &user_account::Model, now: DateTime<Utc>) -> bool {
    user.mfa_locked_until.is_some_and(|until| until > now)
}

/// Counts a wrong code: every `codes_per_password`th asks for the password again, and at
/// `codes_before_lock` codes are refused for a while; a lock that has ended starts the count
/// again. A right password never resets this count; only a right code does.
pub async fn note_wrong_code(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    user: &user_account::Model,
    now: DateTime<Utc>,
) -> Result<AfterWrongCode, DbErr> {
    let now_row = count_towards_lock(
        db,
        user.id,
        (
            user_account::Column::MfaFailures,
            user_account::Column::MfaLockedUntil,
        ),
        policy.codes_before_lock,
        now + policy.account_lock,
        now,
    )
    .await?;
    let failures = now_row.as_ref().map_or(0, |row| row.mfa_failures);
    let locked = now_row.is_some_and(|row| codes_locked(&row, now));
    Ok(
        if locked || failures % policy.codes_per_password.max(1) == 0 {
            AfterWrongCode::PasswordAgain
        } else {
            AfterWrongCode::TryAgain
        },
    )
}

/// Adds one to an account's `count`, counted by the database (attempts at the same moment each
/// count), and sets `lock` to `lock_until` when the count reaches `lock_at`; a lock that has
/// ended starts the count again at one. Returns the account as it is now.
async fn count_towards_lock(
    db: &impl ConnectionTrait,
    user_id: i32,
    (count, lock): (user_account::Column, user_account::Column),
    lock_at: i32,
    lock_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<user_account::Model>, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let lock_ended = Expr::col(lock).is_not_null().and(Expr::col(lock).lte(now));
    let counted = Expr::case(lock_ended.clone(), Expr::val(1)).finally(Expr::col(count).add(1));
    user_account::Entity::update_many()
        .col_expr(count, counted.clone().into())
        .col_expr(
            lock,
            Expr::case(
                Expr::expr(counted).gte(lock_at),
                Expr::val(Some(lock_until)),
            )
            .case(lock_ended, Expr::val(Option::<DateTime<Utc>>::None))
            .finally(Expr::col(lock))
            .into(),
        )
        .filter(user_account::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    user_account::Entity::find_by_id(user_id).one(db).await
}

/// A right code: the count of wrong ones starts again.
pub async fn note_right_code(
    db: &impl ConnectionTrait,
    user: &user_account::Model,
) -> Result<(), DbErr> {
    user_account::Entity::update_many()
        .col_expr(user_account::Column::MfaFailures, Expr::val(0))
        .col_expr(
            user_account::Column::MfaLockedUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .filter(user_account::Column::Id.eq(user.id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_backs_off_after_five_wrong_passwords_doubling_to_an_hour() {
        let policy = LockoutPolicy::with_account_cap(20, 30);
        assert_eq!(policy.back_off(4), None);
        assert_eq!(policy.back_off(5), Some(Duration::minutes(1)));
        assert_eq!(policy.back_off(6), Some(Duration::minutes(2)));
        assert_eq!(policy.back_off(8), Some(Duration::minutes(8)));
        assert_eq!(policy.back_off(11), Some(Duration::hours(1)));
        assert_eq!(policy.back_off(1_000), Some(Duration::hours(1)));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(
            client_key(Some("2001:db8:1:2:aaaa::1")),
            client_key(Some("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_eq!(client_key(Some("2001:db8:1:2::9")), "2001:db8:1:2::/64");
        assert_ne!(
            client_key(Some("2001:db8:1:2::1")),
            client_key(Some("2001:db8:1:3::1"))
        );
        assert_eq!(client_key(Some("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(None), "unknown");
        assert_eq!(client_key(Some("not an address")), "unknown");
    }
}

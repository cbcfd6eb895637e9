//! Wire types of identity: roles, the signed-in person, their sessions, and the password rules.

use serde::{Deserialize, Serialize};

/// What a person is to the practice. Each account has exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum Role {
    Patient,
    Physician,
    Staff,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Patient, Role::Physician, Role::Staff, Role::Admin];

    /// The name stored in the database and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Physician => "physician",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The practice's own people see many patients' data: a second factor is not optional
    /// for them (R9.3). Patients may turn it on.
    pub fn requires_mfa(self) -> bool {
        !matches!(self, Role::Patient)
    }

    /// Where this role lands after signing in.
    pub fn home_path(self) -> &'static str {
        match self {
            Role::Patient => "/portal",
            Role::Physician | Role::Staff => "/dashboard",
            Role::Admin => "/admin",
        }
    }

    /// The role's name in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Role::Patient => "Patient",
            Role::Physician => "Physician",
            Role::Staff => "Staff",
            Role::Admin => "Administrator",
        }
    }
}

crate::stored_as_text!(Role, "role");

/// The signed-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub public_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub mfa_enabled: bool,
    /// Seconds of inactivity after which this session ends (for the idle warning).
    pub idle_timeout_seconds: i64,
    /// False while the second factor is still to be given or set up.
    pub fully_signed_in: bool,
}

/// What the frame of the signed-in areas shows: the person and the practice's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppFrame {
    pub user: Option<CurrentUser>,
    pub practice_name: String,
    /// Unread in-app notifications of the signed-in person.
    pub unread_notifications: u64,
    /// Messages waiting for the signed-in person.
    pub unread_messages: u64,
}

/// What the security page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOverview {
    pub user: CurrentUser,
    pub sessions: Vec<SessionSummary>,
    pub recovery_codes_left: u64,
    /// `None` when this account has no calendar feed to offer (the administrator); else when
    /// the current link was made ("November 27, 2026"), if there is one.
    pub calendar: Option<Option<String>>,
}

/// What the MFA set-up page shows: the QR code (SVG markup made on the server from the secret)
/// and the same secret for typing by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaSetup {
    pub qr_svg: String,
    pub manual_key: String,
    /// Opens the authenticator app directly on a phone (which cannot scan its own screen).
    pub otpauth_url: String,
}

/// Seconds left before an idle sign-out, as the idle warning asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    pub signed_in: bool,
    pub seconds_left: i64,
}

/// One place an account is signed in, for "where you're signed in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// A short, non-secret reference used to revoke it.
    pub reference: String,
    pub device: String,
    pub ip: Option<String>,
    pub signed_in_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    pub current: bool,
}

/// The shortest password accepted (R9.3, NIST SP 800-63B's advice for length over rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing stays bounded.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a new password is refused, in words the person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("Use at least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a strong, memorable password.")]
    TooShort,
    #[error("Use at most {MAX_PASSWORD_CHARS} characters.")]
    TooLong,
    #[error("This password is on a list of commonly used passwords. Please choose another.")]
    Common,
    #[error("Your password must not contain your email address.")]
    ContainsEmail,
}

/// Checks a new password against the rules. `email` is the account's address.
///
/// The common-password list is only on the server; in the browser this checks length alone.
pub fn check_new_password(password: &str, email: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(PasswordProblem::ContainsEmail);
    }
    #[cfg(feature = "ssr")]
    if super::common::is_common(&lower) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse(" Physician "), Some(Role::Physician));
        assert_eq!(Role::parse("doctor"), None);
    }

    #[test]
    fn only_patients_may_go_without_a_second_factor() {
        assert!(!Role::Patient.requires_mfa());
        assert!(Role::Physician.requires_mfa());
        assert!(Role::Staff.requires_mfa());
        assert!(Role::Admin.requires_mfa());
    }

    #[test]
    fn short_long_and_email_like_passwords_are_refused() {
        let email = "maria.lopez@example.com";
        assert_eq!(
            check_new_password("short pass", email),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(
            check_new_password(&"x".repeat(257), email),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check_new_password("Maria.Lopez-2026!", email),
            Err(PasswordProblem::ContainsEmail)
        );
        assert_eq!(check_new_password("harbor lantern violet", email), Ok(()));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn common_passwords_are_refused_even_with_digits_or_capitals_added() {
        let email = "someone@example.com";
        for common in [
            "qwerty123456",
            "1q2w3e4r5t6y",
            "Password12345",
            "iloveyou2026!",
            "passwordpassword",
            "Sunshine123456",
        ] {
            assert_eq!(
                check_new_password(common, email),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
    }
}

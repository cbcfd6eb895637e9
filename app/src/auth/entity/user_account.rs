use crate::crypto::Encrypted;
use sea_orm::entity::prelude::*;

/// A person who can sign in. Holds a password hash and a sealed TOTP secret, so it does not
/// derive `Serialize`: `CurrentUser` is what leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub public_id: String,
    #[sea_orm(unique)]
    pub email: String,
    /// Empty for rows written sealed: the name is in `sealed_display_name` (read it with
    /// `auth::service::display_name`).
    pub display_name: String,
    pub role: crate::auth::Role,
    pub password_hash: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    pub mfa_secret: Option<Encrypted<Vec<u8>>>,
    pub mfa_enabled_at: Option<DateTimeUtc>,
    pub mfa_last_step: Option<i64>,
    pub failed_sign_ins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The person's own time zone (IANA); `None`: the practice's.
    pub time_zone: Option<String>,
    /// Wrong second-factor codes since the last right one (a right password does not reset it).
    pub mfa_failures: i32,
    /// Codes are refused until then, right or wrong.
    pub mfa_locked_until: Option<DateTimeUtc>,
    /// The session (its stored id) that started setting up the pending authenticator: only it
    /// can confirm it.
    pub mfa_setup_session: Option<String>,
    pub sealed_display_name: Option<Encrypted<String>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The patient record of a patient's account (read with the account at every request).
    #[sea_orm(has_one = "crate::patients::entity::patient::Entity")]
    Patient,
}

impl Related<crate::patients::entity::patient::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Patient.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

crate::sealed_row!(
    public_id;
    Column::MfaSecret => "mfa_secret",
    Column::SealedDisplayName => "display_name",
);

//! One-time emailed links: a password reset (an hour) and an email confirmation (two days),
//! stored hashed and used once.

use super::*;

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

impl Identity {
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
    pub(super) async fn usable_token(
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
    pub(super) async fn use_token(&self, row: &account_token::Model) -> Result<bool, AppError> {
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
}

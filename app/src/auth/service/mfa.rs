//! The second factor: setting up an authenticator, checking its codes (each used once), and
//! recovery codes.

use super::*;

/// What the MFA set-up page shows.
#[derive(Debug, Clone)]
pub struct MfaEnrollment {
    pub qr_svg: String,
    pub manual_key: String,
    pub otpauth_url: String,
}

impl Identity {
    /// Replaces the session with a fresh token that has passed the second factor (a new token
    /// on every privilege change: a token seen before this moment is worth nothing after).
    pub(super) async fn elevate(
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
        if crate::auth::lockout::codes_locked(&user, now) {
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
                let after = crate::auth::lockout::note_wrong_code(
                    &self.db,
                    &self.lockout_policy(),
                    &user,
                    now,
                )
                .await?;
                event.outcome = Outcome::Failed;
                if after == crate::auth::lockout::AfterWrongCode::PasswordAgain {
                    event.detail = Some("too many wrong codes: password asked again".into());
                    self.sessions
                        .remove(&auth.session.id)
                        .await
                        .map_err(AppError::internal)?;
                }
                self.record(client, event).await?;
                Err(match after {
                    crate::auth::lockout::AfterWrongCode::TryAgain => SignInError::WrongCode,
                    crate::auth::lockout::AfterWrongCode::PasswordAgain => {
                        SignInError::PasswordAgain
                    }
                })
            }
            Some(kind) => {
                event.detail = Some(kind.into());
                self.record(client, event).await?;
                crate::auth::lockout::note_right_code(&self.db, &user).await?;
                Ok(self.elevate(auth, client).await?)
            }
        }
    }

    /// `Some("totp")` or `Some("recovery code")` when `code` is good (and now used up).
    pub(super) async fn accept_code(
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
    pub(super) async fn accept_authenticator_code(
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

    pub(super) async fn replace_recovery_codes(
        &self,
        user_id: i32,
    ) -> Result<Vec<String>, AppError> {
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
}

//! Accounts: creating one (checked, the password hashed, the name sealed), looking one up,
//! changing a password, turning an account off.

use super::*;

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

impl Identity {
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
        let permit = crate::auth::guard::permit(
            &self.db,
            self.now(),
            caller,
            crate::auth::Action::Write,
            crate::auth::Resource::Account { user_id: user.id },
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

    /// The account, when `password` is its password; else a field error on `field`.
    pub(super) async fn confirm_password(
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
}

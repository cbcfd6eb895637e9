//! Signing in and out: the password (with the lockout's back-off), the session behind a cookie
//! (idle and absolute timeouts, P8), a person's signed-in devices.

use super::*;

impl Identity {
    pub(super) async fn new_session(
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

    pub(super) fn lockout_policy(&self) -> crate::auth::lockout::LockoutPolicy {
        crate::auth::lockout::LockoutPolicy::with_account_cap(
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
    ) -> Result<NewSession, SignInError> {
        let user = self.user_by_email(email).await?;
        let now = self.now();
        let policy = self.lockout_policy();
        let client_key = crate::auth::lockout::client_key(client.ip.as_deref());
        let refused = match &user {
            Some(user) => {
                crate::auth::lockout::refuses(&self.db, &policy, user, &client_key, now).await?
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
                crate::auth::lockout::note_wrong_password(
                    &self.db,
                    &policy,
                    &user,
                    &client_key,
                    now,
                )
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
        crate::auth::lockout::note_right_password(&self.db, &user, &client_key, now).await?;
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
        Ok(NewSession { token, stage, role })
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
}

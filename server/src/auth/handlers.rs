//! The sign-in and account forms (`POST`), each working without JavaScript: success redirects
//! (post/redirect/get), a refused form is rendered again with its messages and what was typed.

use super::cookie::{clear_cookie, session_cookie};
use super::gate::safe_next;
use crate::plain_form::{retry_after, PlainForm};
use crate::state::{render_page, AppState};
use app::audit::service::ClientInfo;
use app::auth::context::SignedIn;
use app::auth::pages::AuthFormState;
use app::auth::service::{Authenticated, SignInError, Stage};
use app::auth::session::SessionToken;
use app::AppError;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use http::{header, request::Parts, StatusCode};
use serde::Deserialize;

fn with_cookie(mut response: Response, cookie: http::HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

pub(crate) fn signed_in_response(state: &AppState, token: &SessionToken, to: &str) -> Response {
    let max_age = state.settings.sessions.absolute_hours * 3600;
    with_cookie(
        Redirect::to(to).into_response(),
        session_cookie(state.settings.https(), token, max_age),
    )
}

async fn rate_limited(state: &AppState, keys: &[String]) -> Result<(), u64> {
    state.attempt_limits.check(keys).await
}

pub(crate) fn ip_key(client: &ClientInfo) -> String {
    format!("ip:{}", client.ip.as_deref().unwrap_or("-"))
}

async fn refuse(
    state: &AppState,
    parts: Parts,
    page: AuthFormState,
    status: StatusCode,
    wait: Option<u64>,
) -> Response {
    let response = render_page(state, parts, page, status).await;
    match wait {
        Some(seconds) => retry_after(response, seconds),
        None => response,
    }
}

/// A service's refusal: input to fix shows the form again with its field errors (422); anything
/// else answers as itself.
async fn to_fix(
    state: &AppState,
    parts: Parts,
    mut page: AuthFormState,
    error: AppError,
) -> Response {
    match error {
        AppError::Validation(errors) => {
            page.errors = errors;
            refuse(state, parts, page, StatusCode::UNPROCESSABLE_ENTITY, None).await
        }
        other => other.into_response(),
    }
}

/// Counts an attempt against the client's address and, when given, the account; over the limit,
/// the form comes back (as `parts`' page) with how long to wait, answered 429 with Retry-After.
async fn over_limit(
    state: &AppState,
    parts: &Parts,
    client: &ClientInfo,
    account: Option<&str>,
    page: &AuthFormState,
) -> Result<(), Response> {
    let mut keys = vec![ip_key(client)];
    keys.extend(account.map(|email| format!("account:{email}")));
    let Err(wait) = rate_limited(state, &keys).await else {
        return Ok(());
    };
    let mut page = page.clone();
    page.error = Some(too_many(wait));
    Err(refuse(
        state,
        parts.clone(),
        page,
        StatusCode::TOO_MANY_REQUESTS,
        Some(wait),
    )
    .await)
}

pub(crate) fn too_many(seconds: u64) -> String {
    format!(
        "Too many attempts. For your security, please wait {} before trying again.",
        if seconds <= 60 {
            format!("{seconds} seconds")
        } else {
            format!("{} minutes", seconds.div_ceil(60))
        }
    )
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /signin`
pub async fn sign_in(State(state): State<AppState>, posted: PlainForm<SignInForm>) -> Response {
    let PlainForm {
        form,
        client,
        parts,
        ..
    } = posted;
    let mut page = AuthFormState::default();
    page.values.insert("email".into(), form.email.clone());
    if let Some(next) = &form.next {
        page.values.insert("next".into(), next.clone());
    }
    let email = form.email.trim().to_lowercase();
    if let Err(refused) = over_limit(&state, &parts, &client, Some(&email), &page).await {
        return refused;
    }
    if email.is_empty() || form.password.is_empty() {
        if email.is_empty() {
            page.errors.add("email", "Please enter your email address.");
        }
        if form.password.is_empty() {
            page.errors.add("password", "Please enter your password.");
        }
        return refuse(&state, parts, page, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    match state
        .identity
        .sign_in(&email, &form.password, &client)
        .await
    {
        Ok(signed_in) => {
            let to = match signed_in.stage {
                Stage::Complete => safe_next(form.next.as_deref())
                    .unwrap_or_else(|| signed_in.role.home_path().to_owned()),
                Stage::SecondFactorPending => match safe_next(form.next.as_deref()) {
                    Some(next) => format!("/signin/mfa?next={}", app::ui::url_encode(&next)),
                    None => "/signin/mfa".to_owned(),
                },
                Stage::MustEnrollSecondFactor => "/account/mfa/setup".to_owned(),
            };
            signed_in_response(&state, &signed_in.token, &to)
        }
        Err(error) => sign_in_refused(&state, parts, page, error).await,
    }
}

async fn sign_in_refused(
    state: &AppState,
    parts: Parts,
    mut page: AuthFormState,
    error: SignInError,
) -> Response {
    let status = match &error {
        SignInError::WrongCredentials | SignInError::WrongCode => StatusCode::UNAUTHORIZED,
        SignInError::PasswordAgain => {
            // The half-open session is gone: back to the password, with the reason.
            let https = state.settings.https();
            let mut response = Redirect::to("/signin?again=codes").into_response();
            response
                .headers_mut()
                .append(http::header::SET_COOKIE, clear_cookie(https));
            return response;
        }
        SignInError::Other(inner) => inner.status(),
    };
    let retry_after = match &error {
        SignInError::Other(AppError::Busy {
            retry_after_seconds,
        }) => Some(*retry_after_seconds),
        _ => None,
    };
    page.error = Some(error.to_string());
    refuse(state, parts, page, status, retry_after).await
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /signin/mfa`: the authenticator (or recovery) code after the password.
pub async fn second_factor(State(state): State<AppState>, posted: PlainForm<CodeForm>) -> Response {
    let PlainForm {
        form,
        client,
        auth,
        parts,
    } = posted;
    let Some(auth) = auth.filter(|a| a.stage() == Stage::SecondFactorPending) else {
        return Redirect::to("/signin").into_response();
    };
    let mut page = AuthFormState::default();
    if let Some(next) = &form.next {
        page.values.insert("next".into(), next.clone());
    }
    if let Err(refused) = over_limit(&state, &parts, &client, Some(&auth.email), &page).await {
        return refused;
    }
    match state
        .identity
        .complete_second_factor(&auth, &form.code, &client)
        .await
    {
        Ok(token) => {
            let to =
                safe_next(form.next.as_deref()).unwrap_or_else(|| auth.role.home_path().to_owned());
            signed_in_response(&state, &token, &to)
        }
        Err(error) => sign_in_refused(&state, parts, page, error).await,
    }
}

/// `POST /signout`
pub async fn sign_out(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    if let Some(Extension(auth)) = auth {
        if let Err(error) = state.identity.sign_out(&auth, &client).await {
            return error.into_response();
        }
    }
    with_cookie(
        Redirect::to("/signin?signed_out=1").into_response(),
        clear_cookie(state.settings.https()),
    )
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// `POST /signin/forgot`: emails a reset link. The answer is the same whether or not the
/// address has an account.
pub async fn forgot(State(state): State<AppState>, posted: PlainForm<ForgotForm>) -> Response {
    let PlainForm {
        form,
        client,
        parts,
        ..
    } = posted;
    let email = form.email.trim().to_lowercase();
    let mut page = AuthFormState::default();
    page.values.insert("email".into(), form.email.clone());
    if let Err(message) = app::domain::Email::parse(&email) {
        page.errors.add("email", message);
        return refuse(&state, parts, page, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    if let Err(refused) = over_limit(&state, &parts, &client, Some(&email), &page).await {
        return refused;
    }
    // The same work for every address: one job, sent in the background. Whether an account
    // exists (and the link) is decided in the job, after this answer, so neither the answer nor
    // its timing (the mail server's) tells.
    let now = state.clock.now();
    let queued = app::jobs::enqueue(
        &state.db,
        app::jobs::NewJob {
            kind: super::password_reset::KIND,
            payload: &super::password_reset::Payload {
                email: email.clone(),
                ip: client.ip.clone(),
                user_agent: client.user_agent.clone(),
            },
            run_at: now,
            dedupe_key: None,
            max_attempts: 5,
        },
        now,
    )
    .await;
    match queued {
        Ok(job) => state.jobs.run_soon(job, "password reset email"),
        Err(error) => return error.into_response(),
    }
    Redirect::to("/signin/forgot?sent=1").into_response()
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /signin/reset`
pub async fn reset(State(state): State<AppState>, posted: PlainForm<ResetForm>) -> Response {
    let PlainForm {
        form,
        client,
        parts,
        ..
    } = posted;
    let mut page = AuthFormState::default();
    page.values.insert("token".into(), form.token.clone());
    if let Err(refused) = over_limit(&state, &parts, &client, None, &page).await {
        return refused;
    }
    match state
        .identity
        .reset_password(&form.token, &form.new_password, &client)
        .await
    {
        Ok(owner) => end_feeds_then(&state, &owner, &client, "/signin?reset=1").await,
        Err(AppError::NotFound(_)) => {
            page.error = Some(
                "This reset link has expired or was used already. Ask for a new one below.".into(),
            );
            refuse(&state, parts, page, StatusCode::GONE, None).await
        }
        Err(error) => to_fix(&state, parts, page, error).await,
    }
}

/// The request, as if for the security page: the password and recovery-code forms live there
/// and are rendered there again.
fn on_security_page(mut parts: Parts) -> Parts {
    parts.uri = http::Uri::from_static("/account/security");
    parts
}

/// `POST /account/mfa/setup`: confirms the authenticator app with its first code and shows the
/// recovery codes, once.
pub async fn confirm_mfa(
    State(state): State<AppState>,
    posted: PlainForm<CodeForm>,
) -> Result<Response, Response> {
    let auth = posted.session()?;
    let mut page = AuthFormState::default();
    over_limit(
        &state,
        &posted.parts,
        &posted.client,
        Some(&auth.email),
        &page,
    )
    .await?;
    let answer = match state
        .identity
        .confirm_mfa_enrollment(&auth, &posted.form.code, &posted.client)
        .await
    {
        Ok((codes, token)) => {
            page.recovery_codes = Some(codes);
            page.values
                .insert("home".into(), auth.role.home_path().into());
            let response = render_page(&state, posted.parts, page, StatusCode::OK).await;
            let max_age = state.settings.sessions.absolute_hours * 3600;
            with_cookie(
                response,
                session_cookie(state.settings.https(), &token, max_age),
            )
        }
        Err(error) => to_fix(&state, posted.parts, page, error).await,
    };
    Ok(answer)
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /account/password`
pub async fn change_password(
    State(state): State<AppState>,
    posted: PlainForm<PasswordForm>,
) -> Result<Response, Response> {
    let auth = posted.session()?;
    let page = AuthFormState::default();
    over_limit(
        &state,
        &on_security_page(posted.parts.clone()),
        &posted.client,
        Some(&auth.email),
        &page,
    )
    .await?;
    let answer = match state
        .identity
        .change_password(
            &auth,
            &posted.form.current_password,
            &posted.form.new_password,
            &posted.client,
        )
        .await
    {
        Ok(()) => {
            let owner = auth.audit_actor();
            end_feeds_then(
                &state,
                &owner,
                &posted.client,
                "/account/security?changed=password",
            )
            .await
        }
        Err(error) => to_fix(&state, on_security_page(posted.parts), page, error).await,
    };
    Ok(answer)
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reference: String,
}

/// `POST /account/sessions/revoke`
pub async fn revoke_session(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let Some(Extension(auth)) = auth else {
        return Redirect::to("/signin").into_response();
    };
    match state
        .identity
        .revoke_session(&auth, &form.reference, &client)
        .await
    {
        Ok(()) => Redirect::to("/account/security?changed=session").into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct RecoveryCodesForm {
    #[serde(default)]
    codes_password: String,
    /// A current authenticator code: new codes need the second factor again, not the password
    /// alone.
    #[serde(default)]
    codes_code: String,
}

/// `POST /account/recovery-codes`: new recovery codes after the password and a current
/// authenticator code, shown once: in this answer only (never stored readable, `no-store`), and
/// a reload posts a code that is used up.
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    posted: PlainForm<RecoveryCodesForm>,
) -> Result<Response, Response> {
    let auth = posted.session()?;
    let mut page = AuthFormState::default();
    let answer = match state
        .identity
        .regenerate_recovery_codes(
            &auth,
            &posted.form.codes_password,
            &posted.form.codes_code,
            &posted.client,
        )
        .await
    {
        Ok(codes) => {
            page.recovery_codes = Some(codes);
            render_page(&state, on_security_page(posted.parts), page, StatusCode::OK).await
        }
        Err(error) => to_fix(&state, on_security_page(posted.parts), page, error).await,
    };
    Ok(answer)
}

#[derive(Debug, Deserialize)]
pub struct CalendarForm {
    /// `create` (a new link, turning off the old one) or `revoke`.
    #[serde(default)]
    change: String,
}

/// `POST /account/calendar`: makes a private calendar link (shown once) or turns it off.
pub async fn calendar_feed(
    State(state): State<AppState>,
    posted: PlainForm<CalendarForm>,
) -> Response {
    use app::appointments::feeds;
    let PlainForm {
        form,
        client,
        auth,
        parts,
    } = posted;
    let signed_in =
        auth.and_then(|auth| SignedIn::new(state.identity.clone(), auth, &client, None));
    let Some(me) = signed_in else {
        return Redirect::to("/signin?next=/account/security").into_response();
    };
    match form.change.as_str() {
        "create" => match feeds::create(&me).await {
            Ok(token) => {
                let mut page = AuthFormState::default();
                page.values.insert(
                    "calendar_url".into(),
                    format!(
                        "{}{}{token}.ics",
                        state.settings.public_url.trim_end_matches('/'),
                        feeds::PATH_PREFIX
                    ),
                );
                render_page(&state, on_security_page(parts), page, StatusCode::OK).await
            }
            Err(error) => error.into_response(),
        },
        "revoke" => match feeds::revoke(&me).await {
            Ok(()) => Redirect::to("/account/security?calendar=off").into_response(),
            Err(error) => error.into_response(),
        },
        _ => (
            StatusCode::BAD_REQUEST,
            "This form asks to make or turn off a calendar link; nothing else. Reload the page and try again.",
        )
            .into_response(),
    }
}

/// A new password ends the account's calendar links too ("sign out everywhere"), then the
/// person goes on to `next`.
async fn end_feeds_then(
    state: &AppState,
    owner: &app::audit::service::AuditActor,
    client: &app::audit::service::ClientInfo,
    next: &str,
) -> Response {
    let seal = state.keyring.audit_seal();
    let now = state.clock.now();
    match app::appointments::feeds::end_for_account(&state.db, seal, now, owner, client).await {
        Ok(()) => Redirect::to(next).into_response(),
        Err(error) => error.into_response(),
    }
}

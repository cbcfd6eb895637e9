//! Sign-in, second factor, password reset, MFA set-up and the security page.
//!
//! These are plain HTML forms posted to the server (see `server/src/auth/handlers.rs`): they
//! work without JavaScript, and a refused form comes back rendered by the server with an
//! [`AuthFormState`] holding its messages and what was typed.

use super::api::{load_security_overview, start_mfa_setup};
use super::model::{SecurityOverview, SessionSummary, MIN_PASSWORD_CHARS};
use crate::ui::{described_by, field, invalid};
use crate::FieldErrors;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeMap;

/// A form's state when the server renders it again after a POST.
#[derive(Debug, Clone, Default)]
pub struct AuthFormState {
    /// What was typed (never passwords).
    pub values: BTreeMap<String, String>,
    pub errors: FieldErrors,
    /// A message about the whole form.
    pub error: Option<String>,
    /// Recovery codes to show once.
    pub recovery_codes: Option<Vec<String>>,
}

impl AuthFormState {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }
}

fn form_state() -> AuthFormState {
    use_context::<AuthFormState>().unwrap_or_default()
}

fn query(name: &str) -> Option<String> {
    use_query_map().with_untracked(|q| q.get(name))
}

fn form_error(state: &AuthFormState) -> impl IntoView + use<> {
    let count = state.errors.len();
    let message = state.error.clone().or_else(|| {
        (count > 0).then(|| {
            if count == 1 {
                "Please correct the field marked below.".to_owned()
            } else {
                format!("Please correct the {count} fields marked below.")
            }
        })
    });
    message.map(|m| view! { <div class="notice notice-error" role="alert"><p>{m}</p></div> })
}

/// Where to go after signing in: as posted, else as asked in the address.
fn next_of(state: &AuthFormState) -> String {
    state
        .values
        .get("next")
        .cloned()
        .or_else(|| query("next"))
        .unwrap_or_default()
}

/// The narrow card every sign-in step sits in.
#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Bedside")/>
        <section class="section container auth-page">
            <div class="card auth-card">
                <h1>{title}</h1>
                {children()}
            </div>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let state = form_state();
    let next = next_of(&state);
    // Good news in green; a sign-in that was ended or timed out is a warning.
    let notice = if query("signed_out").is_some() {
        Some(("notice notice-success", "You are signed out."))
    } else if query("reset").is_some() {
        Some((
            "notice notice-success",
            "Your password was changed. Sign in with the new one.",
        ))
    } else if query("again").is_some() {
        Some(("notice notice-warning", "Too many codes did not work, so we ended that sign-in. Sign in with your password again, then enter the code your authenticator app shows now."))
    } else if query("timeout").is_some() {
        Some((
            "notice notice-warning",
            "You were signed out after a period of inactivity, to protect your health information.",
        ))
    } else {
        None
    };
    let errors = state.errors.clone();
    view! {
        <AuthCard title="Sign in">
            {notice.map(|(class, n)| view! { <div class=class role="status"><p>{n}</p></div> })}
            {form_error(&state)}
            <form class="form" method="post" action="/signin">
                <input type="hidden" name="next" value=next/>
                {field(&errors, "email", "Email address", view! {
                    <input id="email" name="email" type="email" autocomplete="username" required autofocus
                        value=state.value("email") aria-invalid=invalid(&errors, "email") aria-describedby=described_by(&errors, "email")/>
                })}
                {field(&errors, "password", "Password", view! {
                    <input id="password" name="password" type="password" autocomplete="current-password" required
                        aria-invalid=invalid(&errors, "password") aria-describedby=described_by(&errors, "password")/>
                })}
                <button class="button" type="submit">"Sign in"</button>
            </form>
            <p class="auth-links"><a href="/signin/forgot">"Forgot your password?"</a></p>
            <p class="fine-print">"Not a member yet? "<a href="/memberships">"See our memberships"</a>"."</p>
        </AuthCard>
    }
}

#[component]
pub fn MfaChallengePage() -> impl IntoView {
    let state = form_state();
    let next = next_of(&state);
    let errors = state.errors.clone();
    view! {
        <AuthCard title="Two-step sign-in">
            <p>"Open your authenticator app and enter the 6-digit code it shows for this practice."</p>
            {form_error(&state)}
            <form class="form" method="post" action="/signin/mfa">
                <input type="hidden" name="next" value=next/>
                {field(&errors, "code", "Code", view! {
                    <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus
                        maxlength="24" aria-invalid=invalid(&errors, "code") aria-describedby="code-help"/>
                })}
                <p class="field-help" id="code-help">"Lost your phone? Enter one of your recovery codes instead (like abcd-efgh-jkmn-pqrs)."</p>
                <button class="button" type="submit">"Continue"</button>
            </form>
            <form method="post" action="/signout" class="auth-links">
                <button class="link-button" type="submit">"Cancel and sign out"</button>
            </form>
        </AuthCard>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let state = form_state();
    let errors = state.errors.clone();
    if query("sent").is_some() {
        return view! {
            <AuthCard title="Check your email">
                <div class="notice notice-success" role="status">
                    <p>"If an account uses that address, we have emailed it a link to choose a new password. The link works once, for one hour."</p>
                </div>
                <p class="auth-links"><a href="/signin">"Back to sign in"</a></p>
            </AuthCard>
        }
        .into_any();
    }
    view! {
        <AuthCard title="Reset your password">
            <p>"Enter the email address of your account. We will send you a link to choose a new password."</p>
            {form_error(&state)}
            <form class="form" method="post" action="/signin/forgot">
                {field(&errors, "email", "Email address", view! {
                    <input id="email" name="email" type="email" autocomplete="email" required autofocus
                        value=state.value("email") aria-invalid=invalid(&errors, "email") aria-describedby=described_by(&errors, "email")/>
                })}
                <button class="button" type="submit">"Email me a link"</button>
            </form>
            <p class="auth-links"><a href="/signin">"Back to sign in"</a></p>
        </AuthCard>
    }
    .into_any()
}

fn password_help() -> String {
    format!("At least {MIN_PASSWORD_CHARS} characters. A few unrelated words make a strong password that is easy to remember.")
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let state = form_state();
    let token = state
        .values
        .get("token")
        .cloned()
        .or_else(|| query("token"))
        .unwrap_or_default();
    let errors = state.errors.clone();
    view! {
        <AuthCard title="Choose a new password">
            {form_error(&state)}
            <form class="form" method="post" action="/signin/reset">
                <input type="hidden" name="token" value=token/>
                {field(&errors, "new_password", "New password", view! {
                    <input id="new_password" name="new_password" type="password" autocomplete="new-password" required autofocus
                        minlength=MIN_PASSWORD_CHARS.to_string() aria-invalid=invalid(&errors, "new_password")
                        aria-describedby=described_by(&errors, "new_password").unwrap_or_else(|| "new_password-help".into())/>
                })}
                <p class="field-help" id="new_password-help">{password_help()}</p>
                <button class="button" type="submit">"Save the new password"</button>
            </form>
            <p class="auth-links"><a href="/signin/forgot">"Ask for a new link"</a></p>
        </AuthCard>
    }
}

#[component]
fn RecoveryCodes(codes: Vec<String>, continue_to: Option<String>) -> impl IntoView {
    view! {
        <div class="notice notice-success" role="status">
            <h2>"Save your recovery codes"</h2>
            <p>"Each code signs you in once if you lose your phone. Keep them somewhere safe, like a password manager. They will not be shown again."</p>
            <ol class="recovery-codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
            {continue_to.map(|to| view! { <p><a class="button" href=to>"I have saved them, continue"</a></p> })}
        </div>
    }
}

#[component]
pub fn MfaSetupPage() -> impl IntoView {
    let state = form_state();
    if let Some(codes) = state.recovery_codes.clone() {
        let home = state
            .values
            .get("home")
            .cloned()
            .unwrap_or_else(|| "/account/security".into());
        return view! {
            <Title text="Two-step sign-in is on · Bedside"/>
            <section class="section container narrow">
                <h1>"Two-step sign-in is on"</h1>
                <RecoveryCodes codes continue_to=Some(home)/>
            </section>
        }
        .into_any();
    }
    let setup = OnceResource::new(start_mfa_setup());
    let errors = state.errors.clone();
    view! {
        <Title text="Set up two-step sign-in · Bedside"/>
        <section class="section container narrow">
            <h1>"Set up two-step sign-in"</h1>
            <p class="lead">"Health records need more than a password. Each time you sign in, you will also enter a code from an authenticator app on your phone (Google Authenticator, Microsoft Authenticator, 1Password, or similar)."</p>
            {form_error(&state)}
            <Suspense fallback=|| view! { <p>"Preparing your code…"</p> }>
                {move || {
                    let errors = errors.clone();
                    Suspend::new(async move {
                    match setup.await {
                        Err(error) => crate::ui::error_notice(&error),
                        Ok(setup) => view! {
                            <ol class="steps">
                                <li>
                                    <h2>"Scan this QR code with your authenticator app"</h2>
                                    <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=setup.qr_svg></div>
                                    <p>"On this phone? "<a href=setup.otpauth_url.clone()>"Open your authenticator app"</a>"."</p>
                                    <p>"Cannot scan it? Choose “enter a key” in the app and type:"</p>
                                    <p><code class="manual-key">{setup.manual_key}</code></p>
                                </li>
                                <li>
                                    <h2>"Enter the 6-digit code the app shows"</h2>
                                    <form class="form" method="post" action="/account/mfa/setup">
                                        {field(&errors, "code", "Code from the app", view! {
                                            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required
                                                maxlength="7" aria-invalid=invalid(&errors, "code") aria-describedby=described_by(&errors, "code")/>
                                        })}
                                        <button class="button" type="submit">"Turn on two-step sign-in"</button>
                                    </form>
                                </li>
                            </ol>
                        }.into_any(),
                    }
                })}}
            </Suspense>
            <form method="post" action="/signout"><button class="link-button" type="submit">"Sign out"</button></form>
        </section>
    }
    .into_any()
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y at %H:%M UTC").to_string()
}

#[component]
fn SessionRow(session: SessionSummary) -> impl IntoView {
    let place = session
        .ip
        .clone()
        .map(|ip| format!(" · {ip}"))
        .unwrap_or_default();
    view! {
        <li class="session-row">
            <div>
                <strong>{session.device.clone()}</strong>
                {session.current.then(|| view! { <span class="tag">"This device"</span> })}
                <p class="fine-print">{format!("Signed in {}{place} · last active {}", when(session.signed_in_at), when(session.last_seen_at))}</p>
            </div>
            {(!session.current).then(|| view! {
                <form method="post" action="/account/sessions/revoke">
                    <input type="hidden" name="reference" value=session.reference.clone()/>
                    <button class="button button-small button-quiet" type="submit">"Sign out"</button>
                </form>
            })}
        </li>
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let state = form_state();
    let overview = OnceResource::new(load_security_overview());
    let changed = query("changed");
    let errors = state.errors.clone();
    let codes = state.recovery_codes.clone();
    let calendar_url = state.values.get("calendar_url").cloned();
    let calendar_off = query("calendar").is_some_and(|c| c == "off");
    view! {
        <Title text="Security · Bedside"/>
        <section class="section container narrow">
            <h1>"Sign-in and security"</h1>
            {changed.map(|what| {
                let message = match what.as_str() {
                    "password" => "Your password was changed. Your other sessions were signed out.",
                    "session" => "That session was signed out.",
                    _ => "Saved.",
                };
                view! { <div class="notice notice-success" role="status"><p>{message}</p></div> }
            })}
            {codes.map(|codes| view! { <RecoveryCodes codes continue_to=None/> })}
            {calendar_url.map(|url| view! { <CalendarLink url/> })}
            {calendar_off.then(|| view! { <div class="notice notice-success" role="status"><p>"Your calendar link is turned off. Calendars that used it stop showing your visits at their next refresh."</p></div> })}
            {form_error(&state)}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let errors = errors.clone();
                    Suspend::new(async move {
                        match overview.await {
                            Err(error) => crate::ui::error_notice(&error),
                            Ok(overview) => view! { <SecuritySections overview errors/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn SecuritySections(overview: SecurityOverview, errors: FieldErrors) -> impl IntoView {
    let SecurityOverview {
        user,
        sessions,
        recovery_codes_left,
        calendar,
    } = overview;
    let patient = user.role == super::model::Role::Patient;
    view! {
        <section class="card stack" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            <p>{format!("You sign in as {}.", user.email)}</p>
            <form class="form" method="post" action="/account/password">
                {field(&errors, "current_password", "Current password", view! {
                    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required
                        aria-invalid=invalid(&errors, "current_password") aria-describedby=described_by(&errors, "current_password")/>
                })}
                {field(&errors, "new_password", "New password", view! {
                    <input id="new_password" name="new_password" type="password" autocomplete="new-password" required
                        minlength=MIN_PASSWORD_CHARS.to_string() aria-invalid=invalid(&errors, "new_password")
                        aria-describedby=described_by(&errors, "new_password").unwrap_or_else(|| "new_password-help".into())/>
                })}
                <p class="field-help" id="new_password-help">{password_help()}" Changing it signs you out everywhere else."</p>
                <button class="button" type="submit">"Change password"</button>
            </form>
        </section>
        <section class="card stack" aria-labelledby="mfa-title">
            <h2 id="mfa-title">"Two-step sign-in"</h2>
            {if user.mfa_enabled {
                view! {
                    <p>{format!("On. You have {recovery_codes_left} unused recovery codes.")}</p>
                    <form class="form" method="post" action="/account/recovery-codes">
                        <p>"New recovery codes replace the old ones. Confirm with your password and a code from your authenticator app:"</p>
                        {field(&errors, "codes_password", "Password", view! {
                            <input id="codes_password" name="codes_password" type="password" autocomplete="current-password" required
                                aria-invalid=invalid(&errors, "codes_password") aria-describedby=described_by(&errors, "codes_password")/>
                        })}
                        {field(&errors, "codes_code", "Code from your authenticator app", view! {
                            <input id="codes_code" name="codes_code" type="text" inputmode="numeric" autocomplete="one-time-code" required
                                pattern="[0-9 ]{6,7}" aria-invalid=invalid(&errors, "codes_code") aria-describedby=described_by(&errors, "codes_code")/>
                        })}
                        <button class="button button-quiet" type="submit">"Make new recovery codes"</button>
                    </form>
                }.into_any()
            } else {
                view! {
                    <p>"Off. Add a code from your phone to every sign-in, so a stolen password is not enough."</p>
                    <p><a class="button" href="/account/mfa/setup">"Set up two-step sign-in"</a></p>
                }.into_any()
            }}
        </section>
        <section class="card stack" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Where you are signed in"</h2>
            <ul class="session-list">
                {sessions.into_iter().map(|session| view! { <SessionRow session/> }).collect_view()}
            </ul>
            <form method="post" action="/signout"><button class="button button-quiet" type="submit">"Sign out on this device"</button></form>
        </section>
        {calendar.map(|since| view! {
            <section class="card stack" aria-labelledby="calendar-title">
                <h2 id="calendar-title">"Your calendar"</h2>
                {if patient {
                    view! { <p>"See your visits in your phone's or computer's calendar app, kept up to date as you book, move or cancel. The calendar shows the kind of visit, the time and the place; never the reason."</p> }.into_any()
                } else {
                    view! { <p>"See the practice's booked times in your own calendar app. It shows the kind of visit and the time only, never who or why: those stay in Bedside."</p> }.into_any()
                }}
                {match since {
                    Some(since) => view! {
                        <p>{format!("On: a private link made on {since}. ")}"Lost track of it, or shared it by mistake? Make a new one: the old one stops working."</p>
                        <div class="button-row">
                            <form method="post" action="/account/calendar">
                                <input type="hidden" name="change" value="create"/>
                                <button class="button" type="submit">"Make a new calendar link"</button>
                            </form>
                            <form method="post" action="/account/calendar">
                                <input type="hidden" name="change" value="revoke"/>
                                <button class="button button-quiet" type="submit">"Turn the calendar link off"</button>
                            </form>
                        </div>
                    }.into_any(),
                    None => view! {
                        <form method="post" action="/account/calendar">
                            <input type="hidden" name="change" value="create"/>
                            <button class="button" type="submit">"Make a private calendar link"</button>
                        </form>
                    }.into_any(),
                }}
            </section>
        })}
    }
}

/// A new calendar link, shown once: Bedside keeps only its hash.
#[component]
fn CalendarLink(url: String) -> impl IntoView {
    view! {
        <div class="notice notice-success stack" role="status">
            <p><strong>"Your private calendar link"</strong></p>
            <p class="calendar-url"><code>{url}</code></p>
            <p>"Add it to your calendar app as a subscription: in Google Calendar, Other calendars → From URL; in Apple Calendar, File → New Calendar Subscription; in Outlook, Add calendar → Subscribe from web."</p>
            <p>"This is the only time it is shown. Anyone who has it can see these visit times, so keep it to yourself; you can turn it off here at any time."</p>
        </div>
    }
}

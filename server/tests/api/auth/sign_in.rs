//! Signing in and out, the second factor, sessions and their timeouts, passwords and resets.

use crate::helpers::{backends, location, spawn_app, TestApp, TestUser};
use app::auth::Role;
use chrono::Duration;

async fn body(response: reqwest::Response) -> String {
    response.text().await.expect("body")
}

#[tokio::test]
async fn a_patient_signs_in_sees_their_record_and_signing_out_ends_the_session_at_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.new_browser();
        let response = app.sign_in(&browser, &maria).await;
        assert_eq!(response.status(), 303, "{}", app.backend);
        assert_eq!(location(&response).as_deref(), Some("/portal"));
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_owned();
        assert!(cookie.starts_with("bedside_session="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );

        let page = app.get_with(&browser, "/portal").await;
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = body(page).await;
        assert!(
            html.contains("Maria Lopez") && html.contains("March 12, 1984"),
            "{}",
            app.backend
        );

        // Keep the token, sign out, and try it again: it is dead.
        let token = cookie.split(';').next().expect("pair").to_owned();
        let response = app.post_with(&browser, "/signout", &[]).await;
        assert_eq!(location(&response).as_deref(), Some("/signin?signed_out=1"));
        let replay = app
            .client
            .get(format!("{}/portal", app.address))
            .header("cookie", token)
            .send()
            .await
            .expect("GET");
        assert_eq!(replay.status(), 303);
        assert_eq!(location(&replay).as_deref(), Some("/signin?next=/portal"));
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer_and_both_are_audited() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let wrong_password = app
            .post_form(
                "/signin",
                &[("email", &maria.email), ("password", "not her password!")],
            )
            .await;
        let unknown = app
            .post_form(
                "/signin",
                &[
                    ("email", "nobody@example.com"),
                    ("password", "not her password!"),
                ],
            )
            .await;
        assert_eq!(wrong_password.status(), 401, "{}", app.backend);
        assert_eq!(unknown.status(), 401);
        let (a, b) = (body(wrong_password).await, body(unknown).await);
        let message = "That email and password did not let you in.";
        assert!(a.contains(message) && b.contains(message));
        // What was typed is kept, never the password.
        assert!(b.contains("value=\"nobody@example.com\""));
        assert!(!b.contains("not her password!"));
        let rows = app.audit_rows().await;
        let failed: Vec<_> = rows
            .iter()
            .filter(|r| r.action == "session.sign_in" && r.outcome == "failed")
            .collect();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0].actor_user_id, Some(maria.id));
        assert_eq!(failed[1].actor_user_id, None);
    }
}

#[tokio::test]
async fn a_physician_needs_a_current_code_and_a_code_is_accepted_only_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
        let secret = doctor.mfa_secret.clone().expect("secret");
        let browser = app.new_browser();
        let response = app.sign_in(&browser, &doctor).await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/signin/mfa"),
            "{}",
            app.backend
        );
        // Password alone opens nothing.
        assert_eq!(
            app.visit(&browser, "/dashboard").await,
            (303, Some("/signin/mfa".into()))
        );
        let wrong = app
            .post_with(&browser, "/signin/mfa", &[("code", "000000")])
            .await;
        assert_eq!(wrong.status(), 401);
        assert!(body(wrong).await.contains("That code did not work"));
        let code = app.code_now(&secret);
        let response = app
            .post_with(&browser, "/signin/mfa", &[("code", &code)])
            .await;
        assert_eq!(location(&response).as_deref(), Some("/dashboard"));
        assert_eq!(app.visit(&browser, "/dashboard").await.0, 200);

        // The same code in another browser, within its 30 seconds: refused (replay).
        let other = app.new_browser();
        app.sign_in(&other, &doctor).await;
        let replay = app
            .post_with(&other, "/signin/mfa", &[("code", &code)])
            .await;
        assert_eq!(replay.status(), 401);
        // The next step's code works.
        app.clock.advance(Duration::seconds(30));
        let fresh = app.code_now(&secret);
        let ok = app
            .post_with(&other, "/signin/mfa", &[("code", &fresh)])
            .await;
        assert_eq!(ok.status(), 303);
    }
}

#[tokio::test]
async fn a_practice_account_without_mfa_must_set_it_up_and_recovery_codes_work_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let staff = app
            .identity
            .create_account(&app::auth::service::NewAccount {
                email: "front@example.com".into(),
                display_name: "Sam Front".into(),
                role: Role::Staff,
                password: crate::helpers::TEST_PASSWORD.into(),
            })
            .await
            .expect("account");
        let user = TestUser {
            id: staff.id,
            public_id: staff.public_id.clone(),
            email: staff.email.clone(),
            password: crate::helpers::TEST_PASSWORD.into(),
            role: Role::Staff,
            patient_id: None,
            patient_public_id: None,
            mfa_secret: None,
        };
        let browser = app.new_browser();
        let response = app.sign_in(&browser, &user).await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/account/mfa/setup"),
            "{}",
            app.backend
        );
        assert_eq!(
            app.visit(&browser, "/dashboard").await,
            (303, Some("/account/mfa/setup".into()))
        );
        let page = body(app.get_with(&browser, "/account/mfa/setup").await).await;
        assert!(page.contains("<svg"), "the QR code is drawn");

        // Read the pending secret as the authenticator app would from the QR code.
        let secret = pending_secret(&app, staff.id).await;
        let code = app.code_now(&secret);
        let confirmed = app
            .post_with(&browser, "/account/mfa/setup", &[("code", &code)])
            .await;
        assert_eq!(confirmed.status(), 200);
        let html = body(confirmed).await;
        let codes = recovery_codes(&html);
        assert_eq!(codes.len(), 10, "{html}");
        assert_eq!(
            app.visit(&browser, "/dashboard").await.0,
            200,
            "set up, signed in fully"
        );

        // Another device, with a recovery code: once.
        let laptop = app.new_browser();
        app.sign_in(&laptop, &user).await;
        let used = app
            .post_with(&laptop, "/signin/mfa", &[("code", &codes[0])])
            .await;
        assert_eq!(used.status(), 303);
        let tablet = app.new_browser();
        app.sign_in(&tablet, &user).await;
        let again = app
            .post_with(&tablet, "/signin/mfa", &[("code", &codes[0])])
            .await;
        assert_eq!(again.status(), 401, "a recovery code is good once");
    }
}

pub async fn pending_secret(app: &TestApp, user_id: i32) -> Vec<u8> {
    use sea_orm::EntityTrait;
    let row = app::auth::entity::user_account::Entity::find_by_id(user_id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("user");
    row.mfa_secret
        .expect("a pending secret")
        .open(
            &app.keyring,
            &app::crypto::FieldContext {
                table: "user_account",
                column: "mfa_secret",
                row: &row.public_id,
            },
        )
        .expect("open")
}

pub fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<code>")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .filter(|c| c.len() == 19 && c.matches('-').count() == 3)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn p8_no_request_succeeds_on_a_session_idle_past_its_timeout() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
        // Both last active at the same moment T.
        let physician = app.signed_in(&doctor).await;
        let patient = app.signed_in(&maria).await;

        app.clock
            .advance(Duration::minutes(14) + Duration::seconds(59));
        assert_eq!(
            app.visit(&physician, "/dashboard").await.0,
            200,
            "{}",
            app.backend
        );
        // T + 29:59: the physician was idle 15 minutes, the patient 29:59.
        app.clock.advance(Duration::minutes(15));
        assert_eq!(
            app.visit(&physician, "/dashboard").await,
            (303, Some("/signin?next=/dashboard".into()))
        );
        assert_eq!(app.visit(&patient, "/portal").await.0, 200);
        // Thirty idle minutes end the patient's.
        app.clock.advance(Duration::minutes(30));
        assert_eq!(app.visit(&patient, "/portal").await.0, 303);
        // A session that ended stays ended, whatever the clock says later.
        app.clock.advance(Duration::minutes(-40));
        assert_eq!(app.visit(&patient, "/portal").await.0, 303);
    }
}

#[tokio::test]
async fn an_active_session_still_ends_twelve_hours_after_sign_in() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.signed_in(&maria).await;
        for _ in 0..(12 * 60 / 20 - 1) {
            app.clock.advance(Duration::minutes(20));
            assert_eq!(
                app.visit(&browser, "/portal").await.0,
                200,
                "{}",
                app.backend
            );
        }
        app.clock.advance(Duration::minutes(20));
        assert_eq!(app.visit(&browser, "/portal").await.0, 303);
    }
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_session_and_lists_sessions() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let phone = app.signed_in(&maria).await;
        let laptop = app.signed_in(&maria).await;
        let page = body(app.get_with(&laptop, "/account/security").await).await;
        assert!(page.contains("This device"), "{}", app.backend);
        assert_eq!(page.matches("class=\"session-row\"").count(), 2);

        let weak = app
            .post_with(
                &laptop,
                "/account/password",
                &[
                    ("current_password", &maria.password),
                    ("new_password", "password1234"),
                ],
            )
            .await;
        assert_eq!(weak.status(), 422);
        let html = body(weak).await;
        assert!(html.contains("commonly used passwords"), "{html}");
        let changed = app
            .post_with(
                &laptop,
                "/account/password",
                &[
                    ("current_password", &maria.password),
                    ("new_password", "quiet harbor morning tide"),
                ],
            )
            .await;
        assert_eq!(
            location(&changed).as_deref(),
            Some("/account/security?changed=password")
        );
        assert_eq!(
            app.visit(&laptop, "/portal").await.0,
            200,
            "this session stays"
        );
        assert_eq!(
            app.visit(&phone, "/portal").await.0,
            303,
            "the other one ended at once"
        );
        let mut renewed = maria.clone();
        renewed.password = "quiet harbor morning tide".into();
        assert_eq!(
            app.sign_in(&app.new_browser(), &renewed).await.status(),
            303
        );
    }
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let browser = app.signed_in(&maria).await;
        let caller = crate::helpers::caller_of(&app, &admin, None);
        app.identity
            .set_disabled(&caller, &maria.public_id, true)
            .await
            .expect("disable");
        assert_eq!(
            app.visit(&browser, "/portal").await.0,
            303,
            "{}",
            app.backend
        );
        // The right password of a disabled account gets the answer a wrong one gets: the form
        // does not confirm that the password was right (the audit log says why).
        let refused = app.sign_in(&app.new_browser(), &maria).await;
        assert_eq!(refused.status(), 401);
        assert!(body(refused)
            .await
            .contains("That email and password did not let you in."));
        let rows = app.audit_rows().await;
        let last = rows.last().expect("an audit row");
        assert_eq!(
            (last.outcome.as_str(), last.detail.as_deref()),
            ("denied", Some("account disabled"))
        );
    }
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_expires_after_an_hour() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let signed_in = app.signed_in(&maria).await;
        // Unknown and known addresses get the same answer.
        let unknown = app
            .post_form("/signin/forgot", &[("email", "nobody@example.com")])
            .await;
        let known = app
            .post_form("/signin/forgot", &[("email", &maria.email)])
            .await;
        assert_eq!(location(&unknown), location(&known), "{}", app.backend);
        let link = reset_link(&app).await;
        let token = link.split("token=").nth(1).expect("token").to_owned();
        let page = body(app.get(&format!("/signin/reset?token={token}")).await).await;
        assert!(page.contains("Choose a new password"));
        let short = app
            .post_form(
                "/signin/reset",
                &[("token", &token), ("new_password", "short")],
            )
            .await;
        assert_eq!(
            short.status(),
            422,
            "a refused password does not use up the link"
        );
        let done = app
            .post_form(
                "/signin/reset",
                &[
                    ("token", &token),
                    ("new_password", "quiet harbor morning tide"),
                ],
            )
            .await;
        assert_eq!(location(&done).as_deref(), Some("/signin?reset=1"));
        assert_eq!(
            app.visit(&signed_in, "/portal").await.0,
            303,
            "a reset signs out everywhere"
        );
        let again = app
            .post_form(
                "/signin/reset",
                &[
                    ("token", &token),
                    ("new_password", "another fine passphrase"),
                ],
            )
            .await;
        assert_eq!(again.status(), 410, "the link works once");

        app.post_form("/signin/forgot", &[("email", &maria.email)])
            .await;
        let link = reset_link(&app).await;
        let token = link.split("token=").nth(1).expect("token").to_owned();
        app.clock.advance(Duration::minutes(61));
        let late = app
            .post_form(
                "/signin/reset",
                &[
                    ("token", &token),
                    ("new_password", "another fine passphrase"),
                ],
            )
            .await;
        assert_eq!(late.status(), 410, "the link expires after an hour");
    }
}

pub async fn reset_link(app: &TestApp) -> String {
    use sea_orm::{EntityTrait, QueryOrder};
    app.jobs.settle().await;
    let email = app::mail::outbox_email::Entity::find()
        .order_by_desc(app::mail::outbox_email::Column::Id)
        .one(&app.db)
        .await
        .expect("outbox")
        .expect("an email");
    let email = app.open_email(email);
    assert!(
        email.subject.starts_with("Reset your password"),
        "{}",
        email.subject
    );
    email
        .text_body
        .lines()
        .find(|l| l.contains("/signin/reset?token="))
        .expect("a link")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_account_with_retry_after() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        for _ in 0..10 {
            let r = app
                .post_form(
                    "/signin",
                    &[("email", &maria.email), ("password", "wrong password!!")],
                )
                .await;
            assert_eq!(r.status(), 401, "{}", app.backend);
        }
        let limited = app
            .post_form(
                "/signin",
                &[("email", &maria.email), ("password", &maria.password)],
            )
            .await;
        assert_eq!(limited.status(), 429);
        let wait: u64 = limited.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&wait));
        assert!(body(limited).await.contains("Too many attempts"));
    }
}

#[tokio::test]
async fn pages_of_the_signed_in_areas_send_strangers_to_sign_in_and_others_home() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        for path in ["/portal", "/dashboard", "/admin/audit", "/account/security"] {
            let (status, to) = app.visit(&app.client, path).await;
            assert_eq!(
                (status, to.as_deref()),
                (303, Some(format!("/signin?next={path}").as_str())),
                "{}",
                app.backend
            );
        }
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let patient = app.signed_in(&maria).await;
        assert_eq!(
            app.visit(&patient, "/dashboard").await,
            (303, Some("/portal".into()))
        );
        assert_eq!(
            app.visit(&patient, "/admin/audit").await,
            (303, Some("/portal".into()))
        );
        assert_eq!(
            app.visit(&patient, "/signin").await,
            (303, Some("/portal".into()))
        );
        // After sign-in, a safe `next` is followed and an outside one is not.
        let browser = app.new_browser();
        let r = app
            .post_with(
                &browser,
                "/signin",
                &[
                    ("email", &maria.email),
                    ("password", &maria.password),
                    ("next", "//evil.example/"),
                ],
            )
            .await;
        assert_eq!(location(&r).as_deref(), Some("/portal"));
    }
}

#[tokio::test]
async fn an_email_confirmation_link_works_once_within_48_hours() {
    use app::auth::service::TokenPurpose;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let token = app
            .identity
            .issue_token(maria.id, TokenPurpose::VerifyEmail)
            .await
            .expect("token");
        // A reset token is not a confirmation token, and the other way round.
        assert!(!app
            .identity
            .token_is_valid(&token, TokenPurpose::PasswordReset)
            .await
            .expect("check"));
        app.clock.advance(Duration::hours(47));
        assert!(
            app.identity.verify_email(&token).await.expect("verify"),
            "{}",
            app.backend
        );
        assert!(
            !app.identity.verify_email(&token).await.expect("verify"),
            "single use"
        );
        let late = app
            .identity
            .issue_token(maria.id, TokenPurpose::VerifyEmail)
            .await
            .expect("token");
        app.clock.advance(Duration::hours(48));
        assert!(
            !app.identity.verify_email(&late).await.expect("verify"),
            "expired after 48 hours"
        );
        // A newer token makes the older ones useless.
        let first = app
            .identity
            .issue_token(maria.id, TokenPurpose::VerifyEmail)
            .await
            .expect("token");
        let second = app
            .identity
            .issue_token(maria.id, TokenPurpose::VerifyEmail)
            .await
            .expect("token");
        assert!(!app.identity.verify_email(&first).await.expect("verify"));
        assert!(app.identity.verify_email(&second).await.expect("verify"));
    }
}

#[tokio::test]
async fn a_person_signs_out_another_of_their_sessions_from_the_security_page() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let phone = app.signed_in(&maria).await;
        let laptop = app.signed_in(&maria).await;
        let other = app.signed_in(&james).await;
        let sessions = app
            .identity
            .sessions()
            .list_for_user(maria.id)
            .await
            .expect("list");
        assert_eq!(sessions.len(), 2, "{}", app.backend);
        // The phone's session is the older one.
        let oldest = sessions
            .iter()
            .min_by_key(|s| s.created_at)
            .expect("one")
            .reference();
        let page = body(app.get_with(&laptop, "/account/security").await).await;
        assert!(
            page.contains(&format!("value=\"{oldest}\"")),
            "the revoke button names it"
        );
        let response = app
            .post_with(
                &laptop,
                "/account/sessions/revoke",
                &[("reference", &oldest)],
            )
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/account/security?changed=session")
        );
        assert_eq!(app.visit(&phone, "/portal").await.0, 303);
        assert_eq!(app.visit(&laptop, "/portal").await.0, 200);
        // Someone else's session cannot be revoked by naming it.
        let theirs = app
            .identity
            .sessions()
            .list_for_user(james.id)
            .await
            .expect("list")[0]
            .reference();
        let refused = app
            .post_with(
                &laptop,
                "/account/sessions/revoke",
                &[("reference", &theirs)],
            )
            .await;
        assert_eq!(refused.status(), 404);
        assert_eq!(app.visit(&other, "/portal").await.0, 200);
    }
}

#[tokio::test]
async fn a_reset_request_does_the_same_work_for_every_address_and_emails_only_an_active_account() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        app.identity
            .set_disabled(
                &crate::helpers::caller_of(&app, &admin, None),
                &james.public_id,
                true,
            )
            .await
            .expect("disable");
        let jobs_before = app::jobs::entity::job::Entity::find()
            .count(&app.db)
            .await
            .expect("count");
        let mut answers = Vec::new();
        for email in [&maria.email, &james.email, "nobody@example.com"] {
            let response = app.post_form("/signin/forgot", &[("email", email)]).await;
            answers.push((response.status().as_u16(), location(&response)));
        }
        // One answer, and one queued job each: the page does the same work for every address.
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{}: {answers:?}",
            app.backend
        );
        assert_eq!(answers[0], (303, Some("/signin/forgot?sent=1".to_owned())));
        let jobs_after = app::jobs::entity::job::Entity::find()
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(jobs_after - jobs_before, 3);
        // Only the active account gets a link.
        app.jobs.settle().await;
        let sent: Vec<String> = app::mail::outbox_email::Entity::find()
            .all(&app.db)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|e| e.subject.starts_with("Reset your password"))
            .map(|e| e.to_address)
            .collect();
        assert_eq!(sent, vec![maria.email.clone()]);
    }
}

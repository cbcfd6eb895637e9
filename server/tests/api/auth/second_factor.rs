//! The second factor is the only way in past a password (SECURITY.md S1): a session that has
//! only given its password is a session on no route but the step that completes it, and new
//! recovery codes need the authenticator again.

use crate::auth::sign_in::recovery_codes;
use crate::helpers::{backends, location, spawn_app, TestApp, TestUser, TEST_PASSWORD};
use app::auth::Role;
use chrono::Duration;

/// A staff member who has not set up an authenticator yet: they must, before anything else.
async fn staff_without_authenticator(app: &TestApp) -> TestUser {
    let account = app
        .identity
        .create_account(&app::auth::service::NewAccount {
            email: "front@example.com".into(),
            display_name: "Sam Front".into(),
            role: Role::Staff,
            password: TEST_PASSWORD.into(),
        })
        .await
        .expect("account");
    TestUser {
        id: account.id,
        public_id: account.public_id,
        email: account.email,
        password: TEST_PASSWORD.into(),
        role: Role::Staff,
        patient_id: None,
        patient_public_id: None,
        mfa_secret: None,
    }
}

/// Every state-changing route and server function, and a path nobody registered.
fn every_post_path() -> Vec<String> {
    let mut paths: Vec<String> = bedside::startup::areas()
        .posts()
        .iter()
        .map(|p| p.replace("{id}", "cs_local_any"))
        .collect();
    paths.extend(leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()));
    paths.push("/a/route/added/later".into());
    paths
}

/// What a POST of a form that would satisfy the account forms answers: status and location.
async fn answer(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, Option<String>) {
    let response = app
        .post_with(
            client,
            path,
            &[
                ("current_password", TEST_PASSWORD),
                ("codes_password", TEST_PASSWORD),
                ("new_password", "a brand new passphrase 42"),
                ("change", "create"),
            ],
        )
        .await;
    (response.status().as_u16(), location(&response))
}

#[tokio::test]
async fn a_password_alone_reaches_no_signed_in_route_or_server_function() {
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
    let staff = staff_without_authenticator(&app).await;
    let nobody = app.new_browser();
    for (who, lands_on, may_use) in [
        (
            &doctor,
            "/signin/mfa",
            &bedside::auth::gate::SECOND_FACTOR_PENDING_MAY_USE,
        ),
        (
            &staff,
            "/account/mfa/setup",
            &bedside::auth::gate::MFA_SET_UP_MAY_USE,
        ),
    ] {
        let half = app.new_browser();
        let signed = app.sign_in(&half, who).await;
        assert_eq!(
            location(&signed).as_deref(),
            Some(lands_on),
            "{}",
            who.email
        );
        for path in every_post_path() {
            if may_use.contains(&path.as_str()) {
                continue;
            }
            // The half-signed-in session gets exactly what a stranger gets.
            assert_eq!(
                answer(&app, &half, &path).await,
                answer(&app, &nobody, &path).await,
                "{path} from {} with only a password",
                who.email
            );
        }
        // Still half signed in: the step that completes it is there.
        assert_eq!(
            app.visit(&half, "/dashboard").await,
            (303, Some(lands_on.to_owned()))
        );
    }
}

#[tokio::test]
async fn a_stolen_password_cannot_mint_recovery_codes_change_the_password_or_end_sessions() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
        let owner = app.signed_in(&doctor).await;
        let thief = app.new_browser();
        app.sign_in(&thief, &doctor).await;
        let codes = app
            .post_with(
                &thief,
                "/account/recovery-codes",
                &[("codes_password", TEST_PASSWORD)],
            )
            .await;
        let to_sign_in = |response: &reqwest::Response| {
            location(response).is_some_and(|to| to.starts_with("/signin"))
        };
        assert!(to_sign_in(&codes), "{} {:?}", app.backend, codes.status());
        assert!(recovery_codes(&codes.text().await.expect("body")).is_empty());
        let changed = app
            .post_with(
                &thief,
                "/account/password",
                &[
                    ("current_password", TEST_PASSWORD),
                    ("new_password", "the thief's own passphrase 9"),
                ],
            )
            .await;
        assert!(to_sign_in(&changed), "{:?}", location(&changed));
        let revoked = app
            .post_with(&thief, "/account/sessions/revoke", &[("reference", "any")])
            .await;
        assert!(to_sign_in(&revoked), "{:?}", location(&revoked));
        // The owner is still signed in, with the same password.
        assert_eq!(
            app.visit(&owner, "/dashboard").await.0,
            200,
            "{}",
            app.backend
        );
        let again = app.new_browser();
        assert_eq!(
            location(&app.sign_in(&again, &doctor).await).as_deref(),
            Some("/signin/mfa")
        );
    }
}

#[tokio::test]
async fn new_recovery_codes_need_a_current_authenticator_code_and_are_shown_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
        let secret = doctor.mfa_secret.clone().expect("secret");
        let browser = app.signed_in(&doctor).await;

        let password_only = app
            .post_with(
                &browser,
                "/account/recovery-codes",
                &[("codes_password", TEST_PASSWORD)],
            )
            .await;
        assert_eq!(password_only.status(), 422, "{}", app.backend);
        let html = password_only.text().await.expect("body");
        assert!(recovery_codes(&html).is_empty());
        assert!(
            html.contains("Enter the code your authenticator app shows now"),
            "{html}"
        );

        app.clock.advance(Duration::seconds(30));
        let code = app.code_now(&secret);
        let form = [
            ("codes_password", TEST_PASSWORD),
            ("codes_code", code.as_str()),
        ];
        let made = app
            .post_with(&browser, "/account/recovery-codes", &form)
            .await;
        assert_eq!(made.status(), 200);
        assert_eq!(
            made.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "the codes stay out of every cache"
        );
        let codes = recovery_codes(&made.text().await.expect("body"));
        assert_eq!(codes.len(), 10);

        // A reload posts the same, used-up code: the codes are not shown (nor made) again.
        let reloaded = app
            .post_with(&browser, "/account/recovery-codes", &form)
            .await;
        assert_eq!(reloaded.status(), 422);
        assert!(recovery_codes(&reloaded.text().await.expect("body")).is_empty());
        let page = app
            .get_with(&browser, "/account/security")
            .await
            .text()
            .await
            .expect("body");
        assert!(recovery_codes(&page).is_empty());
        assert!(page.contains("You have 10 unused recovery codes"));

        // The new codes are the ones that work.
        let laptop = app.new_browser();
        app.sign_in(&laptop, &doctor).await;
        let used = app
            .post_with(&laptop, "/signin/mfa", &[("code", &codes[0])])
            .await;
        assert_eq!(location(&used).as_deref(), Some("/dashboard"));
    }
}

#[tokio::test]
async fn sign_in_follows_next_only_to_a_path_of_this_site() {
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    for (next, to) in [
        // Tried against a release build: browsers drop the tab and follow `//evil.example`.
        ("/\t/evil.example", "/portal"),
        ("/\\evil.example", "/portal"),
        ("//evil.example", "/portal"),
        ("/.//evil.example", "/portal"),
        ("https://evil.example/", "/portal"),
        ("/portal/visits?tab=past", "/portal/visits?tab=past"),
    ] {
        let browser = app.new_browser();
        let response = app
            .post_with(
                &browser,
                "/signin",
                &[
                    ("email", maria.email.as_str()),
                    ("password", TEST_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(location(&response).as_deref(), Some(to), "next={next:?}");
    }
}

#[tokio::test]
async fn an_authenticator_set_up_is_bound_to_the_session_that_started_it_with_its_own_secret() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let staff = staff_without_authenticator(&app).await;
        let setup = |client: reqwest::Client| {
            let app = &app;
            async move {
                let page = app.get_with(&client, "/account/mfa/setup").await;
                assert_eq!(page.status(), 200, "{}", app.backend);
                crate::auth::sign_in::pending_secret(app, staff.id).await
            }
        };
        let laptop = app.new_browser();
        app.sign_in(&laptop, &staff).await;
        let first = setup(laptop.clone()).await;
        assert_eq!(
            setup(laptop.clone()).await,
            first,
            "a reload shows the same secret"
        );

        // Set-up started on another device: a new secret, and only that session can confirm.
        let phone = app.new_browser();
        app.sign_in(&phone, &staff).await;
        let second = setup(phone.clone()).await;
        assert_ne!(second, first);
        let confirm = |client: &reqwest::Client, secret: &[u8]| {
            let code = app.code_now(secret);
            let client = client.clone();
            let app = &app;
            async move {
                app.post_with(&client, "/account/mfa/setup", &[("code", &code)])
                    .await
                    .status()
            }
        };
        assert_eq!(
            confirm(&phone, &first).await,
            422,
            "the first secret is gone"
        );
        assert_eq!(
            crate::auth::sign_in::pending_secret(&app, staff.id).await,
            second
        );
        assert_eq!(
            confirm(&laptop, &second).await,
            422,
            "bound to the phone's session"
        );
        // The laptop's page (shown again with the refusal) started set-up once more there.
        let third = crate::auth::sign_in::pending_secret(&app, staff.id).await;
        assert!(third != first && third != second);
        assert_eq!(
            confirm(&phone, &second).await,
            422,
            "started again elsewhere"
        );
        // The device that last showed the set-up page holds it: the phone, whose page was just
        // shown again with its own new secret.
        let fourth = crate::auth::sign_in::pending_secret(&app, staff.id).await;
        assert_ne!(fourth, third);
        app.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(confirm(&phone, &fourth).await, 200);
    }
}

//! Sign-in limits an attacker cannot turn against the owner (issue 12 §2; SECURITY.md): a
//! back-off per account and client address, an account-wide cap that spares a client the
//! account signed in from before, locks that end, and wrong codes counted on their own.

use crate::helpers::{backends, location, spawn_app_with, TestApp, TestUser};
use app::auth::Role;
use chrono::Duration;

const WRONG: &str = "wrong password!!";
const SAME_ANSWER: &str = "That email and password did not let you in.";

/// Bedside behind a proxy that says who the client is (`X-Forwarded-For`), so one test can be
/// many clients; attempts per minute high, so only the lockout rules answer.
async fn app_with_cap(backend: &crate::helpers::Backend, account_after: i32) -> TestApp {
    spawn_app_with(backend, |s| {
        s.behind_proxy = true;
        s.sign_in.attempts_per_minute = 10_000;
        s.sign_in.lockout_after = account_after;
    })
    .await
}

/// Posts the sign-in form from `ip` in `client`; status and location.
async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    ip: &str,
    user: &TestUser,
    password: &str,
) -> (u16, Option<String>) {
    let response = client
        .post(format!("{}/signin", app.address))
        .header("x-forwarded-for", ip)
        .form(&[("email", user.email.as_str()), ("password", password)])
        .send()
        .await
        .expect("POST /signin");
    let status = response.status().as_u16();
    let to = location(&response);
    if status == 401 {
        let html = response.text().await.expect("body");
        assert!(html.contains(SAME_ANSWER), "one answer for every refusal");
    }
    (status, to)
}

#[tokio::test]
async fn one_client_backs_off_after_five_wrong_passwords_and_other_clients_are_not_held() {
    for backend in backends() {
        let app = app_with_cap(&backend, 100).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let guesser = app.new_browser();
        for _ in 0..5 {
            assert_eq!(
                sign_in_from(&app, &guesser, "203.0.113.7", &maria, WRONG)
                    .await
                    .0,
                401
            );
        }
        // Held for a minute: even the right password gets the same answer.
        let held = sign_in_from(&app, &guesser, "203.0.113.7", &maria, &maria.password).await;
        assert_eq!(held.0, 401, "{}", app.backend);
        // Maria, elsewhere, is not held by the stranger.
        let own = sign_in_from(
            &app,
            &app.new_browser(),
            "198.51.100.9",
            &maria,
            &maria.password,
        )
        .await;
        assert_eq!(own, (303, Some("/portal".into())));
        // The wait doubles with each further wrong password from that client.
        app.clock.advance(Duration::seconds(61));
        assert_eq!(
            sign_in_from(&app, &guesser, "203.0.113.7", &maria, WRONG)
                .await
                .0,
            401
        );
        app.clock.advance(Duration::seconds(61));
        assert_eq!(
            sign_in_from(&app, &guesser, "203.0.113.7", &maria, &maria.password)
                .await
                .0,
            401,
            "two minutes after the sixth"
        );
        app.clock.advance(Duration::seconds(60));
        assert_eq!(
            sign_in_from(&app, &guesser, "203.0.113.7", &maria, &maria.password)
                .await
                .0,
            303
        );
    }
}

#[tokio::test]
async fn an_ipv6_client_is_held_by_its_whole_slash_64() {
    let app = app_with_cap(&crate::helpers::Backend::Sqlite, 100).await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    let browser = app.new_browser();
    for i in 0..5 {
        let ip = format!("2001:db8:1:2::{i:x}");
        assert_eq!(
            sign_in_from(&app, &browser, &ip, &maria, WRONG).await.0,
            401
        );
    }
    let same_subscriber = "2001:db8:1:2:ffff:ffff:ffff:1";
    assert_eq!(
        sign_in_from(&app, &browser, same_subscriber, &maria, &maria.password)
            .await
            .0,
        401
    );
    assert_eq!(
        sign_in_from(&app, &browser, "2001:db8:1:3::1", &maria, &maria.password)
            .await
            .0,
        303
    );
}

#[tokio::test]
async fn a_guess_spread_over_many_addresses_locks_the_account_but_not_the_owners_known_device() {
    for backend in backends() {
        let app = app_with_cap(&backend, 6).await;
        let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
        // The physician's own device has signed in before.
        let office = app.new_browser();
        assert_eq!(
            sign_in_from(&app, &office, "192.0.2.10", &doctor, &doctor.password)
                .await
                .0,
            303
        );
        // A stranger: one wrong password from each of six addresses.
        for i in 0..6 {
            let ip = format!("203.0.113.{}", 20 + i);
            let guess = sign_in_from(&app, &app.new_browser(), &ip, &doctor, WRONG).await;
            assert_eq!(guess.0, 401, "{}", app.backend);
        }
        // Locked to every client it does not know, the right password included.
        assert_eq!(
            sign_in_from(
                &app,
                &app.new_browser(),
                "203.0.113.99",
                &doctor,
                &doctor.password
            )
            .await
            .0,
            401
        );
        // Not to her own device.
        assert_eq!(
            sign_in_from(&app, &office, "192.0.2.10", &doctor, &doctor.password).await,
            (303, Some("/signin/mfa".into()))
        );
        // Her signing in does not lift the lock for the stranger.
        assert_eq!(
            sign_in_from(
                &app,
                &app.new_browser(),
                "203.0.113.98",
                &doctor,
                &doctor.password
            )
            .await
            .0,
            401
        );
    }
}

#[tokio::test]
async fn a_lock_ends_after_its_time_and_the_count_starts_again() {
    for backend in backends() {
        let app = app_with_cap(&backend, 5).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        for i in 0..5 {
            let ip = format!("203.0.113.{}", 40 + i);
            sign_in_from(&app, &app.new_browser(), &ip, &maria, WRONG).await;
        }
        let from_new = |n: u8| format!("198.51.100.{n}");
        assert_eq!(
            sign_in_from(
                &app,
                &app.new_browser(),
                &from_new(1),
                &maria,
                &maria.password
            )
            .await
            .0,
            401,
            "{}: locked",
            app.backend
        );
        app.clock.advance(Duration::minutes(31));
        // One wrong password after the lock ended is one, not the sixth: no new lock (before,
        // one wrong password every half hour kept an account locked for ever).
        assert_eq!(
            sign_in_from(&app, &app.new_browser(), &from_new(2), &maria, WRONG)
                .await
                .0,
            401
        );
        assert_eq!(
            sign_in_from(
                &app,
                &app.new_browser(),
                &from_new(3),
                &maria,
                &maria.password
            )
            .await
            .0,
            303
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_sent_at_the_same_moment_each_count() {
    for backend in backends() {
        let app = app_with_cap(&backend, 100).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        // Five guesses in flight together: each read the count before any wrote it.
        let guesses = (0..5).map(|_| {
            let client = app.new_browser();
            let app = &app;
            let maria = &maria;
            async move {
                sign_in_from(app, &client, "203.0.113.7", maria, WRONG)
                    .await
                    .0
            }
        });
        for status in futures::future::join_all(guesses).await {
            assert_eq!(status, 401, "{}", app.backend);
        }
        assert_eq!(
            sign_in_from(
                &app,
                &app.new_browser(),
                "203.0.113.7",
                &maria,
                &maria.password
            )
            .await
            .0,
            401,
            "{}: all five counted, so the client backs off",
            app.backend
        );
    }
}

#[tokio::test]
async fn wrong_codes_are_limited_on_their_own_and_a_right_password_does_not_reset_them() {
    for backend in backends() {
        let app = app_with_cap(&backend, 100).await;
        let doctor = app.create_user(Role::Physician, "doctor@example.com").await;
        let secret = doctor.mfa_secret.clone().expect("secret");
        let device = app.new_browser();
        let code = |app: &TestApp, client: &reqwest::Client, code: String| {
            let request = client
                .post(format!("{}/signin/mfa", app.address))
                .header("x-forwarded-for", "192.0.2.10")
                .form(&[("code", code)]);
            async move {
                let response = request.send().await.expect("POST /signin/mfa");
                (response.status().as_u16(), location(&response))
            }
        };
        sign_in_from(&app, &device, "192.0.2.10", &doctor, &doctor.password).await;
        for _ in 0..4 {
            assert_eq!(
                code(&app, &device, "000000".into()).await.0,
                401,
                "{}",
                app.backend
            );
        }
        // The fifth wrong code ends this sign-in: the password is asked again.
        assert_eq!(
            code(&app, &device, "000000".into()).await,
            (303, Some("/signin?again=codes".into()))
        );
        assert_eq!(
            app.visit(&device, "/dashboard").await,
            (303, Some("/signin?next=/dashboard".into()))
        );
        // The right password does not start the count again: five more and codes are locked.
        sign_in_from(&app, &device, "192.0.2.10", &doctor, &doctor.password).await;
        for _ in 0..4 {
            assert_eq!(code(&app, &device, "000000".into()).await.0, 401);
        }
        assert_eq!(code(&app, &device, "000000".into()).await.0, 303);
        // Locked: even the right code is refused, with the answer a wrong one gets now.
        sign_in_from(&app, &device, "192.0.2.10", &doctor, &doctor.password).await;
        app.clock.advance(Duration::seconds(30));
        assert_eq!(
            code(&app, &device, app.code_now(&secret)).await,
            (303, Some("/signin?again=codes".into()))
        );
        // After the lock the count starts again and the right code works.
        app.clock.advance(Duration::minutes(31));
        sign_in_from(&app, &device, "192.0.2.10", &doctor, &doctor.password).await;
        assert_eq!(
            code(&app, &device, app.code_now(&secret)).await,
            (303, Some("/dashboard".into()))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_sign_ins_past_the_hashing_queue_is_answered_503_with_retry_after() {
    let app = spawn_app_with(&crate::helpers::Backend::Sqlite, |s| {
        s.sign_in.attempts_per_minute = 10_000;
        s.sign_in.lockout_after = 10_000;
        s.sign_in.hashing_threads = Some(1);
        s.sign_in.hashing_queue = Some(2);
    })
    .await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    let attempts = (0..24).map(|i| {
        let client = app.new_browser();
        let address = app.address.clone();
        let email = maria.email.clone();
        let password = if i % 2 == 0 {
            maria.password.clone()
        } else {
            WRONG.to_owned()
        };
        async move {
            let response = client
                .post(format!("{address}/signin"))
                .form(&[("email", email), ("password", password)])
                .send()
                .await
                .expect("every sign-in is answered");
            (
                response.status().as_u16(),
                response.headers().contains_key("retry-after"),
            )
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 503)
        .collect();
    assert!(!busy.is_empty(), "some were refused at once: {answers:?}");
    assert!(
        busy.iter().all(|(_, retry)| *retry),
        "503 says when to retry"
    );
    assert!(
        answers
            .iter()
            .all(|(status, _)| matches!(status, 303 | 401 | 503)),
        "{answers:?}"
    );
    // When the storm has passed, sign-in works.
    assert_eq!(app.sign_in(&app.new_browser(), &maria).await.status(), 303);
}

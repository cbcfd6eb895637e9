//! Searching one's own messages: subjects and words, any case; only what the caller may read;
//! audited once plus once per patient shown; no words stored in the clear to search by.

use super::start;
use crate::helpers::{backends, spawn_app, TestApp};
use app::auth::Role;
use app::messages::model::SearchHit;

async fn search(app: &TestApp, who: &reqwest::Client, q: &str) -> (u16, Vec<SearchHit>) {
    let (status, hits) = app
        .call::<Vec<SearchHit>>(who, "/api/messages/search", &[("q", q)])
        .await;
    (status, hits.unwrap_or_default())
}

#[tokio::test]
async fn each_person_finds_their_own_messages_by_any_word_and_nobody_elses() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let hers = app.signed_in(&maria).await;
        let his = app.signed_in(&james).await;
        let doctors = app.signed_in(&physician).await;
        let refill = start(
            &app,
            &hers,
            "Refill",
            "Could I get more Lisinopril, please?",
        )
        .await;
        start(&app, &hers, "Knee", "My knee hurts after running.").await;
        start(
            &app,
            &his,
            "Lisinopril side effects",
            "A dry cough since I started.",
        )
        .await;

        // Maria: her own, any case, by words.
        let (status, hits) = search(&app, &hers, "lisinopril").await;
        assert_eq!(status, 200, "{}", app.backend);
        assert_eq!(hits.len(), 1, "{}: {hits:?}", app.backend);
        assert_eq!(hits[0].conversation, refill);
        assert!(hits[0].excerpt.contains("Lisinopril"));
        assert_eq!(hits[0].from, "You");
        // James: his, found by its subject.
        let (_, his_hits) = search(&app, &his, "LISINOPRIL").await;
        assert_eq!(his_hits.len(), 1);
        assert_eq!(his_hits[0].subject, "Lisinopril side effects");

        // The physician: both; one audit entry for the search, one per patient shown.
        let before = app.audit_count().await;
        let (_, all) = search(&app, &doctors, "lisinopril").await;
        assert_eq!(all.len(), 2, "{}", app.backend);
        assert_eq!(app.audit_count().await - before, 3, "{}", app.backend);
        let mut with: Vec<&str> = all.iter().map(|h| h.with.as_str()).collect();
        with.sort();
        assert_eq!(with, vec!["James Okafor", "Maria Lopez"]);

        // Staff without a grant find nothing; the administrator may not search.
        let staff = app.create_user(Role::Staff, "desk@example.com").await;
        let desk = app.signed_in(&staff).await;
        assert_eq!(search(&app, &desk, "lisinopril").await, (200, Vec::new()));
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let admins = app.signed_in(&admin).await;
        assert_eq!(search(&app, &admins, "lisinopril").await.0, 403);
        // Too short: what to fix.
        assert_eq!(search(&app, &hers, " a ").await.0, 422);
        // Nothing found.
        assert_eq!(search(&app, &hers, "zebra").await, (200, Vec::new()));
    }
}

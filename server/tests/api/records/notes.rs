//! Visit notes (issue 14 §2): a draft saves exactly as typed and a stale window never writes
//! over it; signing checks the note, files it, completes the visit and tells the patient without
//! health details; a signed note never changes (addenda correct it); the patient reads their
//! signed notes and nobody else's; nobody but the practice sees a draft; every read and write is
//! one audit entry.

use crate::appointments::notices::book_ahead;
use crate::helpers::{backends, spawn_app, TestApp};
use app::auth::Role;
use app::records::notes::entity::{visit_note, visit_note_addendum};
use app::records::notes::model::{FiledNote, NoteBody, NotePage, NoteSaved, NoteStatus};
use app::records::notes::refusal::NoteRefusal;
use app::{AppError, Refusal};
use chrono::Duration;
use sea_orm::{EntityTrait, PaginatorTrait};

const SAVE: &str = "/api/records/notes/save";

/// A note ready to sign, with a prescription and a follow-up, and the signature asked for.
const SIGNED: &[(&str, &str)] = &[
    (
        "note[subjective]",
        "Headaches for a week, worse in the afternoon",
    ),
    ("note[assessment]", "Tension-type headache"),
    ("note[plan]", "Ibuprofen as needed; sleep diary"),
    ("note[prescriptions][0][drug]", "Ibuprofen"),
    ("note[prescriptions][0][strength]", "400 mg tablet"),
    (
        "note[prescriptions][0][directions]",
        "One tablet every 8 hours with food",
    ),
    ("note[prescriptions][0][quantity]", "30"),
    ("note[prescriptions][0][refills]", "1"),
    ("note[follow_up_weeks]", "6"),
    ("sign", "1"),
];

async fn save(
    app: &TestApp,
    browser: &reqwest::Client,
    visit: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> (u16, Result<NoteSaved, AppError>) {
    let mut form = vec![("visit", visit), ("version", version)];
    form.extend_from_slice(fields);
    app.call::<NoteSaved>(browser, SAVE, &form).await
}

async fn add_addendum(
    app: &TestApp,
    browser: &reqwest::Client,
    visit: &str,
    text: &str,
) -> (u16, Result<(), AppError>) {
    app.call::<()>(
        browser,
        "/api/records/notes/addendum",
        &[("visit", visit), ("addendum", text)],
    )
    .await
}

fn refused(refusal: NoteRefusal) -> Result<NoteSaved, AppError> {
    Err(AppError::Refused(Refusal::Note(refusal)))
}

#[tokio::test]
async fn a_draft_saves_as_typed_and_a_window_behind_never_writes_over_it() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let desk = app.create_user(Role::Staff, "desk@example.com").await;
        let visit = book_ahead(&app, &maria, 3).await;
        let physician = app.signed_in(&doctor).await;

        // A first save, with a prescription half typed: kept as typed, sealed, audited once.
        let before = app.audit_count().await;
        let (status, saved) = save(
            &app,
            &physician,
            &visit.public_id,
            "",
            &[
                ("note[subjective]", "Throbbing headaches behind the eyes"),
                ("note[prescriptions][0][drug]", "Sumatrip"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{}: {saved:?}", app.backend);
        let saved = saved.expect("saved");
        assert_eq!((saved.version, saved.signed), (1, false));
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per save"
        );
        let rows = visit_note::Entity::find().all(&app.db).await.expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, NoteStatus::Draft);
        let stored: sea_orm::Value = rows[0].content.clone().into();
        let sea_orm::Value::Bytes(Some(bytes)) = stored else {
            panic!("sealed bytes")
        };
        assert!(
            !bytes.windows(8).any(|w| w == b"Throbbin"),
            "sealed at rest"
        );

        // Another window that never saw that save (no version): refused, nothing written.
        let (status, other) = save(
            &app,
            &physician,
            &visit.public_id,
            "",
            &[("note[subjective]", "Something else")],
        )
        .await;
        assert_eq!(
            (status, other),
            (409, refused(NoteRefusal::ChangedMeanwhile)),
            "{}",
            app.backend
        );
        // The next save from version 1 lands; a second one from version 1 is behind.
        let (_, next) = save(
            &app,
            &physician,
            &visit.public_id,
            "1",
            &[(
                "note[subjective]",
                "Throbbing headaches behind the eyes, worse at screens",
            )],
        )
        .await;
        assert_eq!(next.expect("saved").version, 2);
        let (status, behind) = save(&app, &physician, &visit.public_id, "1", &[]).await;
        assert_eq!(
            (status, behind),
            (409, refused(NoteRefusal::ChangedMeanwhile))
        );

        // The page shows the draft as it was last typed, with the patient's allergies.
        let (status, page) = app
            .call::<NotePage>(
                &physician,
                "/api/records/notes/page",
                &[("visit", &visit.public_id)],
            )
            .await;
        assert_eq!(status, 200);
        let page = page.expect("page");
        let note = page.note.expect("the draft");
        let NoteBody::Draft(draft) = note.body else {
            panic!("a draft")
        };
        assert_eq!(
            draft.subjective,
            "Throbbing headaches behind the eyes, worse at screens"
        );
        assert_eq!(note.version, 2);
        assert!(page.can_write);

        // Maria does not see a draft: not in her notes, not on the page.
        let mine = app.signed_in(&maria).await;
        let (status, notes) = app
            .call::<Vec<FiledNote>>(&mine, "/api/records/my-notes", &[])
            .await;
        assert_eq!((status, notes), (200, Ok(Vec::new())));
        let (_, page) = app
            .call::<NotePage>(
                &mine,
                "/api/records/notes/page",
                &[("visit", &visit.public_id)],
            )
            .await;
        assert_eq!(page.expect("her visit").note, None);
        // Nor may she, or the front desk, write one (a clinical act): refused and audited.
        for who in [&mine, &app.signed_in(&desk).await] {
            let before = app.audit_count().await;
            let (status, _) = save(&app, who, &visit.public_id, "2", &[("note[plan]", "x")]).await;
            assert_eq!(status, 403, "{}", app.backend);
            assert_eq!(app.audit_count().await, before + 1, "the denial is audited");
        }
        // Nothing of theirs was written.
        let (_, page) = app
            .call::<NotePage>(
                &physician,
                "/api/records/notes/page",
                &[("visit", &visit.public_id)],
            )
            .await;
        assert_eq!(page.expect("page").note.expect("draft").version, 2);
    }
}

#[tokio::test]
async fn signing_checks_the_note_files_it_completes_the_visit_and_only_the_patient_reads_it() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let visit = book_ahead(&app, &maria, 2).await;
        let later = book_ahead(&app, &maria, 9).await;
        app.clock.set(visit.starts_at + Duration::minutes(20));
        let physician = app.signed_in(&doctor).await;
        let id = visit.public_id.as_str();

        // Not ready to sign: the plan is missing and a prescription is half written. The draft
        // is kept (nothing typed is lost) and says what to fix, field by field.
        let (status, saved) = save(
            &app,
            &physician,
            id,
            "",
            &[
                ("note[assessment]", "Tension-type headache"),
                ("note[prescriptions][0][drug]", "Ibuprofen"),
                ("note[prescriptions][0][strength]", "400 mg tablet"),
                (
                    "note[prescriptions][0][directions]",
                    "One tablet every 8 hours with food",
                ),
                ("note[prescriptions][0][quantity]", "none"),
                ("sign", "1"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{}", app.backend);
        let saved = saved.expect("the draft is saved");
        assert!(!saved.signed);
        let Some(AppError::Validation(fix)) = &saved.not_signed else {
            panic!("fields to fix: {saved:?}")
        };
        assert!(fix.get("plan").is_some(), "{fix:?}");
        assert!(fix.get("prescriptions.0.quantity").is_some(), "{fix:?}");
        assert!(fix.get("assessment").is_none());

        // Complete: signed, immutable, the visit completed, the patient told (no details).
        let before = app.audit_count().await;
        let version = saved.version.to_string();
        let (status, signed) = save(&app, &physician, id, &version, SIGNED).await;
        assert_eq!(status, 200, "{}: {signed:?}", app.backend);
        let signed = signed.expect("signed");
        assert!(signed.signed && signed.not_signed.is_none(), "{signed:?}");
        assert_eq!(
            app.audit_count().await,
            before + 2,
            "the save and the signature"
        );
        let row = app::appointments::entity::appointment::Entity::find()
            .all(&app.db)
            .await
            .expect("visits")
            .into_iter()
            .find(|a| a.public_id == visit.public_id)
            .expect("the visit");
        assert_eq!(row.status, app::appointments::model::VisitStatus::Completed);
        app.jobs.settle().await;
        let told = app::notifications::entity::notification::Entity::find()
            .all(&app.db)
            .await
            .expect("notifications");
        assert!(!told.is_empty());
        let sealed = format!("{told:?}");
        assert!(!sealed.contains("headache") && !sealed.contains("Ibuprofen"));

        // Signed means signed: a save and a second signature are refused.
        let (status, again) = save(&app, &physician, id, &signed.version.to_string(), &[]).await;
        assert_eq!((status, again), (409, refused(NoteRefusal::Signed)));
        // Corrections are addenda, and only of a signed note.
        let (status, added) =
            add_addendum(&app, &physician, id, "Also advised to limit caffeine.").await;
        assert_eq!((status, added), (200, Ok(())), "{}", app.backend);
        let (status, _) = save(
            &app,
            &physician,
            &later.public_id,
            "",
            &[("note[plan]", "Pre-visit")],
        )
        .await;
        assert_eq!(status, 200);
        let (status, not_yet) = app
            .call::<()>(
                &physician,
                "/api/records/notes/addendum",
                &[("visit", later.public_id.as_str()), ("addendum", "x")],
            )
            .await;
        assert_eq!(
            (status, not_yet),
            (
                409,
                Err(AppError::Refused(Refusal::Note(NoteRefusal::NotSigned)))
            )
        );
        let (status, empty) = app
            .call::<()>(
                &physician,
                "/api/records/notes/addendum",
                &[("visit", id), ("addendum", "  ")],
            )
            .await;
        assert_eq!(status, 422, "{empty:?}");
        assert_eq!(
            visit_note_addendum::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            1
        );

        // Maria reads her signed note, its prescription, follow-up and addendum: one audited
        // read. The draft of her later visit is not there.
        let mine = app.signed_in(&maria).await;
        let before = app.audit_count().await;
        let (status, notes) = app
            .call::<Vec<FiledNote>>(&mine, "/api/records/my-notes", &[])
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per read"
        );
        let notes = notes.expect("notes");
        assert_eq!(notes.len(), 1, "only the signed note");
        let NoteBody::Signed(content) = &notes[0].note.body else {
            panic!("signed")
        };
        assert_eq!(content.plan, "Ibuprofen as needed; sleep diary");
        assert_eq!(content.prescriptions[0].quantity, 30);
        assert_eq!(content.prescriptions[0].refills, 1);
        assert_eq!(content.follow_up(), "In 6 weeks");
        assert_eq!(notes[0].note.addenda.len(), 1);
        assert!(notes[0].note.signed.is_some());

        // The physician's timeline has both, the draft too.
        let record = maria.patient_public_id.clone().expect("record");
        let (_, all) = app
            .call::<Vec<FiledNote>>(&physician, "/api/records/notes", &[("patient", &record)])
            .await;
        assert_eq!(all.expect("notes").len(), 2);

        // Nobody else: another patient, the administrator (no clinical access), signed out.
        for who in [&james, &admin] {
            let browser = app.signed_in(who).await;
            let before = app.audit_count().await;
            let (status, _) = app
                .call::<Vec<FiledNote>>(&browser, "/api/records/notes", &[("patient", &record)])
                .await;
            assert_eq!(status, 403, "{:?} on {}", who.role, app.backend);
            let (status, _) = app
                .call::<NotePage>(&browser, "/api/records/notes/page", &[("visit", id)])
                .await;
            assert_eq!(status, 403);
            assert_eq!(app.audit_count().await, before + 2, "each denial audited");
        }
        let (status, _) = app
            .call::<Vec<FiledNote>>(
                &app.new_browser(),
                "/api/records/notes",
                &[("patient", &record)],
            )
            .await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn a_cancelled_visit_has_no_note_and_a_plain_post_comes_back_saying_what_happened() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let visit = book_ahead(&app, &maria, 3).await;
        let physician = app.signed_in(&doctor).await;
        let page = format!("/dashboard/visits/{}/note", visit.public_id);

        // Without JavaScript: "Save draft" comes back to the note page, saved.
        let posted = app
            .post_page_form(
                &physician,
                SAVE,
                &[
                    ("visit", visit.public_id.as_str()),
                    ("version", ""),
                    ("note[subjective]", "Pre-visit: review the headache diary"),
                ],
            )
            .await;
        assert_eq!(
            crate::helpers::location(&posted),
            Some(format!("{page}?saved=1")),
            "{}",
            app.backend
        );
        let shown = app
            .get_with(&physician, &page)
            .await
            .text()
            .await
            .expect("page");
        assert!(
            shown.contains("Pre-visit: review the headache diary"),
            "{shown}"
        );
        assert!(shown.contains("Sign and complete the visit"));

        // Maria cancels: the visit has nothing to document any more.
        let me = app.acting_as(&maria).await;
        app::appointments::service::changes::cancel(&me, &visit.public_id, None)
            .await
            .expect("cancelled");
        let (status, answer) = save(&app, &physician, &visit.public_id, "1", &[]).await;
        assert_eq!(
            (status, answer),
            (409, refused(NoteRefusal::VisitCancelled)),
            "{}",
            app.backend
        );
        let unknown = app
            .post_page_form(&physician, SAVE, &[("visit", "nope"), ("version", "")])
            .await;
        assert_eq!(
            crate::helpers::location(&unknown),
            Some("/dashboard/visits/nope/note?error=1".to_owned())
        );
    }
}

#[tokio::test]
async fn a_signed_note_downloads_as_a_pdf_whose_text_reads_back_for_its_readers_only() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let desk = app.create_user(Role::Staff, "desk@example.com").await;
        let visit = book_ahead(&app, &maria, 2).await;
        app.clock.set(visit.starts_at + Duration::minutes(20));
        let physician = app.signed_in(&doctor).await;
        let id = visit.public_id.as_str();
        let for_patient = format!("/portal/notes/{id}.pdf");
        let for_practice = format!("/dashboard/visits/{id}/note.pdf");

        // A draft is not part of the record: nothing to download yet.
        let (status, _) = save(&app, &physician, id, "", &[("note[plan]", "Rest")]).await;
        assert_eq!(status, 200);
        assert_eq!(app.get_with(&physician, &for_practice).await.status(), 404);
        let (status, signed) = save(&app, &physician, id, "1", SIGNED).await;
        assert_eq!(status, 200);
        assert!(signed.expect("signed").signed);
        let (status, _) =
            add_addendum(&app, &physician, id, "Also advised to limit caffeine.").await;
        assert_eq!(status, 200);

        // Maria downloads it: a PDF attachment, one audited read, its text readable.
        let mine = app.signed_in(&maria).await;
        let before = app.audit_count().await;
        let response = app.get_with(&mine, &for_patient).await;
        assert_eq!(response.status(), 200, "{}", app.backend);
        assert_eq!(
            response.headers()["content-type"].to_str().expect("type"),
            "application/pdf"
        );
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .expect("disposition")
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"visit-note-"),
            "{disposition}"
        );
        assert_eq!(
            response.headers()["cache-control"].to_str().expect("cache"),
            "no-store"
        );
        let bytes = response.bytes().await.expect("bytes");
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per export"
        );
        let pdf = lopdf::Document::load_mem(&bytes).expect("a valid PDF");
        let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
        let text = pdf.extract_text(&pages).expect("text");
        for expected in [
            "Visit note",
            "Maria Lopez",
            "Headaches for a week, worse in the afternoon",
            "Tension-type headache",
            "Ibuprofen as needed; sleep diary",
            "Ibuprofen 400 mg tablet",
            "Quantity 30, 1 refill",
            "In 6 weeks",
            "Signed by",
            "Also advised to limit caffeine.",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        // The physician, from the dashboard.
        assert_eq!(app.get_with(&physician, &for_practice).await.status(), 200);

        // Nobody else: another patient, the front desk (no clinical access), signed out.
        for (who, path) in [(&james, &for_patient), (&desk, &for_practice)] {
            let browser = app.signed_in(who).await;
            let before = app.audit_count().await;
            let response = app.get_with(&browser, path).await;
            assert_eq!(response.status(), 403, "{:?} on {}", who.role, app.backend);
            assert_eq!(app.audit_count().await, before + 1, "the denial is audited");
        }
        let response = app.get_with(&app.new_browser(), &for_patient).await;
        assert!(
            response.status().is_redirection()
                && crate::helpers::location(&response).is_some_and(|to| to.starts_with("/signin")),
            "{}",
            response.status()
        );
    }
}

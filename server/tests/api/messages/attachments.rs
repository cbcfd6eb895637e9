//! A message with a file (issue 15 §2): the file is told by its bytes, streamed sealed into
//! the document store, filed in the patient's record and shown with its message; both sides
//! download it exactly as sent; sending it is one audited write; a wrong type, or a
//! conversation the sender may not write to, is refused and leaves no message, no row and no
//! object; without JavaScript the form comes back to the conversation.

use super::start;
use crate::helpers::{backends, location, spawn_app, TestApp};
use crate::records::documents::{download, form, lab_pdf, objects_of, png, post_form};
use app::auth::Role;
use app::messages::entity::{message, message_attachment};
use app::messages::model::ConversationView;
use app::records::documents::entity::document;
use app::records::documents::model::{DocumentKind, Documents};
use app::records::documents::refusal::DocumentRefusal;
use app::{AppError, Refusal};
use bedside::storage::Objects;
use sea_orm::{EntityTrait, PaginatorTrait};

const ATTACH: &str = app::messages::model::ATTACH_PATH;

/// Sends `form` as the hydrated page does: the status and the answer.
async fn send_file(
    app: &TestApp,
    who: &reqwest::Client,
    form: reqwest::multipart::Form,
) -> (u16, Result<i64, AppError>) {
    post_form(app, who, ATTACH, form).await
}

async fn open(app: &TestApp, who: &reqwest::Client, id: &str) -> ConversationView {
    let (status, view) = app
        .call::<ConversationView>(who, "/api/messages/open", &[("conversation", id)])
        .await;
    assert_eq!(status, 200, "{}", app.backend);
    view.expect("conversation")
}

/// Messages, documents, links and stored objects.
async fn stored(app: &TestApp, objects: &Objects) -> (u64, u64, u64, usize) {
    (
        message::Entity::find()
            .count(&app.db)
            .await
            .expect("messages"),
        document::Entity::find()
            .count(&app.db)
            .await
            .expect("documents"),
        message_attachment::Entity::find()
            .count(&app.db)
            .await
            .expect("links"),
        objects.list("documents").await.expect("list").len(),
    )
}

#[tokio::test]
async fn a_patient_sends_a_photo_and_both_sides_download_it_exactly_as_sent() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let objects = objects_of(&app);
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let hers = app.signed_in(&maria).await;
        let doctors = app.signed_in(&physician).await;
        let id = start(&app, &hers, "A rash", "It started on Sunday.").await;

        let photo = png();
        let before = app.audit_count().await;
        let (status, seq) = send_file(
            &app,
            &hers,
            form(
                &[("conversation", &id), ("body", "Here is a photo of it.")],
                "rash.png",
                photo.clone(),
            ),
        )
        .await;
        assert_eq!((status, seq.ok()), (200, Some(2)), "{}", app.backend);
        assert_eq!(app.audit_count().await - before, 1, "one audited write");

        // A file on its own, without words, is a message too.
        let (status, seq) = send_file(
            &app,
            &hers,
            form(
                &[("conversation", &id), ("body", "  ")],
                "results.pdf",
                lab_pdf(),
            ),
        )
        .await;
        assert_eq!((status, seq.ok()), (200, Some(3)), "{}", app.backend);

        let view = open(&app, &doctors, &id).await;
        let sent = &view.messages[1];
        assert_eq!(sent.body, "Here is a photo of it.");
        assert_eq!(sent.files.len(), 1);
        assert_eq!(sent.files[0].title, "rash");
        assert!(
            sent.files[0].about.starts_with("PNG image · "),
            "{:?}",
            sent.files[0]
        );
        let alone = &view.messages[2];
        assert_eq!(
            (alone.body.as_str(), alone.files[0].title.as_str()),
            ("", "results")
        );

        // Both sides download exactly what was sent; each download is one audited read.
        let file = &sent.files[0].public_id;
        let before = app.audit_count().await;
        let (status, bytes, _) =
            download(&app, &doctors, &format!("/dashboard/documents/{file}")).await;
        assert_eq!((status, bytes == photo), (200, true), "{}", app.backend);
        let (status, bytes, _) = download(&app, &hers, &format!("/portal/documents/{file}")).await;
        assert_eq!((status, bytes == photo), (200, true), "{}", app.backend);
        assert_eq!(app.audit_count().await - before, 2);

        // Filed in her record as a photo, sealed at rest.
        let patient = maria.patient_public_id.clone().expect("record");
        let (_, documents) = app
            .call::<Documents>(&doctors, "/api/records/documents", &[("patient", &patient)])
            .await;
        let documents = documents.expect("documents").documents;
        let filed = documents
            .iter()
            .find(|d| &d.public_id == file)
            .expect("in her record");
        assert_eq!(filed.kind, DocumentKind::Photo);
        let (_, _, links, files) = stored(&app, &objects).await;
        assert_eq!((links, files), (2, 2));
        // The results PDF is sealed in the store: its words are not there.
        let pdf = &alone.files[0].public_id;
        let sealed = objects
            .sealed_bytes(&format!("documents/{pdf}"))
            .await
            .expect("object");
        assert!(!sealed.windows(10).any(|w| w == b"LAB REPORT"), "sealed");
    }
}

#[tokio::test]
async fn a_refused_file_leaves_no_message_no_row_and_no_object() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let objects = objects_of(&app);
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app.create_patient("james@example.com", "James Chen").await;
        let hers = app.signed_in(&maria).await;
        let his = app.signed_in(&james).await;
        let id = start(&app, &hers, "A rash", "It started on Sunday.").await;
        let before = stored(&app, &objects).await;

        // Not a PDF, JPEG or PNG, whatever its name says: refused, her words kept on the page.
        let (status, answer) = send_file(
            &app,
            &hers,
            form(
                &[("conversation", &id), ("body", "See this")],
                "scan.pdf",
                b"GIF89a....".to_vec(),
            ),
        )
        .await;
        assert_eq!(status, 415, "{}", app.backend);
        assert_eq!(
            answer.err(),
            Some(AppError::Refused(Refusal::Document(
                DocumentRefusal::WrongType
            )))
        );
        assert_eq!(stored(&app, &objects).await, before, "{}", app.backend);

        // James may not write in Maria's conversation: refused and audited, nothing stored.
        let audited = app.audit_count().await;
        let (status, _) = send_file(
            &app,
            &his,
            form(&[("conversation", &id), ("body", "Hello")], "me.png", png()),
        )
        .await;
        assert_eq!(status, 403, "{}", app.backend);
        assert_eq!(
            app.audit_count().await - audited,
            1,
            "the refusal is audited"
        );
        assert_eq!(stored(&app, &objects).await, before, "{}", app.backend);

        // Only a multipart form is read; a declared body over 26 MB is not read at all.
        let response = hers
            .post(format!("{}{ATTACH}", app.address))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("conversation", id.as_str()), ("body", "Hi")])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), 415, "{}", app.backend);
        let response = hers
            .post(format!("{}{ATTACH}", app.address))
            .header(
                reqwest::header::CONTENT_TYPE,
                "multipart/form-data; boundary=x",
            )
            .header(reqwest::header::CONTENT_LENGTH, "40000000")
            .body(vec![0u8; 16])
            .send()
            .await;
        if let Ok(response) = response {
            assert_eq!(response.status().as_u16(), 413, "{}", app.backend);
        }
        assert_eq!(stored(&app, &objects).await, before, "{}", app.backend);

        // No words and no file: what to fix.
        let empty = reqwest::multipart::Form::new()
            .text("conversation", id.clone())
            .text("body", "")
            .part(
                "file",
                reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
            );
        let (status, answer) = send_file(&app, &hers, empty).await;
        assert_eq!(status, 422, "{}", app.backend);
        match answer {
            Err(AppError::Validation(errors)) => assert!(errors.get("body").is_some()),
            other => panic!("{other:?}"),
        }
        // Words and an empty file input: a message without a file.
        let words = reqwest::multipart::Form::new()
            .text("conversation", id.clone())
            .text("body", "Never mind, it is gone.")
            .part(
                "file",
                reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
            );
        let (status, seq) = send_file(&app, &hers, words).await;
        assert_eq!((status, seq.ok()), (200, Some(2)), "{}", app.backend);
        let (messages, documents, links, files) = stored(&app, &objects).await;
        assert_eq!(
            (messages, documents, links, files),
            (before.0 + 1, before.1, 0, 0)
        );
    }
}

#[tokio::test]
async fn without_javascript_the_form_comes_back_to_the_conversation() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let hers = app.signed_in(&maria).await;
        let id = start(&app, &hers, "A rash", "It started on Sunday.").await;
        let plain = |form| {
            hers.post(format!("{}{ATTACH}", app.address))
                .header(reqwest::header::ACCEPT, "text/html")
                .multipart(form)
                .send()
        };
        let response = plain(form(
            &[("conversation", &id), ("body", "Photo")],
            "rash.png",
            png(),
        ))
        .await
        .expect("POST");
        assert_eq!(response.status().as_u16(), 303, "{}", app.backend);
        let page = format!("/portal/messages/{id}");
        assert_eq!(location(&response), Some(format!("{page}#latest")));
        let response = plain(form(
            &[("conversation", &id), ("body", "x")],
            "a.png",
            b"nope".to_vec(),
        ))
        .await
        .expect("POST");
        assert_eq!(
            location(&response),
            Some(format!("{page}?refused=document.wrong_type#reply"))
        );
    }
}

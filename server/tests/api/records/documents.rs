//! Documents (issue 14 §3): a patient or the physician adds a PDF, JPEG or PNG (told from its
//! bytes), streamed sealed into object storage; it downloads exactly as sent, to whoever may read
//! the chart, each list and download one audit entry; a wrong type, an empty or oversized file,
//! or a cut-off upload is refused and leaves no row and no object; files attached to a draft note
//! reach the patient once the note is signed; the sweeper removes objects whose row never landed.

use crate::appointments::notices::book_ahead;
use crate::helpers::{backends, location, spawn_app, TestApp};
use app::auth::Role;
use app::records::documents::entity::document;
use app::records::documents::model::{DocumentKind, DocumentSummary, Documents, MAX_BYTES};
use app::records::documents::refusal::DocumentRefusal;
use app::{AppError, Refusal};
use bedside::storage::{Objects, StorageSettings};
use chrono::Duration;
use sea_orm::{EntityTrait, PaginatorTrait};

const UPLOAD: &str = "/api/records/documents/upload";

/// A small but real-looking PDF, with a marker to look for in what is stored.
pub(crate) fn lab_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n% LAB REPORT: HbA1c 7.4 percent\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 200_000));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

pub(crate) fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(std::iter::repeat_n(7u8, 5_000));
    png
}

/// The form the page sends: its fields, then the file.
pub(crate) fn form(
    fields: &[(&str, &str)],
    file_name: &str,
    bytes: Vec<u8>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_owned())
        .mime_str("application/pdf")
        .expect("mime");
    form.part("file", part)
}

/// Sends `form` as the hydrated page does; the status and the answer.
pub(super) async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    form: reqwest::multipart::Form,
) -> (u16, Result<String, AppError>) {
    post_form(app, client, UPLOAD, form).await
}

/// Posts multipart `form` to server function `path` as a hydrated page does: the status and
/// the answer.
pub(crate) async fn post_form<T: serde::de::DeserializeOwned>(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: reqwest::multipart::Form,
) -> (u16, Result<T, AppError>) {
    let response = client
        .post(format!("{}{path}", app.address))
        .header(reqwest::header::ACCEPT, "application/json")
        .multipart(form)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    let answer = if status == 200 {
        Ok(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
    } else {
        Err(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{status} {e}: {body}")))
    };
    (status, answer)
}

pub(crate) fn objects_of(app: &TestApp) -> Objects {
    Objects::from_settings(&StorageSettings::default(), app.data_dir()).expect("local store")
}

/// What is stored: rows and documents' objects.
async fn stored(app: &TestApp, objects: &Objects) -> (u64, usize) {
    let rows = document::Entity::find().count(&app.db).await.expect("rows");
    let files = objects.list("documents").await.expect("list").len();
    (rows, files)
}

pub(crate) async fn download(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
) -> (u16, Vec<u8>, String) {
    let response = app.get_with(client, path).await;
    let status = response.status().as_u16();
    let disposition = response
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.expect("body").to_vec();
    (status, bytes, disposition)
}

async fn documents_of(
    app: &TestApp,
    client: &reqwest::Client,
    patient: &str,
) -> (u16, Result<Documents, AppError>) {
    app.call::<Documents>(client, "/api/records/documents", &[("patient", patient)])
        .await
}

/// A practice with Maria, signed in, and the store her files go to.
pub(super) struct Maria {
    pub(super) app: TestApp,
    pub(super) objects: Objects,
    /// Her record's public id.
    pub(super) patient: String,
    /// Her browser.
    pub(super) mine: reqwest::Client,
}

pub(super) async fn with_maria(app: TestApp) -> Maria {
    let objects = objects_of(&app);
    let user = app.create_patient("maria@example.com", "Maria Lopez").await;
    let patient = user.patient_public_id.clone().expect("a patient");
    let mine = app.signed_in(&user).await;
    Maria {
        app,
        objects,
        patient,
        mine,
    }
}

fn refused(refusal: DocumentRefusal) -> Result<String, AppError> {
    Err(AppError::Refused(Refusal::Document(refusal)))
}

#[tokio::test]
async fn a_patient_adds_a_lab_pdf_and_the_physician_downloads_it_exactly_sealed_and_audited() {
    for backend in backends() {
        let Maria {
            app,
            objects,
            patient,
            mine,
            ..
        } = with_maria(spawn_app(&backend).await).await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let desk = app.create_user(Role::Staff, "desk@example.com").await;

        let before = app.audit_count().await;
        let fields = [
            ("patient", patient.as_str()),
            ("kind", "lab_result"),
            ("date", "2026-06-02"),
            ("title", ""),
        ];
        let (status, id) = upload(&app, &mine, form(&fields, "CBC results.pdf", lab_pdf())).await;
        assert_eq!(status, 200, "{}: {id:?}", app.backend);
        let id = id.expect("added");
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per upload"
        );
        assert_eq!(stored(&app, &objects).await, (1, 1));
        let sealed = objects
            .sealed_bytes(&format!("documents/{id}"))
            .await
            .expect("object");
        assert!(
            !sealed.windows(10).any(|w| w == b"LAB REPORT"),
            "the object is sealed"
        );
        let row = document::Entity::find()
            .one(&app.db)
            .await
            .expect("row")
            .expect("one");
        let label: sea_orm::Value = row.label.clone().into();
        let sea_orm::Value::Bytes(Some(label)) = label else {
            panic!("sealed label")
        };
        assert!(
            !label.windows(3).any(|w| w == b"CBC"),
            "the title is sealed"
        );

        // The physician lists it (one audit entry) and downloads it exactly (one more).
        let physician = app.signed_in(&doctor).await;
        let before = app.audit_count().await;
        let (status, listed) = documents_of(&app, &physician, &patient).await;
        assert_eq!(status, 200, "{}", app.backend);
        let listed = listed.expect("documents");
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per list"
        );
        let only: &DocumentSummary = &listed.documents[0];
        assert_eq!(only.title, "CBC results");
        assert_eq!(only.kind, DocumentKind::LabResult);
        assert_eq!(only.date.to_string(), "2026-06-02");
        assert_eq!(only.uploaded_by, "Test Patient", "her account's name");
        assert_eq!(only.size, lab_pdf().len() as u64);
        let before = app.audit_count().await;
        let (status, bytes, disposition) =
            download(&app, &physician, &format!("/dashboard/documents/{id}")).await;
        assert_eq!(status, 200, "{}", app.backend);
        assert!(bytes == lab_pdf(), "the file reads back exactly");
        assert_eq!(disposition, "attachment; filename=\"CBC results.pdf\"");
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per download"
        );

        // A browser asks for it compressed: it still arrives whole (the compressed body is
        // read to its end, and polled once more after it).
        let response = physician
            .get(format!("{}/dashboard/documents/{id}", app.address))
            .header(reqwest::header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 200);
        let compressed = response.bytes().await.expect("the whole body");
        assert!(!compressed.is_empty() && compressed.len() < lab_pdf().len());

        // Maria downloads her own from the portal.
        let (status, bytes, _) = download(&app, &mine, &format!("/portal/documents/{id}")).await;
        assert_eq!((status, bytes == lab_pdf()), (200, true), "{}", app.backend);

        // Another patient, and the front desk, get nothing, and each attempt is recorded.
        for (who, path) in [
            (&james, format!("/portal/documents/{id}")),
            (&desk, format!("/dashboard/documents/{id}")),
        ] {
            let client = app.signed_in(who).await;
            let denials = app
                .audit_rows()
                .await
                .iter()
                .filter(|r| r.outcome == "denied")
                .count();
            let (status, bytes, _) = download(&app, &client, &path).await;
            assert_eq!(status, 403, "{}: {path}", app.backend);
            assert!(!bytes.windows(10).any(|w| w == b"LAB REPORT"));
            let (status, _) = documents_of(&app, &client, &patient).await;
            assert_eq!(status, 403, "{}", app.backend);
            let after = app
                .audit_rows()
                .await
                .iter()
                .filter(|r| r.outcome == "denied")
                .count();
            assert_eq!(
                after,
                denials + 2,
                "{}: both refusals recorded",
                app.backend
            );
        }
        // James cannot add to Maria's record either.
        let theirs = app.signed_in(&james).await;
        let (status, answer) = upload(&app, &theirs, form(&fields, "x.pdf", lab_pdf())).await;
        assert_eq!((status, answer), (403, Err(AppError::Forbidden)));
        assert_eq!(stored(&app, &objects).await, (1, 1), "nothing more stored");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_wrong_type_an_empty_file_or_a_bad_date_is_refused_and_leaves_nothing() {
    for backend in backends() {
        let Maria {
            app,
            objects,
            patient,
            mine,
            ..
        } = with_maria(spawn_app(&backend).await).await;
        let fields = [
            ("patient", patient.as_str()),
            ("kind", "photo"),
            ("date", ""),
        ];

        // A web page named like a PDF, sent as one: refused from its bytes.
        let page = b"<html><script>alert(1)</script></html>".to_vec();
        let (status, answer) = upload(&app, &mine, form(&fields, "results.pdf", page)).await;
        assert_eq!(
            (status, answer),
            (415, refused(DocumentRefusal::WrongType)),
            "{}",
            app.backend
        );
        // An empty file (a form sent with no file chosen).
        let (status, answer) = upload(&app, &mine, form(&fields, "", Vec::new())).await;
        assert_eq!((status, answer), (422, refused(DocumentRefusal::NoFile)));
        // A date in the future: the field to fix.
        let later = [
            ("patient", patient.as_str()),
            ("kind", "letter"),
            ("date", "2099-01-01"),
        ];
        let (status, answer) = upload(&app, &mine, form(&later, "a.png", png())).await;
        assert_eq!(status, 422, "{}", app.backend);
        let Err(AppError::Validation(errors)) = answer else {
            panic!("a field to fix: {answer:?}")
        };
        assert!(errors.get("date").is_some());
        assert_eq!(stored(&app, &objects).await, (0, 0), "{}", app.backend);

        // A PNG named ".pdf" is a PNG, and downloads as one.
        let (status, id) = upload(&app, &mine, form(&fields, "scan.pdf", png())).await;
        assert_eq!(status, 200, "{}: {id:?}", app.backend);
        let response = app
            .get_with(&mine, &format!("/portal/documents/{}", id.expect("id")))
            .await;
        assert_eq!(
            response.headers()[reqwest::header::CONTENT_TYPE],
            "image/png"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn an_upload_over_25_mb_or_cut_off_leaves_no_row_and_no_object() {
    for backend in backends() {
        let Maria {
            app,
            objects,
            patient,
            mine,
            ..
        } = with_maria(spawn_app(&backend).await).await;
        let fields = [
            ("patient", patient.as_str()),
            ("kind", "imaging"),
            ("date", ""),
        ];

        // One byte over: read until it passes the limit, then refused.
        let mut big = png();
        big.resize(usize::try_from(MAX_BYTES).expect("size") + 1, 0);
        let (status, answer) = upload(&app, &mine, form(&fields, "mri.png", big)).await;
        assert_eq!(
            (status, answer),
            (413, refused(DocumentRefusal::TooLarge)),
            "{}",
            app.backend
        );
        assert_eq!(stored(&app, &objects).await, (0, 0), "{}", app.backend);

        // Exactly 25 MB goes in.
        let mut largest = png();
        largest.resize(usize::try_from(MAX_BYTES).expect("size"), 0);
        let (status, _) = upload(&app, &mine, form(&fields, "mri.png", largest)).await;
        assert_eq!(status, 200, "{}", app.backend);
        assert_eq!(stored(&app, &objects).await, (1, 1));

        // A connection that breaks in the middle of the file.
        let mut pieces: Vec<Result<Vec<u8>, std::io::Error>> =
            (0..20).map(|_| Ok(vec![0u8; 100_000])).collect();
        pieces.insert(0, Ok(png()));
        pieces.push(Err(std::io::Error::other("the network went away")));
        let body = reqwest::Body::wrap_stream(futures::stream::iter(pieces));
        let part = reqwest::multipart::Part::stream(body).file_name("cut.png");
        let mut cut = reqwest::multipart::Form::new();
        for (name, value) in fields {
            cut = cut.text(name.to_owned(), value.to_owned());
        }
        let sent = mine
            .post(format!("{}{UPLOAD}", app.address))
            .header(reqwest::header::ACCEPT, "application/json")
            .multipart(cut.part("file", part))
            .send()
            .await;
        assert!(sent.is_err() || !sent.expect("answer").status().is_success());
        // The server notices the cut when it reads; give it a moment to clean up.
        let mut left = stored(&app, &objects).await;
        for _ in 0..50 {
            if left == (1, 1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            left = stored(&app, &objects).await;
        }
        assert_eq!(left, (1, 1), "{}: nothing of the cut upload", app.backend);

        // A declared length over the limit is refused before a byte is read.
        let response = mine
            .post(format!("{}{UPLOAD}", app.address))
            .header(
                reqwest::header::CONTENT_TYPE,
                "multipart/form-data; boundary=x",
            )
            .header(reqwest::header::CONTENT_LENGTH, (MAX_BYTES * 2).to_string())
            .body(Vec::new())
            .send()
            .await;
        if let Ok(response) = response {
            assert_eq!(response.status().as_u16(), 413);
        }
        // Not a multipart form at all.
        let response = app.post_with(&mine, UPLOAD, &[("patient", &patient)]).await;
        assert_eq!(response.status().as_u16(), 415);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_plain_post_without_javascript_comes_back_to_the_record_saying_what_happened() {
    for backend in backends() {
        let Maria {
            app, patient, mine, ..
        } = with_maria(spawn_app(&backend).await).await;
        let fields = [
            ("patient", patient.as_str()),
            ("kind", "letter"),
            ("date", ""),
        ];
        let plain = |form| {
            mine.post(format!("{}{UPLOAD}", app.address))
                .header(reqwest::header::ACCEPT, "text/html")
                .multipart(form)
                .send()
        };
        let response = plain(form(&fields, "letter.pdf", lab_pdf()))
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), 303, "{}", app.backend);
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?uploaded=1#documents")
        );
        let response = plain(form(&fields, "letter.pdf", b"GIF89a".to_vec()))
            .await
            .expect("POST");
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?document_refused=wrong_type#documents")
        );
        let bad = [
            ("patient", patient.as_str()),
            ("kind", "nonsense"),
            ("date", ""),
        ];
        let response = plain(form(&bad, "letter.pdf", lab_pdf()))
            .await
            .expect("POST");
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal?document_error=kind#documents")
        );
        // The page it comes back to lists the letter.
        let page = app
            .get_with(&mine, "/portal?uploaded=1")
            .await
            .text()
            .await
            .expect("the health record");
        assert!(
            page.contains("The file is added, encrypted."),
            "{}",
            app.backend
        );
        assert!(page.contains(">letter</a>"), "{}", app.backend);
        app.stop().await;
    }
}

#[tokio::test]
async fn files_attached_to_a_draft_note_reach_the_patient_once_it_is_signed() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let patient = maria.patient_public_id.clone().expect("a patient");
        let visit = book_ahead(&app, &maria, 2).await;
        app.clock.set(visit.starts_at + Duration::minutes(20));
        let physician = app.signed_in(&doctor).await;
        let mine = app.signed_in(&maria).await;
        let attach = [
            ("visit", visit.public_id.as_str()),
            ("kind", "imaging"),
            ("date", ""),
        ];
        let (status, id) = upload(&app, &physician, form(&attach, "ecg.png", png())).await;
        assert_eq!(status, 200, "{}: {id:?}", app.backend);
        let id = id.expect("attached");
        // The patient cannot attach to a visit note.
        let (status, _) = upload(&app, &mine, form(&attach, "mine.png", png())).await;
        assert_eq!(status, 403, "{}", app.backend);

        // While the note is a draft the patient does not see it.
        let (_, listed) = documents_of(&app, &mine, &patient).await;
        assert!(
            listed.expect("documents").documents.is_empty(),
            "{}",
            app.backend
        );
        let (status, _, _) = download(&app, &mine, &format!("/portal/documents/{id}")).await;
        assert_eq!(status, 403, "{}", app.backend);
        let (_, page) = app
            .call::<app::records::notes::model::NotePage>(
                &physician,
                "/api/records/notes/page",
                &[("visit", &visit.public_id)],
            )
            .await;
        assert_eq!(page.expect("page").attachments[0].public_id, id);

        // Signed: the note and its attachment are in her record; nothing more can be attached.
        let (status, saved) = app
            .call::<app::records::notes::model::NoteSaved>(
                &physician,
                "/api/records/notes/save",
                &[
                    ("visit", &visit.public_id),
                    ("version", ""),
                    ("note[subjective]", "Palpitations at night"),
                    ("note[assessment]", "Normal ECG"),
                    ("note[plan]", "No change; keep a diary"),
                    ("note[follow_up_weeks]", "6"),
                    ("sign", "1"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{}: {saved:?}", app.backend);
        let saved = saved.expect("saved");
        assert!(saved.signed, "{saved:?}");
        let (_, listed) = documents_of(&app, &mine, &patient).await;
        let listed = listed.expect("documents").documents;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].visit.as_deref(), Some(visit.public_id.as_str()));
        let (status, bytes, _) = download(&app, &mine, &format!("/portal/documents/{id}")).await;
        assert_eq!((status, bytes == png()), (200, true), "{}", app.backend);
        let (status, answer) = upload(&app, &physician, form(&attach, "late.png", png())).await;
        assert_eq!(
            (status, answer),
            (409, refused(DocumentRefusal::NoteSigned))
        );
        app.stop().await;
    }
}

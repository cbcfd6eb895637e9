//! The exported record (issue 14 §4): the whole record, or the parts chosen, as one PDF whose
//! text reads back (chart entries, the signed note's fields, the documents' titles); the original
//! files as a zip that reads back byte for byte; each export one audit entry; drafts and a
//! draft's attachments never go to the patient; nobody else gets either.

use crate::appointments::notices::book_ahead;
use crate::helpers::{backends, spawn_app, TestApp, TestUser};
use app::auth::Role;
use chrono::Duration;

const UPLOAD: &str = "/api/records/documents/upload";

async fn add_file(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
    name: &str,
    bytes: Vec<u8>,
) -> String {
    let mut form = reqwest::multipart::Form::new();
    for (key, value) in fields {
        form = form.text(key.to_string(), value.to_string());
    }
    let form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let response = client
        .post(format!("{}{UPLOAD}", app.address))
        .header(reqwest::header::ACCEPT, "application/json")
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status().as_u16(), 200, "{}", app.backend);
    response.json().await.expect("its id")
}

fn pdf_text(bytes: &[u8]) -> String {
    let pdf = lopdf::Document::load_mem(bytes).expect("a valid PDF");
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    pdf.extract_text(&pages).expect("text")
}

pub(super) async fn get(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
) -> (u16, String, Vec<u8>) {
    let response = app.get_with(client, path).await;
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.bytes().await.expect("body").to_vec())
}

/// Maria's record: an allergy, a signed note (whose visit has started), a draft note with an
/// attachment, and a lab report she added.
pub(super) struct Record {
    pub(super) maria: TestUser,
    pub(super) doctor: TestUser,
    pub(super) patient: String,
    pub(super) physician: reqwest::Client,
    pub(super) mine: reqwest::Client,
    pub(super) report: Vec<u8>,
}

pub(super) async fn maria_with_a_record(app: &TestApp) -> Record {
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    let doctor = app.create_user(Role::Physician, "doc@example.com").await;
    let patient = maria.patient_public_id.clone().expect("a patient");
    let signed = book_ahead(app, &maria, 2).await;
    let draft = book_ahead(app, &maria, 3).await;
    app.clock.set(draft.starts_at + Duration::minutes(20));
    let physician = app.signed_in(&doctor).await;
    let mine = app.signed_in(&maria).await;
    let (status, _) = app
        .call::<()>(
            &mine,
            "/api/records/chart/save",
            &[
                ("patient", &patient),
                ("section", "allergy"),
                ("substance", "Penicillin"),
                ("reaction", "Hives"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    for (visit, sign) in [(&signed.public_id, "1"), (&draft.public_id, "")] {
        let (status, saved) = app
            .call::<app::records::notes::model::NoteSaved>(
                &physician,
                "/api/records/notes/save",
                &[
                    ("visit", visit.as_str()),
                    ("version", ""),
                    ("note[subjective]", "Throbbing headaches behind the eyes"),
                    (
                        "note[assessment]",
                        if sign == "1" {
                            "Migraine without aura"
                        } else {
                            "DRAFT ONLY words"
                        },
                    ),
                    ("note[plan]", "Sumatriptan at onset; headache diary"),
                    ("note[prescriptions][0][drug]", "Sumatriptan"),
                    ("note[prescriptions][0][strength]", "50 mg tablet"),
                    (
                        "note[prescriptions][0][directions]",
                        "One at onset; may repeat once",
                    ),
                    ("note[prescriptions][0][quantity]", "9"),
                    ("note[prescriptions][0][refills]", "2"),
                    ("note[follow_up_weeks]", "6"),
                    ("sign", sign),
                ],
            )
            .await;
        assert_eq!(status, 200, "{}: {saved:?}", app.backend);
    }
    let mut ecg = b"\x89PNG\r\n\x1a\n".to_vec();
    ecg.extend_from_slice(b"draft attachment");
    add_file(
        app,
        &physician,
        &[("visit", draft.public_id.as_str()), ("kind", "imaging")],
        "ecg.png",
        ecg,
    )
    .await;
    let mut report = b"%PDF-1.4\n% Lipid panel LDL 92\n".to_vec();
    report.extend(std::iter::repeat_n(b'z', 70_000));
    add_file(
        app,
        &mine,
        &[
            ("patient", patient.as_str()),
            ("kind", "lab_result"),
            ("title", "Lipid panel"),
        ],
        "lipids.pdf",
        report.clone(),
    )
    .await;
    add_file(
        app,
        &mine,
        &[
            ("patient", patient.as_str()),
            ("kind", "lab_result"),
            ("title", "Lipid panel"),
        ],
        "again.pdf",
        report.clone(),
    )
    .await;
    Record {
        maria,
        doctor,
        patient,
        physician,
        mine,
        report,
    }
}

#[tokio::test]
async fn the_record_exports_as_one_pdf_whose_text_reads_back_each_export_audited_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;
        let theirs = format!("/dashboard/patients/{}/record.pdf", record.patient);

        // The whole record, for the physician: chart, the signed note (never the draft), files.
        let before = app.audit_count().await;
        let (status, kind, bytes) = get(&app, &record.physician, &theirs).await;
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/pdf"),
            "{}",
            app.backend
        );
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per export"
        );
        let text = pdf_text(&bytes);
        for expected in [
            "Health record",
            "Maria Lopez",
            "Penicillin",
            "Hives",
            "Migraine without aura",
            "Sumatriptan at onset",
            "Lipid panel",
            "Signed by",
        ] {
            assert!(
                text.contains(expected),
                "{}: {expected} in {text}",
                app.backend
            );
        }
        assert!(
            !text.contains("DRAFT ONLY"),
            "a draft is not part of the record"
        );

        // A chosen part only: the list of documents.
        let (status, _, bytes) = get(
            &app,
            &record.physician,
            &format!("{theirs}?parts=1&documents=1"),
        )
        .await;
        assert_eq!(status, 200);
        let text = pdf_text(&bytes);
        assert!(
            text.contains("Lipid panel")
                && !text.contains("Penicillin")
                && !text.contains("Migraine")
        );
        // Nothing ticked: said so, nothing exported.
        let (status, _, _) = get(&app, &record.physician, &format!("{theirs}?parts=1")).await;
        assert_eq!(status, 422, "{}", app.backend);

        // Maria exports her own from the portal.
        let (status, _, bytes) = get(&app, &record.mine, "/portal/record.pdf").await;
        assert_eq!(status, 200, "{}", app.backend);
        assert!(pdf_text(&bytes).contains("Migraine without aura"));

        // The front desk and another patient get nothing; the refusals are recorded.
        let desk = app.create_user(Role::Staff, "desk@example.com").await;
        let desk = app.signed_in(&desk).await;
        let denied = |rows: Vec<app::audit::entity::audit_event::Model>| {
            rows.iter().filter(|r| r.outcome == "denied").count()
        };
        let before = denied(app.audit_rows().await);
        let (status, _, _) = get(&app, &desk, &theirs).await;
        assert_eq!(status, 403, "{}", app.backend);
        let (status, _, _) = get(
            &app,
            &desk,
            &format!("/dashboard/patients/{}/documents.zip", record.patient),
        )
        .await;
        assert_eq!(status, 403, "{}", app.backend);
        assert_eq!(denied(app.audit_rows().await), before + 2);
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let james = app.signed_in(&james).await;
        let (status, _, bytes) = get(&app, &james, "/portal/record.pdf").await;
        assert_eq!(status, 200);
        assert!(!pdf_text(&bytes).contains("Maria"), "his own record only");
        let _ = &record.maria;
        app.stop().await;
    }
}

#[tokio::test]
async fn the_original_files_download_as_a_zip_that_reads_back_exactly() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let record = maria_with_a_record(&app).await;

        let read = |bytes: Vec<u8>| {
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
            let mut files = Vec::new();
            for i in 0..archive.len() {
                let mut file = archive.by_index(i).expect("a file");
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut content).expect("its bytes");
                files.push((file.name().to_owned(), content));
            }
            files.sort();
            files
        };
        let before = app.audit_count().await;
        let (status, kind, bytes) = get(&app, &record.mine, "/portal/documents.zip").await;
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/zip"),
            "{}",
            app.backend
        );
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "one audit entry per zip"
        );
        let files = read(bytes);
        let today = app.clock_now().date_naive();
        // Her two lab reports, named apart; the draft's attachment is not hers yet.
        assert_eq!(
            files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            vec![
                format!("{today} Lipid panel (2).pdf"),
                format!("{today} Lipid panel.pdf")
            ],
            "{}",
            app.backend
        );
        assert!(files.iter().all(|(_, content)| *content == record.report));

        // Asked for compressed, as browsers do, it still arrives whole.
        let response = record
            .mine
            .get(format!("{}/portal/documents.zip", app.address))
            .header(reqwest::header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 200);
        assert!(!response.bytes().await.expect("the whole body").is_empty());

        // The physician's zip has the attachment too.
        let (status, _, bytes) = get(
            &app,
            &record.physician,
            &format!("/dashboard/patients/{}/documents.zip", record.patient),
        )
        .await;
        assert_eq!(status, 200);
        let files = read(bytes);
        assert_eq!(files.len(), 3, "{}", app.backend);
        assert!(files
            .iter()
            .any(|(name, content)| name.ends_with("ecg.png")
                && content.ends_with(b"draft attachment")));
        app.stop().await;
    }
}

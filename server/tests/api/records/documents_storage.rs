//! Documents' objects in storage (issue 14 §3): the sweeper removes objects whose upload was
//! never recorded, and documents go to an S3 bucket (moto, started by the test command) when the
//! settings name one.

use super::documents::{download, form, lab_pdf, upload, with_maria, Maria};
use crate::helpers::{backends, spawn_app, spawn_app_with};
use bedside::storage::{Objects, StorageBackend, StorageSettings};
use chrono::Duration;

#[tokio::test]
async fn the_sweeper_removes_objects_whose_upload_was_never_recorded() {
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
            ("kind", "letter"),
            ("date", ""),
        ];
        let (_, id) = upload(&app, &mine, form(&fields, "kept.pdf", lab_pdf())).await;
        let kept = format!("documents/{}", id.expect("kept"));
        // An object whose process stopped before its row was written.
        let orphan = "documents/0123456789abcdef0123456789abcdef";
        objects
            .put_raw(orphan, bytes::Bytes::from_static(b"sealed bytes"))
            .await
            .expect("put");

        // Young, it may be an upload still being recorded: left alone.
        let now = chrono::Utc::now();
        let removed = app::records::documents::service::sweep(&app.db, &objects, now)
            .await
            .expect("sweep");
        assert_eq!(removed, 0, "{}", app.backend);
        // An hour later it is removed; the recorded one stays.
        let later = now + Duration::hours(1) + Duration::minutes(1);
        let removed = app::records::documents::service::sweep(&app.db, &objects, later)
            .await
            .expect("sweep");
        assert_eq!(removed, 1, "{}", app.backend);
        assert!(!objects.exists(orphan).await.expect("head"));
        assert!(objects.exists(&kept).await.expect("head"));
        app.stop().await;
    }
}

#[tokio::test]
async fn documents_go_to_an_s3_bucket_when_the_settings_name_one() {
    let Ok(endpoint) = std::env::var("BEDSIDE_TEST_S3_ENDPOINT") else {
        eprintln!("skipped: the test command starts an S3 server (BEDSIDE_TEST_S3_ENDPOINT)");
        return;
    };
    let s3 = StorageSettings {
        backend: StorageBackend::S3,
        bucket: std::env::var("BEDSIDE_TEST_S3_BUCKET").unwrap_or_else(|_| "bedside-test".into()),
        endpoint: Some(endpoint),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".to_owned().into()),
        allow_http: true,
        ..StorageSettings::default()
    };
    for backend in backends() {
        let settings = s3.clone();
        let Maria {
            app, patient, mine, ..
        } = with_maria(spawn_app_with(&backend, move |s| s.storage = settings).await).await;
        let bucket = Objects::from_settings(&s3, app.data_dir()).expect("bucket");
        let fields = [
            ("patient", patient.as_str()),
            ("kind", "lab_result"),
            ("date", ""),
        ];
        let (status, id) = upload(&app, &mine, form(&fields, "cbc.pdf", lab_pdf())).await;
        assert_eq!(status, 200, "{}: {id:?}", app.backend);
        let id = id.expect("id");
        assert!(bucket
            .exists(&format!("documents/{id}"))
            .await
            .expect("head"));
        let (status, bytes, _) = download(&app, &mine, &format!("/portal/documents/{id}")).await;
        assert_eq!((status, bytes == lab_pdf()), (200, true), "{}", app.backend);
        app.stop().await;
    }
}

//! The record's object storage (issue 14 §3): on the local folder and, when the test command
//! started one (`BEDSIDE_TEST_S3_ENDPOINT`), on a real S3-compatible server. A file is sealed
//! before it leaves the process and reads back exactly; what the store holds shows none of it;
//! an upload over its limit or cut off leaves nothing behind; a changed object, or one object's
//! bytes under another's name, is refused (P6).

use bedside::storage::{Objects, StorageBackend, StorageError, StorageSettings};
use bytes::Bytes;
use futures::StreamExt;

/// Every store to test: the local folder, and S3 when the test command started a server.
fn stores() -> Vec<(&'static str, Objects, tempfile::TempDir)> {
    let data = tempfile::tempdir().expect("temp dir");
    let local = Objects::from_settings(&StorageSettings::default(), data.path()).expect("local");
    let mut stores = vec![("local folder", local, data)];
    if let Ok(endpoint) = std::env::var("BEDSIDE_TEST_S3_ENDPOINT") {
        let settings = StorageSettings {
            backend: StorageBackend::S3,
            bucket: std::env::var("BEDSIDE_TEST_S3_BUCKET")
                .unwrap_or_else(|_| "bedside-test".into()),
            endpoint: Some(endpoint),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".to_owned().into()),
            allow_http: true,
            ..StorageSettings::default()
        };
        let data = tempfile::tempdir().expect("temp dir");
        let s3 = Objects::from_settings(&settings, data.path()).expect("s3");
        stores.push(("S3", s3, data));
    }
    stores
}

/// `bytes` in pieces of `piece` bytes, as an upload arrives.
fn arriving(bytes: &[u8], piece: usize) -> impl futures::Stream<Item = Result<Bytes, String>> {
    let pieces: Vec<Result<Bytes, String>> = bytes
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(pieces)
}

async fn read_back(
    objects: &Objects,
    name: &str,
    key: &app::crypto::stream::DataKey,
) -> Result<Vec<u8>, StorageError> {
    let mut stream = Box::pin(objects.open(name, key).await?);
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece?);
    }
    Ok(out)
}

/// A lab report's worth of bytes that are easy to look for.
fn report(len: usize) -> Vec<u8> {
    b"LAB REPORT: HbA1c 7.4% "
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

#[tokio::test]
async fn a_file_is_stored_sealed_and_reads_back_exactly() {
    for (store, objects, _data) in stores() {
        let name = format!("doc-{}", uuid::Uuid::new_v4().simple());
        let key = app::crypto::stream::DataKey::generate();
        let plain = report(3 * 1024 * 1024 + 17);
        let size = objects
            .put_sealed(&name, &key, arriving(&plain, 100_000), 25 * 1024 * 1024)
            .await
            .unwrap_or_else(|e| panic!("{store}: {e}"));
        assert_eq!(size, plain.len() as u64, "{store}");
        let sealed = objects.sealed_bytes(&name).await.expect("sealed");
        assert!(
            !sealed.windows(10).any(|w| w == b"LAB REPORT"),
            "{store}: the store holds no plaintext"
        );
        assert_eq!(
            read_back(&objects, &name, &key).await.expect("opens"),
            plain,
            "{store}"
        );

        // Another key, or the bytes under another name: refused.
        let other = app::crypto::stream::DataKey::generate();
        assert!(read_back(&objects, &name, &other).await.is_err(), "{store}");
        let moved = format!("{name}-moved");
        objects.put_raw(&moved, sealed.clone()).await.expect("copy");
        assert!(read_back(&objects, &moved, &key).await.is_err(), "{store}");
        // One byte changed in the store: refused, and nothing of the changed frame is handed on.
        let mut changed = sealed.to_vec();
        let middle = changed.len() / 2;
        changed[middle] ^= 1;
        objects
            .put_raw(&name, Bytes::from(changed))
            .await
            .expect("tamper");
        assert!(
            matches!(
                read_back(&objects, &name, &key).await,
                Err(StorageError::Sealed(_))
            ),
            "{store}"
        );
        objects.delete(&name).await.expect("delete");
        objects.delete(&moved).await.expect("delete");
        assert!(!objects.exists(&name).await.expect("head"), "{store}");
    }
}

#[tokio::test]
async fn an_upload_over_its_limit_or_cut_off_leaves_nothing_behind() {
    for (store, objects, _data) in stores() {
        let key = app::crypto::stream::DataKey::generate();
        let too_big = format!("big-{}", uuid::Uuid::new_v4().simple());
        let refused = objects
            .put_sealed(
                &too_big,
                &key,
                arriving(&report(2_000_000), 64_000),
                1_000_000,
            )
            .await;
        assert!(
            matches!(refused, Err(StorageError::TooLarge { limit: 1_000_000 })),
            "{store}: {refused:?}"
        );
        assert!(!objects.exists(&too_big).await.expect("head"), "{store}");

        let cut = format!("cut-{}", uuid::Uuid::new_v4().simple());
        let pieces = arriving(&report(300_000), 50_000)
            .take(3)
            .chain(futures::stream::iter(vec![Err(
                "connection reset".to_owned()
            )]));
        let refused = objects.put_sealed(&cut, &key, pieces, 25_000_000).await;
        assert!(
            matches!(refused, Err(StorageError::Interrupted(_))),
            "{store}: {refused:?}"
        );
        assert!(!objects.exists(&cut).await.expect("head"), "{store}");
    }
}

//! Object storage for the record's files (documents, later recordings and attachments), through
//! the `object_store` crate: a folder under the data directory by default, any S3-compatible
//! service in production. Every object is sealed before its bytes leave the process
//! (`crate::crypto::stream`: its own data key, AES-256-GCM frame by frame, bound to the object's
//! name), written as a multipart upload as the bytes arrive, and read back frame by frame: a
//! 25 MB file is never whole in memory. An upload that fails or runs over its limit is aborted,
//! so no object is left behind.

use crate::crypto::stream::{DataKey, Opener, Sealer, StreamError};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where objects are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// `<data_dir>/objects`: one machine, no account (the default).
    Local,
    /// An S3-compatible bucket: several processes share it.
    S3,
}

/// `[storage]` in the settings (`BEDSIDE_STORAGE__…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    pub bucket: String,
    pub region: String,
    /// An S3-compatible service's address (`None`: AWS itself).
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    #[serde(skip_serializing)]
    pub secret_access_key: Option<SecretString>,
    /// Allows an `http://` endpoint (a service on the same host; tests).
    pub allow_http: bool,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            backend: StorageBackend::Local,
            bucket: "bedside".into(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
        }
    }
}

/// Why an object could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("object storage is not usable: {0}")]
    Unavailable(String),
    #[error("object storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("{0}")]
    Sealed(#[from] StreamError),
}

/// The store of sealed objects.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    /// Where in the store (a folder, or a bucket) they are: `records/…`.
    prefix: &'static str,
}

impl Objects {
    /// The store the settings name; the local folder is made if it does not exist.
    pub fn from_settings(
        settings: &StorageSettings,
        data_dir: &std::path::Path,
    ) -> Result<Objects, StorageError> {
        let store: Arc<dyn ObjectStore> = match settings.backend {
            StorageBackend::Local => {
                let folder = data_dir.join("objects");
                std::fs::create_dir_all(&folder).map_err(|e| {
                    StorageError::Unavailable(format!("making {}: {e}", folder.display()))
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(folder)?)
            }
            StorageBackend::S3 => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&settings.bucket)
                    .with_region(&settings.region)
                    .with_allow_http(settings.allow_http);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(id) = &settings.access_key_id {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = &settings.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                Arc::new(builder.build()?)
            }
        };
        Ok(Objects {
            store,
            prefix: "records",
        })
    }

    fn path(&self, name: &str) -> Path {
        Path::from(format!("{}/{name}", self.prefix))
    }

    /// Seals `body` under `key` as object `name`, as its bytes arrive; at most `limit` bytes
    /// of it. Returns its size. Over the limit, or if `body` fails, the upload is aborted and
    /// nothing is stored.
    pub async fn put_sealed<E: std::fmt::Display>(
        &self,
        name: &str,
        key: &DataKey,
        body: impl Stream<Item = Result<Bytes, E>>,
        limit: u64,
    ) -> Result<u64, StorageError> {
        let upload = self.store.put_multipart(&self.path(name)).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut sealer = Sealer::new(key, name);
        let mut size = 0u64;
        let mut body = std::pin::pin!(body);
        let failed = loop {
            let chunk = match body.next().await {
                None => break None,
                Some(Err(e)) => break Some(StorageError::Interrupted(e.to_string())),
                Some(Ok(chunk)) => chunk,
            };
            size += chunk.len() as u64;
            if size > limit {
                break Some(StorageError::TooLarge { limit });
            }
            match sealer.push(&chunk) {
                Ok(sealed) => writer.write(&sealed),
                Err(e) => break Some(e.into()),
            }
            // Back-pressure: at most a couple of parts in flight.
            if let Err(e) = writer.wait_for_capacity(2).await {
                break Some(e.into());
            }
        };
        if let Some(error) = failed {
            writer.abort().await?;
            return Err(error);
        }
        match sealer.finish() {
            Ok(last) => writer.write(&last),
            Err(e) => {
                writer.abort().await?;
                return Err(e.into());
            }
        }
        writer.finish().await?;
        Ok(size)
    }

    /// Object `name` opened with `key`, as a stream of checked plaintext: each piece is handed
    /// on only once its frame's tag is verified, and a stream that ends early ends in an error.
    pub async fn open(
        &self,
        name: &str,
        key: &DataKey,
    ) -> Result<impl Stream<Item = Result<Bytes, StorageError>> + Send + 'static, StorageError>
    {
        let sealed = self.store.get(&self.path(name)).await?.into_stream();
        let opener = Opener::new(key, name);
        // Fused: a body may be polled again after it ended (compression does), and an unfold
        // must not be.
        Ok(
            futures::stream::unfold((sealed, Some(opener)), |(mut sealed, opener)| async move {
                let mut opener = opener?;
                loop {
                    match sealed.next().await {
                        Some(Ok(bytes)) => match opener.push(&bytes) {
                            Ok(plain) if plain.is_empty() => continue,
                            Ok(plain) => {
                                return Some((Ok(Bytes::from(plain)), (sealed, Some(opener))))
                            }
                            Err(e) => return Some((Err(e.into()), (sealed, None))),
                        },
                        Some(Err(e)) => return Some((Err(e.into()), (sealed, None))),
                        None => {
                            let last = opener.finish().map(Bytes::from).map_err(Into::into);
                            return Some((last, (sealed, None)));
                        }
                    }
                }
            })
            .fuse(),
        )
    }

    /// Object `name` opened with `key`, whole (a file handed out in one piece: a share link's
    /// `location`, whose JWE is sealed over all of it).
    pub async fn read_all(&self, name: &str, key: &DataKey) -> Result<Vec<u8>, StorageError> {
        let mut stream = Box::pin(self.open(name, key).await?);
        let mut out = Vec::new();
        while let Some(piece) = stream.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out)
    }

    /// Removes object `name` (a file removed from the record, or an upload whose row failed).
    pub async fn delete(&self, name: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The objects under `folder` (names as [`Objects::put_sealed`] takes them) and when each
    /// was last written: what the sweeper checks against the database.
    pub async fn list(
        &self,
        folder: &str,
    ) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, StorageError> {
        let mut listing = self.store.list(Some(&self.path(folder)));
        let skip = format!("{}/", self.prefix);
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if let Some(name) = meta.location.as_ref().strip_prefix(&skip) {
                out.push((name.to_owned(), meta.last_modified));
            }
        }
        Ok(out)
    }

    /// Whether object `name` exists (tests: nothing left behind).
    pub async fn exists(&self, name: &str) -> Result<bool, StorageError> {
        match self.store.head(&self.path(name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The raw sealed bytes of object `name` (tests: what a reader of the bucket sees).
    pub async fn sealed_bytes(&self, name: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&self.path(name)).await?.bytes().await?)
    }

    /// Writes raw bytes as object `name` (tests: a bucket tampered with).
    pub async fn put_raw(&self, name: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&self.path(name), bytes.into()).await?;
        Ok(())
    }
}

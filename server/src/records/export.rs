//! The exported record: FHIR R4 (`/fhir/Patient/{id}/$everything`, and the portal's download
//! `/portal/my-data.json`), one PDF of the parts asked for (`/portal/record.pdf`,
//! `/dashboard/patients/{id}/record.pdf`) and the original files as a zip
//! (`/portal/documents.zip`, `/dashboard/patients/{id}/documents.zip`). The zip is written as it
//! streams out: each file is opened frame by frame from storage and stored (PDFs and photos do
//! not compress), on a blocking thread that hands the archive on in 64 KiB pieces, so a record
//! of many large files never sits in memory.

use crate::state::AppState;
use app::audit::service::ClientInfo;
use app::auth::service::Authenticated;
use app::records::export::model::ExportChoice;
use app::records::export::service::{files_for_zip, record_pdf, ZipEntry};
use app::storage::Objects;
use app::AppError;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use futures::StreamExt;
use std::io::Write;

/// The patient a portal route is about: the signed-in patient's own record.
fn own_record(auth: &Option<Extension<Authenticated>>) -> Option<String> {
    auth.as_ref()
        .and_then(|Extension(a)| a.patient_public_id.clone())
}

/// `GET /fhir/Patient/{id}/$everything`: the record as a FHIR Bundle, for whoever may read it
/// (a signed-in session; SMART on FHIR authorization is not offered).
pub async fn fhir_everything(
    State(state): State<AppState>,
    Path(patient): Path<String>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    fhir(&state, &patient, auth, &client, false).await
}

/// *Download my data*: the signed-in patient's own Bundle, as a file.
pub async fn my_data(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    let Some(patient) = own_record(&auth) else {
        return AppError::Forbidden.into_response();
    };
    fhir(&state, &patient, auth, &client, true).await
}

async fn fhir(
    state: &AppState,
    patient: &str,
    auth: Option<Extension<Authenticated>>,
    client: &ClientInfo,
    download: bool,
) -> Response {
    const FHIR_JSON: &str = "application/fhir+json";
    let Some(me) = super::signed_in(state, auth, client) else {
        return AppError::Unauthorized.into_response();
    };
    let public_url = state.settings.public_url.to_string();
    match app::records::fhir::service::everything(&me, patient, &public_url).await {
        Ok(bundle) => {
            let body = axum::body::Body::from(bundle.to_string());
            if download {
                let name = format!(
                    "health-record-{}.fhir.json",
                    state.identity.now().format("%Y-%m-%d")
                );
                super::attachment(FHIR_JSON, &name, body)
            } else {
                ([(header::CONTENT_TYPE, FHIR_JSON)], body).into_response()
            }
        }
        Err(error) => error.into_response(),
    }
}

pub async fn my_record_pdf(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    let Some(patient) = own_record(&auth) else {
        return AppError::Forbidden.into_response();
    };
    pdf(&state, &patient, query, auth, &client).await
}

pub async fn patient_record_pdf(
    State(state): State<AppState>,
    Path(patient): Path<String>,
    RawQuery(query): RawQuery,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    pdf(&state, &patient, query, auth, &client).await
}

async fn pdf(
    state: &AppState,
    patient: &str,
    query: Option<String>,
    auth: Option<Extension<Authenticated>>,
    client: &ClientInfo,
) -> Response {
    let Some(me) = super::signed_in(state, auth, client) else {
        return AppError::Unauthorized.into_response();
    };
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let Some(choice) =
        ExportChoice::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    else {
        return AppError::field(
            "parts",
            "Choose at least one part of the record to download.",
        )
        .into_response();
    };
    let Some(site) = state.site.current() else {
        return http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    match record_pdf(&me, patient, &choice, &site.practice).await {
        Ok(file) => super::attachment("application/pdf", &file.file_name, file.bytes.into()),
        Err(error) => error.into_response(),
    }
}

pub async fn my_documents_zip(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    let Some(patient) = own_record(&auth) else {
        return AppError::Forbidden.into_response();
    };
    files_zip(&state, &patient, auth, &client).await
}

pub async fn patient_documents_zip(
    State(state): State<AppState>,
    Path(patient): Path<String>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    files_zip(&state, &patient, auth, &client).await
}

async fn files_zip(
    state: &AppState,
    patient: &str,
    auth: Option<Extension<Authenticated>>,
    client: &ClientInfo,
) -> Response {
    let Some(me) = super::signed_in(state, auth, client) else {
        return AppError::Unauthorized.into_response();
    };
    let entries = match files_for_zip(&me, patient).await {
        Ok(entries) => entries,
        Err(error) => return error.into_response(),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let objects = state.objects.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let out = Pieces {
            sender: sender.clone(),
            pending: Vec::with_capacity(PIECE),
        };
        if let Err(e) = write_zip(&runtime, &objects, entries, out) {
            tracing::error!(error = %e, "writing a record's zip");
            // The download ends in an error rather than as a complete-looking archive.
            let _ = sender.blocking_send(Err(std::io::Error::other("the archive failed")));
        }
    });
    // Fused: compression polls a body once more after it ended.
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|piece| (piece, receiver))
    })
    .fuse();
    let name = format!(
        "health-record-files-{}.zip",
        state.identity.now().format("%Y-%m-%d")
    );
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// How much of the archive is handed on at a time.
const PIECE: usize = 64 * 1024;

/// The archive's bytes, sent on in pieces to the response (waiting while it is full).
struct Pieces {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    pending: Vec<u8>,
}

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= PIECE {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(
            &mut self.pending,
            Vec::with_capacity(PIECE),
        ));
        self.sender
            .blocking_send(Ok(piece))
            .map_err(|_| std::io::Error::other("the download was abandoned"))
    }
}

fn write_zip(
    runtime: &tokio::runtime::Handle,
    objects: &Objects,
    entries: Vec<ZipEntry>,
    out: Pieces,
) -> anyhow::Result<()> {
    use zip::write::SimpleFileOptions;
    let mut archive = zip::ZipWriter::new_stream(out);
    for entry in entries {
        let mut options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        if let Ok(date) = zip::DateTime::from_date_and_time(
            u16::try_from(chrono::Datelike::year(&entry.date)).unwrap_or(1980),
            u8::try_from(chrono::Datelike::month(&entry.date)).unwrap_or(1),
            u8::try_from(chrono::Datelike::day(&entry.date)).unwrap_or(1),
            12,
            0,
            0,
        ) {
            options = options.last_modified_time(date);
        }
        archive.start_file(entry.name.as_str(), options)?;
        let mut file = Box::pin(runtime.block_on(objects.open(&entry.object, &entry.key))?);
        while let Some(piece) = runtime.block_on(file.next()) {
            archive.write_all(&piece?)?;
        }
    }
    let mut out = archive.finish()?.into_inner();
    out.flush()?;
    Ok(())
}

use bedside::{settings::Settings, Application};
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;
use tokio::sync::oneshot;

/// The databases every test runs against: SQLite always, PostgreSQL when `DATABASE_URL`
/// points at a server (CI always sets it).
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres") {
            backends.push(Backend::Postgres(url));
        }
    }
    backends
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The URL of a server database we may create other databases from.
    Postgres(String),
}

pub struct TestApp {
    pub address: String,
    pub db: sea_orm::DatabaseConnection,
    pub client: reqwest::Client,
    pub backend: &'static str,
    /// The keys the server encrypts with (a development key in the test's data folder).
    pub keyring: app::crypto::Keyring,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data: tempfile::TempDir,
    drop_database: Option<(String, String)>,
}

fn unique_name() -> String {
    format!("bedside_test_{}", uuid::Uuid::new_v4().simple())
}

/// Settings for a test: port 0, a private data folder, the outbox mailer.
pub fn test_settings(data: &std::path::Path) -> Settings {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: data.to_path_buf(),
        database_url: format!("sqlite://{}?mode=rwc", data.join("bedside.db").display()),
        leptos_config: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml")),
        ..Settings::default()
    };
    settings.mail.from = "Harbor Street Medicine <hello@harbor.test>".into();
    settings
}

/// Starts Bedside on `backend` with the demo practice seeded.
pub async fn spawn_app(backend: &Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: &Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(data.path());
    let mut drop_database = None;
    let label = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(server_url) => {
            let name = unique_name();
            let admin = Database::connect(server_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            admin.close().await.ok();
            let base = server_url
                .rsplit_once('/')
                .map_or(server_url.as_str(), |(base, _)| base);
            settings.database_url = format!("{base}/{name}");
            drop_database = Some((server_url.clone(), name));
            "postgres"
        }
    };
    configure(&mut settings);
    let db = bedside::db::connect(&settings).await.expect("connect");
    bedside::db::migrate(&db).await.expect("migrate");
    bedside::demo::seed(&db)
        .await
        .expect("seed the demo practice");
    let keyring = bedside::keys::load_keyring(&settings).expect("keyring");
    let app = Application::build(settings)
        .await
        .expect("build the application");
    let address = app.url();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    TestApp {
        address,
        db,
        client,
        backend: label,
        keyring,
        stop: Some(stop),
        server: Some(server),
        _data: data,
        drop_database,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_html(
        &self,
        path: &str,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
        let response = self.get(path).await;
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.expect("body"))
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Stops the server but keeps the database (and this handle) for further checks.
    pub async fn stop_serving(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ended cleanly");
        }
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        self.stop_serving().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some((server_url, name)) = self.drop_database.take() {
            // Drop runs outside async: a short-lived runtime on its own thread removes the database.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(&server_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

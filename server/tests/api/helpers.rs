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
    /// Accounts and sessions, as the server holds them.
    pub identity: app::auth::service::Identity,
    /// The time every rule reads; tests move it.
    pub clock: app::clock::FakeClock,
    pub db: sea_orm::DatabaseConnection,
    pub client: reqwest::Client,
    pub backend: &'static str,
    /// The keys the server encrypts with (a development key in the test's data folder).
    pub keyring: app::crypto::Keyring,
    /// The server's own job scheduler (its worker is off in tests: run it with `run_due`).
    pub jobs: std::sync::Arc<bedside::jobs::Scheduler>,
    /// What this server was started with (a second process on the same database uses them).
    pub settings: Settings,
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
    // Tests run jobs by hand (`run_due` after moving the clock), never behind their back.
    settings.jobs.poll_seconds = 0;
    settings
}

/// Starts Bedside on `backend` with the demo practice seeded.
pub async fn spawn_app(backend: &Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: &Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    // Every test starts from the run's instant (`BEDSIDE_TEST_NOW`, or a fixed default), never
    // the wall clock: the calendar matrix runs the time-sensitive suites at many.
    let clock = app::clock::FakeClock::at(app::clock::test_start());
    spawn_app_with_clock(backend, clock, configure).await
}

/// Starts Bedside reading `clock` for every time rule.
pub async fn spawn_app_with_clock(
    backend: &Backend,
    clock: app::clock::FakeClock,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    // Warnings and errors (an internal error's cause) go to the test's captured
    // output, which cargo prints when the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
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
    let started_with = settings.clone();
    let db = bedside::db::connect(&settings).await.expect("connect");
    bedside::db::migrate(&db).await.expect("migrate");
    bedside::demo::seed(&db)
        .await
        .expect("seed the demo practice");
    let keyring = bedside::keys::load_keyring(&settings).expect("keyring");
    let app = Application::build_with_clock(settings, std::sync::Arc::new(clock.clone()))
        .await
        .expect("build the application");
    let address = app.url();
    let identity = app.identity().clone();
    let jobs = app.jobs();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async move {
        let _ = stopped.await;
    }));
    let client = browser(&address);
    TestApp {
        identity,
        clock,
        address,
        db,
        client,
        backend: label,
        keyring,
        jobs,
        settings: started_with,
        stop: Some(stop),
        server: Some(server),
        _data: data,
        drop_database,
    }
}

/// A client that behaves like a browser on this site: it keeps cookies and sends `Origin`
/// (as browsers do on every POST), and does not follow redirects (tests look at them).
pub fn browser(address: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        address.parse().expect("origin header"),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .expect("client")
}

impl TestApp {
    /// An outbox email's row, opened with this app's keys.
    pub fn open_email(
        &self,
        row: app::mail::outbox_email::Model,
    ) -> bedside::mail::outbox::OpenedEmail {
        bedside::mail::outbox::open_email(&self.keyring, row)
            .expect("an outbox email this app sealed")
    }

    /// The test's private data folder (SQLite file, development key).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    /// Another browser (another person, or the same person on another device).
    pub fn new_browser(&self) -> reqwest::Client {
        browser(&self.address)
    }

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

    /// Starts a second Bedside process on this one's database (and keys, and clock), as a
    /// second server behind a load balancer would be. Returns its address; it stops when the
    /// returned handle is dropped.
    pub async fn second_process(&self) -> (String, tokio::task::JoinHandle<anyhow::Result<()>>) {
        let app = Application::build_with_clock(
            self.settings.clone(),
            std::sync::Arc::new(self.clock.clone()),
        )
        .await
        .expect("build the second process");
        let address = app.url();
        let server = tokio::spawn(app.serve(std::future::pending()));
        (address, server)
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

/// An account made for a test, with what the test needs to act as it.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i32,
    pub public_id: String,
    pub email: String,
    pub password: String,
    pub role: app::auth::Role,
    /// The patient record's row id and public id, for a patient.
    pub patient_id: Option<i32>,
    pub patient_public_id: Option<String>,
    pub mfa_secret: Option<Vec<u8>>,
}

pub const TEST_PASSWORD: &str = "harbor lantern violet 7";

impl TestApp {
    /// An account; practice roles get MFA turned on (as they must have it).
    pub async fn create_user(&self, role: app::auth::Role, email: &str) -> TestUser {
        let user = self
            .identity
            .create_account(&app::auth::service::NewAccount {
                email: email.into(),
                display_name: format!("Test {}", role.label()),
                role,
                password: TEST_PASSWORD.into(),
            })
            .await
            .expect("create account");
        let mut test_user = TestUser {
            id: user.id,
            public_id: user.public_id,
            email: user.email,
            password: TEST_PASSWORD.into(),
            role,
            patient_id: None,
            patient_public_id: None,
            mfa_secret: None,
        };
        if role.requires_mfa() {
            let secret = app::auth::totp::new_secret();
            self.identity
                .enable_mfa_with_secret(test_user.id, &secret)
                .await
                .expect("enable MFA");
            test_user.mfa_secret = Some(secret);
        }
        test_user
    }

    /// A patient with an account, a record and an active Complete membership (unlimited
    /// visits; home visits for a fee; a late-cancellation fee).
    pub async fn create_patient(&self, email: &str, name: &str) -> TestUser {
        self.create_member(email, name, Some("complete")).await
    }

    /// A patient with an account and a record, and an active membership of `tier` (a demo
    /// tier's slug) unless it is `None`.
    pub async fn create_member(&self, email: &str, name: &str, tier: Option<&str>) -> TestUser {
        let user = self.create_patient_record(email, name).await;
        if let Some(tier) = tier {
            let patient_id = user.patient_id.expect("a patient");
            bedside::demo::active_membership(&self.db, patient_id, tier, self.clock_now())
                .await
                .expect("an active membership");
        }
        user
    }

    async fn create_patient_record(&self, email: &str, name: &str) -> TestUser {
        let mut user = self.create_user(app::auth::Role::Patient, email).await;
        let record = app::patients::service::create(
            &self.db,
            &self.keyring,
            &app::patients::service::NewPatient {
                user_id: Some(user.id),
                legal_name: name.into(),
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1984, 3, 12).expect("date"),
                phone: app::domain::PhoneNumber::parse("(207) 555-0187").ok(),
            },
            self.clock_now(),
        )
        .await
        .expect("create patient");
        user.patient_id = Some(record.id);
        user.patient_public_id = Some(record.public_id);
        user
    }

    /// The free times of `visit_type` on the `days` practice days starting `ahead` days from
    /// now, leaving out the times visits already booked (with their buffers) take: so tests that
    /// book twice never pick the same time, whatever day and hour the run starts at.
    pub async fn free_times(
        &self,
        visit_type: app::appointments::VisitType,
        ahead: i64,
        days: i64,
    ) -> Vec<chrono::DateTime<chrono::Utc>> {
        use app::appointments::availability;
        use app::appointments::service::{calendar, schedule};
        let schedule = schedule::load_schedule(&self.db)
            .await
            .expect("schedule")
            .expect("the demo schedule");
        let now = self.clock_now();
        let from = (now + chrono::Duration::days(ahead))
            .with_timezone(&schedule.time_zone)
            .date_naive();
        let to = from + chrono::Duration::days(days - 1);
        let busy = calendar::busy_between(
            &self.db,
            &schedule,
            now,
            now + chrono::Duration::days(ahead + days + 1),
        )
        .await
        .expect("booked times");
        availability::free_slots(&schedule, visit_type, from, to, &busy, now)
            .into_iter()
            .map(|slot| slot.starts_at)
            .collect()
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use app::clock::Clock;
        self.clock.now()
    }

    /// The authenticator code at the test clock's time.
    pub fn code_now(&self, secret: &[u8]) -> String {
        let unix = u64::try_from(self.clock_now().timestamp()).expect("time");
        app::auth::totp::code_at_step(secret, app::auth::totp::step_of(unix))
    }

    pub async fn post_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_asking(client, path, form, "*/*").await
    }

    /// Posts `form` as a browser without JavaScript does: it asks for HTML, and a server
    /// function answers with a redirect to the page that says the outcome.
    pub async fn post_page_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_asking(client, path, form, "text/html").await
    }

    pub async fn post_asking(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
        accept: &str,
    ) -> reqwest::Response {
        client
            .post(format!("{}{path}", self.address))
            .header(reqwest::header::ACCEPT, accept)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Calls a server function as a hydrated page does (form in, JSON out): the status, and the
    /// value or the typed error.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, Result<T, app::AppError>) {
        let response = self
            .post_asking(client, path, form, "application/json")
            .await;
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        let answer = if (200..300).contains(&status) {
            Ok(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
        } else {
            Err(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
        };
        (status, answer)
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    /// Posts the sign-in form in `client`.
    pub async fn sign_in(&self, client: &reqwest::Client, user: &TestUser) -> reqwest::Response {
        self.post_with(
            client,
            "/signin",
            &[("email", &user.email), ("password", &user.password)],
        )
        .await
    }

    /// A browser signed in as `user`, second factor included. Moves the clock 30 seconds first
    /// when a code is needed, so the code is always a fresh one (codes are good once).
    pub async fn signed_in(&self, user: &TestUser) -> reqwest::Client {
        let client = self.new_browser();
        let response = self.sign_in(&client, user).await;
        assert_eq!(response.status(), 303, "sign-in of {}", user.email);
        let to = location(&response);
        assert!(
            to.as_deref().is_some_and(|to| !to.starts_with("/signin?")),
            "sign-in of {} led to {to:?}",
            user.email
        );
        if let Some(secret) = &user.mfa_secret {
            self.clock.advance(chrono::Duration::seconds(30));
            let code = self.code_now(secret);
            let response = self
                .post_with(&client, "/signin/mfa", &[("code", &code)])
                .await;
            assert_eq!(response.status(), 303, "second factor of {}", user.email);
        }
        client
    }

    /// The status and `Location` of a GET in `client`.
    pub async fn visit(&self, client: &reqwest::Client, path: &str) -> (u16, Option<String>) {
        let response = self.get_with(client, path).await;
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), location)
    }

    /// The audit rows, oldest first.
    pub async fn audit_rows(&self) -> Vec<app::audit::entity::audit_event::Model> {
        use sea_orm::{EntityTrait, QueryOrder};
        app::audit::entity::audit_event::Entity::find()
            .order_by_asc(app::audit::entity::audit_event::Column::Seq)
            .all(&self.db)
            .await
            .expect("audit rows")
    }

    /// How many audit entries there are (one more per audited read or write).
    pub async fn audit_count(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        app::audit::entity::audit_event::Entity::find()
            .count(&self.db)
            .await
            .expect("audit count")
    }
}

pub fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `user` as the policy sees them, with the patient record id given.
pub fn caller_of(
    app: &TestApp,
    user: &TestUser,
    patient_id: Option<i32>,
) -> app::auth::guard::Caller {
    app::auth::guard::Caller {
        seal: app.keyring.audit_seal().clone(),
        actor: app::auth::Actor {
            user_id: user.id,
            role: user.role,
            patient_id,
        },
        session_ref: Some("test".into()),
        client: Default::default(),
    }
}

impl TestApp {
    /// The row id of the patient record with `public_id`.
    pub async fn patient_row_id(&self, public_id: &str) -> i32 {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        app::patients::entity::patient::Entity::find()
            .filter(app::patients::entity::patient::Column::PublicId.eq(public_id))
            .one(&self.db)
            .await
            .expect("query")
            .expect("patient")
            .id
    }

    /// Books `visit_type` at `starts_at` for the patient `who`, as the booking page does.
    pub async fn book(
        &self,
        who: &TestUser,
        visit_type: app::appointments::VisitType,
        starts_at: chrono::DateTime<chrono::Utc>,
        reason: &str,
        accepted_fee_cents: Option<i64>,
    ) -> Result<app::appointments::service::calendar::BookedVisit, app::AppError> {
        use app::appointments::service::{booking, schedule};
        let schedule = schedule::load_schedule(&self.db)
            .await
            .expect("schedule")
            .expect("the practice's schedule is set up");
        let me = self.acting_as(who).await;
        let request = booking::BookingRequest {
            patient_id: who.patient_id.expect("a patient"),
            patient_public_id: who.patient_public_id.clone().expect("a patient"),
            visit_type,
            starts_at,
            reason: reason.into(),
            accepted_fee_cents,
        };
        booking::book(&me, &schedule, &request).await
    }

    /// `user` fully signed in (a session whose second factor is passed), as a server function
    /// finds them: what the services acting for someone take.
    pub async fn acting_as(&self, user: &TestUser) -> app::auth::context::SignedIn {
        use app::auth::session::{SessionRecord, SessionToken};
        let now = self.clock_now();
        let token = SessionToken::generate();
        let record = SessionRecord {
            id: token.id(),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(12),
            mfa_passed: true,
            ip: None,
            user_agent: None,
        };
        self.identity
            .sessions()
            .insert(&record)
            .await
            .expect("a session");
        let auth = self
            .identity
            .authenticate(&token)
            .await
            .expect("authenticate")
            .expect("the session just made");
        app::auth::context::SignedIn::new(self.identity.clone(), auth, &Default::default(), None)
            .expect("fully signed in")
    }
}

//! Building and running the application: `Application::build` binds (port 0 in tests),
//! migrates and returns the bound address; `serve` runs until the shutdown signal.

use crate::{
    auth::{self, limits::AttemptLimits},
    db, health, mail,
    security::{security_headers, SecurityHeaders},
    settings::{Settings, TlsSettings},
    site::limit::ContactRateLimit,
    state::AppState,
};
use anyhow::Context;
use app::{
    auth::{
        password::PasswordHasher,
        service::{Identity, IdentityConfig},
        session::{DbSessionStore, SessionPolicy, SessionStore},
    },
    clock::{SharedClock, SystemClock},
    crypto::Keyring,
    site::service::SiteContentStore,
};
use axum::{
    body::Bytes,
    extract::State,
    middleware,
    response::{Html, IntoResponse},
    routing::get,
    Router,
};
use axum_server::{tls_rustls::RustlsConfig, Handle};
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

/// A bound, migrated, ready-to-serve Bedside.
pub struct Application {
    listener: std::net::TcpListener,
    address: SocketAddr,
    tls: Option<RustlsConfig>,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        if let Some(clock) = crate::dev_clock::from_settings(&settings)? {
            return Self::build_inner(settings, Arc::new(clock.clone()), Some(clock)).await;
        }
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`build`](Self::build), with the clock every time rule reads (tests move it).
    pub async fn build_with_clock(
        settings: Settings,
        clock: SharedClock,
    ) -> anyhow::Result<Application> {
        Self::build_inner(settings, clock, None).await
    }

    async fn build_inner(
        settings: Settings,
        clock: SharedClock,
        dev_clock: Option<crate::dev_clock::ShiftedClock>,
    ) -> anyhow::Result<Application> {
        crate::production::refuse_unsafe(&settings)?;
        let keyring = crate::keys::load_keyring(&settings)?;
        let db = db::connect(&settings).await?;
        db::migrate(&db).await?;
        crate::sealing::seal_old_rows(&db, &keyring).await?;
        crate::sealing::seal_audit_history(
            &db,
            &keyring,
            &crate::audit_anchor::anchor_file(&settings),
        )
        .await?;
        let leptos_options = leptos_options(&settings)?;
        let site = SiteContentStore::default();
        site.refresh(&db, clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("loading the practice's content: {e}"))?;
        let mailer = mail::from_settings(&settings.mail, db.clone(), &keyring)?;
        let sms = crate::sms::from_settings(&settings.sms, db.clone(), &keyring)?;
        let tls = match &settings.tls {
            Some(tls) => Some(rustls_config(tls)?),
            None => None,
        };
        let baseline = match &settings.bench_baseline_file {
            Some(path) => Some(Bytes::from(
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            )),
            None => None,
        };
        let listener = std::net::TcpListener::bind(settings.listen)
            .with_context(|| format!("listening on {}", settings.listen))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let identity = identity(&settings, &db, &keyring, clock.clone()).await?;
        let crate::billing::Payments {
            processor: payments,
            local: local_payments,
            webhook_secret,
        } = crate::billing::processor_from_settings(&settings, &db, clock.clone())?;
        let jobs = Arc::new(scheduler(&crate::jobs::JobServices {
            db: db.clone(),
            keyring: keyring.clone(),
            identity: identity.clone(),
            mailer: mailer.clone(),
            sms: sms.clone(),
            site: site.clone(),
            public_url: settings.public_url.clone(),
            clock: clock.clone(),
            payments: payments.clone(),
            local_payments: local_payments.clone(),
            webhook_secret: webhook_secret.clone(),
        }));
        let attempt_limits = match &settings.redis_url {
            Some(url) => AttemptLimits::shared(
                url,
                &settings.redis_key_prefix,
                settings.sign_in.attempts_per_minute,
            )
            .await
            .with_context(|| format!("connecting to Redis at {}", crate::db::redact(url)))?,
            None => AttemptLimits::per_minute(settings.sign_in.attempts_per_minute),
        };
        let objects =
            crate::storage::Objects::from_settings(&settings.storage, &settings.data_dir)?;
        let state = AppState {
            objects,
            bus: crate::bus::Bus::new(),
            attempt_limits,
            jobs,
            clock,
            identity,
            contact_limit: ContactRateLimit::per_hour(settings.contact.messages_per_hour),
            keyring,
            settings: Arc::new(settings),
            db,
            leptos_options,
            site,
            mailer,
            sms,
            payments,
            local_payments,
            webhook_secret,
            schedules: Default::default(),
            baseline,
            dev_clock,
        };
        Ok(Application {
            listener,
            address,
            tls,
            state,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:3000` or `https://…` when this process terminates TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.address)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    pub fn identity(&self) -> &Identity {
        &self.state.identity
    }

    pub fn jobs(&self) -> Arc<crate::jobs::Scheduler> {
        self.state.jobs.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting and gives in-flight requests
    /// `shutdown_grace_seconds` to finish.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let handle: Handle<SocketAddr> = Handle::new();
        let grace = Duration::from_secs(self.state.settings.shutdown_grace_seconds);
        tokio::spawn({
            let handle = handle.clone();
            async move {
                shutdown.await;
                tracing::info!(
                    grace_seconds = grace.as_secs(),
                    "shutting down: finishing in-flight requests"
                );
                handle.graceful_shutdown(Some(grace));
            }
        });
        let refresher = tokio::spawn(refresh_periodically(self.state.clone()));
        let sweeper = tokio::spawn(crate::records::sweep_periodically(self.state.clone()));
        let live = self.state.bus.start(self.state.db.clone());
        let pruner = tokio::spawn(crate::live::prune_periodically(self.state.clone()));
        let anchors = match self.state.settings.audit_anchor_minutes {
            0 => None,
            minutes => Some(tokio::spawn(crate::audit_anchor::export_periodically(
                self.state.db.clone(),
                self.state.keyring.audit_seal().clone(),
                crate::audit_anchor::anchor_file(&self.state.settings),
                self.state.clock.clone(),
                minutes,
            ))),
        };
        let worker = match self.state.settings.jobs.poll_seconds {
            0 => None,
            seconds => Some(self.state.jobs.clone().spawn(Duration::from_secs(seconds))),
        };
        // Also behind a TLS-terminating proxy: what matters is that patients reach us by https.
        let hsts = self.state.settings.https();
        let jobs = self.state.jobs.clone();
        let app = router(self.state, SecurityHeaders { hsts })
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = match self.tls {
            Some(config) => {
                axum_server::from_tcp_rustls(self.listener, config)?
                    .handle(handle)
                    .serve(app)
                    .await
            }
            None => {
                axum_server::from_tcp(self.listener)?
                    .handle(handle)
                    .serve(app)
                    .await
            }
        };
        refresher.abort();
        sweeper.abort();
        live.abort();
        pruner.abort();
        if let Some(anchors) = anchors {
            anchors.abort();
        }
        if let Some(worker) = worker {
            worker.abort();
        }
        // Emails requests started sending finish within the grace period; one cut short is
        // sent by another process (or this one after a restart) when its lease runs out.
        if tokio::time::timeout(grace, jobs.settle()).await.is_err() {
            tracing::warn!("stopped with emails still sending; they will be retried");
        }
        served.context("serving")
    }
}

/// Picks up edits made by other processes and forgets idle rate-limit entries.
async fn refresh_periodically(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = state.site.refresh(&state.db, state.identity.now()).await {
            tracing::warn!(error = %e, "could not refresh the practice's content; keeping the previous one");
        }
        state.contact_limit.forget_idle();
        state.attempt_limits.forget_idle();
        let now = state.identity.now();
        if let Err(e) = state.identity.sessions().purge_expired(now).await {
            tracing::warn!(error = %e, "could not purge expired sessions");
        }
    }
}

/// The job scheduler with every area's jobs.
fn scheduler(services: &crate::jobs::JobServices) -> crate::jobs::Scheduler {
    let mut scheduler = crate::jobs::Scheduler::new(services.db.clone(), services.clock.clone());
    crate::site::jobs(services, &mut scheduler);
    auth::jobs(services, &mut scheduler);
    crate::memberships::jobs(services, &mut scheduler);
    crate::billing::jobs(services, &mut scheduler);
    crate::appointments::jobs(services, &mut scheduler);
    crate::messages::jobs(services, &mut scheduler);
    scheduler
}

/// Identity's services: sessions in Redis when `redis_url` is set, else in the database.
pub async fn identity(
    settings: &Settings,
    db: &DatabaseConnection,
    keyring: &Keyring,
    clock: SharedClock,
) -> anyhow::Result<Identity> {
    let sessions: Arc<dyn SessionStore> = match &settings.redis_url {
        Some(url) => Arc::new(
            auth::redis_store::RedisSessionStore::connect(url, &settings.redis_key_prefix)
                .await
                .with_context(|| format!("connecting to Redis at {}", crate::db::redact(url)))?,
        ),
        None => Arc::new(DbSessionStore::new(db.clone())),
    };
    let practice = app::site::entity::practice::Entity::find()
        .one(db)
        .await?
        .map_or_else(|| "Bedside".to_owned(), |p| p.name);
    let config = IdentityConfig {
        sessions: SessionPolicy {
            practice_idle_minutes: settings.sessions.practice_idle_minutes,
            patient_idle_minutes: settings.sessions.patient_idle_minutes,
            absolute_hours: settings.sessions.absolute_hours,
            ..SessionPolicy::default()
        },
        lockout_after: settings.sign_in.lockout_after,
        lockout_minutes: settings.sign_in.lockout_minutes,
        issuer: practice,
    };
    Ok(Identity::new(
        db.clone(),
        keyring.clone(),
        PasswordHasher::configured(
            settings.sign_in.hashing_threads,
            settings.sign_in.hashing_queue,
        ),
        sessions,
        clock,
        config,
    ))
}

/// The app's routes, generated once per process.
///
/// Generating them runs the whole app once with resource loading switched off by a flag that is
/// global to the process (leptos_server's `SuppressResourceLoad`). A page that another
/// application in the same process is rendering at that moment, whose resource is first polled
/// while the flag is up, waits for ever (leptos-rs/leptos #4773): that was the rare stalled
/// page of DECISIONS #33, seen only where many applications are built in one process (the API
/// tests, the calendar matrix). Generated once, before any application serves, nothing can
/// render while the flag is up.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            generate_route_list(app::App)
                .into_iter()
                .filter(|route| !SERVED_BY_HANDLERS.contains(&route.path()))
                .collect()
        })
        .clone()
}

/// Pages in the route table whose requests an area's handlers answer (they decide what the page
/// shows and its status, then render it with `render_page`).
const SERVED_BY_HANDLERS: [&str; 1] = [crate::records::SHARED_RECORD_PAGE];

/// Every area's routes outside the pages and server functions: each area registers its own.
pub fn areas() -> crate::area::Area {
    crate::area::Area::new()
        .merge(crate::site::routes())
        .merge(crate::memberships::routes())
        .merge(crate::billing::routes())
        .merge(crate::appointments::routes())
        .merge(crate::records::routes())
        .merge(crate::live::routes())
        .merge(auth::routes())
}

fn router(state: AppState, security: SecurityHeaders) -> Router {
    let routes = route_list();
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(areas().into_router());
    if state.baseline.is_some() {
        router = router.route("/__baseline", get(baseline));
    }
    if let Some(clock) = state.dev_clock.clone() {
        router = router.route(
            "/dev/clock",
            get(crate::dev_clock::show_clock)
                .post(crate::dev_clock::move_clock)
                .with_state(clock),
        );
    }
    router
        .leptos_routes_with_context(&state, routes, state.leptos_context(), state.shell())
        .route_layer(middleware::from_fn(record_route))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            state.leptos_context(),
            {
                let shell = state.shell();
                move |_| shell()
            },
        ))
        .layer(middleware::from_fn(crate::security::upload_is_multipart))
        .layer(middleware::from_fn_with_state(state.clone(), auth::gate::gate))
        .with_state(state)
        .layer(middleware::from_fn(crate::api_status::server_fn_status))
        .layer(middleware::from_fn(crate::security::limit_request_body))
        .layer(middleware::from_fn_with_state(security, security_headers))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(crate::security::time_limit))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &http::Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The route's template (`/calendar/{file}`), filled in once routing has matched:
            // never the raw path, which can carry a calendar token or a name.
            tracing::info_span!("request", id, method = %request.method(), route = tracing::field::Empty)
        }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Records the matched route's template on the request's span (see the `TraceLayer` above).
async fn record_route(
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    if let Some(matched) = matched {
        tracing::Span::current().record("route", matched.as_str());
    }
    next.run(request).await
}

/// The benchmark's baseline: a static page of the same size, from the same binary and stack.
async fn baseline(State(state): State<AppState>) -> impl IntoResponse {
    Html(state.baseline.clone().unwrap_or_default())
}

/// Leptos's site options: `Leptos.toml` when present (a production install), overridden by the
/// `LEPTOS_*` variables cargo-leptos sets when it runs the server.
fn leptos_options(settings: &Settings) -> anyhow::Result<LeptosOptions> {
    let path = settings.leptos_config.to_string_lossy().into_owned();
    let file = settings.leptos_config.exists().then_some(path.as_str());
    let conf = leptos::config::get_configuration(file)
        .with_context(|| format!("reading Leptos options from {path}"))?;
    Ok(conf.leptos_options)
}

/// rustls with TLS 1.2 and 1.3 only (rustls has no older versions) and HTTP/2.
fn rustls_config(tls: &TlsSettings) -> anyhow::Result<RustlsConfig> {
    use std::{fs::File, io::BufReader};
    let certs = rustls_pemfile::certs(&mut BufReader::new(
        File::open(&tls.certificate)
            .with_context(|| format!("opening {}", tls.certificate.display()))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .context("reading the TLS certificate chain")?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(
        File::open(&tls.private_key)
            .with_context(|| format!("opening {}", tls.private_key.display()))?,
    ))
    .context("reading the TLS private key")?
    .context("no private key found in the TLS key file")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

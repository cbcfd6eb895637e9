//! An area's routes outside the Leptos server functions, with the `POST` paths among them
//! recorded as they are registered: the CSRF test enumerates every one of them (and every
//! server function), and no list kept by hand can drift from what is served.

use crate::state::AppState;
use axum::handler::Handler;
use axum::routing::post;
use axum::Router;

/// The routes one area serves, and which of them take a `POST`.
#[derive(Default)]
pub struct Area {
    router: Router<AppState>,
    posts: Vec<&'static str>,
    webhooks: Vec<&'static str>,
    link_posts: Vec<&'static str>,
}

impl Area {
    pub fn new() -> Self {
        Self::default()
    }

    /// A route taking `POST` (a form, a webhook): recorded for the CSRF test.
    pub fn post<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.posts.push(path);
        self
    }

    /// A `POST` from another server (a payment processor's events): no browser, no cookie,
    /// so the browser's cross-site gate does not apply; the handler checks the sender's
    /// signature instead. Recorded for the test that proves an unsigned one is refused.
    pub fn webhook<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.webhooks.push(path);
        self
    }

    /// A `POST` by whoever holds a link's secret (a SMART Health Link's manifest, asked for by
    /// a recipient's app from anywhere): it reads no session, so the browser's cross-site gate
    /// does not apply; the secret in the path (and the link's passcode) is the access.
    /// Recorded for the test that proves a cross-site one with a session gains nothing.
    pub fn link_post<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.link_posts.push(path);
        self
    }

    /// Answers browsers' CORS preflight (`OPTIONS`) at `path`, for a route other sites' pages
    /// may call (a share link's manifest, asked for by an SHL app running in a browser).
    pub fn preflight<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, axum::routing::options(handler));
        self
    }

    /// A route that changes nothing (`GET`: a download, a feed, an event stream).
    pub fn get<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, axum::routing::get(handler));
        self
    }

    /// Another area's routes, with its `POST` paths.
    pub fn merge(mut self, other: Area) -> Self {
        self.router = self.router.merge(other.router);
        self.posts.extend(other.posts);
        self.webhooks.extend(other.webhooks);
        self.link_posts.extend(other.link_posts);
        self
    }

    /// Every `POST` path, with `{parameters}` as they are written.
    pub fn posts(&self) -> &[&'static str] {
        &self.posts
    }

    /// Every webhook path.
    pub fn webhooks(&self) -> &[&'static str] {
        &self.webhooks
    }

    /// Every path a link's secret opens.
    pub fn link_posts(&self) -> &[&'static str] {
        &self.link_posts
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

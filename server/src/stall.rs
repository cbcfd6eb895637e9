//! A page render that stalls is rendered once more instead of leaving the person waiting.
//!
//! Very rarely (a handful of times in thousands of test requests, never reproduced alone), a
//! server-rendered page of the signed-in areas never finishes: its Leptos `<Suspense>` waits for
//! a resource that has in fact resolved, the request hangs until the 30-second timeout and the
//! person gets a 408. Leptos 0.8's Suspense has known races of this kind (leptos-rs/leptos
//! #4851 and #4673, partly fixed in 0.8.23, the version here). Until the cause is found, a
//! `GET` page that has not answered within [`STALL_AFTER`] is rendered once more from the
//! start, and the stall is logged as a warning with its path, so it stays visible.
//!
//! Only `GET`/`HEAD` requests outside `/api/` are retried: they change nothing but the session's
//! last activity and the audit log, where a second read is recorded as the second read it is.
//! A form post is never repeated, but the page it renders after its write is done is: see
//! [`render_once_more_if_stalled`], which `startup::render_page` uses.

use axum::{
    body::Body,
    http::{Method, Request},
    response::Response,
};
use futures::future::BoxFuture;
use std::{convert::Infallible, task::Poll, time::Duration};
use tower::{Layer, Service};

/// How long a page may take before it is rendered again (pages answer in milliseconds).
pub const STALL_AFTER: Duration = Duration::from_secs(10);

/// Runs `render`, and runs it once more if the first has not finished within [`STALL_AFTER`].
/// For the page a form post shows after its write: the write is done and stays done, only the
/// reading and rendering are repeated.
pub async fn render_once_more_if_stalled<F, Fut>(mut render: F) -> Response
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    match tokio::time::timeout(STALL_AFTER, render()).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                seconds = STALL_AFTER.as_secs(),
                "the page after a form post did not finish rendering; rendering it again"
            );
            render().await
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RetryStalledPagesLayer;

impl<S> Layer<S> for RetryStalledPagesLayer {
    type Service = RetryStalledPages<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryStalledPages { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RetryStalledPages<S> {
    inner: S,
}

fn retryable(request: &Request<Body>) -> bool {
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/")
}

impl<S> Service<Request<Body>> for RetryStalledPages<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone is the one polled ready above; `self.inner` stays for the next call.
        let mut first = self.inner.clone();
        std::mem::swap(&mut first, &mut self.inner);
        if !retryable(&request) {
            return Box::pin(first.call(request));
        }
        let mut second = self.inner.clone();
        let (parts, body) = request.into_parts();
        let again = Request::from_parts(parts.clone(), Body::empty());
        Box::pin(async move {
            let attempt = first.call(Request::from_parts(parts, body));
            match tokio::time::timeout(STALL_AFTER, attempt).await {
                Ok(response) => response,
                Err(_) => {
                    // The request's span names the route; the raw path could carry a token.
                    tracing::warn!(
                        seconds = STALL_AFTER.as_secs(),
                        "a page did not finish rendering; rendering it again"
                    );
                    std::future::poll_fn(|cx| second.poll_ready(cx)).await?;
                    second.call(again).await
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };
    use tower::ServiceExt;

    /// Hangs on its first call, answers on the next ones.
    fn stalls_once(
        calls: Arc<AtomicUsize>,
    ) -> RetryStalledPages<tower::util::BoxCloneService<Request<Body>, Response, Infallible>> {
        let inner = tower::service_fn(move |_request: Request<Body>| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
                Ok::<_, Infallible>("rendered".into_response())
            }
        });
        RetryStalledPagesLayer.layer(tower::util::BoxCloneService::new(inner))
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_page_is_rendered_again_and_an_api_call_is_not() {
        let calls = Arc::new(AtomicUsize::new(0));
        let page = stalls_once(calls.clone())
            .oneshot(
                Request::get("/portal")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(page.status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = Arc::new(AtomicUsize::new(0));
        let api = tokio::time::timeout(
            STALL_AFTER * 3,
            stalls_once(calls.clone()).oneshot(
                Request::get("/api/notifications/live")
                    .body(Body::empty())
                    .expect("request"),
            ),
        )
        .await;
        assert!(api.is_err(), "an API call is never repeated");
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = Arc::new(AtomicUsize::new(0));
        let post = tokio::time::timeout(
            STALL_AFTER * 3,
            stalls_once(calls.clone()).oneshot(
                Request::post("/portal/book")
                    .body(Body::empty())
                    .expect("request"),
            ),
        )
        .await;
        assert!(post.is_err(), "a form post is never repeated");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_page_after_a_post_is_rendered_again_when_it_stalls() {
        let calls = AtomicUsize::new(0);
        let page = render_once_more_if_stalled(|| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
                "rendered".into_response()
            }
        })
        .await;
        assert_eq!(page.status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = AtomicUsize::new(0);
        let quick = render_once_more_if_stalled(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { "rendered".into_response() }
        })
        .await;
        assert_eq!(quick.status(), 200);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a page that answers is rendered once"
        );
    }
}

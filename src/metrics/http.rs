//! The metrics and health HTTP endpoint (shell): HTTP/1.1 (RFC 9112) on hyper 1.
//!
//! | request | answer |
//! |---|---|
//! | `GET /metrics` | 200, every family as OpenMetrics 1.0 text ([`super::CONTENT_TYPE`]) |
//! | `GET /healthz` | 200 `ok` while the process runs |
//! | `GET /readyz` | 200 `ready` while [`Readiness`] is set, else 503 |
//! | another method on those paths | 405 with `Allow: GET` |
//! | `/admin/…` | the admin API ([`super::admin`]), when enabled |
//! | any other path | 404 |
//!
//! The endpoint must never compete with signaling: at most [`MAX_CONNECTIONS`] connections are
//! served at once (more are closed on accept), request headers must arrive within
//! [`HEADER_READ_TIMEOUT`], and a connection lives at most [`MAX_CONNECTION_LIFETIME`]. On
//! shutdown the listener stops accepting and open connections finish their current request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

use super::Metrics;
use super::admin::Admin;
use crate::app::Shutdown;

/// Connections served at once; further connections are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has to send a complete request header.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest life of one (keep-alive) connection; it is then closed after its current request.
pub const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// Time a closing connection has to finish its current response before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Whether the SBC takes traffic: set by the application once its listeners are bound, cleared
/// when it starts to drain. Clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// A flag that starts not ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the SBC ready: `/readyz` answers 200.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Marks the SBC not ready (starting or draining): `/readyz` answers 503.
    pub fn set_not_ready(&self) {
        self.0.store(false, Ordering::Release);
    }

    /// Whether the SBC is ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The metrics endpoint could not be started.
#[derive(Debug, Error)]
pub enum HttpError {
    /// The listen address could not be bound.
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Binds the metrics listener on `addr` (`[metrics] listen`).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, HttpError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until `shutdown`, one task per
/// connection. Returns once the listener is closed; open connections finish on their own.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    ready: Readiness,
    shutdown: Shutdown,
) {
    serve_with_admin(listener, metrics, ready, None, shutdown).await;
}

/// [`serve`], plus the admin API under `/admin/` when `admin` is given.
pub async fn serve_with_admin(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    ready: Readiness,
    admin: Option<Arc<Admin>>,
    shutdown: Shutdown,
) {
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, "metrics endpoint listening");
    }
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stop = shutdown.clone();
    loop {
        let stream = tokio::select! {
            () = stop.triggered() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    warn!(%error, "metrics endpoint: accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            debug!("metrics endpoint: connection limit reached, closing a new connection");
            continue;
        };
        tokio::spawn(connection(
            stream,
            Arc::clone(&metrics),
            ready.clone(),
            admin.clone(),
            shutdown.clone(),
            permit,
        ));
    }
    debug!("metrics endpoint stopped accepting");
}

/// Serves one connection until the client closes it, its lifetime ends or shutdown.
async fn connection(
    stream: TcpStream,
    metrics: Arc<Metrics>,
    ready: Readiness,
    admin: Option<Arc<Admin>>,
    mut shutdown: Shutdown,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request: Request<Incoming>| {
        let admin = admin
            .clone()
            .filter(|_| super::admin::is_admin_path(request.uri().path()));
        let response = match admin {
            Some(_) => None,
            None => Some(respond(&request, &metrics, &ready)),
        };
        async move {
            Ok::<_, Infallible>(match (response, admin) {
                (Some(response), _) => response,
                (None, Some(admin)) => super::admin::respond(&request, &admin).await,
                (None, None) => text(StatusCode::NOT_FOUND, "not found\n"),
            })
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let deadline = tokio::time::sleep(MAX_CONNECTION_LIFETIME);
    let mut deadline = std::pin::pin!(deadline);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    debug!(%error, "metrics connection ended with an error");
                }
                return;
            }
            () = shutdown.triggered(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
                deadline.as_mut().reset(tokio::time::Instant::now() + CLOSE_GRACE);
            }
            () = deadline.as_mut() => {
                if closing {
                    debug!("metrics connection did not finish in time, dropping it");
                    return;
                }
                closing = true;
                conn.as_mut().graceful_shutdown();
                deadline.as_mut().reset(tokio::time::Instant::now() + CLOSE_GRACE);
            }
        }
    }
}

/// Answers one request; never fails.
fn respond(
    request: &Request<Incoming>,
    metrics: &Metrics,
    ready: &Readiness,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    if request.method() != hyper::Method::GET {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    match path {
        "/metrics" => match metrics.encode() {
            Ok(body) => {
                let mut response = Response::new(Full::new(Bytes::from(body)));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(super::CONTENT_TYPE));
                response
            }
            Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "encoding failed\n"),
        },
        "/readyz" if ready.is_ready() => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        _ => text(StatusCode::OK, "ok\n"),
    }
}

/// A `text/plain` response.
fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

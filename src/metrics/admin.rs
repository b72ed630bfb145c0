//! The admin API (shell), served on the metrics listener next to `/metrics`: JSON answers about
//! the running SBC and a reload trigger.
//!
//! | request | answer |
//! |---|---|
//! | `GET /admin/calls` | live calls: ids, both legs (Call-IDs, URIs, tags, realms, peers, addresses), state, start |
//! | `GET /admin/registrations` | phone registrations: AoR, flow, expiry, PBX state |
//! | `GET /admin/status` | version, start time, uptime, configuration path, readiness, last reload |
//! | `POST /admin/reload` | re-reads the configuration (as SIGHUP) and answers the reload report |
//!
//! With `[admin] token_file` set every request needs `Authorization: Bearer <token>`; a missing
//! or wrong token gets 401 (the comparison is constant-time, on SHA-256 digests so the length
//! does not leak either). Answers never contain credentials, keys or message bodies. Call and
//! registration lists come from the signaling task through its bounded control channel; a task
//! that does not answer in time gives 503.
//!
//! Adding endpoints: implement [`AdminExtension`] and add it to [`Admin::extensions`] in the
//! composition root — e.g. the policy layer's `GET /admin/bans` and
//! `DELETE /admin/bans/<address>`. Extensions are asked, in order, for every authenticated path
//! the built-in routes do not serve; [`json`] builds their answers.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use aws_lc_rs::digest::{SHA256, digest};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use super::http::Readiness;
use crate::b2bua::control::ControlHandle;
use crate::reload::Reloader;

/// The admin API's bearer token, as a SHA-256 digest; replaceable at run time (reload).
#[derive(Debug, Default)]
pub struct AdminToken {
    digest: ArcSwapOption<[u8; 32]>,
}

/// The token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading failed.
    #[error("cannot read admin token file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no token.
    #[error("admin token file {0} is empty")]
    Empty(String),
}

impl AdminToken {
    /// No token: every request is accepted.
    pub fn none() -> Self {
        Self::default()
    }

    /// Uses the token in `path` (surrounding whitespace ignored), or none when `path` is `None`.
    /// On error the previous token stays.
    pub fn load(&self, path: Option<&Path>) -> Result<(), TokenError> {
        let Some(path) = path else {
            self.digest.store(None);
            return Ok(());
        };
        let text = std::fs::read(path).map_err(|source| TokenError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let token = text.trim_ascii();
        if token.is_empty() {
            return Err(TokenError::Empty(path.display().to_string()));
        }
        self.digest.store(Some(Arc::new(sha256(token))));
        Ok(())
    }

    /// Whether `authorization` (the header value) carries the token; true when none is set.
    pub fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(expected) = self.digest.load_full() else {
            return true;
        };
        let Some(given) = authorization
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .map(<[u8]>::trim_ascii)
        else {
            return false;
        };
        aws_lc_rs::constant_time::verify_slices_are_equal(&sha256(given), &*expected).is_ok()
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// More admin endpoints, served behind the same authentication (see the module docs).
pub trait AdminExtension: Send + Sync {
    /// The answer to `method` `path` if it is one of this extension's endpoints, else `None`.
    fn respond(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>>;
}

/// What the admin endpoints need.
pub struct Admin {
    /// The signaling task's control channel.
    pub control: ControlHandle,
    /// Configuration reload and status.
    pub reloader: Arc<Reloader>,
    /// The bearer token.
    pub token: Arc<AdminToken>,
    /// `/readyz` state, reported in the status.
    pub readiness: Readiness,
    /// Endpoints of other layers, asked in order.
    pub extensions: Vec<Arc<dyn AdminExtension>>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").finish_non_exhaustive()
    }
}

/// Whether `path` belongs to the admin API.
pub fn is_admin_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// Answers one admin request; never fails.
pub async fn respond<B>(request: &Request<B>, admin: &Admin) -> Response<Full<Bytes>> {
    if !admin.token.allows(request.headers().get(AUTHORIZATION)) {
        let mut response = json(StatusCode::UNAUTHORIZED, &Error::new("unauthorized"));
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    route(request.method(), request.uri().path(), admin).await
}

/// The admin routes.
async fn route(method: &Method, path: &str, admin: &Admin) -> Response<Full<Bytes>> {
    match (method, path) {
        (&Method::GET, "/admin/calls") => match admin.control.calls().await {
            Some(calls) => json(StatusCode::OK, &calls),
            None => busy(),
        },
        (&Method::GET, "/admin/registrations") => match admin.control.registrations().await {
            Some(list) => json(StatusCode::OK, &list),
            None => busy(),
        },
        (&Method::GET, "/admin/status") => {
            let status = admin.reloader.status(admin.readiness.is_ready()).await;
            json(StatusCode::OK, &status)
        }
        (&Method::POST, "/admin/reload") => {
            let report = admin.reloader.reload("admin").await;
            let code = if report.result == "ok" {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            json(code, &report)
        }
        (_, "/admin/calls" | "/admin/registrations" | "/admin/status" | "/admin/reload") => json(
            StatusCode::METHOD_NOT_ALLOWED,
            &Error::new("method not allowed"),
        ),
        _ => admin
            .extensions
            .iter()
            .find_map(|e| e.respond(method, path))
            .unwrap_or_else(|| json(StatusCode::NOT_FOUND, &Error::new("not found"))),
    }
}

/// A JSON error body.
#[derive(Serialize)]
struct Error {
    error: &'static str,
}

impl Error {
    fn new(error: &'static str) -> Self {
        Self { error }
    }
}

fn busy() -> Response<Full<Bytes>> {
    json(
        StatusCode::SERVICE_UNAVAILABLE,
        &Error::new("signaling task did not answer"),
    )
}

/// A JSON response (`application/json`, pretty-printed, newline-terminated).
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Full<Bytes>> {
    let mut bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    bytes.push(b'\n');
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_checks() {
        let dir = std::env::temp_dir().join(format!("sbc-admin-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "s3cret-token-value\n").unwrap();
        let token = AdminToken::none();
        assert!(token.allows(None), "no token configured: open");
        token.load(Some(&path)).unwrap();
        let header = |v: &str| HeaderValue::from_str(v).unwrap();
        assert!(token.allows(Some(&header("Bearer s3cret-token-value"))));
        assert!(!token.allows(Some(&header("Bearer s3cret-token-valu"))));
        assert!(!token.allows(Some(&header("Basic s3cret-token-value"))));
        assert!(!token.allows(None));
        std::fs::write(&path, "  \n").unwrap();
        assert!(matches!(token.load(Some(&path)), Err(TokenError::Empty(_))));
        assert!(
            token.allows(Some(&header("Bearer s3cret-token-value"))),
            "a failed load keeps the previous token"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// `GET /admin/bans`, answered by an extension.
    struct Bans;

    impl AdminExtension for Bans {
        fn respond(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>> {
            (method == Method::GET && path == "/admin/bans")
                .then(|| json(StatusCode::OK, &["192.0.2.7"]))
        }
    }

    fn admin(token: Arc<AdminToken>) -> Admin {
        let config = Arc::new(
            crate::config::validate::testing::check(crate::config::validate::testing::BASE)
                .expect("valid"),
        );
        let (control, _rx) = crate::b2bua::control::channel();
        #[allow(clippy::disallowed_methods)] // the test's one clock read
        let clock = crate::b2bua::cdr::WallClock::new(
            std::time::SystemTime::now(),
            std::time::Instant::now(),
        );
        let reloader = Reloader::new(
            None,
            config,
            control.clone(),
            Vec::new(),
            Arc::new(super::super::Metrics::new()),
            Arc::clone(&token),
            None,
            clock,
        );
        Admin {
            control,
            reloader: Arc::new(reloader),
            token,
            readiness: Readiness::new(),
            extensions: vec![Arc::new(Bans)],
        }
    }

    fn get(path: &str, auth: Option<&str>) -> Request<()> {
        let mut request = Request::get(path);
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        request.body(()).unwrap()
    }

    #[tokio::test]
    async fn extensions_answer_behind_the_token_and_unknown_paths_get_404() {
        let dir = std::env::temp_dir().join(format!("sbc-admin-ext-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "t0ken-for-extensions").unwrap();
        let token = Arc::new(AdminToken::none());
        token.load(Some(&path)).unwrap();
        let admin = admin(token);
        let ok = respond(
            &get("/admin/bans", Some("Bearer t0ken-for-extensions")),
            &admin,
        )
        .await;
        assert_eq!(ok.status(), StatusCode::OK);
        let refused = respond(&get("/admin/bans", None), &admin).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let missing = respond(
            &get("/admin/nope", Some("Bearer t0ken-for-extensions")),
            &admin,
        )
        .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn admin_paths() {
        assert!(is_admin_path("/admin/calls"));
        assert!(is_admin_path("/admin"));
        assert!(!is_admin_path("/administrator"));
        assert!(!is_admin_path("/metrics"));
    }
}

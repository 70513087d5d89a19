//! Who may use the admin API: whoever presents the admin password
//! (`admin_password`, else the client API key) as `Authorization: Bearer …`, or
//! the session cookie `POST /api/login` sets for it. Never open, whatever the
//! proxy's auth mode. Comparisons are constant-time; session tokens are random
//! and live in memory only (a restart logs everyone out). A request that
//! relies on the cookie and changes something must also carry
//! `X-Uplink-Admin`, which a page on another origin cannot add without a CORS
//! preflight that this server never grants with credentials.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::time::Instant;

use super::error::{AdminError, Body};
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "uplink_session";
/// The header a cookie-authenticated change must carry.
pub const CSRF_HEADER: &str = "x-uplink-admin";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// At most this many sessions; the oldest goes first.
const MAX_SESSIONS: usize = 64;

/// Where the admin password comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// `admin_password` / `UPLINK_ADMIN_PASSWORD`.
    Configured,
    /// None configured: the client API key.
    ApiKey,
    /// Neither exists: the admin API is closed.
    None,
}

impl PasswordSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordSource::Configured => "admin_password",
            PasswordSource::ApiKey => "api_key",
            PasswordSource::None => "none",
        }
    }
}

/// Logged-in browsers: token → expiry.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    fn create(&self) -> String {
        let token = format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        );
        let now = Instant::now();
        if let Ok(mut live) = self.live.lock() {
            live.retain(|_, expires| *expires > now);
            while live.len() >= MAX_SESSIONS {
                let oldest = live.iter().min_by_key(|(_, e)| **e).map(|(t, _)| t.clone());
                match oldest {
                    Some(t) => live.remove(&t),
                    None => break,
                };
            }
            live.insert(token.clone(), now + SESSION_TTL);
        }
        token
    }

    fn valid(&self, token: &str) -> bool {
        let now = Instant::now();
        let Ok(live) = self.live.lock() else {
            return false;
        };
        // Compare with every live token in constant time, so the lookup says
        // nothing about how close a guess was.
        live.iter().fold(false, |found, (t, expires)| {
            found | (bool::from(t.as_bytes().ct_eq(token.as_bytes())) && *expires > now)
        })
    }

    fn end(&self, token: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(token);
        }
    }
}

/// The admin password in force now and where it comes from.
pub fn password(state: &AppState) -> (Option<SecretString>, PasswordSource) {
    if let Some(p) = state.admin().password() {
        return (Some(p.clone()), PasswordSource::Configured);
    }
    match state.auth().key() {
        Some(key) => (Some(key.clone()), PasswordSource::ApiKey),
        None => (None, PasswordSource::None),
    }
}

fn matches(state: &AppState, presented: &str) -> bool {
    match password(state).0 {
        Some(p) => bool::from(p.expose_secret().as_bytes().ct_eq(presented.as_bytes())),
        None => false,
    }
}

const CLOSED: &str = "The admin API is closed: no admin_password is configured and the gateway has no API key. Set admin_password (or UPLINK_ADMIN_PASSWORD) and restart.";
const HOW: &str = "Log in at /ui, or send the admin password as `Authorization: Bearer <password>` (it is admin_password, or the API key when that is not set: `uplink config show-key`).";

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then_some(value)
        })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then_some(token)
}

/// The middleware in front of every admin route except log-in and the OAuth
/// callback.
pub async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<(), AdminError> {
    if let Some(token) = bearer(headers) {
        if matches(state, token) {
            return Ok(());
        }
        if password(state).1 == PasswordSource::None {
            return Err(AdminError::unauthorized(CLOSED));
        }
        return Err(AdminError::unauthorized(format!(
            "Wrong admin password in the Authorization header. {HOW}"
        )));
    }
    if let Some(token) = cookie_token(headers) {
        if !state.admin().sessions().valid(token) {
            return Err(AdminError::unauthorized(format!(
                "Your session has expired or the gateway restarted. {HOW}"
            )));
        }
        let safe = matches!(*method, Method::GET | Method::HEAD);
        if !safe && !headers.contains_key(CSRF_HEADER) {
            return Err(AdminError::new(
                http::StatusCode::FORBIDDEN,
                format!(
                    "A change made with the session cookie must carry the `{CSRF_HEADER}` header."
                ),
            ));
        }
        return Ok(());
    }
    Err(AdminError::unauthorized(format!(
        "Not logged in to the admin API. {HOW}"
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    password: String,
}

fn set_cookie(token: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("uplink_session=; Path=/; Max-Age=0"))
}

/// `POST /api/login` `{"password"}`: a session cookie for the right password.
pub async fn login(State(state): State<AppState>, Body(body): Body<Login>) -> Response {
    let (_, source) = password(&state);
    if source == PasswordSource::None {
        return AdminError::unauthorized(CLOSED).into_response();
    }
    if !matches(&state, &body.password) {
        tracing::warn!("admin log-in with a wrong password");
        let what = match source {
            PasswordSource::ApiKey => {
                "the gateway's API key (no admin_password is set; `uplink config show-key` prints the key)"
            }
            _ => "admin_password from the configuration",
        };
        return AdminError::unauthorized(format!("Wrong password. The admin password is {what}."))
            .into_response();
    }
    let token = state.admin().sessions().create();
    let mut response = axum::Json(json!({
        "ok": true,
        "expires_in_secs": SESSION_TTL.as_secs(),
    }))
    .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&token, SESSION_TTL.as_secs()),
    );
    response
}

/// `POST /api/logout`: ends the cookie's session (if any) and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_token(&headers) {
        state.admin().sessions().end(token);
    }
    let mut response = axum::Json(json!({ "ok": true })).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie("", 0));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; uplink_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_token(&h), Some("tok"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1".parse().unwrap());
        h.append(header::COOKIE, "uplink_session=t2".parse().unwrap());
        assert_eq!(cookie_token(&h), Some("t2"));
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "uplink_session=; x_uplink_session=no".parse().unwrap(),
        );
        assert_eq!(cookie_token(&h), None);
    }

    #[test]
    fn sessions_expire_end_and_are_bounded() {
        let s = Sessions::default();
        let t = s.create();
        assert!(s.valid(&t));
        assert!(!s.valid("nope"));
        assert!(!s.valid(&t[..t.len() - 1]));
        s.end(&t);
        assert!(!s.valid(&t));
        let tokens: Vec<String> = (0..MAX_SESSIONS + 5).map(|_| s.create()).collect();
        assert_eq!(s.live.lock().unwrap().len(), MAX_SESSIONS);
        assert!(s.valid(tokens.last().unwrap()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_ends_after_its_lifetime() {
        let s = Sessions::default();
        let t = s.create();
        tokio::time::advance(SESSION_TTL - Duration::from_secs(1)).await;
        assert!(s.valid(&t));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!s.valid(&t));
    }
}

//! Adding an account by signing in with Google from the browser: the admin
//! starts a sign-in (the Google URL comes back), Google redirects the browser to
//! the gateway's own `/api/oauth/callback`, which exchanges the code and stores
//! the account (the flow of [`crate::auth::login`]). Where the redirect cannot
//! reach the gateway (a phone on the LAN), the address the browser ended up on
//! can be pasted instead. The callback needs no admin session: only a sign-in
//! an admin started, named by its unguessable `state`, can complete.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::error::{AdminError, Body};
use crate::auth::login::{LoginError, PendingLogin};
use crate::state::AppState;

/// The callback's path on the gateway.
pub const CALLBACK_PATH: &str = "/api/oauth/callback";
/// A sign-in not completed within this is forgotten.
const LIFETIME: Duration = Duration::from_secs(15 * 60);
/// At most this many sign-ins are remembered at once.
const MAX_LOGINS: usize = 16;

#[derive(Debug, Clone)]
enum Phase {
    Waiting(Arc<PendingLogin>),
    Exchanging,
    Done {
        id: i64,
        email: String,
        added: bool,
        reactivated: bool,
    },
    Failed(String),
}

#[derive(Debug)]
struct Login {
    phase: Phase,
    started: Instant,
}

/// Sign-ins in progress (and recently finished), by `state`.
#[derive(Debug, Default)]
pub struct Logins {
    all: Mutex<HashMap<String, Login>>,
}

impl Logins {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Login>) -> T) -> Option<T> {
        let mut all = self.all.lock().ok()?;
        let now = Instant::now();
        all.retain(|_, l| now.duration_since(l.started) < LIFETIME);
        Some(f(&mut all))
    }

    fn add(&self, pending: PendingLogin) {
        let state = pending.state().to_owned();
        self.with(|all| {
            while all.len() >= MAX_LOGINS {
                let oldest = all
                    .iter()
                    .min_by_key(|(_, l)| l.started)
                    .map(|(s, _)| s.clone());
                match oldest {
                    Some(s) => all.remove(&s),
                    None => break,
                };
            }
            all.insert(
                state,
                Login {
                    phase: Phase::Waiting(Arc::new(pending)),
                    started: Instant::now(),
                },
            );
        });
    }

    fn phase(&self, state: &str) -> Option<Phase> {
        self.with(|all| all.get(state).map(|l| l.phase.clone()))
            .flatten()
    }

    /// Take a waiting sign-in for completion (one caller only).
    fn claim(&self, state: &str) -> Result<Arc<PendingLogin>, AdminError> {
        self.with(|all| match all.get_mut(state) {
            None => Err(AdminError::not_found(
                "No such sign-in (it expired after 15 minutes, or the gateway restarted). Start again.",
            )),
            Some(login) => match &login.phase {
                Phase::Waiting(pending) => {
                    let pending = pending.clone();
                    login.phase = Phase::Exchanging;
                    Ok(pending)
                }
                _ => Err(AdminError::conflict("This sign-in was already completed.")),
            },
        })
        .unwrap_or_else(|| Err(AdminError::internal("sign-in state unavailable")))
    }

    fn finish(&self, state: &str, phase: Phase) {
        self.with(|all| {
            if let Some(login) = all.get_mut(state) {
                login.phase = phase;
            }
        });
    }
}

fn describe(state: &str, phase: &Phase) -> Value {
    match phase {
        Phase::Waiting(_) => json!({ "state": state, "status": "pending" }),
        Phase::Exchanging => json!({ "state": state, "status": "exchanging" }),
        Phase::Done {
            id,
            email,
            added,
            reactivated,
        } => json!({
            "state": state, "status": "done", "account_id": id, "email": email,
            "added": added, "reactivated": reactivated,
        }),
        Phase::Failed(message) => json!({ "state": state, "status": "failed", "error": message }),
    }
}

/// The redirect URI for a gateway listening where it does now: loopback when it
/// listens there or everywhere (Google accepts any loopback port for desktop
/// clients), else its own address.
fn redirect_uri(state: &AppState) -> String {
    let addr = state.admin().listener().addr();
    let ip = match addr.ip() {
        ip if ip.is_unspecified() || ip.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let host = match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    format!("http://{host}:{}{CALLBACK_PATH}", addr.port())
}

/// `POST /api/accounts/oauth`: start a sign-in; open the returned `url`.
pub async fn start(State(state): State<AppState>) -> Result<Json<Value>, AdminError> {
    let redirect = redirect_uri(&state);
    let pending = PendingLogin::start(&state.config().oauth, &redirect).map_err(|e| match e {
        LoginError::NoClient => AdminError::bad_request(e.to_string()),
        other => AdminError::internal(other.to_string()),
    })?;
    let body = json!({
        "url": pending.url(),
        "state": pending.state(),
        "redirect_uri": redirect,
        "expires_in_secs": LIFETIME.as_secs(),
    });
    state.admin().logins.add(pending);
    Ok(Json(body))
}

/// `GET /api/accounts/oauth/{state}`: pending, exchanging, done or failed.
pub async fn status(
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let phase = state
        .admin()
        .logins
        .phase(&login)
        .ok_or_else(|| AdminError::not_found("No such sign-in (it may have expired)."))?;
    Ok(Json(describe(&login, &phase)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pasted {
    /// The address the browser ended up on, its query, or the bare code.
    input: String,
}

/// `POST /api/accounts/oauth/{state}/complete` `{"input"}`.
pub async fn complete_pasted(
    State(state): State<AppState>,
    Path(login): Path<String>,
    Body(body): Body<Pasted>,
) -> Result<Json<Value>, AdminError> {
    let pending = state.admin().logins.claim(&login)?;
    let code = match pending.code_from_input(&body.input) {
        Ok(code) => code,
        Err(e) => {
            // A typo should not burn the sign-in: let it be pasted again.
            state
                .admin()
                .logins
                .finish(&login, Phase::Waiting(pending.clone()));
            return Err(AdminError::bad_request(e.to_string()));
        }
    };
    let phase = complete(&state, &pending, &code).await;
    state.admin().logins.finish(&login, phase.clone());
    match &phase {
        Phase::Failed(message) => Err(AdminError::bad_gateway(message.clone())),
        _ => Ok(Json(describe(&login, &phase))),
    }
}

/// Exchange the code, store the account and reload the pool.
async fn complete(state: &AppState, pending: &PendingLogin, code: &str) -> Phase {
    let signed_in = match pending.complete(&state.upstreams().oauth, code).await {
        Ok(s) => s,
        Err(e) => return Phase::Failed(e.to_string()),
    };
    let stored = match signed_in.store(state.storage()).await {
        Ok(s) => s,
        Err(e) => return Phase::Failed(format!("could not store the account: {e}")),
    };
    if let Err(e) = state.pool().reload(state.storage()).await {
        return Phase::Failed(format!("stored, but the pool could not reload: {e}"));
    }
    tracing::info!(account = %signed_in.email, "account signed in from the admin UI");
    Phase::Done {
        id: stored.id,
        email: signed_in.email,
        added: stored.added,
        reactivated: stored.reactivated,
    }
}

/// `GET /api/oauth/callback?state&code`: where Google sends the browser back.
pub async fn callback(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let login = params
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let pending = match state.admin().logins.claim(&login) {
        Ok(p) => p,
        Err(e) => return page(e.status, "Sign-in failed", &e.message),
    };
    let phase = match pending.code_from_params(&params) {
        Ok(code) => complete(&state, &pending, &code).await,
        Err(e) => Phase::Failed(e.to_string()),
    };
    state.admin().logins.finish(&login, phase.clone());
    match phase {
        Phase::Done { email, added, .. } => page(
            StatusCode::OK,
            "Signed in",
            &format!(
                "{email} was {} Uplink. You can close this tab and go back to the Accounts page.",
                if added { "added to" } else { "updated in" }
            ),
        ),
        Phase::Failed(message) => page(StatusCode::BAD_REQUEST, "Sign-in failed", &message),
        _ => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "unexpected state",
        ),
    }
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Uplink: {t}</title><link rel=\"stylesheet\" href=\"/ui/style.css\">\
         <main class=\"callback\"><h1>{t}</h1><p>{m}</p><p><a href=\"/ui/#/accounts\">Back to Uplink</a></p></main></html>",
        t = escape(title),
        m = escape(message)
    );
    (status, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

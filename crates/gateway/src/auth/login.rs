//! Adding an upstream account by signing in with Google: the OAuth 2.0
//! authorization-code flow with PKCE (S256) and a loopback redirect, asking for
//! the scopes Antigravity asks for. Callers (the `uplink accounts login` command,
//! later the admin API) [`PendingLogin::start`] a sign-in (URL, state, verifier),
//! get the code back — from [`receive_callback`] on a loopback listener or from a
//! pasted redirect URL ([`PendingLogin::code_from_input`]) — then
//! [`PendingLogin::complete`] it and [`SignedIn::store`] the account.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use http::StatusCode;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::OAuthConfig;
use crate::storage::{NewAccount, Storage, StorageError};
use crate::upstream::UpstreamError;
use crate::upstream::oauth::OAuth;

/// The scopes Antigravity requests: Cloud Code, the account's identity, and the
/// two Antigravity-specific ones.
pub const SCOPES: [&str; 5] = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/cclog",
    "https://www.googleapis.com/auth/experimentsandconfigs",
];

/// The path Google redirects to on the loopback listener.
pub const CALLBACK_PATH: &str = "/oauth-callback";

/// How long the listener may keep answering after the callback arrived.
const CALLBACK_LINGER: Duration = Duration::from_secs(2);

/// `http://127.0.0.1:<port>/oauth-callback`.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PATH}")
}

/// Why a sign-in failed. Never contains a token, code or verifier.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "oauth.client_id is not configured: set it (and oauth.client_secret) to the OAuth client to sign in with (env UPLINK_OAUTH_CLIENT_ID / UPLINK_OAUTH_CLIENT_SECRET)"
    )]
    NoClient,
    #[error("oauth.auth_url `{0}` is not a URL")]
    BadAuthUrl(String),
    #[error("Google refused the sign-in: {0}")]
    Denied(String),
    #[error(
        "the redirect's state does not match this sign-in (a stale or forged redirect); nothing was stored, run the login again"
    )]
    StateMismatch,
    #[error("the redirect carries no authorization code")]
    NoCode,
    #[error("no sign-in completed within {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("cannot listen for the redirect: {0}")]
    Listen(std::io::Error),
    #[error("exchanging the authorization code failed: {}", describe(.0))]
    Exchange(UpstreamError),
    #[error(
        "Google returned no refresh token; remove the app's access at https://myaccount.google.com/permissions and sign in again"
    )]
    NoRefreshToken,
    #[error("asking Google who the account is failed: {}", describe(.0))]
    UserInfo(UpstreamError),
    #[error("Google did not say the account's email (was the userinfo.email scope granted?)")]
    NoEmail,
    #[error("SHA-256 is unavailable")]
    NoSha256,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn describe(e: &UpstreamError) -> String {
    if e.status == 0 {
        e.message.clone()
    } else {
        format!("HTTP {}: {}", e.status, e.message)
    }
}

/// A sign-in in progress: the URL to open and what checks the answer.
#[derive(Debug)]
pub struct PendingLogin {
    url: String,
    redirect_uri: String,
    state: String,
    verifier: SecretString,
}

impl PendingLogin {
    /// A new sign-in that redirects to `redirect_uri` (see [`redirect_uri`]).
    pub fn start(config: &OAuthConfig, redirect_uri: &str) -> Result<Self, LoginError> {
        let client_id = config.client_id.as_deref().ok_or(LoginError::NoClient)?;
        let state = random_token();
        let verifier = random_token();
        let challenge = pkce_challenge(&verifier)?;
        let mut url = url::Url::parse(&config.auth_url)
            .map_err(|_| LoginError::BadAuthUrl(config.auth_url.clone()))?;
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &SCOPES.join(" "))
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("include_granted_scopes", "true")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(Self {
            url: url.into(),
            redirect_uri: redirect_uri.to_owned(),
            state,
            verifier: SecretString::from(verifier),
        })
    }

    /// The authorization URL to open in a browser.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The anti-forgery `state` the redirect must carry back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The code in what a user pasted: the whole redirect URL (its state is
    /// checked), its query string, or the bare code.
    pub fn code_from_input(&self, input: &str) -> Result<String, LoginError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(LoginError::NoCode);
        }
        let query = if input.contains("://") {
            url::Url::parse(input)
                .map_err(|_| LoginError::NoCode)?
                .query()
                .unwrap_or("")
                .to_owned()
        } else if input.contains("code=") || input.contains("state=") || input.contains("error=") {
            input.rsplit_once('?').map_or(input, |(_, q)| q).to_owned()
        } else if input.chars().any(char::is_whitespace) {
            return Err(LoginError::NoCode);
        } else {
            return Ok(input.to_owned());
        };
        let params: Vec<(String, String)> = url::Url::parse(&format!("http://x/?{query}"))
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default();
        code_from(&params, &self.state)
    }

    /// The code in the redirect's query parameters, after checking its state.
    pub fn code_from_params(&self, params: &[(String, String)]) -> Result<String, LoginError> {
        code_from(params, &self.state)
    }

    /// Exchange the code (with the PKCE verifier) and ask who signed in.
    pub async fn complete(&self, oauth: &OAuth, code: &str) -> Result<SignedIn, LoginError> {
        let grant = oauth
            .exchange_code(
                code,
                &self.redirect_uri,
                Some(self.verifier.expose_secret()),
            )
            .await
            .map_err(LoginError::Exchange)?;
        let refresh_token = grant.refresh_token.ok_or(LoginError::NoRefreshToken)?;
        let info = oauth
            .userinfo(&grant.access.token)
            .await
            .map_err(LoginError::UserInfo)?;
        let email = info
            .email
            .filter(|e| !e.trim().is_empty())
            .ok_or(LoginError::NoEmail)?;
        Ok(SignedIn {
            email,
            name: info.name,
            refresh_token,
        })
    }
}

fn code_from(params: &[(String, String)], expected_state: &str) -> Result<String, LoginError> {
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if let Some(error) = get("error") {
        let detail = get("error_description").map_or(String::new(), |d| format!(" ({d})"));
        return Err(LoginError::Denied(format!("{error}{detail}")));
    }
    let state = get("state").unwrap_or("");
    if !bool::from(state.as_bytes().ct_eq(expected_state.as_bytes())) {
        return Err(LoginError::StateMismatch);
    }
    get("code")
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .ok_or(LoginError::NoCode)
}

/// Who signed in, with their refresh token.
#[derive(Debug)]
pub struct SignedIn {
    pub email: String,
    pub name: Option<String>,
    pub refresh_token: SecretString,
}

/// What storing a signed-in account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    /// A new account (not an update of one with the same email).
    pub added: bool,
    /// It had been disabled because its old token was revoked, and is active again.
    pub reactivated: bool,
}

impl SignedIn {
    /// Add the account, or give the account with this email the new token.
    pub async fn store(&self, storage: &Storage) -> Result<Stored, StorageError> {
        let existed = storage.find_account(&self.email).await?.is_some();
        let id = storage
            .upsert_account(&NewAccount {
                email: Some(self.email.clone()),
                refresh_token: self.refresh_token.expose_secret().to_owned(),
                project_id: None,
            })
            .await?;
        let reactivated = storage.reactivate_if_revoked(id).await?;
        Ok(Stored {
            id,
            added: !existed,
            reactivated,
        })
    }
}

struct Callback {
    state: String,
    outcome: mpsc::Sender<Result<String, LoginError>>,
}

/// Serve `listener` until Google's redirect arrives at [`CALLBACK_PATH`] and
/// return its code (state checked). A redirect with a wrong state or an error
/// ends the wait with that error; other paths get 404; `timeout` ends it too.
pub async fn receive_callback(
    listener: TcpListener,
    pending: &PendingLogin,
    timeout: Duration,
) -> Result<String, LoginError> {
    let (tx, mut rx) = mpsc::channel(1);
    let app = Router::new()
        .route(CALLBACK_PATH, get(callback))
        .with_state(Arc::new(Callback {
            state: pending.state.clone(),
            outcome: tx,
        }));
    let stop = CancellationToken::new();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .into_future();
    tokio::pin!(server);
    let outcome = tokio::select! {
        served = &mut server => Err(LoginError::Listen(served.err().unwrap_or_else(|| {
            std::io::Error::other("the listener stopped")
        }))),
        received = rx.recv() => received.unwrap_or(Err(LoginError::NoCode)),
        () = tokio::time::sleep(timeout) => Err(LoginError::Timeout(timeout)),
    };
    // Let the browser's page finish loading, then close.
    stop.cancel();
    let _ = tokio::time::timeout(CALLBACK_LINGER, server).await;
    outcome
}

async fn callback(
    State(callback): State<Arc<Callback>>,
    Query(params): Query<Vec<(String, String)>>,
) -> (StatusCode, Html<String>) {
    let outcome = code_from(&params, &callback.state);
    let page = match &outcome {
        Ok(_) => (
            StatusCode::OK,
            page(
                "Signed in",
                "Uplink received the sign-in. You can close this tab and return to the terminal.",
            ),
        ),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            page("Sign-in failed", &e.to_string()),
        ),
    };
    // Only the first redirect counts; later ones find the channel full or closed.
    let _ = callback.outcome.try_send(outcome);
    page
}

fn page(title: &str, message: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Uplink: {t}</title><h1>{t}</h1><p>{m}</p>",
        t = escape(title),
        m = escape(message)
    ))
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// 32 random bytes, base64url: a PKCE verifier (43 characters) or a state.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64url(&bytes)
}

/// The S256 code challenge of a PKCE verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> Result<String, LoginError> {
    sha256(verifier.as_bytes()).map(|digest| base64url(&digest))
}

/// SHA-256 from the TLS stack's crypto provider (ring), already in the build.
fn sha256(data: &[u8]) -> Result<Vec<u8>, LoginError> {
    use rustls::crypto::hash::HashAlgorithm;
    match rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256 {
        rustls::SupportedCipherSuite::Tls13(suite)
            if suite.common.hash_provider.algorithm() == HashAlgorithm::SHA256 =>
        {
            Ok(suite.common.hash_provider.hash(data).as_ref().to_vec())
        }
        _ => Err(LoginError::NoSha256),
    }
}

/// Base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig {
            token_url: "http://127.0.0.1:9/token".into(),
            auth_url: "https://accounts.example/o/oauth2/v2/auth".into(),
            userinfo_url: "http://127.0.0.1:9/userinfo".into(),
            client_id: Some("client-1".into()),
            client_secret: None,
        }
    }

    #[test]
    fn pkce_matches_rfc_7636_and_base64url_has_no_padding() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        let token = random_token();
        assert_eq!(token.len(), 43);
        assert_ne!(token, random_token());
    }

    #[test]
    fn the_authorization_url_asks_for_offline_consent_with_pkce() {
        let login = PendingLogin::start(&config(), &redirect_uri(4321)).unwrap();
        let url = url::Url::parse(login.url()).unwrap();
        assert_eq!(url.host_str(), Some("accounts.example"));
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "client-1");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:4321/oauth-callback");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["scope"], SCOPES.join(" "));
        assert_eq!(q["state"], login.state());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            q["code_challenge"],
            pkce_challenge(login.verifier.expose_secret()).unwrap()
        );
        assert!(!login.url().contains(login.verifier.expose_secret()));

        let no_client = OAuthConfig {
            client_id: None,
            ..config()
        };
        assert!(matches!(
            PendingLogin::start(&no_client, "x"),
            Err(LoginError::NoClient)
        ));
    }

    #[test]
    fn pasted_input_gives_the_code_and_checks_the_state() {
        let login = PendingLogin::start(&config(), &redirect_uri(1)).unwrap();
        let state = login.state().to_owned();
        let url =
            format!("http://127.0.0.1:1/oauth-callback?state={state}&code=4%2F0Abc&scope=email");
        assert_eq!(login.code_from_input(&url).unwrap(), "4/0Abc");
        assert_eq!(
            login
                .code_from_input(&format!("  ?code=c1&state={state}\n"))
                .unwrap(),
            "c1"
        );
        assert_eq!(
            login.code_from_input("4/0Bare-code").unwrap(),
            "4/0Bare-code"
        );
        assert!(matches!(
            login.code_from_input("http://127.0.0.1:1/oauth-callback?state=nope&code=c"),
            Err(LoginError::StateMismatch)
        ));
        assert!(matches!(
            login.code_from_input("http://127.0.0.1:1/oauth-callback?code=c"),
            Err(LoginError::StateMismatch)
        ));
        assert!(matches!(
            login.code_from_input(&format!("?state={state}&error=access_denied")),
            Err(LoginError::Denied(e)) if e == "access_denied"
        ));
        assert!(matches!(
            login.code_from_input(&format!("?state={state}")),
            Err(LoginError::NoCode)
        ));
        assert!(matches!(
            login.code_from_input("  "),
            Err(LoginError::NoCode)
        ));
        assert!(matches!(
            login.code_from_input("two words"),
            Err(LoginError::NoCode)
        ));
    }

    #[test]
    fn pages_escape_what_they_echo() {
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}

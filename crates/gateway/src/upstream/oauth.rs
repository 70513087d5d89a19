//! Google OAuth: refreshing access tokens, exchanging authorization codes, and
//! asking who an account is. Endpoints and client credentials are configuration.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use uplink_protocol::error::ErrorKind;

use super::error::{AccountChange, Next, UpstreamError};
use super::http::{Http, MAX_ANSWER_BYTES, read_body};
use crate::config::OAuthConfig;

/// Refresh this long before the token expires, so a request never starts with a
/// token about to die.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// An access token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: SecretString,
    pub expires_at: Instant,
}

impl AccessToken {
    pub fn is_fresh(&self) -> bool {
        Instant::now() + REFRESH_MARGIN < self.expires_at
    }
}

/// What a code exchange returns.
#[derive(Debug)]
pub struct Grant {
    pub access: AccessToken,
    pub refresh_token: Option<SecretString>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// `GET userinfo`.
#[derive(Debug, Clone, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OAuth {
    http: Http,
    config: OAuthConfig,
}

impl OAuth {
    pub fn new(http: Http, config: OAuthConfig) -> Self {
        Self { http, config }
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    fn client(&self) -> Result<(&str, &str), UpstreamError> {
        match &self.config.client_id {
            Some(id) => Ok((
                id,
                self.config
                    .client_secret
                    .as_ref()
                    .map_or("", |s| s.expose_secret()),
            )),
            None => Err(UpstreamError {
                kind: ErrorKind::Unavailable,
                next: Next::Fail,
                ..UpstreamError::network(
                    "oauth.client_id is not configured: set it (and oauth.client_secret) to the OAuth client that issued your accounts' refresh tokens",
                )
            }),
        }
    }

    /// Trade a refresh token for an access token. `invalid_grant` disables the
    /// account: the token was revoked or expired and will never work again.
    pub async fn refresh(
        &self,
        refresh_token: &SecretString,
    ) -> Result<AccessToken, UpstreamError> {
        let (client_id, client_secret) = self.client()?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ];
        self.token_request(&form).await.map(|grant| grant.access)
    }

    /// Exchange an authorization code (the login flow).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<Grant, UpstreamError> {
        let (client_id, client_secret) = self.client()?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ];
        if let Some(v) = code_verifier {
            form.push(("code_verifier", v));
        }
        self.token_request(&form).await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Grant, UpstreamError> {
        let response = self
            .http
            .post(self.config.token_url.as_str())
            .form(form)
            .send()
            .await
            .map_err(|e| {
                UpstreamError::network(format!("OAuth token endpoint unreachable: {e}"))
            })?;
        let status = response.status().as_u16();
        let body = read_body(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| UpstreamError::network(format!("OAuth token response cut: {e}")))?;
        if (200..300).contains(&status) {
            let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                UpstreamError::network(format!("OAuth token response is not valid JSON: {e}"))
            })?;
            return Ok(Grant {
                access: AccessToken {
                    token: SecretString::from(parsed.access_token),
                    expires_at: Instant::now()
                        + Duration::from_secs(parsed.expires_in.unwrap_or(3600)),
                },
                refresh_token: parsed.refresh_token.map(SecretString::from),
            });
        }
        let error: Option<TokenError> = serde_json::from_slice(&body).ok();
        match error {
            Some(e) if e.error == "invalid_grant" => {
                let reason = format!(
                    "invalid_grant: {}",
                    e.error_description
                        .as_deref()
                        .unwrap_or("the refresh token was revoked or expired")
                );
                Err(UpstreamError {
                    kind: ErrorKind::Authentication,
                    status,
                    next: Next::Rotate,
                    change: Some(AccountChange::Disable {
                        reason: reason.clone(),
                    }),
                    ..UpstreamError::network(reason)
                })
            }
            _ => Err(UpstreamError::from_google(status, &body, None)),
        }
    }

    pub async fn userinfo(&self, access: &SecretString) -> Result<UserInfo, UpstreamError> {
        let response = self
            .http
            .get(self.config.userinfo_url.as_str())
            .bearer_auth(access.expose_secret())
            .send()
            .await
            .map_err(|e| UpstreamError::network(format!("userinfo unreachable: {e}")))?;
        let status = response.status().as_u16();
        let body = read_body(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| UpstreamError::network(format!("userinfo response cut: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(UpstreamError::from_google(status, &body, None));
        }
        serde_json::from_slice(&body)
            .map_err(|e| UpstreamError::network(format!("userinfo is not valid JSON: {e}")))
    }
}

//! The Cloud Code `v1internal` upstream: POSTs with endpoint fallback, project
//! discovery (`loadCodeAssist`, `onboardUser`), token counting, and the stream of
//! IR events a `streamGenerateContent` answer becomes.

use std::time::Duration;

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::error::UpstreamError;
use super::http::{Body, Http, MAX_ANSWER_BYTES, Response, read_body, retry_after};
use crate::config::CloudCodeConfig;

/// How often and how long to poll `onboardUser` for a new project.
const ONBOARD_POLLS: u32 = 10;
const ONBOARD_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct CloudCode {
    http: Http,
    config: CloudCodeConfig,
    /// `{endpoint}:streamGenerateContent?alt=sse` per endpoint, parsed once:
    /// every proxied request posts there, and parsing a URL is not free.
    stream_urls: Vec<Option<http::Uri>>,
}

/// The method every proxied request calls.
const STREAM_METHOD: (&str, &str) = ("streamGenerateContent", "?alt=sse");

impl CloudCode {
    pub fn new(http: Http, config: CloudCodeConfig) -> Self {
        let stream_urls = config
            .endpoints
            .iter()
            .map(|endpoint| {
                let (method, query) = STREAM_METHOD;
                http::Uri::try_from(format!("{endpoint}:{method}{query}")).ok()
            })
            .collect();
        Self {
            http,
            config,
            stream_urls,
        }
    }

    pub fn user_agent(&self) -> &str {
        &self.config.user_agent
    }

    /// POST `{endpoint}:{method}{query}` to each endpoint in order, moving on after
    /// a network error, 404, 408 or 5xx. Returns the first other response (success
    /// or a client error for the caller to classify), or the last failure.
    pub async fn post(
        &self,
        method: &str,
        query: &str,
        token: &SecretString,
        body: impl Into<Body>,
    ) -> Result<Response, UpstreamError> {
        let body = body.into();
        let mut last = UpstreamError::network("no Cloud Code endpoint is configured");
        for (i, endpoint) in self.config.endpoints.iter().enumerate() {
            let parsed = self
                .stream_urls
                .get(i)
                .filter(|_| (method, query) == STREAM_METHOD)
                .and_then(Option::clone);
            let request = match parsed {
                Some(url) => self.http.post(url),
                None => self.http.post(format!("{endpoint}:{method}{query}")),
            };
            let sent = request
                .bearer_auth(token.expose_secret())
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::USER_AGENT, &self.config.user_agent)
                .body_parts(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(endpoint = %endpoint, "Cloud Code endpoint unreachable: {e}");
                    last = UpstreamError::network(format!(
                        "Cloud Code endpoint {endpoint} unreachable: {e}"
                    ));
                    continue;
                }
            };
            let status = response.status().as_u16();
            if status == 404 || status == 408 || status >= 500 {
                let retry_after = retry_after(&response);
                let body = read_body(response, MAX_ANSWER_BYTES)
                    .await
                    .unwrap_or_default();
                tracing::debug!(endpoint = %endpoint, status, "Cloud Code endpoint failed; trying the next");
                last = UpstreamError::from_google(status, &body, retry_after);
                continue;
            }
            return Ok(response);
        }
        Err(last)
    }

    /// POST and read a JSON answer; non-2xx answers are classified.
    pub async fn post_json(
        &self,
        method: &str,
        token: &SecretString,
        body: &Value,
    ) -> Result<Value, UpstreamError> {
        let response = self
            .post(method, "", token, Bytes::from(body.to_string()))
            .await?;
        read_json(response).await
    }

    /// The account's Cloud Code project: `loadCodeAssist`, and when the account
    /// has none yet, `onboardUser` polled until the operation completes.
    pub async fn discover_project(&self, token: &SecretString) -> Result<String, UpstreamError> {
        let metadata = json!({
            "ideType": "ANTIGRAVITY",
            "platform": "PLATFORM_UNSPECIFIED",
            "pluginType": "GEMINI",
        });
        let loaded = self
            .post_json("loadCodeAssist", token, &json!({ "metadata": metadata }))
            .await?;
        if let Some(project) = project_of(loaded.get("cloudaicompanionProject")) {
            return Ok(project);
        }
        let tier = loaded
            .get("allowedTiers")
            .and_then(Value::as_array)
            .and_then(|tiers| {
                tiers
                    .iter()
                    .find(|t| t.get("isDefault").and_then(Value::as_bool) == Some(true))
                    .or_else(|| tiers.first())
            })
            .and_then(|t| t.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("free-tier")
            .to_owned();
        let request = json!({ "tierId": tier, "metadata": metadata });
        for attempt in 0..ONBOARD_POLLS {
            let operation = self.post_json("onboardUser", token, &request).await?;
            if operation.get("done").and_then(Value::as_bool) == Some(true) {
                let response = operation.get("response");
                return project_of(response.and_then(|r| r.get("cloudaicompanionProject")))
                    .ok_or_else(|| UpstreamError::empty("onboardUser finished without a project"));
            }
            if attempt + 1 < ONBOARD_POLLS {
                tokio::time::sleep(ONBOARD_INTERVAL).await;
            }
        }
        Err(UpstreamError::timeout(
            "onboardUser did not finish: the account has no Cloud Code project yet",
        ))
    }
}

/// A project given as `"id"` or `{"id": "…"}`.
fn project_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        _ => None,
    }
}

/// Read a JSON body, classifying a non-2xx status.
pub async fn read_json(response: Response) -> Result<Value, UpstreamError> {
    let status = response.status().as_u16();
    let retry = retry_after(&response);
    let body = read_body(response, MAX_ANSWER_BYTES)
        .await
        .map_err(|e| UpstreamError::network(format!("upstream response cut: {e}")))?;
    if !(200..300).contains(&status) {
        return Err(UpstreamError::from_google(status, &body, retry));
    }
    serde_json::from_slice(&body)
        .map_err(|e| UpstreamError::network(format!("upstream answered invalid JSON: {e}")))
}

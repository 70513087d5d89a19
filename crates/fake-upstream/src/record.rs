//! The request log: every request the fake receives (except `/__fake` control calls).

use std::collections::BTreeMap;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One received request, as the fake saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Order of arrival, starting at 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Full path, e.g. `/ep1/v1internal:generateContent`.
    pub path: String,
    /// Raw query string, if any (e.g. `alt=sse`).
    pub query: Option<String>,
    /// Headers, names lower-cased (a repeated header keeps its last value).
    pub headers: BTreeMap<String, String>,
    /// Parsed JSON body (for form-encoded `/token` calls: an object of the form fields).
    pub body: Option<Value>,
    /// Cloud Code method (`generateContent`, `loadCodeAssist`, ...), `token` or `userinfo`.
    pub endpoint: String,
    /// Path prefix before `/v1internal` (empty for the default base).
    pub prefix: String,
    /// Account the request was attributed to (by access token or refresh token).
    pub account: Option<String>,
    /// Status code the fake answered with.
    pub status: u16,
    /// API-key provider (`anthropic`, `openai`, `gemini`); `None` for Cloud Code and OAuth.
    #[serde(default)]
    pub provider: Option<String>,
}

impl RecordedRequest {
    /// Whether this is a generate call: `generateContent` or `streamGenerateContent`
    /// (Cloud Code and Gemini API), Anthropic `messages`, OpenAI `chat/completions`.
    pub fn is_generate(&self) -> bool {
        matches!(
            self.endpoint.as_str(),
            "generateContent" | "streamGenerateContent" | "messages" | "chat/completions"
        )
    }

    /// A header value by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Lower-cased header map as recorded.
pub(crate) fn headers_of(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Filters for [`crate::FakeUpstream::requests_matching`] and `GET /__fake/requests`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestFilter {
    /// Only this endpoint (`generateContent`, `token`, ...).
    pub endpoint: Option<String>,
    /// Only requests attributed to this account (an email, or an API key's label).
    #[serde(alias = "account", alias = "label")]
    pub email: Option<String>,
    /// Only requests under this prefix (`""` for the default base).
    pub prefix: Option<String>,
    /// Only requests to this API-key provider (`anthropic`, `openai`, `gemini`).
    pub provider: Option<String>,
}

impl RequestFilter {
    pub(crate) fn matches(&self, r: &RecordedRequest) -> bool {
        self.endpoint.as_ref().is_none_or(|e| *e == r.endpoint)
            && self
                .email
                .as_ref()
                .is_none_or(|e| r.account.as_deref() == Some(e.as_str()))
            && self.prefix.as_ref().is_none_or(|p| *p == r.prefix)
            && self
                .provider
                .as_ref()
                .is_none_or(|p| r.provider.as_deref() == Some(p.as_str()))
    }
}

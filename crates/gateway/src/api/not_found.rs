//! 404 for unknown paths, in the caller's protocol, with a hint when the path looks
//! like a base URL was configured wrongly (`/v1/v1/...`, `/v1/chat/completions/responses`).

use axum::extract::Request;
use uplink_protocol::error::ErrorKind;

use super::{ApiError, dialect};

/// Endpoints a client may have stacked onto a base URL.
const ENDPOINTS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1/models",
    "/v1beta/models",
];

pub async fn not_found(req: Request) -> ApiError {
    let path = req.uri().path();
    let dialect = dialect::detect(path, req.headers(), req.uri().query());
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8045");
    ApiError::new(
        dialect,
        ErrorKind::NotFound,
        message(req.method(), path, host),
    )
}

fn message(method: &http::Method, path: &str, host: &str) -> String {
    let guide = format!(
        "Base URLs: OpenAI SDKs and Codex use http://{host}/v1; the Anthropic SDK, Claude Code and Gemini clients use http://{host} (without /v1)."
    );
    if let Some(hint) = stacked_hint(path) {
        return format!("Unknown path {method} {path}: {hint} {guide}");
    }
    format!(
        "Unknown path {method} {path}. Uplink serves /v1/chat/completions, /v1/completions, /v1/responses, /v1/models, /v1/messages and /v1beta/models/{{model}}:generateContent. {guide}"
    )
}

/// Why a path that contains a known endpoint is still unknown.
fn stacked_hint(path: &str) -> Option<String> {
    if path.contains("/v1/v1/") || path.contains("/v1beta/v1beta/") || path.contains("/v1/v1beta/")
    {
        return Some("the version prefix appears twice, so the client's base URL already ends in it and the client adds it again.".to_owned());
    }
    ENDPOINTS.iter().find_map(|endpoint| {
        let at = path.find(endpoint)?;
        let after = &path[at + endpoint.len()..];
        let before = &path[..at];
        let stacked_after = !after.is_empty() && !after.starts_with('/') && !after.starts_with(':')
            || after.starts_with('/') && !endpoint.ends_with("/models") && !after.starts_with("/count_tokens");
        if !before.is_empty() || stacked_after {
            Some(format!(
                "it contains the endpoint {endpoint}, so the client's base URL probably includes a path it should not (it ends up as {path})."
            ))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_stacked_paths() {
        let m = message(
            &http::Method::POST,
            "/v1/v1/chat/completions",
            "127.0.0.1:9",
        );
        assert!(m.contains("appears twice"), "{m}");
        assert!(m.contains("http://127.0.0.1:9/v1;"), "{m}");
        let m = message(&http::Method::POST, "/v1/chat/completions/responses", "h:1");
        assert!(
            m.contains("contains the endpoint /v1/chat/completions"),
            "{m}"
        );
        let m = message(&http::Method::POST, "/api/v1/messages", "h:1");
        assert!(m.contains("contains the endpoint /v1/messages"), "{m}");
        let m = message(&http::Method::GET, "/nothing", "h:1");
        assert!(
            m.starts_with("Unknown path GET /nothing. Uplink serves"),
            "{m}"
        );
    }
}

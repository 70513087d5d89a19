//! Which protocol a request speaks, judged from its path, headers and query, so
//! that errors raised before a handler runs (auth, unknown path, body limits) come
//! back in the caller's own shape.

use http::HeaderMap;
use uplink_protocol::error::Dialect;

/// The caller's protocol. Paths decide first; headers break ties for paths that
/// several protocols share (`/v1/models`).
pub fn detect(path: &str, headers: &HeaderMap, query: Option<&str>) -> Dialect {
    if path.starts_with("/v1beta") || is_gemini_method(path) {
        return Dialect::Gemini;
    }
    if path.contains("/messages") {
        return Dialect::Anthropic;
    }
    if [
        "/chat/completions",
        "/completions",
        "/responses",
        "/embeddings",
    ]
    .iter()
    .any(|p| path.contains(p))
    {
        return Dialect::OpenAi;
    }
    if headers.contains_key("anthropic-version") || headers.contains_key("x-api-key") {
        return Dialect::Anthropic;
    }
    if headers.contains_key("x-goog-api-key")
        || headers.contains_key("x-goog-api-client")
        || query.is_some_and(|q| q.split('&').any(|p| p.starts_with("key=")))
    {
        return Dialect::Gemini;
    }
    Dialect::OpenAi
}

/// `…/models/gemini-x:generateContent` and the like.
fn is_gemini_method(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|last| {
        last.contains(':')
            && [
                "generateContent",
                "streamGenerateContent",
                "countTokens",
                "embedContent",
                "batchEmbedContents",
            ]
            .iter()
            .any(|m| last.ends_with(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn paths_and_headers_pick_the_dialect() {
        let none = HeaderMap::new();
        let cases = [
            ("/v1/chat/completions", h(&[]), None, Dialect::OpenAi),
            (
                "/v1/responses",
                h(&[("x-api-key", "k")]),
                None,
                Dialect::OpenAi,
            ),
            ("/v1/messages", h(&[]), None, Dialect::Anthropic),
            (
                "/v1/messages/count_tokens",
                h(&[]),
                None,
                Dialect::Anthropic,
            ),
            ("/v1beta/models", h(&[]), None, Dialect::Gemini),
            (
                "/v1/models/gemini-2.5-pro:generateContent",
                h(&[]),
                None,
                Dialect::Gemini,
            ),
            (
                "/v1/models",
                h(&[("anthropic-version", "2023-06-01")]),
                None,
                Dialect::Anthropic,
            ),
            (
                "/v1/models",
                h(&[("x-goog-api-key", "k")]),
                None,
                Dialect::Gemini,
            ),
            (
                "/v1/models",
                none.clone(),
                Some("key=sk-1"),
                Dialect::Gemini,
            ),
            ("/v1/models", none.clone(), None, Dialect::OpenAi),
            ("/nowhere", none, None, Dialect::OpenAi),
        ];
        for (path, headers, query, want) in cases {
            assert_eq!(detect(path, &headers, query), want, "{path}");
        }
    }
}

//! The client API key: generation and persistence, and the constant-time check of
//! a key presented in any of the accepted places.

use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::config::{ApiKeySetting, AuthMode};
use crate::storage::{Storage, StorageError};

/// The settings key under which a generated API key is persisted.
const API_KEY_SETTING: &str = "api_key";

/// A fresh key: `sk-` and 32 random hex characters.
pub fn generate_api_key() -> String {
    format!("sk-{:032x}", rand::random::<u128>())
}

/// Where the effective key came from, for the start-up line and `config show-key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    Generated,
    None,
}

/// The effective client key: the configured one, or the one generated and
/// persisted in the data directory on first use (stable across restarts).
pub async fn resolve_api_key(
    setting: &ApiKeySetting,
    storage: &Storage,
) -> Result<(Option<SecretString>, KeySource), StorageError> {
    Ok(match setting {
        ApiKeySetting::Configured(key) => (Some(key.clone()), KeySource::Configured),
        ApiKeySetting::Disabled => (None, KeySource::None),
        ApiKeySetting::Generate => {
            let key = storage
                .setting_or_init(API_KEY_SETTING, &generate_api_key())
                .await?;
            (Some(SecretString::from(key)), KeySource::Generated)
        }
    })
}

/// A key found in a request, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    pub key: &'a str,
    pub source: &'static str,
}

impl<'a> PresentedKey<'a> {
    /// The first key the request carries, looking in `Authorization` (with or
    /// without `Bearer`), `x-api-key`, `x-goog-api-key`, then the `key` query
    /// parameter.
    pub fn find(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<PresentedKey<'a>> {
        if let Some(value) = header_str(headers, "authorization") {
            let key = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value)
                .trim();
            if !key.is_empty() {
                return Some(PresentedKey {
                    key,
                    source: "authorization",
                });
            }
        }
        for name in ["x-api-key", "x-goog-api-key"] {
            if let Some(key) = header_str(headers, name)
                .map(str::trim)
                .filter(|k| !k.is_empty())
            {
                return Some(PresentedKey { key, source: name });
            }
        }
        query
            .and_then(|q| {
                q.split('&').find_map(|pair| match pair.split_once('=') {
                    Some(("key", value)) if !value.is_empty() => Some(value),
                    _ => None,
                })
            })
            .map(|key| PresentedKey {
                key,
                source: "query",
            })
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The policy a request is checked against.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub mode: AuthMode,
    key: Option<SecretString>,
}

impl ClientAuth {
    pub fn new(mode: AuthMode, key: Option<SecretString>) -> Self {
        Self { mode, key }
    }

    pub fn key(&self) -> Option<&SecretString> {
        self.key.as_ref()
    }

    /// Whether a request to `path` with `method` must present the key.
    pub fn required(&self, method: &http::Method, path: &str) -> bool {
        match self.mode {
            AuthMode::Off => false,
            AuthMode::Strict => method != http::Method::OPTIONS,
            AuthMode::AllExceptHealth => {
                method != http::Method::OPTIONS
                    && !(matches!(*method, http::Method::GET | http::Method::HEAD)
                        && matches!(path, "/healthz" | "/health"))
            }
        }
    }

    /// Constant-time comparison of a presented key with the configured one.
    /// With no key configured nothing matches.
    pub fn accepts(&self, presented: &str) -> bool {
        match &self.key {
            Some(key) => bool::from(
                key.expose_secret()
                    .as_bytes()
                    .ct_eq(percent_decoded(presented).as_bytes()),
            ),
            None => false,
        }
    }
}

/// Keys are `sk-` + hex, but a query parameter may still arrive percent-encoded.
fn percent_decoded(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_follow_the_rule_and_differ() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert!(a.starts_with("sk-") && a.len() == 35, "{a}");
        assert!(a[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(crate::config::validate_api_key(&a).is_ok());
    }

    #[test]
    fn finds_the_key_in_every_accepted_place() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            ("authorization", "Bearer sk-abc", None, "authorization"),
            ("authorization", "sk-abc", None, "authorization"),
            ("x-api-key", "sk-abc", None, "x-api-key"),
            ("x-goog-api-key", "sk-abc", None, "x-goog-api-key"),
            ("x-other", "nothing", Some("alt=sse&key=sk-abc"), "query"),
        ];
        for (name, value, query, source) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(*name, value.parse().unwrap());
            let found = PresentedKey::find(&headers, *query).unwrap();
            assert_eq!(
                found,
                PresentedKey {
                    key: "sk-abc",
                    source
                },
                "{name}"
            );
        }
        assert_eq!(PresentedKey::find(&HeaderMap::new(), Some("keys=x")), None);
    }

    #[test]
    fn accepts_only_the_exact_key() {
        let auth = ClientAuth::new(AuthMode::Strict, Some(SecretString::from("sk-0123456789")));
        assert!(auth.accepts("sk-0123456789"));
        assert!(auth.accepts("sk%2D0123456789"));
        assert!(!auth.accepts("sk-012345678"));
        assert!(!auth.accepts("sk-01234567890"));
        assert!(!auth.accepts(""));
        assert!(!ClientAuth::new(AuthMode::Strict, None).accepts("sk-0123456789"));
    }
}

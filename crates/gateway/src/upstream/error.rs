//! Classification of upstream failures on independent axes: what kind of error it
//! is (for the client), what the retry loop should do next, how long the account
//! should rest and for what scope, and whether the account's state must change.

use std::time::Duration;

use serde_json::Value;
use uplink_protocol::error::ErrorKind;

/// What the retry loop does after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try the next candidate account.
    Rotate,
    /// Refresh this account's access token and try it once more.
    RefreshAndRetry,
    /// Final: the client's own fault, or nothing another account could fix.
    Fail,
}

/// What a cooldown covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only the model that failed (quota is per model).
    Model,
    /// Every model on the account.
    Account,
}

/// A change to the account's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    Disable {
        reason: String,
    },
    Block {
        reason: String,
        validation_url: Option<String>,
    },
}

/// One failed attempt, classified.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamError {
    pub kind: ErrorKind,
    /// The upstream's HTTP status; 0 when there was no response.
    pub status: u16,
    /// The upstream's own message, for the client and the logs.
    pub message: String,
    pub next: Next,
    pub cooldown: Option<(Duration, Scope)>,
    pub change: Option<AccountChange>,
    /// The quota is exhausted (not merely rate limited).
    pub quota_exhausted: bool,
}

/// Short backoff for rate limits and overload when the upstream gives no delay.
pub const SHORT_BACKOFF: Duration = Duration::from_secs(5);
/// Cooldown for a quota exhaustion that names no reset time.
pub const DEFAULT_QUOTA_COOLDOWN: Duration = Duration::from_secs(60);

impl UpstreamError {
    /// A failure to reach the upstream at all (connect, TLS, reset).
    pub fn network(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Upstream,
            status: 0,
            message: message.into(),
            next: Next::Rotate,
            cooldown: None,
            change: None,
            quota_exhausted: false,
        }
    }

    /// The upstream accepted the request but its stream produced nothing usable.
    pub fn empty(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Upstream,
            status: 200,
            message: message.into(),
            next: Next::Rotate,
            cooldown: None,
            change: None,
            quota_exhausted: false,
        }
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Timeout,
            ..Self::network(message)
        }
    }

    /// Classify an HTTP error response from a Google API (Cloud Code, OAuth).
    /// `retry_after` is the `Retry-After` header, if any.
    pub fn from_google(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let message = error
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() {
                    format!("upstream answered HTTP {status}")
                } else {
                    text.chars().take(500).collect()
                }
            });
        let info = error_info(error);
        let reason = info.and_then(|i| i.get("reason")).and_then(Value::as_str);
        let metadata = info.and_then(|i| i.get("metadata"));
        let meta = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_str);
        let retry_delay = retry_info(error).or(retry_after);

        let mut out = Self {
            kind: ErrorKind::from_status(status),
            status,
            message,
            next: Next::Rotate,
            cooldown: None,
            change: None,
            quota_exhausted: false,
        };
        match status {
            429 => {
                let quota = reason == Some("QUOTA_EXHAUSTED")
                    || meta("quotaResetDelay").is_some()
                    || out.message.contains("exhausted your capacity");
                if quota {
                    let delay = meta("quotaResetDelay")
                        .and_then(parse_duration)
                        .or(retry_delay)
                        .unwrap_or(DEFAULT_QUOTA_COOLDOWN);
                    out.quota_exhausted = true;
                    out.cooldown = Some((delay, Scope::Model));
                } else {
                    out.cooldown = Some((retry_delay.unwrap_or(SHORT_BACKOFF), Scope::Model));
                }
            }
            401 => out.next = Next::RefreshAndRetry,
            403 if reason == Some("VALIDATION_REQUIRED") => {
                out.change = Some(AccountChange::Block {
                    reason: meta("validation_error_message")
                        .unwrap_or("the account must be verified")
                        .to_owned(),
                    validation_url: meta("validation_url").map(str::to_owned),
                });
            }
            403 => {
                out.change = Some(AccountChange::Disable {
                    reason: format!("403 from upstream: {}", out.message),
                });
            }
            408 => out.kind = ErrorKind::Timeout,
            500..=599 => {
                out.cooldown = Some((retry_delay.unwrap_or(SHORT_BACKOFF), Scope::Model));
            }
            _ => out.next = Next::Fail,
        }
        out
    }
}

fn details(error: Option<&Value>) -> impl Iterator<Item = &Value> {
    error
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn error_info(error: Option<&Value>) -> Option<&Value> {
    details(error).find(|d| {
        d.get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.ErrorInfo"))
    })
}

fn retry_info(error: Option<&Value>) -> Option<Duration> {
    details(error)
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| {
            d.get("retryDelay")
                .and_then(Value::as_str)
                .and_then(parse_duration)
        })
}

/// Parse Google's durations: `"7261.5s"`, `"510.79ms"`, `"2h1m1.5s"`, `"1m"`, `"3h"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with("us") || rest.starts_with("µs") {
            (
                0.000_001,
                rest.chars().next().map_or(2, |c| c.len_utf8() + 1),
            )
        } else if rest.starts_with("ns") {
            (0.000_000_001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        total += number * unit;
        rest = &rest[len..];
    }
    (total.is_finite() && total >= 0.0).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_google_durations() {
        let cases = [
            ("7261.5s", 7261.5),
            ("510.79ms", 0.51079),
            ("2h1m1.5s", 7261.5),
            ("1m", 60.0),
            ("3h", 10800.0),
            ("0s", 0.0),
        ];
        for (text, secs) in cases {
            let d = parse_duration(text).unwrap();
            assert!((d.as_secs_f64() - secs).abs() < 1e-6, "{text}: {d:?}");
        }
        for bad in ["", "soon", "5x", "1.2.3s", "-1s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    fn google(status: u16, reason: Option<&str>, metadata: Value, retry: Option<&str>) -> Vec<u8> {
        let mut details = vec![];
        if let Some(reason) = reason {
            details.push(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "metadata": metadata}));
        }
        if let Some(retry) = retry {
            details.push(
                json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry}),
            );
        }
        json!({"error": {"code": status, "message": "msg", "status": "X", "details": details}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn quota_exhaustion_cools_the_model_until_the_reset() {
        let body = google(
            429,
            Some("QUOTA_EXHAUSTED"),
            json!({"quotaResetDelay": "2h1m1.5s"}),
            Some("7261.5s"),
        );
        let e = UpstreamError::from_google(429, &body, None);
        assert!(e.quota_exhausted);
        assert_eq!(e.next, Next::Rotate);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(
            e.cooldown,
            Some((Duration::from_secs_f64(7261.5), Scope::Model))
        );
        // Without quotaResetDelay, RetryInfo, then Retry-After, then the default.
        let body = google(429, Some("QUOTA_EXHAUSTED"), json!({}), Some("30s"));
        assert_eq!(
            UpstreamError::from_google(429, &body, None)
                .cooldown
                .unwrap()
                .0,
            Duration::from_secs(30)
        );
        let body = google(429, Some("QUOTA_EXHAUSTED"), json!({}), None);
        let e = UpstreamError::from_google(429, &body, Some(Duration::from_secs(9)));
        assert_eq!(e.cooldown.unwrap().0, Duration::from_secs(9));
        let e = UpstreamError::from_google(429, &body, None);
        assert_eq!(e.cooldown.unwrap().0, DEFAULT_QUOTA_COOLDOWN);
    }

    #[test]
    fn rate_limits_and_overload_back_off_briefly() {
        let body = google(429, Some("RATE_LIMIT_EXCEEDED"), json!({}), Some("1.5s"));
        let e = UpstreamError::from_google(429, &body, None);
        assert!(!e.quota_exhausted);
        assert_eq!(
            e.cooldown,
            Some((Duration::from_millis(1500), Scope::Model))
        );
        let e = UpstreamError::from_google(
            503,
            &google(503, Some("MODEL_CAPACITY_EXHAUSTED"), json!({}), None),
            None,
        );
        assert_eq!((e.kind, e.next), (ErrorKind::Overloaded, Next::Rotate));
        assert_eq!(e.cooldown, Some((SHORT_BACKOFF, Scope::Model)));
        let e = UpstreamError::from_google(500, b"oops", None);
        assert_eq!((e.next, e.message.as_str()), (Next::Rotate, "oops"));
    }

    #[test]
    fn auth_and_permission_failures_change_the_account() {
        assert_eq!(
            UpstreamError::from_google(401, b"{}", None).next,
            Next::RefreshAndRetry
        );
        let body = google(
            403,
            Some("VALIDATION_REQUIRED"),
            json!({"validation_url": "https://v", "validation_error_message": "Verify"}),
            None,
        );
        let e = UpstreamError::from_google(403, &body, None);
        assert_eq!(e.next, Next::Rotate);
        assert_eq!(
            e.change,
            Some(AccountChange::Block {
                reason: "Verify".into(),
                validation_url: Some("https://v".into())
            })
        );
        let e = UpstreamError::from_google(403, &google(403, None, json!({}), None), None);
        assert!(matches!(e.change, Some(AccountChange::Disable { .. })));
    }

    #[test]
    fn client_errors_are_final_and_keep_the_upstream_message() {
        for status in [400, 404, 413, 422] {
            let e =
                UpstreamError::from_google(status, &google(status, None, json!({}), None), None);
            assert_eq!(e.next, Next::Fail, "{status}");
            assert_eq!(e.message, "msg");
            assert_eq!(e.cooldown, None);
        }
    }
}

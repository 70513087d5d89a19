//! Google OAuth: `POST /token` (refresh_token and authorization_code grants, Google's error
//! bodies) and `GET /oauth2/v2/userinfo`, plus bearer-token authentication for API calls.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::{Value, json};

use crate::config::OAuthClient;
use crate::errors::{self, GoogleError};
use crate::record::{RecordedRequest, headers_of};
use crate::state::{Inner, Shared};

/// The scopes Antigravity asks for, echoed in token responses.
pub const SCOPES: &str = "https://www.googleapis.com/auth/cloud-platform \
https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile \
https://www.googleapis.com/auth/cclog https://www.googleapis.com/auth/experimentsandconfigs openid";

/// Decodes `application/x-www-form-urlencoded`.
pub(crate) fn parse_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn oauth_error(status: u16, error: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn json_response(status: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (code, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// `POST /token`.
pub(crate) async fn token(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body);
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let form: BTreeMap<String, String> = if is_json {
        serde_json::from_str::<BTreeMap<String, Value>>(&text)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect()
    } else {
        parse_form(&text)
    };
    let mut inner = shared.lock();
    let (status, reply, account) = grant(&mut inner, &form);
    let seq = inner.next_seq();
    inner.log.push(RecordedRequest {
        seq,
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: headers_of(&headers),
        body: serde_json::to_value(&form).ok(),
        endpoint: "token".into(),
        prefix: String::new(),
        account,
        status,
        provider: None,
    });
    drop(inner);
    json_response(status, &reply)
}

fn check_client(
    clients: &[OAuthClient],
    form: &BTreeMap<String, String>,
) -> Result<(), (u16, Value)> {
    let id = form.get("client_id").map(String::as_str).unwrap_or("");
    if id.is_empty() {
        return Err(oauth_error(
            400,
            "invalid_request",
            "Could not determine client ID from request.",
        ));
    }
    let secret = form.get("client_secret").map(String::as_str).unwrap_or("");
    if secret.is_empty() {
        return Err(oauth_error(
            400,
            "invalid_request",
            "client_secret is missing.",
        ));
    }
    if clients.is_empty() {
        return Ok(());
    }
    match clients.iter().find(|c| c.client_id == id) {
        None => Err(oauth_error(
            401,
            "invalid_client",
            "The OAuth client was not found.",
        )),
        Some(c) if c.client_secret != secret => {
            Err(oauth_error(401, "invalid_client", "Unauthorized"))
        }
        Some(_) => Ok(()),
    }
}

fn grant(inner: &mut Inner, form: &BTreeMap<String, String>) -> (u16, Value, Option<String>) {
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type != "refresh_token" && grant_type != "authorization_code" {
        let (s, b) = oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant_type}"),
        );
        return (s, b, None);
    }
    if let Err((s, b)) = check_client(&inner.initial.oauth_clients, form) {
        return (s, b, None);
    }
    let result = if grant_type == "refresh_token" {
        refresh_grant(inner, form)
    } else {
        code_grant(inner, form)
    };
    match result {
        Ok((email, include_refresh)) => {
            let (token, ttl) = inner.issue_token(&email);
            let mut body = json!({
                "access_token": token,
                "expires_in": ttl.as_secs(),
                "scope": SCOPES,
                "token_type": "Bearer",
            });
            if include_refresh && let Some(a) = inner.account(&email) {
                body["refresh_token"] = Value::String(a.spec.refresh_token.clone());
            }
            (200, body, Some(email))
        }
        Err((s, b, who)) => (s, b, who),
    }
}

type GrantResult = Result<(String, bool), (u16, Value, Option<String>)>;

fn invalid_grant(description: &str, who: Option<String>) -> (u16, Value, Option<String>) {
    let (s, b) = oauth_error(400, "invalid_grant", description);
    (s, b, who)
}

fn refresh_grant(inner: &mut Inner, form: &BTreeMap<String, String>) -> GrantResult {
    let Some(rt) = form.get("refresh_token").filter(|s| !s.is_empty()) else {
        let (s, b) = oauth_error(
            400,
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
        return Err((s, b, None));
    };
    match inner.account_by_refresh(rt) {
        Some(a) if !a.revoked => Ok((a.spec.email.clone(), false)),
        Some(a) => Err(invalid_grant(
            "Token has been expired or revoked.",
            Some(a.spec.email.clone()),
        )),
        None => Err(invalid_grant("Token has been expired or revoked.", None)),
    }
}

fn code_grant(inner: &mut Inner, form: &BTreeMap<String, String>) -> GrantResult {
    let Some(code) = form.get("code").filter(|s| !s.is_empty()) else {
        let (s, b) = oauth_error(400, "invalid_request", "Missing required parameter: code");
        return Err((s, b, None));
    };
    let Some(state) = inner.codes.get_mut(code) else {
        return Err(invalid_grant("Malformed auth code.", None));
    };
    let who = Some(state.code.email.clone());
    if state.used {
        return Err(invalid_grant("Bad Request", who));
    }
    if let Some(expected) = &state.code.redirect_uri
        && form.get("redirect_uri") != Some(expected)
    {
        let (s, b) = oauth_error(400, "redirect_uri_mismatch", "Bad Request");
        return Err((s, b, who));
    }
    if let Some(expected) = &state.code.code_verifier {
        match form.get("code_verifier") {
            None => return Err(invalid_grant("Missing code verifier.", who)),
            Some(v) if v != expected => return Err(invalid_grant("Invalid code verifier.", who)),
            Some(_) => {}
        }
    }
    state.used = true;
    let email = state.code.email.clone();
    match inner.account(&email) {
        Some(a) if !a.revoked => Ok((email, true)),
        _ => Err(invalid_grant("Token has been expired or revoked.", who)),
    }
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The account behind the request's access token, or Google's 401.
pub(crate) fn authenticate(inner: &Inner, headers: &HeaderMap) -> Result<String, GoogleError> {
    let Some(token) = bearer(headers) else {
        return Err(errors::missing_credentials());
    };
    inner
        .token_owner(token)
        .map_err(|_| errors::invalid_credentials())
}

/// `GET /oauth2/v2/userinfo`.
pub(crate) async fn userinfo(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut inner = shared.lock();
    let result = authenticate(&inner, &headers).and_then(|email| {
        let idx = inner
            .accounts
            .iter()
            .position(|a| a.spec.email == email)
            .unwrap_or(0);
        let a = inner
            .account(&email)
            .ok_or_else(errors::invalid_credentials)?;
        let local = email.split('@').next().unwrap_or("").to_string();
        let name = a.spec.name.clone().unwrap_or_else(|| local.clone());
        Ok((
            email.clone(),
            json!({
                "id": format!("1{:020}", idx + 1),
                "email": email,
                "verified_email": true,
                "name": name,
                "given_name": name.split(' ').next().unwrap_or(""),
                "picture": format!("https://lh3.googleusercontent.com/a/fake-{local}"),
            }),
        ))
    });
    let (status, body, account) = match result {
        Ok((email, body)) => (200, body, Some(email)),
        Err(e) => (e.status, e.body, None),
    };
    let seq = inner.next_seq();
    inner.log.push(RecordedRequest {
        seq,
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: headers_of(&headers),
        body: None,
        endpoint: "userinfo".into(),
        prefix: String::new(),
        account,
        status,
        provider: None,
    });
    drop(inner);
    json_response(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let f = parse_form("grant_type=refresh_token&refresh_token=1%2F%2Fabc&x=a+b&e=");
        assert_eq!(f["refresh_token"], "1//abc");
        assert_eq!(f["x"], "a b");
        assert_eq!(f["e"], "");
    }
}

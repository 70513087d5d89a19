//! A client for the admin API in tests: JSON in, (status, JSON) out.

use reqwest::Method;
use serde_json::Value;

pub const PASSWORD: &str = "admin-pass-0123";

/// Speaks to the admin API of the gateway at `base` with a bearer password.
pub struct Admin {
    pub base: String,
    pub client: reqwest::Client,
    pub password: Option<String>,
}

impl Admin {
    pub fn new(base: &str, password: Option<&str>) -> Admin {
        Admin {
            base: base.trim_end_matches('/').to_owned(),
            client: super::client(),
            password: password.map(str::to_owned),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let b = self.client.request(method, self.url(path));
        match &self.password {
            Some(p) => b.bearer_auth(p),
            None => b,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut b = self.request(method, path);
        if let Some(body) = body {
            b = b.json(&body);
        }
        let res = b.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }
}

/// The error message of an admin API error body.
pub fn message(body: &Value) -> &str {
    body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an admin error: {body}"))
}

//! Media given by URL: Cloud Code cannot fetch `http(s)` URLs itself, so the
//! gateway fetches each one (bounded in size, time and redirects) and inlines
//! it as base64 before the request is encoded.

use std::time::Duration;

use base64::Engine;
use futures_util::StreamExt;
use http::header;
use uplink_protocol::error::{Dialect, ErrorKind};
use uplink_protocol::ir::{MediaSource, Request};

use crate::api::ApiError;
use crate::upstream::http::{Http, body_stream};

/// Largest media file fetched for a request.
pub const MAX_MEDIA_BYTES: usize = 20 * 1024 * 1024;
/// Longest a media fetch may take.
pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed for one media URL (image hosts and "raw" links often
/// answer with one).
pub const MAX_REDIRECTS: usize = 5;

/// Replace every `http(s)` media URL in `request` with its bytes.
pub async fn inline_urls(
    http: &Http,
    request: &mut Request,
    dialect: Dialect,
) -> Result<(), ApiError> {
    for source in request.media_sources_mut() {
        let MediaSource::Url { url, mime_type } = source else {
            continue;
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            continue;
        }
        let fetched = tokio::time::timeout(MEDIA_TIMEOUT, fetch(http, url))
            .await
            .unwrap_or_else(|_| Err("it took too long".to_owned()));
        let (bytes, fetched_type) = fetched.map_err(|why| {
            ApiError::new(
                dialect,
                ErrorKind::InvalidRequest,
                format!("Could not fetch the media at {url}: {why}. Send it inline (a data: URL or base64) instead."),
            )
        })?;
        let mime = mime_type
            .clone()
            .or(fetched_type)
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        *source = MediaSource::Base64 {
            mime_type: mime,
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        };
    }
    Ok(())
}

async fn fetch(http: &Http, url: &str) -> Result<(Vec<u8>, Option<String>), String> {
    let mut at = url::Url::parse(url).map_err(|e| format!("it is not a valid URL ({e})"))?;
    let mut redirects = 0;
    let response = loop {
        let response = http
            .get(at.as_str())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let redirect = matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308);
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        let (true, Some(location)) = (redirect, location) else {
            break response;
        };
        if redirects == MAX_REDIRECTS {
            return Err(format!("it redirected more than {MAX_REDIRECTS} times"));
        }
        let next = at
            .join(location)
            .map_err(|e| format!("it redirected to an invalid URL ({e})"))?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(format!("it redirected to {next}, which is not http(s)"));
        }
        redirects += 1;
        at = next;
    };
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered HTTP {}", status.as_u16()));
    }
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_MEDIA_BYTES as u64) {
        return Err(format!("it is larger than {MAX_MEDIA_BYTES} bytes"));
    }
    let mime = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
        .filter(|v| !v.is_empty());
    let mut body = Vec::new();
    let mut stream = body_stream(response);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("the download failed: {e}"))?;
        if body.len() + chunk.len() > MAX_MEDIA_BYTES {
            return Err(format!("it is larger than {MAX_MEDIA_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, mime))
}

//! Reading a request body as JSON within the configured size limit, with errors
//! in the caller's protocol: 413 for too large, 400 for malformed.

use axum::extract::{FromRequest, Request};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use uplink_protocol::error::{Dialect, ErrorKind};

use super::{ApiError, dialect};
use crate::state::AppState;

/// The raw body, read within the size limit; decoders parse it themselves so
/// their errors can name the offending field.
#[derive(Debug)]
pub struct RawBody(pub bytes::Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
        read_limited(req, state.config().max_body_bytes, dialect)
            .await
            .map(RawBody)
    }
}

/// A JSON body decoded into `T`, plus the dialect of the route it came in on.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub dialect: Dialect,
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let dialect = dialect::detect(req.uri().path(), req.headers(), req.uri().query());
        let bytes = read_limited(req, state.config().max_body_bytes, dialect).await?;
        let value = parse_json(&bytes, dialect)?;
        Ok(JsonBody { value, dialect })
    }
}

/// Read the body, refusing more than `limit` bytes (413) and reporting a body
/// that cannot be read (400), in `dialect`'s shape.
async fn read_limited(
    req: Request,
    limit: usize,
    dialect: Dialect,
) -> Result<bytes::Bytes, ApiError> {
    {
        let too_large = || {
            ApiError::new(
                dialect,
                ErrorKind::RequestTooLarge,
                format!("Request body is larger than the limit of {limit} bytes (max_body_bytes)."),
            )
        };
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(too_large());
        }
        let bytes = match Limited::new(req.into_body(), limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
            Err(e) => {
                return Err(ApiError::new(
                    dialect,
                    ErrorKind::InvalidRequest,
                    format!("Could not read the request body: {e}"),
                ));
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::new(
                dialect,
                ErrorKind::InvalidRequest,
                "The request body is empty; expected a JSON object.",
            ));
        }
        Ok(bytes)
    }
}

/// Decode JSON, explaining where it went wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], dialect: Dialect) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            dialect,
            ErrorKind::InvalidRequest,
            "The request body is empty; expected a JSON object.",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "Malformed JSON in request body"
        } else {
            "Invalid request body"
        };
        ApiError::new(dialect, ErrorKind::InvalidRequest, format!("{what}: {e}"))
    })
}

//! A strict fake of Google OAuth and the Google Cloud Code `v1internal` API (the service
//! behind the Antigravity IDE), and of the API-key providers' protocols (Anthropic Messages,
//! OpenAI Chat Completions, the public Gemini API), for Uplink's tests.
//!
//! It is meant to be **as strict as the real service**: requests the real API rejects (unknown
//! fields anywhere, JSON-Schema keywords in tool schemas, bad roles, unpaired function calls,
//! missing or foreign thought signatures, limits per model) are rejected here too, with
//! the provider's status codes, error shapes and — where known — wording. A gateway test that
//! passes against this fake sent requests the real service would accept.
//!
//! # Starting
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use uplink_fake_upstream::{AccountSpec, Behavior, FakeUpstream};
//!
//! let fake = FakeUpstream::start().await?; // 127.0.0.1:0, no accounts
//! fake.add_account(AccountSpec::new("rt-1", "alice@example.com", "proj-1"));
//! fake.script("alice@example.com", vec![Behavior::RateLimited, Behavior::Ok]);
//! let base = fake.cloudcode_url(); // http://127.0.0.1:PORT/v1internal
//! # let _ = base; Ok(()) }
//! ```
//!
//! URLs: [`FakeUpstream::base_url`], [`FakeUpstream::cloudcode_url`] (`base + /v1internal`),
//! [`FakeUpstream::cloudcode_url_at`] (`base + <prefix> + /v1internal`, any prefix is served),
//! [`FakeUpstream::token_url`] (`/token`), [`FakeUpstream::userinfo_url`]
//! (`/oauth2/v2/userinfo`), [`FakeUpstream::control_url`] (`/__fake`).
//!
//! # What is served
//!
//! - `POST /token` — `grant_type=refresh_token` (`refresh_token`, `client_id`,
//!   `client_secret`) and `grant_type=authorization_code` (`code`, `redirect_uri`,
//!   `client_id`, `client_secret`, optional `code_verifier`; codes are registered by the test
//!   and single-use). Unknown or revoked refresh token → 400
//!   `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`.
//!   Form-encoded or JSON bodies.
//! - `GET /oauth2/v2/userinfo` with `Authorization: Bearer`.
//! - `POST <prefix>/v1internal:{loadCodeAssist,onboardUser,fetchAvailableModels,countTokens,
//!   generateContent,streamGenerateContent}`; access tokens expire after the configured TTL
//!   (default 3600 s, measured with tokio's clock) and then get 401 UNAUTHENTICATED.
//!
//! # Scripting generate calls
//!
//! Each account has queues of [`Behavior`]s, consumed one per generate request (after the
//! request passed validation): first the (account, model) queue
//! ([`FakeUpstream::script_model`]), then the account queue ([`FakeUpstream::script`]), then
//! the account default ([`FakeUpstream::set_default_behavior`]); with nothing scripted an
//! account whose quota for the model is 0 gets 429 QUOTA_EXHAUSTED, otherwise [`Behavior::Ok`].
//! Per-prefix queues ([`FakeUpstream::script_prefix`], [`FakeUpstream::set_prefix_default`])
//! fail *every* call under that prefix before anything else, to test endpoint fallback.
//!
//! The same queues serve the API-key providers: there the "account" is a key, named by its
//! label (or by the key string, which resolves to its label), and the default is always
//! [`Behavior::Ok`] (no quota model). See [API-key providers](#api-key-providers).
//!
//! Other knobs: [`FakeUpstream::revoke`], [`FakeUpstream::register_auth_code`],
//! [`FakeUpstream::set_quota`], [`FakeUpstream::set_onboarding`],
//! [`FakeUpstream::expire_tokens`], [`FakeUpstream::set_token_ttl`],
//! [`FakeUpstream::set_models`], [`FakeUpstream::issue_signature`], [`FakeUpstream::reset`].
//!
//! # Recording
//!
//! Every request (except `/__fake`) is recorded as a [`RecordedRequest`] (method, path,
//! query, headers, parsed body, endpoint, prefix, account, status, provider):
//! [`FakeUpstream::requests`], [`FakeUpstream::requests_matching`],
//! [`FakeUpstream::generate_calls`], [`FakeUpstream::call_count`],
//! [`FakeUpstream::provider_calls`]. Provider requests carry `provider` (`anthropic`,
//! `openai`, `gemini`), `prefix` (`/anthropic`, ...) and, once the key is known, `account` =
//! the key's label (also for a revoked key; `None` for a missing or unknown key). Endpoints:
//! `messages`, `count_tokens` (Anthropic); `chat/completions`, `models` (OpenAI);
//! `generateContent`, `streamGenerateContent`, `countTokens` (Gemini API).
//!
//! # API-key providers
//!
//! Served on the same port under path prefixes, so a test points a provider's base URL at
//! [`FakeUpstream::anthropic_url`] (`base/anthropic`), [`FakeUpstream::openai_url`]
//! (`base/openai/v1`) or [`FakeUpstream::gemini_url`] (`base/gemini`). A path under a prefix
//! that contains `/v1internal:` is still Cloud Code. Keys are registered with
//! [`FakeUpstream::add_api_key`] (or [`FakeConfig::api_keys`], which [`FakeUpstream::reset`]
//! restores); [`FakeUpstream::revoke_api_key`] / [`FakeUpstream::restore_api_key`];
//! [`FakeUpstream::set_provider_models`] restricts the models a provider serves (by default
//! any model id is served); [`FakeUpstream::script_prefix`] with `/anthropic`, `/openai` or
//! `/gemini` fails every call to that provider before authentication.
//!
//! **Anthropic** (`POST /anthropic/v1/messages`, `POST /anthropic/v1/messages/count_tokens`):
//! key from `x-api-key` or `Authorization: Bearer` (z.ai); missing key → 401
//! `x-api-key header is required`, unknown or revoked → 401 `authentication_error`
//! `invalid x-api-key`; then `anthropic-version` is required (400 `anthropic-version: header is
//! required`). Errors are `{"type":"error","error":{"type","message"},"request_id"}` with a
//! `request-id` header. Validation (first failure, 400 `invalid_request_error`, pydantic
//! paths): `model`, `messages`, `max_tokens` (≥ 1; not allowed on count_tokens) required;
//! unknown top-level fields → `<field>: Extra inputs are not permitted` (`context_management`,
//! `mcp_servers`, `output_config`, `output_format` only with an `anthropic-beta` header);
//! `temperature` ≤ 1; `messages` non-empty (`messages: at least one message is required`),
//! roles `user`/`assistant` (consecutive same roles and a final assistant prefill are
//! accepted, as the API combines turns), content non-empty except a final assistant message;
//! block tags `text`, `image`, `document`, `search_result`, `tool_use`, `server_tool_use`,
//! `web_search_tool_result`, `tool_result`, `thinking`, `redacted_thinking` with their known
//! fields (`messages.N.content.M.<tag>.<field>: Extra inputs are not permitted` / `Field
//! required`), `cache_control` `{type: ephemeral, ttl?: 5m|1h}`, base64 image media types;
//! `system` a string or text blocks; tools: custom tools need `name` and an `input_schema`
//! with `type: object`, unique names, versioned server tools (`web_search_20250305`) pass;
//! `tool_choice` `auto|any|tool|none`; every `tool_use` answered by a `tool_result` in the
//! next message and every `tool_result` naming a `tool_use` of the previous one; `thinking`
//! `enabled` (budget ≥ 1024 and < `max_tokens`), `disabled` or `adaptive`; thinking blocks
//! need a `signature` this provider issued (else ``Invalid `signature` in `thinking`
//! block``); with thinking on, assistant messages of the current tool loop must start with a
//! thinking block. Answers: a `Message` or the SSE sequence `message_start`,
//! `content_block_start`, `ping` (after the first block start), `content_block_delta`
//! (`thinking_delta` + `signature_delta`, `text_delta`, `input_json_delta`),
//! `content_block_stop`, `message_delta`, `message_stop` (`event: <type>\ndata: <json>\n\n`).
//! A thinking block (signed) comes first when thinking is on or for [`Behavior::Thinking`].
//! Failures: `RateLimited` 429 `rate_limit_error` + `retry-after: 1`; `QuotaExhausted` 429 +
//! `retry-after` = the reset delay in seconds; `Capacity` 529 `overloaded_error`;
//! `ServerError(n)` n with the type of n (500 `api_error`); `Forbidden` /
//! `ValidationRequired` 403 `permission_error`; `Unauthorized` 401; `StreamError` an
//! `event: error` frame.
//!
//! **OpenAI** (`POST /openai/v1/chat/completions`, `GET /openai/v1/models`): key from
//! `Authorization: Bearer` only; missing → 401 `You didn't provide an API key...`, unknown →
//! 401 `invalid_api_key` with the key masked; unknown path → 404 `Invalid URL (POST /v1/x)`.
//! Errors are `{"error":{"message","type","param","code"}}`. Validation (400
//! `invalid_request_error`): any undocumented top-level argument → `Unrecognized request
//! argument supplied: <name>`; `model` (`you must provide a model parameter`) and non-empty
//! `messages` required; roles `system`, `developer`, `user`, `assistant`, `tool`, `function`
//! with their fields (`Unknown parameter: 'messages[0].x'.`, `Missing required parameter`);
//! content part types per role; assistant needs `content` or `tool_calls`; a `tool` message
//! must follow an assistant message with `tool_calls` and name one of its ids, and every id
//! must be answered; tools `type: function` with a `function.name` matching
//! `^[a-zA-Z0-9_-]+$` and object `parameters`, or `custom`; `tool_choice` only with tools;
//! `stream_options` only with `stream`. Answers: `chat.completion`, or
//! `chat.completion.chunk` events (`data: <json>\n\n`, role first, `reasoning_content`
//! deltas for [`Behavior::Thinking`] (DeepSeek-style), content deltas, tool calls by index —
//! id, type and name with empty arguments, then argument pieces —, the finish chunk, a usage
//! chunk with `stream_options.include_usage`, then `data: [DONE]`). `GET /v1/models` lists
//! the provider's models (default `gpt-4o`, `gpt-4o-mini`, `o3-mini`). Failures:
//! `RateLimited` 429 `rate_limit_exceeded` + `retry-after: 1`; `QuotaExhausted` 429
//! `insufficient_quota` (no retry hint, as OpenAI); `Capacity` 503; `ServerError(n)` n with
//! OpenAI's message for n; `Forbidden` 403; `Unauthorized` 401; `StreamError` a
//! `data: {"error":{...}}` event and no `[DONE]`.
//!
//! **Gemini API** (`POST /gemini/v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent[?alt=sse]`, `:countTokens`; `v1` also accepted): key from
//! `x-goog-api-key` or `?key=`; missing → 403 `Method doesn't allow unregistered callers...`,
//! unknown or revoked → 400 INVALID_ARGUMENT with `API_KEY_INVALID` details. The body is
//! checked like Cloud Code's inner request (the same proto walk and rules, root
//! `GenerateContentRequest` with `model`), answers are Cloud Code's without the
//! `{"response":...}` envelope; Gemini-family signatures are shared with Cloud Code's Gemini
//! models. Unknown models (with a model list set) → 404 `models/x is not found for API
//! version v1beta...`. Failures: `QuotaExhausted` / `RateLimited` 429 RESOURCE_EXHAUSTED with
//! `QuotaFailure` (per-day / per-minute quota id), `Help` and `RetryInfo` (reset delay / 1 s);
//! `Capacity` 503 UNAVAILABLE; others as Cloud Code; `Unauthorized` 400 `API_KEY_INVALID`.
//!
//! Content behaviours render per protocol from one plan: `Ok` answers `Hello from <model>.
//! You said: <last user text>` in two chunks; `Finish` reasons map (`MAX_TOKENS` →
//! `max_tokens` / `length`, `SAFETY` → `refusal` / `content_filter`, anything else passes
//! through lower-cased); `Raw` values are sent verbatim (Anthropic names each event by its
//! `type`; OpenAI appends `[DONE]`); `CutAfter(n)` and `StreamError{after: n}` count SSE
//! events.
//!
//! # HTTP control API (`/__fake`, JSON)
//!
//! | route | body / query | effect |
//! |---|---|---|
//! | `GET /__fake/health` | | `{"ok":true}` |
//! | `POST /__fake/accounts` | [`AccountSpec`] | add or replace an account |
//! | `GET /__fake/accounts` | | `[{"email","refresh_token","project","revoked"}]` |
//! | `POST /__fake/revoke` | `{"email","revoked"?:true}` | revoke (or restore) |
//! | `POST /__fake/auth_codes` | [`AuthCode`] | register a code |
//! | `POST /__fake/quota` | `{"email","model","remaining_fraction","reset_time"?}` | set quota |
//! | `POST /__fake/onboarding` | `{"email","polls"?,"project"?}` | onboarding behaviour |
//! | `POST /__fake/script` | `{"email","model"?,"behaviors":[...]}` | append to a queue |
//! | `POST /__fake/default_behavior` | `{"email","behavior":b or null}` | account default |
//! | | (both accept `label`, `key` or `account` for `email`) | |
//! | `POST /__fake/prefix` | `{"prefix","behaviors"?:[...],"default"?:b or null}` | prefix failures |
//! | `POST /__fake/expire_tokens` | `{"email"}` | invalidate the account's access tokens |
//! | `POST /__fake/token_ttl` | `{"secs"}` | lifetime of new access tokens |
//! | `POST /__fake/models`, `GET` | `[ModelSpec]` | replace / list models |
//! | `GET /__fake/requests` | `?endpoint=&email=&prefix=&provider=` (`label`/`account` alias `email`) | recorded requests |
//! | `DELETE /__fake/requests` | | clear the log |
//! | `POST /__fake/signatures` | `{"family":"gemini" or "claude"}` or `{"provider":"anthropic"}` | `{"signature"}` issued by the fake |
//! | `POST /__fake/api_keys` | [`ApiKeySpec`] `{"provider","key","label"?}` | add or replace a key → `{"ok","label"}` |
//! | `GET /__fake/api_keys` | | `[{"provider","key","label","revoked"}]` |
//! | `POST /__fake/api_keys/revoke` | `{"key" (or "label"),"revoked"?:true}` | revoke (or restore); 404 if unknown |
//! | `POST /__fake/provider_models` | `{"provider","models":[...] or null}` | restrict (or free) a provider's models |
//! | `POST /__fake/reset` | | back to the startup state |
//!
//! Behaviours in JSON: `"ok"`, `{"text":"..."}`, `{"function_call":{"name","args"}}`,
//! `{"function_calls":[{"name","args"}]}`, `{"thinking":{"thought","answer"}}`,
//! `{"chunks":["a","b"]}`, `{"raw":[{...}]}`, `{"finish":{"text","reason":"MAX_TOKENS"}}`,
//! `"empty"`, `{"quota_exhausted":{"reset_delay":"2h1m1.5s"}}`, `"rate_limited"`,
//! `"capacity"`, `{"server_error":503}`, `"validation_required"`, `"forbidden"`,
//! `"unauthorized"`, `{"error":{"status","body"}}`, `{"slow_first_byte":ms}`,
//! `{"chunk_delay":ms}`, `{"cut_after":n}`, `{"stream_error":{"after":n,"status":529}}`,
//! `{"delayed":{"first_byte":ms,"between_chunks":ms,"then":b}}`.

//!
//! # The binary
//!
//! `fake-upstream [--port N] [--config accounts.json]` prints exactly one line,
//! `listening on http://127.0.0.1:PORT`, flushes stdout and serves until killed. The config
//! file is a [`FakeConfig`] (`{"accounts":[...],"models":[...],"token_ttl_secs":3600,
//! "oauth_clients":[...],"api_keys":[...]}`, every key optional) or a bare list of [`AccountSpec`]s. Without
//! `--config` there is one account: refresh token `fake-refresh-token-1`, email
//! `alice@example.com`, project `fake-project-1`.

#![forbid(unsafe_code)]

mod cloudcode;
mod config;
mod control;
mod errors;
mod oauth;
mod providers;
mod record;
mod respond;
mod script;
mod signatures;
mod state;
mod timefmt;
mod validate;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use http::{HeaderMap, Method, Uri};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{
    AccountSpec, ApiKeySpec, AuthCode, FakeConfig, Family, ModelSpec, OAuthClient, Provider,
    QuotaSpec, default_models,
};
pub use errors::{GoogleError, VALIDATION_URL};
pub use record::{RecordedRequest, RequestFilter};
pub use respond::estimate_tokens;
pub use script::{Behavior, ScriptedCall};
pub use signatures::DUMMY_SIGNATURES;

use state::{Inner, Shared, normalize_prefix};

/// Registers an auth code (shared by the Rust and HTTP APIs).
pub(crate) fn register_code(inner: &mut Inner, code: AuthCode) {
    inner
        .codes
        .insert(code.code.clone(), state::CodeState { code, used: false });
}

/// Everything that is not OAuth or the control API: a provider prefix (`/anthropic`,
/// `/openai`, `/gemini`) goes to that provider unless the path is a Cloud Code call
/// (`.../v1internal:...`); everything else is Cloud Code.
async fn route(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if !path.contains("/v1internal:")
        && let Some(p) = Provider::of_path(path)
    {
        return providers::dispatch(shared, p, method, uri, headers, body).await;
    }
    cloudcode::dispatch(State(shared), method, uri, headers, body).await
}

/// A running fake. Dropping it stops the server.
pub struct FakeUpstream {
    addr: SocketAddr,
    shared: Shared,
    task: JoinHandle<()>,
}

impl FakeUpstream {
    /// Starts on `127.0.0.1:0` with no accounts and the default models.
    pub async fn start() -> io::Result<FakeUpstream> {
        FakeUpstream::start_with(FakeConfig::default()).await
    }

    /// Starts on `127.0.0.1:0` with a configuration.
    pub async fn start_with(config: FakeConfig) -> io::Result<FakeUpstream> {
        FakeUpstream::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts on a given address.
    pub async fn bind(addr: SocketAddr, config: FakeConfig) -> io::Result<FakeUpstream> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Shared::new(config);
        let app = Router::new()
            .route("/token", post(oauth::token))
            .route("/oauth2/v2/userinfo", get(oauth::userinfo))
            .nest("/__fake", control::router())
            .fallback(route)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone());
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeUpstream { addr, shared, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1internal`.
    pub fn cloudcode_url(&self) -> String {
        format!("{}/v1internal", self.base_url())
    }

    /// `http://127.0.0.1:PORT<prefix>/v1internal` (e.g. prefix `/ep1`).
    pub fn cloudcode_url_at(&self, prefix: &str) -> String {
        format!("{}{}/v1internal", self.base_url(), normalize_prefix(prefix))
    }

    /// `http://127.0.0.1:PORT/token`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// `http://127.0.0.1:PORT/oauth2/v2/userinfo`.
    pub fn userinfo_url(&self) -> String {
        format!("{}/oauth2/v2/userinfo", self.base_url())
    }

    /// `http://127.0.0.1:PORT/__fake`.
    pub fn control_url(&self) -> String {
        format!("{}/__fake", self.base_url())
    }

    /// `http://127.0.0.1:PORT/anthropic`: the base URL of the Anthropic-compatible API
    /// (requests go to `/anthropic/v1/messages`).
    pub fn anthropic_url(&self) -> String {
        format!("{}/anthropic", self.base_url())
    }

    /// `http://127.0.0.1:PORT/openai/v1`: the base URL of the OpenAI-compatible API
    /// (requests go to `/openai/v1/chat/completions`).
    pub fn openai_url(&self) -> String {
        format!("{}/openai/v1", self.base_url())
    }

    /// `http://127.0.0.1:PORT/gemini`: the base URL of the Gemini API (requests go to
    /// `/gemini/v1beta/models/{model}:generateContent`).
    pub fn gemini_url(&self) -> String {
        format!("{}/gemini", self.base_url())
    }

    /// The base URL a client of `provider` is configured with (see the three above).
    pub fn provider_url(&self, provider: Provider) -> String {
        match provider {
            Provider::Anthropic => self.anthropic_url(),
            Provider::OpenAi => self.openai_url(),
            Provider::Gemini => self.gemini_url(),
        }
    }

    /// Registers (or replaces, by key string) an API key of `provider`. Scripts and the
    /// request log name it by `label` (the key itself when `label` is empty).
    pub fn add_api_key(&self, provider: Provider, key: &str, label: &str) {
        self.shared
            .lock()
            .add_api_key(ApiKeySpec::new(provider, key, label));
    }

    /// Revokes an API key (by key string or label): it then gets the provider's
    /// invalid-key error.
    pub fn revoke_api_key(&self, key_or_label: &str) {
        self.set_key_revoked(key_or_label, true);
    }

    /// Undoes [`FakeUpstream::revoke_api_key`].
    pub fn restore_api_key(&self, key_or_label: &str) {
        self.set_key_revoked(key_or_label, false);
    }

    fn set_key_revoked(&self, key_or_label: &str, revoked: bool) {
        self.shared.lock().set_key_revoked(key_or_label, revoked);
    }

    /// The registered API keys.
    pub fn api_keys(&self) -> Vec<ApiKeySpec> {
        self.shared
            .lock()
            .api_keys
            .iter()
            .map(|k| k.spec.clone())
            .collect()
    }

    /// Restricts the models an API-key provider serves (`None`: any model id). Other models
    /// get the provider's 404. For OpenAI the list is also what `GET /v1/models` returns.
    pub fn set_provider_models(&self, provider: Provider, models: Option<Vec<String>>) {
        let mut inner = self.shared.lock();
        match models {
            Some(m) => inner.provider_models.insert(provider, m),
            None => inner.provider_models.remove(&provider),
        };
    }

    /// Issues a thinking signature only `provider` accepts (for hand-built Anthropic
    /// histories; the Gemini API uses [`FakeUpstream::issue_signature`] with
    /// [`Family::Gemini`]).
    pub fn issue_provider_signature(&self, provider: Provider) -> String {
        self.shared.lock().signatures.issue_for_provider(provider)
    }

    /// Generate calls (`messages`, `chat/completions`, `generateContent`,
    /// `streamGenerateContent`) made to `provider` with the key labelled `label`, whatever
    /// their outcome (calls with a revoked key count; unknown keys have no label).
    pub fn provider_calls(&self, provider: Provider, label: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| {
                r.is_generate()
                    && r.provider.as_deref() == Some(provider.as_str())
                    && r.account.as_deref() == Some(label)
            })
            .cloned()
            .collect()
    }

    /// Adds (or replaces, by email) an account.
    pub fn add_account(&self, spec: AccountSpec) {
        self.shared.lock().add_account(spec);
    }

    /// Revokes an account: its refresh token gets `invalid_grant`, its access tokens 401.
    pub fn revoke(&self, email: &str) {
        let mut inner = self.shared.lock();
        if let Some(a) = inner.account_mut(email) {
            a.revoked = true;
        }
        inner.invalidate_tokens_of(email);
    }

    /// Undoes [`FakeUpstream::revoke`] (old access tokens stay invalid).
    pub fn restore(&self, email: &str) {
        if let Some(a) = self.shared.lock().account_mut(email) {
            a.revoked = false;
        }
    }

    /// Registers a code for the `authorization_code` grant.
    pub fn register_auth_code(&self, code: AuthCode) {
        register_code(&mut self.shared.lock(), code);
    }

    /// Sets the quota of one model for one account.
    pub fn set_quota(
        &self,
        email: &str,
        model: &str,
        remaining_fraction: f64,
        reset_time: Option<&str>,
    ) {
        if let Some(a) = self.shared.lock().account_mut(email) {
            a.spec.quotas.insert(
                model.to_string(),
                QuotaSpec {
                    remaining_fraction,
                    reset_time: reset_time.map(str::to_string),
                },
            );
        }
    }

    /// How many `onboardUser` calls stay pending and which project onboarding yields.
    pub fn set_onboarding(&self, email: &str, polls: u32, project: Option<&str>) {
        if let Some(a) = self.shared.lock().account_mut(email) {
            a.spec.onboarding_polls = Some(polls);
            a.spec.onboard_project = project.map(str::to_string);
        }
    }

    /// The account's current project (changes after onboarding).
    pub fn account_project(&self, email: &str) -> Option<String> {
        self.shared
            .lock()
            .account(email)
            .and_then(|a| a.project.clone())
    }

    /// Appends behaviours for any model of the account.
    pub fn script(&self, email: &str, behaviors: Vec<Behavior>) {
        self.shared.lock().enqueue(email, None, behaviors);
    }

    /// Appends behaviours for one model of the account (consumed before the account queue).
    pub fn script_model(&self, email: &str, model: &str, behaviors: Vec<Behavior>) {
        self.shared.lock().enqueue(email, Some(model), behaviors);
    }

    /// The behaviour used when the account's queues are empty (`None`: `Ok`).
    pub fn set_default_behavior(&self, email: &str, behavior: Option<Behavior>) {
        self.shared.lock().set_default(email, behavior);
    }

    /// Appends failures for every call under `prefix` (e.g. `/ep1`), consumed one per call.
    /// Error behaviours fail the call; others let it through.
    pub fn script_prefix(&self, prefix: &str, behaviors: Vec<Behavior>) {
        self.shared
            .lock()
            .prefix_queues
            .entry(normalize_prefix(prefix))
            .or_default()
            .extend(behaviors);
    }

    /// A persistent failure for every call under `prefix` (`None` clears it).
    pub fn set_prefix_default(&self, prefix: &str, behavior: Option<Behavior>) {
        let mut inner = self.shared.lock();
        let p = normalize_prefix(prefix);
        match behavior {
            Some(b) => inner.prefix_defaults.insert(p, b),
            None => inner.prefix_defaults.remove(&p),
        };
    }

    /// Invalidates every access token of the account (as if they expired).
    pub fn expire_tokens(&self, email: &str) {
        self.shared.lock().invalidate_tokens_of(email);
    }

    /// Lifetime of access tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.shared.lock().token_ttl = ttl;
    }

    /// Replaces the served models.
    pub fn set_models(&self, models: Vec<ModelSpec>) {
        self.shared.lock().models = models;
    }

    /// The served models.
    pub fn models(&self) -> Vec<ModelSpec> {
        self.shared.lock().models.clone()
    }

    /// Issues a signature the fake will accept for `family` (for hand-built histories).
    pub fn issue_signature(&self, family: Family) -> String {
        self.shared.lock().signatures.issue(family)
    }

    /// Every recorded request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Recorded requests matching a filter.
    pub fn requests_matching(&self, filter: &RequestFilter) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect()
    }

    /// Generate calls (`generateContent` and `streamGenerateContent`) made with the account's
    /// access token, whatever their outcome.
    pub fn generate_calls(&self, email: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.is_generate() && r.account.as_deref() == Some(email))
            .cloned()
            .collect()
    }

    /// Number of recorded calls to `endpoint`, for one account or (with `None`) overall.
    pub fn call_count(&self, email: Option<&str>, endpoint: &str) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| {
                r.endpoint == endpoint && email.is_none_or(|e| r.account.as_deref() == Some(e))
            })
            .count()
    }

    /// Forgets recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Back to the startup state (initial accounts and models; nothing scripted or recorded).
    pub fn reset(&self) {
        self.shared.lock().reset();
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

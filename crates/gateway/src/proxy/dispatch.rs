//! The one retry loop. For each candidate account: get a token, make sure the
//! project is known, send, and peek until the first content event arrives. Only
//! then is the answer committed to the client; every failure before that moves
//! on to the next account (or ends the loop when it is the client's fault).

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use secrecy::SecretString;
use tokio::time::Instant;
use uplink_protocol::error::{Dialect, ErrorKind};
use uplink_protocol::ir::{FinishReason, Request, StreamEvent};
use uplink_protocol::json;
use uplink_protocol::translate::encode_gemini_request;

use crate::api::ApiError;
use crate::monitor::Note;
use std::sync::Arc;

use crate::config::providers::Dispatch;
use crate::pool::{Account, NoCandidate};
use crate::state::AppState;
use crate::upstream::http::{Body, MAX_ANSWER_BYTES, read_body, retry_after};
use crate::upstream::{EventStream, Next, UpstreamError, body_capacity, provider};

/// A committed upstream answer: the events already read while peeking, then the
/// rest of the stream.
pub struct Answer {
    /// The request monitor's notes, for the relay to add usage to.
    pub note: Note,
    pub account: String,
    /// Whether the account may be named to the client (`X-Account-Email`).
    pub expose_account: bool,
    pub upstream_model: String,
    pub head: Vec<StreamEvent>,
    pub rest: EventStream,
    /// When the whole request must be over.
    pub deadline: Instant,
}

/// When an answer is committed to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// At the first content event (text, thinking or a tool call).
    FirstContent,
    /// At the first answer event (text or a tool call): an answer that is only
    /// thinking, or nothing, is retried on another account first. Claude Code
    /// shows an empty answer as "0 tokens" and stalls.
    FirstAnswer,
}

/// Serve `request` from the pool. `dialect` shapes the errors. Signatures the
/// client could not carry are restored into `request` first.
pub async fn dispatch(
    state: &AppState,
    request: &mut Request,
    dialect: Dialect,
    request_id: &str,
    note: &Note,
    commit: Commit,
) -> Result<Answer, ApiError> {
    let deadline = Instant::now() + state.config().request_timeout;
    let resolved = state.resolve_model(&request.model);
    let upstream_model = resolved.model;
    note.update(|n| n.mapped_model = Some(upstream_model.clone()));
    tracing::debug!(request_id, requested = %request.model, upstream = %upstream_model, rule = ?resolved.rule, "model resolved");
    let session = session_key(request);
    state.signatures().restore(request);
    super::media::inline_urls(&state.upstreams().http, request, dialect).await?;
    let pool = state.pool();
    let scheduling = &state.config().scheduling;
    let targets = plan(state, request, dialect, &upstream_model, &session, deadline).await?;
    // Cloud Code's body is encoded once, and only if a Cloud Code account is tried.
    let mut cloud: Option<Envelope> = None;
    let budget_end = Instant::now() + scheduling.retry_budget;
    let mut failures: Vec<(String, UpstreamError)> = Vec::new();
    for target in targets.iter().take(scheduling.max_attempts) {
        let account = &target.account;
        if !failures.is_empty() && Instant::now() >= budget_end.min(deadline) {
            break;
        }
        let result = match &account.key {
            Some(key) => {
                match provider::send(&state.upstreams().http, key, &target.model, request).await {
                    Ok(stream) => peek(stream, deadline, commit).await,
                    Err(e) => Err(e),
                }
            }
            None => {
                let envelope = match &cloud {
                    Some(envelope) => envelope,
                    None => cloud.insert(Envelope::encode(
                        request,
                        &upstream_model,
                        request_id,
                        state.upstreams().cloudcode.user_agent(),
                        dialect,
                    )?),
                };
                attempt(state, account, envelope, deadline, commit).await
            }
        };
        match result {
            Ok((head, rest)) => {
                pool.bind_session(&session, account);
                let label = account.label();
                note.update(|n| {
                    n.account = Some(label.clone());
                    n.mapped_model = Some(target.model.clone());
                    n.attempts = failures.len() as u32 + 1;
                });
                let rest = state
                    .signatures()
                    .observe(&head, rest, request.meta.session_id.clone());
                return Ok(Answer {
                    note: note.clone(),
                    account: label,
                    expose_account: state.config().expose_account_email,
                    upstream_model: target.model.clone(),
                    head,
                    rest,
                    deadline,
                });
            }
            Err(error) => {
                tracing::info!(
                    request_id,
                    account = %account.label(),
                    status = error.status,
                    next = ?error.next,
                    "upstream attempt failed: {}",
                    error.message
                );
                pool.report_failure(state.storage(), account, &target.model, &error)
                    .await;
                let label = account.label();
                failures.push((label.clone(), error));
                note.update(|n| {
                    n.account = Some(label);
                    n.attempts = failures.len() as u32;
                });
                if let Some((_, error)) = failures.last().filter(|(_, e)| e.next == Next::Fail) {
                    return Err(upstream_error(dialect, error));
                }
            }
        }
    }
    Err(exhausted(state, dialect, &upstream_model, &failures))
}

/// One candidate: an account and the model name it is asked for.
struct Target {
    account: Arc<Account>,
    model: String,
}

/// The accounts to try, in order. Providers that serve the model join by their
/// dispatch setting: `exclusive` replaces the Cloud Code pool, `pooled` is
/// scheduled together with it, `fallback` comes after it.
async fn plan(
    state: &AppState,
    request: &Request,
    dialect: Dialect,
    cloud_model: &str,
    session: &str,
    deadline: Instant,
) -> Result<Vec<Target>, ApiError> {
    let scheduling = &state.config().scheduling;
    let (mut exclusive, mut pooled, mut fallback) = (Vec::new(), Vec::new(), Vec::new());
    let mut any_exclusive = false;
    for (config, keys) in &state.providers().list {
        let model = if config.serves(dialect, &request.model) {
            config.model_for(&request.model)
        } else if config.serves(dialect, cloud_model) {
            config.model_for(cloud_model)
        } else {
            continue;
        };
        let ready = keys
            .iter()
            .filter(|k| k.is_usable() && k.cooldown_left(&model).is_none())
            .map(|k| Target {
                account: k.clone(),
                model: model.clone(),
            });
        match config.dispatch {
            Dispatch::Exclusive => {
                any_exclusive = true;
                exclusive.extend(ready);
            }
            Dispatch::Pooled => pooled.extend(ready),
            Dispatch::Fallback => fallback.extend(ready),
            Dispatch::Off => {}
        }
    }
    let pool = state.pool();
    // Ordered once per request, whatever mix of accounts it is.
    let order = |targets: Vec<Target>| -> Vec<Target> {
        let models: std::collections::HashMap<i64, String> = targets
            .iter()
            .map(|t| (t.account.id, t.model.clone()))
            .collect();
        let model_of = |account: &Account| models.get(&account.id).cloned().unwrap_or_default();
        let accounts = targets.into_iter().map(|t| t.account).collect();
        pool.order(accounts, Some(session), scheduling, |account| {
            account.remaining(&model_of(account)).unwrap_or(1.0)
        })
        .into_iter()
        .map(|account| Target {
            model: model_of(&account),
            account,
        })
        .collect()
    };
    if any_exclusive {
        if exclusive.is_empty() {
            return Err(ApiError::new(
                dialect,
                ErrorKind::RateLimited,
                format!(
                    "Every key of the provider that serves {} is cooling down or disabled.",
                    request.model
                ),
            )
            .with_retry_after(1));
        }
        return Ok(order(exclusive));
    }
    let providers_ready = !pooled.is_empty() || !fallback.is_empty();
    let cloud = match pool.ready(cloud_model) {
        // Every account rests, but the first is back soon and nothing else can
        // serve: wait for it.
        Err(NoCandidate::AllCooling { shortest, .. })
            if !providers_ready
                && shortest <= scheduling.max_wait
                && Instant::now() + shortest < deadline =>
        {
            tokio::time::sleep(shortest).await;
            pool.ready(cloud_model)
        }
        other => other,
    };
    let mut targets = match cloud {
        Ok(accounts) => {
            let mut merged: Vec<Target> = accounts
                .into_iter()
                .map(|account| Target {
                    account,
                    model: cloud_model.to_owned(),
                })
                .collect();
            merged.extend(pooled);
            order(merged)
        }
        Err(why) if !providers_ready => return Err(no_candidate(dialect, cloud_model, why)),
        Err(_) => order(pooled),
    };
    targets.extend(order(fallback));
    Ok(targets)
}

/// The session a request belongs to: what the client said (Anthropic
/// `metadata.user_id`, Claude Code's and Codex's session headers, OpenAI
/// `prompt_cache_key`/`user`), else a hash of the system prompt and the first
/// user message — stable across the turns of one conversation.
pub fn session_key(request: &Request) -> String {
    if let Some(session) = request
        .meta
        .session_id
        .as_deref()
        .or(request.meta.user.as_deref())
    {
        return session.to_owned();
    }
    use std::hash::{BuildHasher, Hash, Hasher};
    // A fixed seed: the same conversation maps to the same key after a restart.
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    request.system_text().hash(&mut h);
    if let Some(first) = request
        .messages
        .iter()
        .find(|m| m.role == uplink_protocol::ir::Role::User)
    {
        first.text().hash(&mut h);
    }
    format!("h:{:016x}", h.finish())
}

/// A Cloud Code request but for its account's project: everything after
/// `{"project":…,`, encoded once per request however many accounts are tried.
struct Envelope<'a> {
    upstream_model: &'a str,
    rest: Bytes,
}

impl<'a> Envelope<'a> {
    fn encode(
        request: &Request,
        upstream_model: &'a str,
        request_id: &str,
        user_agent: &str,
        dialect: Dialect,
    ) -> Result<Self, ApiError> {
        fn field(out: &mut Vec<u8>, name: &str, value: &str) {
            out.extend_from_slice(name.as_bytes());
            json::write_str(out, value);
        }
        let gemini = encode_gemini_request(request, upstream_model)
            .map_err(|e| ApiError::from_body(dialect, e.to_error_body(dialect)))?;
        let inner = uplink_protocol::cloudcode::CloudCodeInnerRequest {
            request: gemini,
            session_id: request.meta.session_id.clone(),
        };
        let request_type =
            uplink_protocol::cloudcode::request_type_for(upstream_model, &inner.request);
        let mut out = Vec::with_capacity(body_capacity(request.meta.body_len));
        field(&mut out, "\"model\":", upstream_model);
        out.extend_from_slice(b",\"request\":");
        json::to_writer(&mut out, &inner).map_err(|e| {
            ApiError::new(
                dialect,
                ErrorKind::Internal,
                format!("cannot encode the upstream request: {e}"),
            )
        })?;
        field(&mut out, ",\"requestId\":", request_id);
        field(&mut out, ",\"userAgent\":", user_agent);
        field(&mut out, ",\"requestType\":", request_type);
        out.push(b'}');
        Ok(Self {
            upstream_model,
            rest: Bytes::from(out),
        })
    }

    /// The body for an account in `project`.
    fn body(&self, project: &str) -> Body {
        let mut head = Vec::with_capacity(project.len() + 16);
        head.extend_from_slice(b"{\"project\":");
        json::write_str(&mut head, project);
        head.push(b',');
        Body::new(Bytes::from(head), self.rest.clone())
    }
}

/// One account's try, including one token refresh after a 401.
async fn attempt(
    state: &AppState,
    account: &Account,
    envelope: &Envelope<'_>,
    deadline: Instant,
    commit: Commit,
) -> Result<(Vec<StreamEvent>, EventStream), UpstreamError> {
    let upstreams = state.upstreams();
    let mut refreshed = false;
    loop {
        let token: SecretString = account.access_token(&upstreams.oauth).await?;
        let project = account
            .project(&upstreams.cloudcode, &token, state.storage())
            .await?;
        let body = envelope.body(&project);
        let response = upstreams
            .cloudcode
            .post("streamGenerateContent", "?alt=sse", &token, body)
            .await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = retry_after(&response);
            let bytes = read_body(response, MAX_ANSWER_BYTES)
                .await
                .unwrap_or_default();
            let error = UpstreamError::from_google(status, &bytes, retry_after);
            if error.next == Next::RefreshAndRetry {
                account.invalidate_token(&token).await;
                if !refreshed {
                    refreshed = true;
                    continue;
                }
                return Err(UpstreamError {
                    next: Next::Rotate,
                    ..error
                });
            }
            return Err(error);
        }
        return peek(
            crate::upstream::stream::events(
                response,
                uplink_protocol::translate::GeminiStreamDecoder::new(envelope.upstream_model),
            ),
            deadline,
            commit,
        )
        .await;
    }
}

/// Read until the event `commit` waits for. A stream that ends, fails or only
/// says "stop" before it is a failed attempt, so the next account gets a try
/// before the client has seen a byte.
async fn peek(
    mut stream: EventStream,
    deadline: Instant,
    commit: Commit,
) -> Result<(Vec<StreamEvent>, EventStream), UpstreamError> {
    let mut head = Vec::new();
    loop {
        let event = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                return Err(UpstreamError::timeout(
                    "no answer from the upstream before the request timeout",
                ));
            }
            Ok(None) => {
                return Err(UpstreamError::empty(
                    "the upstream stream ended without any content",
                ));
            }
            Ok(Some(event)) => event,
        };
        match &event {
            StreamEvent::TextDelta(text) if text.is_empty() => head.push(event),
            StreamEvent::TextDelta(_) | StreamEvent::ToolCallStart { .. } => {
                head.push(event);
                return Ok((head, stream));
            }
            StreamEvent::ThinkingDelta(_) | StreamEvent::RedactedThinking(_)
                if commit == Commit::FirstContent =>
            {
                head.push(event);
                return Ok((head, stream));
            }
            StreamEvent::Error(e) => {
                let next = if e.kind == ErrorKind::InvalidRequest {
                    Next::Fail
                } else {
                    Next::Rotate
                };
                return Err(UpstreamError {
                    kind: e.kind,
                    next,
                    ..UpstreamError::empty(e.message.clone())
                });
            }
            StreamEvent::Finish(FinishReason::Stop) => {
                let only_thinking = head
                    .iter()
                    .any(|e| matches!(e, StreamEvent::ThinkingDelta(_)));
                return Err(UpstreamError::empty(if only_thinking {
                    "the upstream answered with thinking but no answer"
                } else {
                    "the upstream answered with no content"
                }));
            }
            StreamEvent::Finish(_) => {
                // Filtered or cut by length before any content: that is the answer.
                head.push(event);
                return Ok((head, stream));
            }
            _ => head.push(event),
        }
    }
}

fn upstream_error(dialect: Dialect, error: &UpstreamError) -> ApiError {
    // The upstream's status, except where the client's protocol has its own
    // for the kind (Anthropic clients expect 529 for overload).
    let status = if error.status >= 400 && error.kind != ErrorKind::Overloaded {
        error.status
    } else {
        error.kind.status(dialect)
    };
    ApiError::new(dialect, error.kind, error.message.clone()).with_status(status)
}

fn no_candidate(dialect: Dialect, model: &str, why: NoCandidate) -> ApiError {
    match why {
        NoCandidate::Empty { disabled: 0 } => ApiError::new(
            dialect,
            ErrorKind::Unavailable,
            "Uplink has no upstream account yet. Add one with `uplink accounts login` or `uplink accounts import FILE`.",
        ),
        NoCandidate::Empty { disabled } => ApiError::new(
            dialect,
            ErrorKind::Unavailable,
            format!(
                "All {disabled} upstream accounts are disabled or blocked; `uplink accounts list` shows why."
            ),
        ),
        NoCandidate::AllCooling { accounts, shortest } => {
            let secs = shortest.as_secs_f64().ceil().max(1.0) as u64;
            ApiError::new(
                dialect,
                ErrorKind::RateLimited,
                format!(
                    "All {accounts} accounts are cooling down for model {model}; the first is available again in {}.",
                    human(Duration::from_secs(secs))
                ),
            )
            .with_retry_after(secs)
        }
    }
}

/// Every candidate failed: say so, with each attempt, in the caller's protocol.
/// When every failure was a quota or rate limit, answer 429 with the real wait.
fn exhausted(
    state: &AppState,
    dialect: Dialect,
    model: &str,
    failures: &[(String, UpstreamError)],
) -> ApiError {
    let Some((_, last)) = failures.last() else {
        return ApiError::new(
            dialect,
            ErrorKind::Unavailable,
            "no upstream account could be tried",
        );
    };
    let detail: Vec<String> = failures
        .iter()
        .map(|(account, e)| {
            let status = if e.status == 0 {
                "network".to_owned()
            } else {
                e.status.to_string()
            };
            format!("{account}: {status} {}", e.message)
        })
        .collect();
    let message = format!(
        "All {} attempts failed for model {model}. {}",
        failures.len(),
        detail.join("; ")
    );
    // When any attempt hit a limit, waiting helps: answer with that (429 with
    // the real wait, else overload), not with whatever failed last.
    if failures
        .iter()
        .any(|(_, e)| e.kind == ErrorKind::RateLimited)
    {
        let wait = match state.pool().ready(model) {
            Err(NoCandidate::AllCooling { shortest, .. }) => shortest,
            _ => Duration::from_secs(1),
        };
        return ApiError::new(dialect, ErrorKind::RateLimited, message)
            .with_retry_after(wait.as_secs_f64().ceil().max(1.0) as u64);
    }
    if let Some((_, overloaded)) = failures
        .iter()
        .find(|(_, e)| e.kind == ErrorKind::Overloaded)
    {
        return upstream_error(dialect, overloaded).with_message(message);
    }
    upstream_error(dialect, last).with_message(message)
}

/// `2h1m`, `45s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use uplink_protocol::ir::{Message, Request, SystemPart};

    use super::session_key;

    fn conversation(system: &str, first: &str, turns: usize) -> Request {
        let mut request = Request::default();
        request.system.push(SystemPart::new(system));
        request.messages.push(Message::user_text(first));
        for i in 0..turns {
            request
                .messages
                .push(Message::assistant_text(format!("answer {i}")));
            request
                .messages
                .push(Message::user_text(format!("question {i}")));
        }
        request
    }

    #[test]
    fn a_conversation_keeps_its_session_key_from_turn_to_turn() {
        let first = session_key(&conversation("be brief", "hello", 0));
        assert!(first.starts_with("h:"), "{first}");
        assert_eq!(session_key(&conversation("be brief", "hello", 5)), first);
        assert_ne!(session_key(&conversation("be long", "hello", 0)), first);
        assert_ne!(session_key(&conversation("be brief", "hello!", 0)), first);
    }

    #[test]
    fn a_session_the_client_names_wins_over_the_hash() {
        let mut request = conversation("be brief", "hello", 0);
        request.meta.user = Some("user-1".into());
        assert_eq!(session_key(&request), "user-1");
        request.meta.session_id = Some("session-9".into());
        assert_eq!(session_key(&request), "session-9");
    }
}

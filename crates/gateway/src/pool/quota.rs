//! Per-account, per-model quota: the snapshot Cloud Code's `fetchAvailableModels`
//! reports, kept in memory for the scheduler ([`QuotaBook`]), persisted in
//! `accounts.quota_json`, and refreshed at start-up, every
//! `[quota] refresh_interval_secs` and on demand. A model with no quota left
//! cools its account, for that model only, until the reported reset time.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Account, Pool};
use crate::state::{AppState, Upstreams};
use crate::storage::{Storage, StorageError};
use crate::upstream::{AccountChange, Next, Scope, UpstreamError};

/// Accounts refreshed at the same time in one round.
const CONCURRENCY: usize = 4;
/// One account's refresh (token, project discovery, fetch) may take this long.
const ACCOUNT_TIMEOUT: Duration = Duration::from_secs(90);

/// One model's quota as last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelQuota {
    /// 0.0 ..= 1.0. `None` when the upstream reported no quota for the model.
    #[serde(default)]
    pub remaining_fraction: Option<f64>,
    /// When the quota resets (RFC 3339, as the upstream sent it).
    #[serde(default)]
    pub reset_time: Option<String>,
    /// When this was fetched (Unix seconds).
    #[serde(default)]
    pub fetched_at: Option<i64>,
}

impl ModelQuota {
    /// The reset time, parsed.
    pub fn reset_at(&self) -> Option<SystemTime> {
        self.reset_time.as_deref().and_then(parse_rfc3339)
    }

    /// How long the quota stays exhausted after `now`: `Some` only when nothing
    /// is left and the reset is still ahead.
    pub fn exhausted_for(&self, now: SystemTime) -> Option<Duration> {
        if self.remaining_fraction? > 0.0 {
            return None;
        }
        self.reset_at()?
            .duration_since(now)
            .ok()
            .filter(|d| !d.is_zero())
    }
}

/// Model id → quota, for one account. Persisted as this JSON object:
/// `{"<model>": {"remaining_fraction", "reset_time", "fetched_at"}}`.
pub type QuotaSnapshot = BTreeMap<String, ModelQuota>;

/// Read `fetchAvailableModels`' answer: `{"models": {"<id>": {"quotaInfo":
/// {"remainingFraction", "resetTime"}, …}}}`. A `quotaInfo` without
/// `remainingFraction` means none is left (proto3 JSON omits zero values).
pub fn parse_available_models(answer: &Value, fetched_at: i64) -> Result<QuotaSnapshot, String> {
    let models = answer
        .get("models")
        .and_then(Value::as_object)
        .ok_or_else(|| "an answer without a `models` object".to_owned())?;
    Ok(models
        .iter()
        .map(|(id, model)| {
            let info = model.get("quotaInfo").and_then(Value::as_object);
            let quota = ModelQuota {
                remaining_fraction: info.map(|i| {
                    i.get("remainingFraction")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0)
                        .clamp(0.0, 1.0)
                }),
                reset_time: info
                    .and_then(|i| i.get("resetTime"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                fetched_at: Some(fetched_at),
            };
            (id.clone(), quota)
        })
        .collect())
}

/// The latest quota snapshot of every account, for the scheduler and listings.
#[derive(Debug)]
pub struct QuotaBook {
    snapshots: RwLock<HashMap<i64, Arc<QuotaSnapshot>>>,
    rounds: watch::Sender<u64>,
    /// Bumped on every change, so readers can cache what they derive.
    version: std::sync::atomic::AtomicU64,
}

impl Default for QuotaBook {
    fn default() -> Self {
        Self {
            snapshots: RwLock::default(),
            rounds: watch::channel(0).0,
            version: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl QuotaBook {
    fn read<T>(&self, f: impl FnOnce(&HashMap<i64, Arc<QuotaSnapshot>>) -> T) -> T {
        match self.snapshots.read() {
            Ok(guard) => f(&guard),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn write(&self, f: impl FnOnce(&mut HashMap<i64, Arc<QuotaSnapshot>>)) {
        match self.snapshots.write() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Changes with every snapshot change.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The account's whole snapshot.
    pub fn snapshot(&self, account_id: i64) -> Option<Arc<QuotaSnapshot>> {
        self.read(|all| all.get(&account_id).cloned())
    }

    /// The remaining fraction (0.0 ..= 1.0) of `model` on the account, if known.
    pub fn remaining(&self, account_id: i64, model: &str) -> Option<f64> {
        self.read(|all| all.get(&account_id)?.get(model)?.remaining_fraction)
    }

    /// When `model`'s quota on the account resets, if known.
    pub fn reset_time(&self, account_id: i64, model: &str) -> Option<SystemTime> {
        self.read(|all| all.get(&account_id)?.get(model)?.reset_at())
    }

    /// The models the account serves, sorted.
    pub fn models(&self, account_id: i64) -> Vec<String> {
        self.read(|all| {
            all.get(&account_id)
                .map(|s| s.keys().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// The models any account serves, sorted, each once.
    pub fn all_models(&self) -> Vec<String> {
        self.read(|all| {
            all.values()
                .flat_map(|s| s.keys().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
    }

    /// Replace the account's snapshot.
    pub fn set(&self, account_id: i64, snapshot: QuotaSnapshot) -> Arc<QuotaSnapshot> {
        let snapshot = Arc::new(snapshot);
        let stored = snapshot.clone();
        self.write(|all| {
            all.insert(account_id, stored);
        });
        snapshot
    }

    /// Forget the snapshots of accounts that no longer exist.
    pub fn retain(&self, keep: impl Fn(i64) -> bool) {
        self.write(|all| all.retain(|id, _| keep(*id)));
    }

    /// Counts completed refresh rounds ([`refresh_all`]); `changed()` wakes after
    /// the next one.
    pub fn rounds(&self) -> watch::Receiver<u64> {
        self.rounds.subscribe()
    }

    /// Load the persisted snapshots and apply them to `accounts` (remaining
    /// fractions; cooldowns for models exhausted until a future reset).
    pub async fn restore(
        &self,
        storage: &Storage,
        accounts: &[Arc<Account>],
    ) -> Result<(), StorageError> {
        let now = SystemTime::now();
        for (id, json) in storage.account_quotas().await? {
            match serde_json::from_str::<QuotaSnapshot>(&json) {
                Ok(snapshot) => {
                    let snapshot = self.set(id, snapshot);
                    if let Some(account) = accounts.iter().find(|a| a.id == id) {
                        apply(account, &snapshot, now);
                    }
                }
                Err(e) => tracing::warn!(
                    account_id = id,
                    "ignoring an unreadable stored quota snapshot: {e}"
                ),
            }
        }
        Ok(())
    }
}

/// Give the account the snapshot's remaining fractions (for the scheduler) and
/// cool it, per model, for every model exhausted until a future reset.
pub fn apply(account: &Account, snapshot: &QuotaSnapshot, now: SystemTime) {
    account.set_remaining(
        snapshot
            .iter()
            .filter_map(|(model, q)| q.remaining_fraction.map(|r| (model.clone(), r))),
    );
    for (model, quota) in snapshot {
        if let Some(left) = quota.exhausted_for(now) {
            account.cool_down(model, Scope::Model, left);
        }
    }
}

/// Why refreshing one account's quota failed. Never contains a token.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("token refresh failed: {}", describe(.0))]
    Token(UpstreamError),
    #[error("Cloud Code project discovery failed: {}", describe(.0))]
    Project(UpstreamError),
    #[error("fetchAvailableModels failed: {}", describe(.0))]
    Fetch(UpstreamError),
    #[error("fetchAvailableModels returned {0}")]
    Shape(String),
    #[error("timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not persist the quota: {0}")]
    Storage(#[from] StorageError),
}

fn describe(e: &UpstreamError) -> String {
    if e.status == 0 {
        e.message.clone()
    } else {
        format!("HTTP {}: {}", e.status, e.message)
    }
}

impl RefreshError {
    /// The account state change the failure calls for: a revoked token disables
    /// the account; a verification demand blocks it. Other failures (a 403 or a
    /// 5xx from the quota endpoint itself) change nothing: requests decide.
    fn change(&self) -> Option<&AccountChange> {
        match self {
            RefreshError::Token(e) => e.change.as_ref(),
            RefreshError::Project(e) | RefreshError::Fetch(e) => e
                .change
                .as_ref()
                .filter(|c| matches!(c, AccountChange::Block { .. })),
            _ => None,
        }
    }
}

/// Refresh one account now: a fresh access token, its project, its quota.
/// The snapshot is persisted, remembered in the pool's [`QuotaBook`] and applied
/// to the account. An account without an email gets it from userinfo.
pub async fn refresh_account(
    pool: &Pool,
    account: &Account,
    upstreams: &Upstreams,
    storage: &Storage,
) -> Result<Arc<QuotaSnapshot>, RefreshError> {
    let fetched = tokio::time::timeout(ACCOUNT_TIMEOUT, fetch(account, upstreams, storage))
        .await
        .unwrap_or(Err(RefreshError::Timeout(ACCOUNT_TIMEOUT)));
    let snapshot = match fetched {
        Ok(snapshot) => snapshot,
        Err(e) => {
            if let Some(change) = e.change() {
                let only_the_change = UpstreamError {
                    change: Some(change.clone()),
                    cooldown: None,
                    ..UpstreamError::network(e.to_string())
                };
                pool.report_failure(storage, account, "*", &only_the_change)
                    .await;
            }
            return Err(e);
        }
    };
    let json = serde_json::to_string(&snapshot)
        .map_err(|e| RefreshError::Shape(format!("an unstorable snapshot: {e}")))?;
    storage.set_account_quota(account.id, &json).await?;
    let snapshot = pool.quota().set(account.id, snapshot);
    apply(account, &snapshot, SystemTime::now());
    Ok(snapshot)
}

async fn fetch(
    account: &Account,
    upstreams: &Upstreams,
    storage: &Storage,
) -> Result<QuotaSnapshot, RefreshError> {
    let mut token = account
        .access_token(&upstreams.oauth)
        .await
        .map_err(RefreshError::Token)?;
    if account.email().is_none() {
        match upstreams.oauth.userinfo(&token).await {
            Ok(info) => {
                if let Some(email) = info.email.filter(|e| !e.is_empty())
                    && let Err(e) = storage.set_account_email(account.id, &email).await
                {
                    tracing::warn!(account = %account.label(), "could not store the email: {e}");
                }
            }
            Err(e) => {
                tracing::debug!(account = %account.label(), "userinfo failed: {}", describe(&e));
            }
        }
    }
    let project = account
        .project(&upstreams.cloudcode, &token, storage)
        .await
        .map_err(RefreshError::Project)?;
    let body = json!({ "project": project });
    let answer = match upstreams
        .cloudcode
        .post_json("fetchAvailableModels", &token, &body)
        .await
    {
        Err(e) if e.next == Next::RefreshAndRetry => {
            account.invalidate_token(&token).await;
            token = account
                .access_token(&upstreams.oauth)
                .await
                .map_err(RefreshError::Token)?;
            upstreams
                .cloudcode
                .post_json("fetchAvailableModels", &token, &body)
                .await
        }
        other => other,
    }
    .map_err(RefreshError::Fetch)?;
    parse_available_models(&answer, unix_now()).map_err(RefreshError::Shape)
}

/// One account's refresh outcome.
pub type Refreshed = (Arc<Account>, Result<Arc<QuotaSnapshot>, RefreshError>);

/// One round: refresh every usable account (a few at a time), then forget the
/// snapshots of accounts that are gone and count the round.
pub async fn refresh_all(pool: &Pool, upstreams: &Upstreams, storage: &Storage) -> Vec<Refreshed> {
    let accounts: Vec<Arc<Account>> = pool
        .all()
        .iter()
        .filter(|a| a.is_usable())
        .cloned()
        .collect();
    let results = futures_util::stream::iter(accounts)
        .map(|account| async move {
            let result = refresh_account(pool, &account, upstreams, storage).await;
            (account, result)
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let live: HashSet<i64> = pool.all().iter().map(|a| a.id).collect();
    pool.quota().retain(|id| live.contains(&id));
    pool.quota().rounds.send_modify(|n| *n += 1);
    results
}

/// Start the background refresher on `tracker`: a round now, then one every
/// `interval`, until `cancel`. Failures are logged; they never end the task.
pub fn spawn_refresher(
    tracker: &TaskTracker,
    cancel: CancellationToken,
    state: AppState,
    interval: Duration,
) {
    tracker.spawn(every(interval, cancel, move || {
        let state = state.clone();
        async move {
            let results = refresh_all(state.pool(), state.upstreams(), state.storage()).await;
            log_round(&results);
        }
    }));
}

fn log_round(results: &[Refreshed]) {
    let now = SystemTime::now();
    for (account, result) in results {
        match result {
            Ok(snapshot) => {
                let exhausted: Vec<String> = snapshot
                    .iter()
                    .filter_map(|(model, q)| {
                        q.exhausted_for(now)
                            .map(|d| format!("{model} (for {})", human_duration(d)))
                    })
                    .collect();
                if exhausted.is_empty() {
                    tracing::debug!(account = %account.label(), models = snapshot.len(), "quota refreshed");
                } else {
                    tracing::info!(
                        account = %account.label(),
                        "quota exhausted, resting the account for: {}",
                        exhausted.join(", ")
                    );
                }
            }
            Err(e) => tracing::warn!(account = %account.label(), "quota refresh failed: {e}"),
        }
    }
}

/// Run `round` now and then `interval` after each one ends, until `cancel`
/// (which also interrupts a round in progress).
async fn every<F, Fut>(interval: Duration, cancel: CancellationToken, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            () = round() => {}
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `2h 5m`, `4m 10s`, `12s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, 0, sec) => format!("{sec}s"),
        (0, 0, min, sec) => format!("{min}m {sec}s"),
        (0, h, min, _) => format!("{h}h {min}m"),
        (days, h, _, _) => format!("{days}d {h}h"),
    }
}

/// Parse an RFC 3339 timestamp (`2025-01-07T07:27:44Z`, fractions and
/// `±hh:mm` offsets too).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let (clock, offset) = match rest.strip_suffix(['Z', 'z']) {
        Some(clock) => (clock, 0),
        None => {
            let at = rest.rfind(['+', '-'])?;
            let (hh, mm) = rest.get(at + 1..)?.split_once(':')?;
            let minutes = hh.parse::<i64>().ok()? * 60 + mm.parse::<i64>().ok()?;
            let sign = if rest[at..].starts_with('-') { -1 } else { 1 };
            (&rest[..at], sign * minutes * 60)
        }
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.splitn(3, ':');
    let hour: i64 = hms.next()?.parse().ok()?;
    let minute: i64 = hms.next()?.parse().ok()?;
    let second: i64 = hms.next()?.parse().ok()?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: String = fraction.chars().take(9).collect();
    let nanos: u32 = format!("{digits:0<9}").parse().ok()?;
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(UNIX_EPOCH + Duration::new(u64::try_from(secs).ok()?, nanos))
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's civil-calendar algorithms.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{AccountRecord, AccountStatus};
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn account() -> Account {
        Account::from_record(AccountRecord {
            id: 7,
            email: Some("a@x".into()),
            refresh_token: SecretString::from("rt"),
            project_id: Some("p".into()),
            status: AccountStatus::Active,
            status_reason: None,
            validation_url: None,
        })
    }

    #[test]
    fn timestamps_round_trip_and_take_offsets_and_fractions() {
        let t = parse_rfc3339("2025-01-07T07:27:44Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_736_234_864
        );
        assert_eq!(format_rfc3339(t), "2025-01-07T07:27:44Z");
        assert_eq!(
            parse_rfc3339("2025-01-07T09:27:44.5+02:00").unwrap(),
            t + Duration::from_millis(500)
        );
        assert_eq!(parse_rfc3339("2025-01-07T06:27:44-01:00").unwrap(), t);
        assert_eq!(
            format_rfc3339(parse_rfc3339("2024-02-29T23:59:59Z").unwrap()),
            "2024-02-29T23:59:59Z"
        );
        for bad in [
            "",
            "soon",
            "2025-13-01T00:00:00Z",
            "2025-01-07T25:00:00Z",
            "2025-01-07",
            "2025-01-07T07:27:44",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_fetch_available_models() {
        let answer = json!({"models": {
            "gemini-2.5-pro": {"displayName": "x", "quotaInfo": {"remainingFraction": 0.25, "resetTime": "2030-01-01T00:00:00Z"}},
            "claude-opus-4-5-thinking": {"quotaInfo": {"resetTime": "2030-01-01T00:00:00Z"}},
            "chat_20706": {"maxTokens": 1}
        }});
        let snap = parse_available_models(&answer, 42).unwrap();
        assert_eq!(snap.len(), 3);
        assert_eq!(snap["gemini-2.5-pro"].remaining_fraction, Some(0.25));
        assert_eq!(
            snap["claude-opus-4-5-thinking"].remaining_fraction,
            Some(0.0),
            "omitted zero"
        );
        assert_eq!(snap["chat_20706"].remaining_fraction, None);
        assert_eq!(snap["gemini-2.5-pro"].fetched_at, Some(42));
        assert!(parse_available_models(&json!({}), 0).is_err());
        // The persisted shape round-trips.
        let text = serde_json::to_string(&snap).unwrap();
        assert!(text.contains("\"remaining_fraction\":0.25"), "{text}");
        assert_eq!(serde_json::from_str::<QuotaSnapshot>(&text).unwrap(), snap);
    }

    #[tokio::test(start_paused = true)]
    async fn exhausted_models_cool_only_that_model_until_the_reset() {
        let a = account();
        let now = SystemTime::now();
        let soon = format_rfc3339(now + Duration::from_secs(3600));
        let past = format_rfc3339(now - Duration::from_secs(3600));
        let q = |r: f64, reset: &str| ModelQuota {
            remaining_fraction: Some(r),
            reset_time: Some(reset.to_owned()),
            fetched_at: None,
        };
        let snap: QuotaSnapshot = [
            ("empty".to_owned(), q(0.0, &soon)),
            ("reset-passed".to_owned(), q(0.0, &past)),
            ("fine".to_owned(), q(0.5, &soon)),
        ]
        .into();
        apply(&a, &snap, now);
        let left = a.cooldown_left("empty").unwrap();
        assert!(
            left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
            "{left:?}"
        );
        assert_eq!(a.cooldown_left("reset-passed"), None);
        assert_eq!(a.cooldown_left("fine"), None);
        assert_eq!(a.remaining("fine"), Some(0.5));
        tokio::time::advance(Duration::from_secs(3601)).await;
        assert_eq!(a.cooldown_left("empty"), None, "over at the reset");
    }

    #[test]
    fn the_book_answers_per_account_and_model() {
        let book = QuotaBook::default();
        let q = |r: f64| ModelQuota {
            remaining_fraction: Some(r),
            reset_time: Some("2030-01-01T00:00:00Z".into()),
            fetched_at: None,
        };
        book.set(
            1,
            [("m1".to_owned(), q(0.5)), ("m2".to_owned(), q(0.0))].into(),
        );
        book.set(2, [("m3".to_owned(), q(1.0))].into());
        assert_eq!(book.remaining(1, "m1"), Some(0.5));
        assert_eq!(book.remaining(1, "m3"), None);
        assert_eq!(book.remaining(9, "m1"), None);
        assert_eq!(
            book.reset_time(1, "m2"),
            parse_rfc3339("2030-01-01T00:00:00Z")
        );
        assert_eq!(book.models(1), ["m1", "m2"]);
        assert_eq!(book.all_models(), ["m1", "m2", "m3"]);
        book.retain(|id| id == 2);
        assert_eq!(book.all_models(), ["m3"]);
        assert!(book.snapshot(1).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_refresher_runs_at_once_then_every_interval_until_cancelled() {
        let rounds = Arc::new(AtomicUsize::new(0));
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let counter = rounds.clone();
        tracker.spawn(every(Duration::from_secs(300), cancel.clone(), move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }));
        tokio::task::yield_now().await;
        assert_eq!(rounds.load(Ordering::SeqCst), 1, "at start");
        tokio::time::advance(Duration::from_secs(299)).await;
        tokio::task::yield_now().await;
        assert_eq!(rounds.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        tokio::task::yield_now().await;
        assert_eq!(rounds.load(Ordering::SeqCst), 2, "after one interval");
        tokio::time::advance(Duration::from_secs(300)).await;
        tokio::task::yield_now().await;
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
        cancel.cancel();
        tracker.close();
        tracker.wait().await;
        tokio::time::advance(Duration::from_secs(3000)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 3, "stopped");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(12)), "12s");
        assert_eq!(human_duration(Duration::from_secs(250)), "4m 10s");
        assert_eq!(human_duration(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(human_duration(Duration::from_secs(90_000)), "1d 1h");
    }
}

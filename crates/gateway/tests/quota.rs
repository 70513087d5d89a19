//! The quota snapshot while serving, against the strict fake: fetched at start
//! and persisted, refreshed every interval, an exhausted model resting its
//! account until the reset, restored after a restart, failures logged and never
//! fatal, and the refresher stopping with the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::json;
use support::{Binary, binary, fake_config};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uplink_fake_upstream::{AccountSpec, FakeUpstream};
use uplink_gateway::config::{Config, Sources};
use uplink_gateway::pool::quota::{format_rfc3339, parse_rfc3339};
use uplink_gateway::run::{Gateway, RunError};
use uplink_gateway::state::AppState;
use uplink_gateway::storage::{NewAccount, Storage};

/// A gateway serving in this process, its state at hand.
struct Running {
    state: AppState,
    url: String,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), RunError>>,
}

impl Running {
    async fn start(config: Config) -> Running {
        let gateway = Gateway::bind(config).await.unwrap();
        let state = gateway.state.clone();
        let url = format!("http://{}", gateway.local_addr);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(gateway.serve(shutdown.clone()));
        Running {
            state,
            url,
            shutdown,
            task,
        }
    }

    /// Wait (bounded) until `n` refresh rounds have completed.
    async fn rounds(&self, n: u64) {
        let mut rounds = self.state.pool().quota().rounds();
        tokio::time::timeout(Duration::from_secs(30), rounds.wait_for(|r| *r >= n))
            .await
            .expect("refresh rounds")
            .unwrap();
    }

    fn id(&self, email: &str) -> i64 {
        self.state
            .pool()
            .all()
            .iter()
            .find(|a| a.email().as_deref() == Some(email))
            .unwrap()
            .id
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("stopped in time")
            .unwrap()
            .unwrap();
    }
}

/// Fake accounts `emails` (project `proj-<i>`), stored in a fresh data dir.
async fn setup(fake: &FakeUpstream, emails: &[&str], extra: &str) -> (Config, TempDir) {
    let (config, dir) = support::config(&fake_config(fake, &[fake.cloudcode_url()], extra));
    let storage = Storage::open(&config.data_dir).await.unwrap();
    for (i, email) in emails.iter().enumerate() {
        fake.add_account(AccountSpec::new(
            format!("rt-{email}"),
            *email,
            format!("proj-{i}"),
        ));
        storage
            .upsert_account(&NewAccount {
                email: Some((*email).to_owned()),
                refresh_token: format!("rt-{email}"),
                project_id: None,
            })
            .await
            .unwrap();
    }
    storage.close().await;
    (config, dir)
}

fn in_hours(hours: u64) -> String {
    format_rfc3339(SystemTime::now() + Duration::from_secs(hours * 3600))
}

#[tokio::test]
async fn the_snapshot_is_fetched_at_start_and_persisted() {
    let fake = FakeUpstream::start().await.unwrap();
    let (config, dir) = setup(&fake, &["a@x.com"], "").await;
    let reset = in_hours(3);
    fake.set_quota("a@x.com", "gemini-2.5-pro", 0.25, Some(&reset));
    let app = Running::start(config).await;
    app.rounds(1).await;

    let id = app.id("a@x.com");
    let quota = app.state.pool().quota();
    assert_eq!(quota.remaining(id, "gemini-2.5-pro"), Some(0.25));
    assert_eq!(quota.remaining(id, "gemini-2.5-flash"), Some(1.0));
    assert_eq!(
        quota.reset_time(id, "gemini-2.5-pro"),
        parse_rfc3339(&reset)
    );
    let served: Vec<String> = fake.models().into_iter().map(|m| m.id).collect();
    let mut expected = served.clone();
    expected.sort();
    assert_eq!(quota.models(id), expected);
    assert_eq!(quota.all_models(), expected);
    let account = app.state.pool().all()[0].clone();
    assert_eq!(
        account.remaining("gemini-2.5-pro"),
        Some(0.25),
        "the scheduler's view"
    );

    // Sent with the account's (discovered) project.
    let fetch = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "fetchAvailableModels")
        .unwrap();
    assert_eq!(fetch.body.unwrap(), json!({"project": "proj-0"}));

    let storage = Storage::open(dir.path()).await.unwrap();
    let stored: HashMap<i64, String> = storage
        .account_quotas()
        .await
        .unwrap()
        .into_iter()
        .collect();
    let snapshot: serde_json::Value = serde_json::from_str(&stored[&id]).unwrap();
    assert_eq!(snapshot["gemini-2.5-pro"]["remaining_fraction"], 0.25);
    assert_eq!(snapshot["gemini-2.5-pro"]["reset_time"], reset.as_str());
    storage.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_model_with_no_quota_left_rests_its_account_until_the_reset() {
    let fake = FakeUpstream::start().await.unwrap();
    let (config, _dir) = setup(
        &fake,
        &["a@x.com", "b@x.com"],
        "[scheduling]\nmode = \"round_robin\"",
    )
    .await;
    fake.set_quota("a@x.com", "gemini-2.5-pro", 0.0, Some(&in_hours(2)));
    let app = Running::start(config).await;
    app.rounds(1).await;

    let a = app
        .state
        .pool()
        .all()
        .iter()
        .find(|x| x.email().as_deref() == Some("a@x.com"))
        .cloned()
        .unwrap();
    let left = a.cooldown_left("gemini-2.5-pro").expect("cooling");
    assert!(
        left > Duration::from_secs(2 * 3600 - 120) && left <= Duration::from_secs(2 * 3600),
        "{left:?}"
    );
    assert_eq!(
        a.cooldown_left("gemini-2.5-flash"),
        None,
        "other models unaffected"
    );

    let client = support::client();
    for _ in 0..4 {
        let res = client
            .post(format!("{}/v1/chat/completions", app.url))
            .json(&json!({"model": "gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-account-email"], "b@x.com");
    }
    assert_eq!(fake.generate_calls("a@x.com").len(), 0, "never tried");
    let mut served = std::collections::HashSet::new();
    for _ in 0..4 {
        let res = client
            .post(format!("{}/v1/chat/completions", app.url))
            .json(&json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        served.insert(
            res.headers()["x-account-email"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(served.len(), 2, "a still serves other models: {served:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_snapshot_is_refreshed_every_interval() {
    let fake = FakeUpstream::start().await.unwrap();
    let (config, _dir) = setup(&fake, &["a@x.com"], "[quota]\nrefresh_interval_secs = 1").await;
    assert_eq!(config.quota.refresh_interval, Some(Duration::from_secs(1)));
    let app = Running::start(config).await;
    app.rounds(1).await;
    let id = app.id("a@x.com");
    assert_eq!(
        app.state.pool().quota().remaining(id, "gemini-2.5-flash"),
        Some(1.0)
    );
    let before = app.state.pool().quota().rounds().borrow().to_owned();
    fake.set_quota("a@x.com", "gemini-2.5-flash", 0.1, None);
    // A round that started after the change.
    app.rounds(before + 2).await;
    assert_eq!(
        app.state.pool().quota().remaining(id, "gemini-2.5-flash"),
        Some(0.1)
    );
    assert!(fake.call_count(Some("a@x.com"), "fetchAvailableModels") >= 3);
    app.stop().await;
}

#[tokio::test]
async fn a_restart_restores_the_persisted_snapshot_and_0_disables_refreshing() {
    let fake = FakeUpstream::start().await.unwrap();
    let (config, dir) = setup(&fake, &["a@x.com"], "").await;
    fake.set_quota("a@x.com", "claude-sonnet-4-5", 0.0, Some(&in_hours(4)));
    let app = Running::start(config).await;
    app.rounds(1).await;
    let id = app.id("a@x.com");
    app.stop().await;
    let fetches = fake.call_count(None, "fetchAvailableModels");

    let file = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{text}\n[quota]\nrefresh_interval_secs = 0\n"),
    )
    .unwrap();
    let config = Config::load(&Sources {
        data_dir: Some(dir.path().to_path_buf()),
        config_file: Some(file),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.quota.refresh_interval, None);
    let app = Running::start(config).await;
    let quota = app.state.pool().quota();
    assert_eq!(
        quota.remaining(id, "claude-sonnet-4-5"),
        Some(0.0),
        "restored"
    );
    assert_eq!(quota.remaining(id, "gemini-2.5-pro"), Some(1.0));
    let a = app.state.pool().all()[0].clone();
    assert!(a.cooldown_left("claude-sonnet-4-5").unwrap() > Duration::from_secs(3 * 3600));
    // Serving a request leaves time for a refresher to have started; none did.
    let res = support::client()
        .post(format!("{}/v1/chat/completions", app.url))
        .json(
            &json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
    assert_eq!(fake.call_count(None, "fetchAvailableModels"), fetches);
}

#[test]
fn the_interval_is_configurable_by_file_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let load = |toml: &str, env: &[(&str, &str)]| {
        let file = dir.path().join("config.toml");
        std::fs::write(&file, toml).unwrap();
        Config::load(&Sources {
            data_dir: Some(dir.path().to_path_buf()),
            config_file: Some(file),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Sources::default()
        })
    };
    let secs = |c: Config| c.quota.refresh_interval.map(|d| d.as_secs());
    assert_eq!(secs(load("", &[]).unwrap()), Some(300));
    assert_eq!(
        secs(load("[quota]\nrefresh_interval_secs = 60", &[]).unwrap()),
        Some(60)
    );
    assert_eq!(
        secs(
            load(
                "[quota]\nrefresh_interval_secs = 60",
                &[("UPLINK_QUOTA_REFRESH_INTERVAL_SECS", "0")]
            )
            .unwrap()
        ),
        None,
        "the environment wins; 0 disables"
    );
    let err = load("", &[("UPLINK_QUOTA_REFRESH_INTERVAL_SECS", "soon")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("UPLINK_QUOTA_REFRESH_INTERVAL_SECS"), "{err}");
    let err = load("[quota]\nrefresh_every = 1", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("refresh_every"), "{err}");
}

/// Wait (bounded) until the binary's log contains `needle`.
fn wait_for_log(gw: &Binary, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    tokio::task::block_in_place(|| {
        while !gw.stderr.lock().unwrap().contains(needle) {
            assert!(
                std::time::Instant::now() < deadline,
                "no `{needle}` in: {}",
                gw.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_is_logged_and_serving_goes_on() {
    let fake = FakeUpstream::start().await.unwrap();
    let (_config, dir) = setup(&fake, &["good@x.com", "gone@x.com", "denied@x.com"], "").await;
    // gone's token was revoked; denied's stored project is not its own (403).
    fake.revoke("gone@x.com");
    let storage = Storage::open(dir.path()).await.unwrap();
    let denied = storage.find_account("denied@x.com").await.unwrap().unwrap();
    storage
        .set_account_project(denied.id, "someone-elses-project")
        .await
        .unwrap();
    storage.close().await;

    let mut cmd = binary();
    cmd.args(["serve", "--data-dir"]).arg(dir.path());
    let mut gw = tokio::task::block_in_place(|| Binary::start(cmd));
    wait_for_log(&gw, "gone@x.com");
    wait_for_log(&gw, "denied@x.com");
    let log = gw.stderr.lock().unwrap().clone();
    let line = |email: &str| {
        log.lines()
            .find(|l| l.contains("quota refresh failed") && l.contains(email))
            .unwrap_or_else(|| panic!("{email}: {log}"))
            .to_owned()
    };
    assert!(line("gone@x.com").contains("invalid_grant"), "{log}");
    assert!(line("denied@x.com").contains("HTTP 403"), "{log}");
    assert!(!log.contains("rt-"), "no token in the log: {log}");

    let client = support::client();
    let health = client
        .get(format!("{}/healthz", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "still serving");
    let status = tokio::task::block_in_place(|| gw.terminate());
    assert_eq!(status.code(), Some(0), "{}", gw.stderr.lock().unwrap());

    let storage = Storage::open(dir.path()).await.unwrap();
    let status = |email: &str| {
        let storage = storage.clone();
        let email = email.to_owned();
        async move { storage.find_account(&email).await.unwrap().unwrap().status }
    };
    use uplink_gateway::storage::AccountStatus;
    assert_eq!(
        status("gone@x.com").await,
        AccountStatus::Disabled,
        "a revoked token disables"
    );
    assert_eq!(
        status("denied@x.com").await,
        AccountStatus::Active,
        "a failed quota fetch alone changes nothing"
    );
    let quotas: HashMap<i64, String> = storage
        .account_quotas()
        .await
        .unwrap()
        .into_iter()
        .collect();
    let good = storage.find_account("good@x.com").await.unwrap().unwrap();
    assert!(quotas.contains_key(&good.id), "the others were refreshed");
    assert_eq!(quotas.len(), 1);
    storage.close().await;
}

#[tokio::test]
async fn the_refresher_stops_with_the_server() {
    let fake = FakeUpstream::start().await.unwrap();
    let (config, _dir) = setup(&fake, &["a@x.com"], "[quota]\nrefresh_interval_secs = 1").await;
    let app = Running::start(config).await;
    app.rounds(2).await;
    // `stop` (bounded) waits for the refresher, sleeping or mid-round: it would
    // time out if the task ignored shutdown.
    app.stop().await;
}

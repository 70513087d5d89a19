//! Shared test support: gateways built from a TOML snippet, in-process (router
//! only, or bound to 127.0.0.1:0 and serving) or as the real binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod admin;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uplink_fake_upstream::{AccountSpec, FakeUpstream};
use uplink_gateway::config::{Config, Sources};
use uplink_gateway::run::Gateway;
use uplink_gateway::storage::{NewAccount, Storage};

pub const KEY: &str = "sk-test-0123456789";

/// Load a configuration from `toml` in a fresh data directory. Port 0 unless set.
pub fn config(toml: &str) -> (Config, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let toml = if toml.contains("port") {
        toml.to_owned()
    } else {
        format!("port = 0\n{toml}")
    };
    std::fs::write(&file, toml).unwrap();
    let config = Config::load(&Sources {
        data_dir: Some(dir.path().to_path_buf()),
        config_file: Some(file),
        env: HashMap::new(),
        ..Sources::default()
    })
    .unwrap();
    (config, dir)
}

/// The gateway's router for `tower::ServiceExt::oneshot` tests.
pub async fn router(toml: &str) -> (uplink_gateway::server::App, TempDir) {
    let (config, dir) = config(toml);
    let gateway = Gateway::bind(config).await.unwrap();
    (uplink_gateway::server::router(gateway.state), dir)
}

/// A gateway serving on 127.0.0.1:0 inside this test process.
pub struct TestApp {
    pub url: String,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), uplink_gateway::run::RunError>>,
    pub dir: TempDir,
}

impl TestApp {
    pub async fn start(toml: &str) -> TestApp {
        let (config, dir) = config(toml);
        let gateway = Gateway::bind(config).await.unwrap();
        let url = format!("http://{}", gateway.local_addr);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(gateway.serve(shutdown.clone()));
        TestApp {
            url,
            shutdown,
            task,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Start with these accounts already stored (as `uplink accounts import` would).
    pub async fn start_with_accounts(toml: &str, accounts: &[NewAccount]) -> TestApp {
        let (config, dir) = config(toml);
        let storage = Storage::open(&config.data_dir).await.unwrap();
        for account in accounts {
            storage.upsert_account(account).await.unwrap();
        }
        storage.close().await;
        let gateway = Gateway::bind(config).await.unwrap();
        let url = format!("http://{}", gateway.local_addr);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(gateway.serve(shutdown.clone()));
        TestApp {
            url,
            shutdown,
            task,
            dir,
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// A blocking HTTP client for tests that drive the real binary.
pub fn blocking_client() -> reqwest::blocking::Client {
    uplink_gateway::upstream::http::install_crypto_provider();
    reqwest::blocking::Client::new()
}

/// An async HTTP client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    uplink_gateway::upstream::http::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The real `uplink` binary, started with `args` and `env`, its banner read.
pub struct Binary {
    pub child: Child,
    pub url: String,
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uplink"));
    for (k, _) in std::env::vars() {
        if k.starts_with("UPLINK_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

impl Binary {
    /// Start `uplink serve` and wait (bounded) for its "listening on" line.
    pub fn start(mut cmd: Command) -> Binary {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Log first, then announce: a test that reads the log after the
                // URL arrives must find the banner in it.
                {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on ".len()..];
                    let url = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no banner; stderr: {}", log.lock().unwrap()));
        Binary {
            child,
            url,
            stderr: log,
        }
    }

    /// Send SIGTERM and wait (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gateway in front of a strict fake upstream.
pub struct Harness {
    pub fake: FakeUpstream,
    pub app: TestApp,
    pub client: reqwest::Client,
}

/// The config that points the gateway at `fake` (plus `extra` TOML).
pub fn fake_config(fake: &FakeUpstream, endpoints: &[String], extra: &str) -> String {
    let endpoints: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
    format!(
        "{extra}\n[cloudcode]\nendpoints = [{}]\n[oauth]\ntoken_url = {:?}\nuserinfo_url = {:?}\nclient_id = \"test-client\"\nclient_secret = \"test-secret\"\n",
        endpoints.join(", "),
        fake.token_url(),
        fake.userinfo_url(),
    )
}

impl Harness {
    /// A fake with `emails` as onboarded accounts (project `proj-<n>`), all
    /// imported into the gateway without their project (so it is discovered).
    pub async fn start(emails: &[&str]) -> Harness {
        Self::start_with(emails, "").await
    }

    pub async fn start_with(emails: &[&str], extra_toml: &str) -> Harness {
        let fake = FakeUpstream::start().await.unwrap();
        let endpoints = vec![fake.cloudcode_url()];
        Self::start_on(fake, emails, &endpoints, extra_toml).await
    }

    pub async fn start_on(
        fake: FakeUpstream,
        emails: &[&str],
        endpoints: &[String],
        extra_toml: &str,
    ) -> Harness {
        let mut accounts = Vec::new();
        for (i, email) in emails.iter().enumerate() {
            let rt = format!("rt-{email}");
            fake.add_account(AccountSpec::new(rt.clone(), *email, format!("proj-{i}")));
            accounts.push(NewAccount {
                email: Some((*email).to_owned()),
                refresh_token: rt,
                project_id: None,
            });
        }
        Self::start_with_accounts(fake, &accounts, endpoints, extra_toml).await
    }

    /// The gateway with exactly these stored accounts (the fake's are the test's business).
    pub async fn start_with_accounts(
        fake: FakeUpstream,
        accounts: &[NewAccount],
        endpoints: &[String],
        extra_toml: &str,
    ) -> Harness {
        let app =
            TestApp::start_with_accounts(&fake_config(&fake, endpoints, extra_toml), accounts)
                .await;
        Harness {
            fake,
            app,
            client: client(),
        }
    }

    pub fn post(&self, path: &str, body: serde_json::Value) -> reqwest::RequestBuilder {
        self.client.post(self.app.url(path)).json(&body)
    }

    pub fn generate_calls(&self, email: &str) -> usize {
        self.fake.generate_calls(email).len()
    }
}

/// The `data:` payloads of an SSE body, in order.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|frame| {
            let data: Vec<&str> = frame
                .lines()
                .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

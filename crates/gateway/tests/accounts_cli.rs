//! `uplink accounts …` through the real binary, against the strict fake: every
//! import format, re-import, bad input, sign-in (pasted redirect, loopback
//! callback, state mismatch, timeout), list, remove / enable / disable /
//! refresh, and unknown accounts. Tokens never appear in the output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::{binary, fake_config};
use tempfile::TempDir;
use uplink_fake_upstream::{AccountSpec, AuthCode, FakeUpstream};
use uplink_gateway::auth::login::pkce_challenge;
use uplink_gateway::pool::quota::format_rfc3339;
use uplink_gateway::storage::{AccountStatus, Storage};

const T_A: &str = "1//0gA-refresh-token-of-alice-000000";
const T_B: &str = "1//0gB-refresh-token-of-bob-11111111";
const T_C: &str = "1//0gC-refresh-token-of-carol-222222";
const T_NEW: &str = "1//0gN-refresh-token-of-newbie-33333";
const T_UNKNOWN: &str = "1//0gU-refresh-token-nobody-knows-44";
const TOKENS: [&str; 5] = [T_A, T_B, T_C, T_NEW, T_UNKNOWN];

/// A data directory configured for the fake, with alice, bob and carol on it.
struct Cli {
    fake: FakeUpstream,
    dir: TempDir,
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    fn ok(self) -> Out {
        assert_eq!(self.code, Some(0), "{}", self.all());
        self
    }

    fn no_tokens(self) -> Out {
        let all = self.all();
        for token in TOKENS {
            assert!(!all.contains(token), "a token was printed: {all}");
        }
        assert!(!all.contains("ya29."), "an access token was printed: {all}");
        self
    }
}

impl Cli {
    async fn start() -> Cli {
        let fake = FakeUpstream::start().await.unwrap();
        fake.add_account(AccountSpec::new(T_A, "alice@x.com", "proj-a"));
        fake.add_account(AccountSpec::new(T_B, "bob@x.com", "proj-b"));
        fake.add_account(AccountSpec::new(T_C, "carol@x.com", "proj-c"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            fake_config(&fake, &[fake.cloudcode_url()], ""),
        )
        .unwrap();
        Cli { fake, dir }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = binary();
        cmd.arg("--data-dir").arg(self.dir.path()).args(args);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Out {
        self.run_with(self.cmd(args), None).await
    }

    async fn run_with(&self, mut cmd: Command, stdin: Option<String>) -> Out {
        tokio::task::spawn_blocking(move || {
            if stdin.is_some() {
                cmd.stdin(Stdio::piped());
            }
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            if let Some(text) = stdin {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            let out = child.wait_with_output().unwrap();
            Out {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .unwrap()
    }

    async fn import(&self, file: &Path) -> Out {
        self.run(&["accounts", "import", file.to_str().unwrap()])
            .await
    }

    fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn list(&self) -> Vec<Value> {
        let out = self
            .run(&["accounts", "list", "--json"])
            .await
            .ok()
            .no_tokens();
        serde_json::from_str::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    async fn storage(&self) -> Storage {
        Storage::open(self.dir.path()).await.unwrap()
    }
}

fn find<'a>(list: &'a [Value], email: &str) -> &'a Value {
    list.iter()
        .find(|a| a["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {list:?}"))
}

/// An Antigravity Tools account file, as its `accounts/<id>.json`.
fn antigravity(email: &str, token: &str, project: &str, disabled: bool) -> String {
    json!({
        "id": format!("id-{email}"),
        "email": email,
        "name": "Someone",
        "token": {
            "access_token": "ya29.a0-not-to-be-printed",
            "refresh_token": token,
            "expires_in": 3599,
            "expiry_timestamp": 1_767_000_000,
            "token_type": "Bearer",
            "email": email,
            "project_id": project,
            "session_id": "-123",
            "is_gcp_tos": false
        },
        "quota": {"models": [{"name": "gemini-2.5-pro", "percentage": 80, "reset_time": ""}],
                  "last_updated": 1, "is_forbidden": false},
        "disabled": disabled,
        "disabled_reason": if disabled { json!("invalid_grant: revoked") } else { Value::Null },
        "created_at": 1_766_000_000,
        "last_used": 1_766_000_001
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_a_json_array_filling_in_missing_emails() {
    let cli = Cli::start().await;
    let file = cli.write(
        "accounts.json",
        &json!([
            {"refresh_token": T_A, "email": "alice@x.com", "project_id": "proj-a"},
            {"refresh_token": T_B}
        ])
        .to_string(),
    );
    let out = cli.import(&file).await.ok().no_tokens();
    assert!(
        out.stdout.contains("imported 2 account(s)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("bob@x.com"),
        "email looked up: {}",
        out.all()
    );
    let list = cli.list().await;
    assert_eq!(list.len(), 2);
    assert_eq!(find(&list, "alice@x.com")["project_id"], "proj-a");
    assert_eq!(find(&list, "bob@x.com")["status"], "active");
    assert_eq!(
        cli.fake.call_count(Some("bob@x.com"), "userinfo"),
        1,
        "asked Google who bob is"
    );
    assert_eq!(cli.fake.call_count(Some("alice@x.com"), "token"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_an_antigravity_tools_account_file() {
    let cli = Cli::start().await;
    let file = cli.write(
        "6b1c.json",
        &antigravity("alice@x.com", T_A, "proj-a", false),
    );
    let out = cli.import(&file).await.ok().no_tokens();
    assert!(out.stdout.contains("alice@x.com"), "{}", out.all());
    let disabled = cli.write("9f2e.json", &antigravity("bob@x.com", T_B, "proj-b", true));
    cli.import(&disabled).await.ok().no_tokens();
    let list = cli.list().await;
    assert_eq!(list.len(), 2);
    let alice = find(&list, "alice@x.com");
    assert_eq!(
        (&alice["project_id"], &alice["status"]),
        (&json!("proj-a"), &json!("active"))
    );
    let bob = find(&list, "bob@x.com");
    assert_eq!(bob["status"], "disabled", "disabled in the source: {bob}");
    assert!(
        bob["status_reason"]
            .as_str()
            .unwrap()
            .contains("Antigravity Tools"),
        "{bob}"
    );
    let storage = cli.storage().await;
    let stored = storage.find_account("alice@x.com").await.unwrap().unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(stored.refresh_token.expose_secret(), T_A);
    storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_a_directory_of_antigravity_tools_accounts() {
    let cli = Cli::start().await;
    let dir = cli.dir.path().join("accounts");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("1.json"),
        antigravity("alice@x.com", T_A, "proj-a", false),
    )
    .unwrap();
    std::fs::write(
        dir.join("2.json"),
        antigravity("bob@x.com", T_B, "proj-b", false),
    )
    .unwrap();
    std::fs::write(dir.join("README.txt"), "not an account").unwrap();
    let out = cli.import(&dir).await.ok().no_tokens();
    assert!(
        out.stdout.contains("imported 2 account(s)"),
        "{}",
        out.all()
    );
    let list = cli.list().await;
    assert_eq!(list.len(), 2);
    assert_eq!(find(&list, "bob@x.com")["project_id"], "proj-b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_refresh_tokens_one_per_line() {
    let cli = Cli::start().await;
    let file = cli.write(
        "tokens.txt",
        &format!("# exported tokens\n\n{T_C}\n   \n  {T_UNKNOWN}  \n# end\n"),
    );
    let out = cli.import(&file).await.ok().no_tokens();
    assert!(
        out.stdout.contains("imported 2 account(s)"),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("carol@x.com"), "{}", out.all());
    // The unknown token cannot be looked up: imported anyway, with a warning
    // that names the line.
    assert!(
        out.stderr.contains("tokens.txt line 5") && out.stderr.contains("without one"),
        "{}",
        out.all()
    );
    let list = cli.list().await;
    assert_eq!(list.len(), 2);
    find(&list, "carol@x.com");
    assert!(list.iter().any(|a| a["email"].is_null()), "{list:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_from_standard_input() {
    let cli = Cli::start().await;
    let out = cli
        .run_with(
            cli.cmd(&["accounts", "import", "-"]),
            Some(json!([{"refresh_token": T_A, "email": "alice@x.com"}]).to_string()),
        )
        .await
        .ok()
        .no_tokens();
    assert!(out.stdout.contains("standard input"), "{}", out.all());
    assert_eq!(cli.list().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_importing_updates_instead_of_duplicating() {
    let cli = Cli::start().await;
    let first = cli.write(
        "a.json",
        &json!([{"refresh_token": T_A, "email": "alice@x.com", "project_id": "old"}]).to_string(),
    );
    let out = cli.import(&first).await.ok().no_tokens();
    assert!(out.stdout.contains("1 added, 0 updated"), "{}", out.all());
    let again = cli.write(
        "b.json",
        &json!([{"refresh_token": T_A, "email": "alice@x.com", "project_id": "proj-a"}])
            .to_string(),
    );
    let out = cli.import(&again).await.ok().no_tokens();
    assert!(out.stdout.contains("0 added, 1 updated"), "{}", out.all());
    // The same token as a bare line matches too.
    let line = cli.write("t.txt", &format!("{T_A}\n"));
    cli.import(&line).await.ok().no_tokens();
    // And the Antigravity Tools file of the same account.
    let ag = cli.write("ag.json", &antigravity("alice@x.com", T_A, "proj-a", false));
    cli.import(&ag).await.ok().no_tokens();
    let list = cli.list().await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["project_id"], "proj-a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_64_naming_the_file_and_imports_nothing() {
    let cli = Cli::start().await;
    let empty_dir = cli.dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    std::fs::write(empty_dir.join("notes.txt"), "x").unwrap();
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (
            cli.write("broken.json", &format!("[{{\"refresh_token\": \"{T_A}\",")),
            "broken.json: not valid JSON",
        ),
        (cli.write("empty.json", ""), "empty.json: the file is empty"),
        (
            cli.write("missing.json", r#"[{"email": "alice@x.com"}]"#),
            "missing.json entry 1: no refresh_token",
        ),
        (
            cli.write(
                "second.json",
                &json!([{"refresh_token": T_A}, {"refresh_token": " "}]).to_string(),
            ),
            "second.json entry 2: the refresh token is empty",
        ),
        (
            cli.write("prose.txt", "these are my accounts\n"),
            "prose.txt line 1: not a refresh token",
        ),
        (cli.dir.path().join("does-not-exist.json"), "cannot read"),
        (empty_dir.clone(), "no *.json files"),
    ];
    for (path, needle) in cases {
        let out = cli.import(&path).await.no_tokens();
        assert_eq!(out.code, Some(64), "{}: {}", path.display(), out.all());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            out.stderr.contains(needle) && out.stderr.contains(name),
            "{needle}: {}",
            out.all()
        );
    }
    assert!(cli.list().await.is_empty(), "nothing imported");
}

/// A running `uplink accounts login`: stdout lines as they come.
struct Interactive {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Interactive {
    fn spawn(mut cmd: Command, stdin: bool) -> Interactive {
        if stdin {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (out, sink) = (child.stdout.take().unwrap(), stdout.clone());
        let out_reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let (err, sink) = (child.stderr.take().unwrap(), stderr.clone());
        let err_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Interactive {
            child,
            lines,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// The authorization URL it printed.
    fn url(&self) -> reqwest::Url {
        tokio::task::block_in_place(|| {
            loop {
                let line = self
                    .lines
                    .recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|_| panic!("no URL: {}", self.stderr.lock().unwrap()));
                if let Some(url) = line.trim().strip_prefix("https://") {
                    return reqwest::Url::parse(&format!("https://{url}")).unwrap();
                }
            }
        })
    }

    fn finish(mut self) -> Out {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = tokio::task::block_in_place(|| {
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return status;
                }
                assert!(std::time::Instant::now() < deadline, "did not exit");
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        // The pipes close with the process: the readers have everything.
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        Out {
            code: status.code(),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

impl Drop for Interactive {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn param(url: &reqwest::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {key} in {url}"))
}

/// The code exchange the fake saw used the verifier behind the URL's challenge.
fn assert_pkce(fake: &FakeUpstream, url: &reqwest::Url) {
    let exchange = fake
        .requests()
        .into_iter()
        .find(|r| {
            r.endpoint == "token" && r.body.as_ref().unwrap()["grant_type"] == "authorization_code"
        })
        .expect("a code exchange");
    let verifier = exchange.body.unwrap()["code_verifier"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        pkce_challenge(&verifier).unwrap(),
        param(url, "code_challenge")
    );
    assert_eq!(param(url, "code_challenge_method"), "S256");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_without_a_browser_reads_the_pasted_redirect() {
    let cli = Cli::start().await;
    cli.fake
        .add_account(AccountSpec::new(T_NEW, "new@x.com", "proj-new"));
    let mut login = Interactive::spawn(
        cli.cmd(&["accounts", "login", "--no-browser", "--timeout-secs", "60"]),
        true,
    );
    let url = login.url();
    for (key, value) in [
        ("response_type", "code"),
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("client_id", "test-client"),
    ] {
        assert_eq!(param(&url, key), value);
    }
    let scope = param(&url, "scope");
    for s in [
        "auth/cloud-platform",
        "userinfo.email",
        "userinfo.profile",
        "auth/cclog",
    ] {
        assert!(scope.contains(s), "{scope}");
    }
    let redirect = param(&url, "redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/oauth-callback"),
        "{redirect}"
    );
    cli.fake.register_auth_code(AuthCode {
        code: "4/0AQ-pasted-code".into(),
        email: "new@x.com".into(),
        redirect_uri: Some(redirect.clone()),
        code_verifier: None,
    });
    let pasted = format!(
        "{redirect}?state={}&code=4%2F0AQ-pasted-code&scope=email\n",
        param(&url, "state")
    );
    login
        .child
        .stdin
        .take()
        .unwrap()
        .write_all(pasted.as_bytes())
        .unwrap();
    let out = login.finish().ok().no_tokens();
    assert!(
        out.stdout
            .contains("Signed in as new@x.com: added account #1"),
        "{}",
        out.all()
    );
    assert_pkce(&cli.fake, &url);
    let list = cli.list().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "new@x.com");
    let storage = cli.storage().await;
    let stored = storage.find_account("new@x.com").await.unwrap().unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(stored.refresh_token.expose_secret(), T_NEW);
    storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_receives_the_loopback_callback() {
    let cli = Cli::start().await;
    cli.fake
        .add_account(AccountSpec::new(T_NEW, "new@x.com", "proj-new"));
    // An existing account with that email, disabled because its token died.
    let storage = cli.storage().await;
    let id = storage
        .upsert_account(&uplink_gateway::storage::NewAccount {
            email: Some("new@x.com".into()),
            refresh_token: "1//0g-old-dead-token-000000000".into(),
            project_id: None,
        })
        .await
        .unwrap();
    storage
        .set_account_status(
            id,
            AccountStatus::Disabled,
            Some("invalid_grant: revoked"),
            None,
        )
        .await
        .unwrap();
    storage.close().await;

    let login = Interactive::spawn(
        cli.cmd(&["accounts", "login", "--timeout-secs", "60"]),
        false,
    );
    let url = login.url();
    let redirect = param(&url, "redirect_uri");
    cli.fake.register_auth_code(AuthCode {
        code: "4/0AQ-loopback".into(),
        email: "new@x.com".into(),
        redirect_uri: Some(redirect.clone()),
        code_verifier: None,
    });
    let http = support::client();
    let stray = http
        .get(redirect.replace("/oauth-callback", "/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 404, "other paths do not end the wait");
    let res = http
        .get(&redirect)
        .query(&[
            ("state", param(&url, "state").as_str()),
            ("code", "4/0AQ-loopback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("return to the terminal"));
    let out = login.finish().ok().no_tokens();
    assert!(
        out.stdout
            .contains("Signed in as new@x.com: updated account #1, active again."),
        "{}",
        out.all()
    );
    assert_pkce(&cli.fake, &url);
    let list = cli.list().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refuses_a_redirect_with_the_wrong_state() {
    let cli = Cli::start().await;
    cli.fake
        .add_account(AccountSpec::new(T_NEW, "new@x.com", "proj-new"));
    cli.fake.register_auth_code(AuthCode {
        code: "4/0AQ-forged".into(),
        email: "new@x.com".into(),
        redirect_uri: None,
        code_verifier: None,
    });
    let login = Interactive::spawn(
        cli.cmd(&["accounts", "login", "--timeout-secs", "60"]),
        false,
    );
    let url = login.url();
    let res = support::client()
        .get(param(&url, "redirect_uri"))
        .query(&[("state", "forged-state"), ("code", "4/0AQ-forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let out = login.finish().no_tokens();
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(out.stderr.contains("state does not match"), "{}", out.all());
    assert_eq!(
        cli.fake.call_count(None, "token"),
        0,
        "the code was never exchanged"
    );
    assert!(cli.list().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_gives_up_after_the_timeout() {
    let cli = Cli::start().await;
    for (args, stdin) in [
        (vec!["accounts", "login", "--timeout-secs", "1"], false),
        // Nothing pasted: the pending read of standard input does not keep it alive.
        (
            vec!["accounts", "login", "--no-browser", "--timeout-secs", "1"],
            true,
        ),
    ] {
        let login = Interactive::spawn(cli.cmd(&args), stdin);
        let out = login.finish();
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.all());
        assert!(
            out.stderr.contains("no sign-in completed within 1s"),
            "{}",
            out.all()
        );
    }
    // Without an OAuth client there is nothing to sign in with.
    let bare = tempfile::tempdir().unwrap();
    let mut cmd = binary();
    cmd.arg("--data-dir")
        .arg(bare.path())
        .args(["accounts", "login", "--no-browser"]);
    let out = cli.run_with(cmd, None).await;
    assert_eq!(out.code, Some(64), "{}", out.all());
    assert!(out.stderr.contains("oauth.client_id"), "{}", out.all());
}

/// Alice and bob imported (bob without a project).
async fn imported(cli: &Cli) {
    let file = cli.write(
        "accounts.json",
        &json!([
            {"refresh_token": T_A, "email": "alice@x.com", "project_id": "proj-a"},
            {"refresh_token": T_B, "email": "bob@x.com"}
        ])
        .to_string(),
    );
    cli.import(&file).await.ok().no_tokens();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_status_project_and_quota_as_a_table_and_json() {
    let cli = Cli::start().await;
    let reset = format_rfc3339(SystemTime::now() + Duration::from_secs(2 * 3600));
    cli.fake
        .set_quota("alice@x.com", "gemini-2.5-pro", 0.0, Some(&reset));
    cli.fake
        .set_quota("alice@x.com", "claude-sonnet-4-5", 0.5, Some(&reset));
    imported(&cli).await;
    let out = cli.run(&["accounts", "list"]).await.ok().no_tokens();
    assert!(
        out.stdout.contains("quota: not fetched yet"),
        "{}",
        out.stdout
    );
    cli.run(&["accounts", "refresh"]).await.ok().no_tokens();

    let storage = cli.storage().await;
    let bob = storage.find_account("bob@x.com").await.unwrap().unwrap();
    storage
        .set_account_status(
            bob.id,
            AccountStatus::Blocked,
            Some("Verify your account to continue."),
            Some("https://accounts.google.com/signin/continue?x=1"),
        )
        .await
        .unwrap();
    storage.close().await;

    let out = cli.run(&["accounts", "list"]).await.ok().no_tokens();
    let table = out.stdout;
    for needle in [
        "alice@x.com",
        "proj-a",
        "proj-b",
        "blocked",
        "reason: Verify your account to continue.",
        "verify the account at: https://accounts.google.com/signin/continue?x=1",
        "exhausted: resting until the reset",
        &reset,
        " 50%",
        "100%",
    ] {
        assert!(table.contains(needle), "{needle}: {table}");
    }
    let pro = table
        .lines()
        .find(|l| l.contains("gemini-2.5-pro"))
        .unwrap();
    assert!(pro.contains("  0%") && pro.contains("exhausted"), "{pro}");

    let list = cli.list().await;
    let alice = find(&list, "alice@x.com");
    assert_eq!(alice["quota"]["gemini-2.5-pro"]["remaining_fraction"], 0.0);
    assert_eq!(
        alice["quota"]["gemini-2.5-pro"]["exhausted_until"],
        reset.as_str()
    );
    assert_eq!(
        alice["quota"]["claude-sonnet-4-5"]["remaining_fraction"],
        0.5
    );
    assert!(alice["quota"]["claude-sonnet-4-5"]["exhausted_until"].is_null());
    assert_eq!(
        alice["quota"].as_object().unwrap().len(),
        cli.fake.models().len()
    );
    assert!(alice["quota_fetched_at"].is_string());
    let bob = find(&list, "bob@x.com");
    assert_eq!(bob["status"], "blocked");
    assert_eq!(
        bob["validation_url"],
        "https://accounts.google.com/signin/continue?x=1"
    );
    assert_eq!(bob["project_id"], "proj-b", "discovered by the refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_enable_disable_and_unknown_accounts() {
    let cli = Cli::start().await;
    imported(&cli).await;
    let out = cli
        .run(&[
            "accounts",
            "disable",
            "alice@x.com",
            "--reason",
            "on holiday",
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("disabled account #1 alice@x.com"),
        "{}",
        out.all()
    );
    let alice = cli.list().await[0].clone();
    assert_eq!(
        (&alice["status"], &alice["status_reason"]),
        (&json!("disabled"), &json!("on holiday"))
    );

    cli.run(&["accounts", "enable", "1"]).await.ok();
    let alice = cli.list().await[0].clone();
    assert_eq!(
        (&alice["status"], &alice["status_reason"]),
        (&json!("active"), &Value::Null)
    );

    cli.run(&["accounts", "disable", "BOB@x.com"]).await.ok();
    assert_eq!(
        find(&cli.list().await, "bob@x.com")["status_reason"],
        "disabled by the user"
    );

    let out = cli.run(&["accounts", "remove", "alice@x.com"]).await.ok();
    assert!(
        out.stdout.contains("removed account #1 alice@x.com"),
        "{}",
        out.all()
    );
    assert_eq!(cli.list().await.len(), 1);

    for args in [
        vec!["accounts", "remove", "alice@x.com"],
        vec!["accounts", "enable", "nobody@x.com"],
        vec!["accounts", "disable", "99"],
        vec!["accounts", "refresh", "nobody@x.com"],
    ] {
        let out = cli.run(&args).await;
        assert_eq!(out.code, Some(64), "{args:?}: {}", out.all());
        assert!(out.stderr.contains("no account `"), "{}", out.all());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_reports_each_account_and_persists_what_it_learned() {
    let cli = Cli::start().await;
    imported(&cli).await;
    let file = cli.write("carol.txt", &format!("{T_C}\n"));
    cli.import(&file).await.ok();
    cli.fake.revoke("bob@x.com");

    let out = cli.run(&["accounts", "refresh"]).await.no_tokens();
    assert_eq!(out.code, Some(1), "one account failed: {}", out.all());
    let alice = out
        .stdout
        .lines()
        .find(|l| l.contains("alice@x.com"))
        .unwrap();
    assert!(alice.contains(": ok, 9 models"), "{alice}");
    let bob = out
        .stdout
        .lines()
        .find(|l| l.contains("bob@x.com"))
        .unwrap();
    assert!(
        bob.contains("failed: token refresh failed")
            && bob.contains("invalid_grant")
            && bob.contains("account now disabled"),
        "{bob}"
    );
    let list = cli.list().await;
    assert!(find(&list, "alice@x.com")["quota"]["gemini-2.5-pro"].is_object());
    let bob = find(&list, "bob@x.com");
    assert_eq!(bob["status"], "disabled");
    assert!(
        bob["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("invalid_grant")
    );
    assert!(find(&list, "carol@x.com")["quota"]["gemini-2.5-flash"].is_object());

    // Disabled accounts are skipped; one account can be named.
    let out = cli.run(&["accounts", "refresh"]).await.ok();
    assert!(
        out.stdout
            .contains("1 disabled or blocked account(s) skipped"),
        "{}",
        out.all()
    );
    let calls = cli
        .fake
        .call_count(Some("alice@x.com"), "fetchAvailableModels");
    let out = cli.run(&["accounts", "refresh", "alice@x.com"]).await.ok();
    assert!(!out.stdout.contains("carol"), "{}", out.all());
    assert_eq!(
        cli.fake
            .call_count(Some("alice@x.com"), "fetchAvailableModels"),
        calls + 1
    );
}

//! Starting the real `uplink` binary for the run: a throwaway data directory, a
//! config pointing OAuth and Cloud Code at the stand-in, accounts imported with
//! `uplink accounts import`, and the address read from its start-up line.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::procfs;

/// A running gateway, killed when dropped.
pub struct Gateway {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    log: Arc<Mutex<VecDeque<String>>>,
    _dir: tempfile::TempDir,
}

const LOG_LINES: usize = 40;

/// The config file: log level `warn`, except for the start-up line; Cloud Code
/// and OAuth at the stand-in, and the stand-in's OpenAI route as a provider.
pub fn config_toml(standin: u16) -> String {
    let base = format!("http://127.0.0.1:{standin}");
    format!(
        r#"auth_mode = "off"

[log]
level = "warn,uplink_gateway::cli=info"

[cloudcode]
endpoints = ["{base}/v1internal"]

[oauth]
token_url = "{base}/token"
userinfo_url = "{base}/userinfo"
client_id = "bench-client.apps.googleusercontent.com"
client_secret = "bench-secret"

# The same-protocol lane: OpenAI chat in, an OpenAI-compatible provider out.
[[providers]]
id = "standin"
kind = "openai"
base_url = "{base}/v1"
api_keys = ["bench-key"]
models = ["{PROVIDER_MODELS}"]
dispatch = "exclusive"
"#
    )
}

/// The model names the stand-in serves as an OpenAI-compatible provider.
pub const PROVIDER_MODELS: &str = "oai-*";

/// `accounts` accounts whose refresh token `rt-<i>` becomes access token `at-<i>`.
pub fn accounts_json(accounts: usize) -> String {
    let entries: Vec<serde_json::Value> = (0..accounts)
        .map(|i| {
            serde_json::json!({
                "refresh_token": format!("rt-{i}"),
                "email": format!("bench{i}@example.com"),
                "project_id": "p",
            })
        })
        .collect();
    serde_json::Value::Array(entries).to_string()
}

fn base_command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    // The run is defined by the config file alone.
    for (key, _) in std::env::vars() {
        if key.starts_with("UPLINK_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd
}

impl Gateway {
    /// Import the accounts, start `uplink serve --port 0`, and wait for its address.
    /// `wrapper` (e.g. `taskset -c 0`, `valgrind --tool=callgrind`) prefixes the
    /// serve command; it must exec the gateway so that the pid stays its own.
    pub fn start(
        bin: &Path,
        standin: u16,
        accounts: usize,
        wrapper: &[String],
    ) -> Result<Gateway, String> {
        if !bin.is_file() {
            return Err(format!(
                "{} does not exist: build it with `cargo build --release -p uplink-gateway` (scripts/bench does)",
                bin.display()
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("uplink-bench-")
            .tempdir()
            .map_err(|e| format!("cannot create a data directory: {e}"))?;
        let write = |name: &str, text: String| -> Result<PathBuf, String> {
            let path = dir.path().join(name);
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(path)
        };
        write("config.toml", config_toml(standin))?;
        let accounts_file = write("accounts.json", accounts_json(accounts))?;
        let import = base_command(bin)
            .args(["accounts", "import"])
            .arg(&accounts_file)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !import.status.success() {
            return Err(format!(
                "`uplink accounts import` failed ({}): {}",
                import.status,
                String::from_utf8_lossy(&import.stderr).trim()
            ));
        }
        let mut serve = match wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = base_command(Path::new(program));
                cmd.args(args).arg(bin);
                cmd
            }
            None => base_command(bin),
        };
        let mut child = serve
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(addr) = listening_addr(&line) {
                        let _ = tx.send(addr);
                    }
                    if let Ok(mut log) = log.lock() {
                        if log.len() == LOG_LINES {
                            log.pop_front();
                        }
                        log.push_back(line);
                    }
                }
            });
        }
        let mut gateway = Gateway {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pid,
            log,
            _dir: dir,
        };
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => {
                gateway.addr = addr;
                // Under a wrapper that runs it as a child (perf, strace), the
                // gateway's own CPU time and memory are what is measured.
                if !wrapper.is_empty()
                    && let Some(inner) = procfs::descendants(pid)
                        .into_iter()
                        .find(|&d| procfs::command_name(d).as_deref() == Some("uplink"))
                {
                    gateway.pid = inner;
                }
                Ok(gateway)
            }
            Err(why) => {
                std::thread::sleep(Duration::from_millis(100));
                let status = gateway.child.try_wait().ok().flatten();
                let when = match why {
                    mpsc::RecvTimeoutError::Timeout => "within 120 s",
                    mpsc::RecvTimeoutError::Disconnected => "before its log ended",
                };
                Err(format!(
                    "the gateway did not say where it listens {when} ({}); its log:\n{}",
                    status.map_or("still running".to_owned(), |s| s.to_string()),
                    gateway.log_tail()
                ))
            }
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many request records it dropped because its log writer fell
    /// behind (`uplink_monitor_dropped_records_total` on `/metrics`).
    pub async fn dropped_records(&self, client: &crate::load::Client) -> Result<u64, String> {
        let request = http::Request::get(format!("{}/metrics", self.base()))
            .body(Default::default())
            .map_err(|e| e.to_string())?;
        let shot = crate::load::shot(client, request, None).await?;
        if shot.status != 200 {
            return Err(format!("GET /metrics answered {}", shot.status));
        }
        dropped_records(&String::from_utf8_lossy(&shot.body))
            .ok_or_else(|| "GET /metrics has no uplink_monitor_dropped_records_total".to_owned())
    }

    /// The last lines it logged.
    pub fn log_tail(&self) -> String {
        self.log
            .lock()
            .map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Gateway {
    /// SIGTERM to the process and everything it started (so that a wrapper
    /// such as callgrind or perf writes its output, and a gateway under a
    /// wrapper that does not pass signals on, such as strace, stops too), then
    /// SIGKILL to whatever still runs after 30 s.
    fn drop(&mut self) {
        let mut pids = vec![self.child.id()];
        pids.extend(procfs::descendants(self.child.id()));
        signal("-TERM", &pids);
        let end = std::time::Instant::now() + Duration::from_secs(30);
        let mut child_done = false;
        while std::time::Instant::now() < end {
            child_done = child_done || !matches!(self.child.try_wait(), Ok(None));
            if child_done && !pids[1..].iter().any(|&p| procfs::running(p)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let still: Vec<u32> = pids[1..]
            .iter()
            .copied()
            .filter(|&p| procfs::running(p))
            .collect();
        signal("-KILL", &still);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(which: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(which)
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

/// The dropped-records counter in a Prometheus text page.
fn dropped_records(page: &str) -> Option<u64> {
    page.lines()
        .find_map(|l| l.strip_prefix("uplink_monitor_dropped_records_total "))
        .and_then(|v| v.trim().parse().ok())
}

/// `… listening on http://127.0.0.1:PORT …` → the address.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split_once("listening on http://")?.1;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(rest.len());
    rest.get(..end)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dropped_records_counter_is_read_from_the_metrics_page() {
        let page = "# HELP uplink_monitor_dropped_records_total Request records dropped.\n\
            # TYPE uplink_monitor_dropped_records_total counter\n\
            uplink_monitor_dropped_records_total 17\n\
            uplink_accounts{status=\"ok\"} 4\n";
        assert_eq!(dropped_records(page), Some(17));
        assert_eq!(dropped_records("uplink_accounts 4\n"), None);
    }

    #[test]
    fn the_address_is_read_from_the_start_up_line() {
        let line = "2026-01-01T00:00:00Z  INFO uplink 0.1.0 listening on http://127.0.0.1:40123 (auth: off; data: /tmp/x)";
        assert_eq!(
            listening_addr(line),
            Some(SocketAddr::from(([127, 0, 0, 1], 40123)))
        );
        assert_eq!(listening_addr("WARN no upstream account yet"), None);
        let accounts: serde_json::Value = serde_json::from_str(&accounts_json(2)).unwrap();
        assert_eq!(accounts[1]["refresh_token"], "rt-1");
        assert!(config_toml(9).contains("\"http://127.0.0.1:9/v1internal\""));
    }
}

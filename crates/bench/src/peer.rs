//! The optional peers. LiteLLM's Python proxy is installed from PyPI into a
//! throwaway venv under the cache directory, configured as an OpenAI-compatible
//! passthrough to the stand-in's direct OpenAI route; the bare hyper proxy
//! (`bare_proxy`) forwards to the same route.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running peer, killed (with its process group) when dropped.
pub struct Peer {
    child: Child,
    pub pid: u32,
    pub base: String,
    pub version: Option<String>,
}

impl Peer {
    pub fn new(child: Child, base: String, version: Option<String>) -> Self {
        Peer {
            pid: child.id(),
            child,
            base,
            version,
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The peer runs in its own process group (pgid = its pid): end the group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.pid)])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_with_deadline(cmd: &mut Command, limit: Duration, what: &str) -> Result<(), String> {
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {what}: {e}"))?;
    let end = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("{what} failed ({status})")),
            Ok(None) if Instant::now() >= end => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} took longer than {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

/// Install (once) and start LiteLLM in front of the stand-in, serving `models`.
/// Blocking: call it from a blocking thread.
pub fn start_litellm(cache: &Path, standin: u16, models: &[String]) -> Result<Peer, String> {
    let venv = cache.join("litellm-venv");
    let litellm = venv.join("bin").join("litellm");
    std::fs::create_dir_all(cache)
        .map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let install_log = cache.join("litellm-install.log");
    let log_path = cache.join("litellm.log");
    let log = |path: &Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    };
    let _ = std::fs::remove_file(&log_path);
    if !litellm.is_file() {
        eprintln!(
            "installing LiteLLM from PyPI into {} (once; output in {})",
            venv.display(),
            install_log.display()
        );
        run_with_deadline(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            Duration::from_secs(120),
            "python3 -m venv",
        )?;
        run_with_deadline(
            Command::new(venv.join("bin").join("pip"))
                .args(["install", "--disable-pip-version-check", "litellm[proxy]"])
                .stdout(log(&install_log))
                .stderr(log(&install_log)),
            Duration::from_secs(900),
            "pip install litellm[proxy]",
        )?;
    }
    let version = Command::new(venv.join("bin").join("python"))
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('litellm'))",
        ])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let mut config = String::from("model_list:\n");
    for model in models {
        config.push_str(&format!(
            "  - model_name: {model}\n    litellm_params:\n      model: openai/{model}\n      api_base: http://127.0.0.1:{standin}/v1\n      api_key: sk-bench\n"
        ));
    }
    config.push_str("litellm_settings:\n  drop_params: true\n  telemetry: false\n");
    let config_path = cache.join("litellm-config.yaml");
    std::fs::write(&config_path, config)
        .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = Command::new(&litellm)
        .arg("--config")
        .arg(&config_path)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            "1",
        ])
        .env("LITELLM_LOG", "ERROR")
        .env("LITELLM_TELEMETRY", "False")
        // Like the gateway's auth_mode = "off": no client key on loopback.
        .env(
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY",
            "true",
        )
        .env_remove("DATABASE_URL")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log(&log_path))
        .stderr(log(&log_path))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", litellm.display()))?;
    let mut peer = Peer::new(child, format!("http://127.0.0.1:{port}"), version);
    let end = Instant::now() + Duration::from_secs(180);
    while Instant::now() < end {
        if let Ok(Some(status)) = peer.child.try_wait() {
            return Err(format!(
                "LiteLLM exited at start-up ({status}); see {}",
                log_path.display()
            ));
        }
        if healthy(port) {
            return Ok(peer);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!(
        "LiteLLM did not become ready in 180 s; see {}",
        log_path.display()
    ))
}

/// `GET /health/liveliness` answers 200.
fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health/liveliness HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && head.ends_with(b"200")
}

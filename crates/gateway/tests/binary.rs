//! The real `uplink` binary: start-up line, exit codes, signals, `config show-key`,
//! and the debug line each request leaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Binary, binary};

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn starts_with_no_configuration_serves_health_and_exits_0_on_sigterm() {
    let dir = data_dir();
    let mut cmd = binary();
    cmd.args(["serve", "--port", "0"])
        .env("UPLINK_DATA_DIR", dir.path());
    let mut gw = Binary::start(cmd);
    let banner = gw.stderr.lock().unwrap().clone();
    assert!(
        banner.contains("listening on http://127.0.0.1:"),
        "{banner}"
    );
    assert!(banner.contains("auth: off (auto)"), "{banner}");
    assert!(
        banner.contains(&dir.path().display().to_string()),
        "{banner}"
    );

    let body: serde_json::Value = support::blocking_client()
        .get(format!("{}/healthz", gw.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    let status = gw.terminate();
    assert_eq!(status.code(), Some(0), "{}", gw.stderr.lock().unwrap());
    assert!(dir.path().join("uplink.db").exists());
}

#[test]
fn a_port_in_use_fails_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = data_dir();
    let out = binary()
        .args(["serve", "--port", &port.to_string(), "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "failed to bind 127.0.0.1:{port}: address already in use"
        )),
        "{stderr}"
    );
}

#[test]
fn bad_configuration_exits_64_naming_the_problem() {
    let dir = data_dir();
    std::fs::write(
        dir.path().join("config.toml"),
        "port = 1\nallow_lan = true\n",
    )
    .unwrap();
    let out = binary().arg("--data-dir").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("allow_lan") && stderr.contains("config.toml"),
        "{stderr}"
    );

    let out = binary()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--config", "/definitely/not/here.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));

    let clean = data_dir();
    let out = binary()
        .arg("--data-dir")
        .arg(clean.path())
        .env("UPLINK_API_KEY", "letmein-please")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("api_key") && !stderr.contains("letmein"),
        "{stderr}"
    );

    let out = binary().args(["serve", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));

    // A proxy the upstream client cannot speak is a setting to fix, too.
    let out = binary()
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(clean.path())
        .env("HTTPS_PROXY", "https://proxy.test:3128")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the proxy for https URLs, https://proxy.test:3128/, is not supported"),
        "{stderr}"
    );
}

#[test]
fn show_key_prints_the_persisted_key_that_serve_uses() {
    let dir = data_dir();
    let show = || {
        let out = binary()
            .args(["config", "show-key", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let key = show();
    assert!(key.starts_with("sk-") && key.len() == 35, "{key}");
    assert_eq!(show(), key, "stable across runs");

    let mut cmd = binary();
    cmd.args([
        "serve",
        "--port",
        "0",
        "--auth-mode",
        "strict",
        "--data-dir",
    ])
    .arg(dir.path());
    let gw = Binary::start(cmd);
    let client = support::blocking_client();
    let ok = client
        .get(format!("{}/healthz", gw.url))
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(ok.status(), 200);
    let denied = client.get(format!("{}/healthz", gw.url)).send().unwrap();
    assert_eq!(denied.status(), 401);
    assert!(
        !gw.stderr.lock().unwrap().contains(&key),
        "the key is never logged"
    );
}

#[test]
fn lan_access_with_auth_off_warns() {
    let dir = data_dir();
    let mut cmd = binary();
    cmd.args([
        "serve",
        "--port",
        "0",
        "--bind",
        "0.0.0.0",
        "--auth-mode",
        "off",
        "--data-dir",
    ])
    .arg(dir.path());
    let mut gw = Binary::start(cmd);
    assert!(gw.url.starts_with("http://0.0.0.0:"), "{}", gw.url);
    // The warning follows the banner; wait for it (bounded), then stop.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !gw.stderr.lock().unwrap().contains("anyone on the network") {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            gw.stderr.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(gw.terminate().code(), Some(0));
}

#[test]
fn every_runtime_shape_serves_and_shuts_down_cleanly() {
    // The default (one thread, busy polling), one thread without it, and a
    // work-stealing pool (where busy polling is off).
    for (threads, poll) in [("1", "100"), ("1", "0"), ("2", "100")] {
        let dir = data_dir();
        let mut cmd = binary();
        cmd.args(["serve", "--port", "0"])
            .env("UPLINK_DATA_DIR", dir.path())
            .env("UPLINK_WORKER_THREADS", threads)
            .env("UPLINK_BUSY_POLL_US", poll);
        let mut gw = Binary::start(cmd);
        let client = support::blocking_client();
        for _ in 0..20 {
            let response = client.get(format!("{}/healthz", gw.url)).send().unwrap();
            assert_eq!(response.status(), 200, "threads {threads}, poll {poll}");
        }
        let status = gw.terminate();
        assert_eq!(
            status.code(),
            Some(0),
            "threads {threads}, poll {poll}: {}",
            gw.stderr.lock().unwrap()
        );
    }
}

#[test]
fn at_debug_level_each_request_is_logged_with_its_id_path_and_status() {
    let dir = data_dir();
    let mut cmd = binary();
    cmd.args(["serve", "--port", "0", "--log-level", "debug", "--log-json"])
        .env("UPLINK_DATA_DIR", dir.path());
    let mut gw = Binary::start(cmd);
    let response = support::blocking_client()
        .get(format!("{}/healthz", gw.url))
        .header("x-request-id", "req-debug-line")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    // The line is written after the answer; wait for it (bounded), then stop.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let line = loop {
        let logs = gw.stderr.lock().unwrap().clone();
        if let Some(line) = logs.lines().find(|l| l.contains("req-debug-line")) {
            break line.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "{logs}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let line: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["level"], "DEBUG", "{line}");
    assert_eq!(line["message"], "request", "{line}");
    assert_eq!(line["request_id"], "req-debug-line", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["path"], "/healthz", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert!(line["elapsed_us"].is_u64(), "{line}");
    assert_eq!(gw.terminate().code(), Some(0));
}

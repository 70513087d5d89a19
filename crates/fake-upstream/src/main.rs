//! The `fake-upstream` binary: `fake-upstream [--port N] [--config accounts.json]` prints
//! `listening on http://127.0.0.1:PORT` once, then serves until killed.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use uplink_fake_upstream::{AccountSpec, FakeConfig, FakeUpstream};

struct Args {
    port: u16,
    config: Option<String>,
}

const USAGE: &str = "usage: fake-upstream [--port N] [--config accounts.json]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        config: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--config" => args.config = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn load_config(path: Option<&str>) -> Result<FakeConfig, String> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
            // Either a full FakeConfig or a bare list of accounts.
            serde_json::from_str::<FakeConfig>(&text)
                .or_else(|_| {
                    serde_json::from_str::<Vec<AccountSpec>>(&text).map(|accounts| FakeConfig {
                        accounts,
                        ..FakeConfig::default()
                    })
                })
                .map_err(|e| format!("{p}: {e}"))
        }
        None => Ok(FakeConfig {
            accounts: vec![AccountSpec::default_alice()],
            ..FakeConfig::default()
        }),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(64);
        }
    };
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fake-upstream: bad config: {e}");
            return ExitCode::from(64);
        }
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let fake = match FakeUpstream::bind(addr, config).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fake-upstream: cannot bind {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on {}", fake.base_url())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(1);
    }
    drop(out);
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling available: serve until killed.
        std::future::pending::<()>().await;
    }
    drop(fake);
    ExitCode::SUCCESS
}

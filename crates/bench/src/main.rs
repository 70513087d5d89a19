//! `uplink-bench`: what the gateway adds — latency, throughput, CPU and memory —
//! measured against a local stand-in upstream in the same run as direct calls to
//! it. `scripts/bench` builds it and the gateway in release mode and runs it.

mod bare_proxy;
mod gateway;
mod lanes;
mod load;
mod memory;
mod peer;
mod procfs;
mod report;
mod scenarios;
mod shapes;
mod standin;
mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

use crate::gateway::Gateway;
use crate::lanes::{Bench, LaneKind, Plan, Target};
use crate::memory::Memory;
use crate::procfs::memory_mb;
use crate::report::{Machine, PeerInfo, Report};
use crate::standin::StandIn;

/// Exit codes: 0 all answers right, 1 the gateway failed requests, 2 it could not
/// be started (or the bench could not run), 64 bad usage.
const EXIT_FAILED: u8 = 1;
const EXIT_CANNOT_RUN: u8 = 2;
const EXIT_USAGE: u8 = 64;

/// Accounts in the gateway's pool; in the failover lane the third answers 429 to
/// every request and the fourth to every other one.
const FAILOVER_SHARE: [f64; 4] = [0.0, 0.0, 1.0, 0.5];

/// The peers `--peer` can run.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PeerKind {
    Litellm,
    Hyper,
}

impl PeerKind {
    /// The name it goes by in the report.
    fn name(self) -> &'static str {
        match self {
            PeerKind::Litellm => "LiteLLM",
            PeerKind::Hyper => "bare hyper proxy",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "uplink-bench",
    about = "Benchmark the uplink gateway against a local stand-in upstream, in the same run as direct calls"
)]
struct Args {
    /// A short smoke run (under a minute): fewer rates, short windows, 200 streams.
    #[arg(long)]
    quick: bool,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Compare with this results file (default: bench/results/latest.json when present).
    #[arg(long, value_name = "FILE")]
    compare: Option<PathBuf>,
    /// Do not compare with previous results.
    #[arg(long)]
    no_compare: bool,
    /// Also run a peer in front of the same stand-in: `litellm` (LiteLLM's
    /// proxy, from PyPI) or `hyper` (a bare hyper proxy: the least any proxy
    /// adds on this machine).
    #[arg(long, value_name = "NAME", value_enum)]
    peer: Option<PeerKind>,
    /// Serve as the bare hyper proxy in front of the stand-in on PORT (how
    /// `--peer hyper` starts it).
    #[arg(long = "serve-bare-proxy", hide = true, value_name = "PORT")]
    serve_bare_proxy: Option<String>,
    /// The uplink binary (default: `uplink` next to this binary).
    #[arg(long, value_name = "PATH")]
    uplink: Option<PathBuf>,
    /// Where the peer's venv lives.
    #[arg(long, value_name = "DIR", default_value = ".cache/bench")]
    cache_dir: PathBuf,
    /// Run only these scenarios (repeatable).
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// Run only these kinds of lanes: serial, idle, open, saturation, streams (repeatable).
    #[arg(long, value_name = "KIND", value_enum)]
    lane: Vec<LaneKind>,
    /// Start the gateway under this command, split on spaces (e.g. `taskset -c 0`
    /// or `valgrind --tool=callgrind`); it must exec the gateway.
    #[arg(long, value_name = "CMD")]
    gateway_wrapper: Option<String>,
    /// Only serve the stand-in (for profiling a gateway by hand): print its
    /// address and the gateway config, and run until interrupted.
    #[arg(long)]
    standin_only: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(port) = &args.serve_bare_proxy {
        return bare_proxy::serve(port);
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(args)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

fn default_uplink() -> PathBuf {
    std::env::current_exe()
        .map(|p| p.with_file_name("uplink"))
        .unwrap_or_else(|_| PathBuf::from("target/release/uplink"))
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    (!commit.is_empty()).then(|| {
        if dirty {
            format!("{commit}-dirty")
        } else {
            commit
        }
    })
}

/// How many streams fit in this process's descriptor limit (two sockets each).
fn streams_that_fit(wanted: usize) -> usize {
    match procfs::open_files_limit() {
        Some(limit) if (limit as usize) < wanted * 2 + 256 => {
            let n = (limit as usize).saturating_sub(256) / 2;
            eprintln!(
                "note: open files limit {limit}: holding {n} streams instead of {wanted} (raise it with `ulimit -n`)"
            );
            n
        }
        _ => wanted,
    }
}

async fn run(args: Args) -> ExitCode {
    let started = Instant::now();
    let plan = Plan::new(args.quick);
    let uplink = args.uplink.clone().unwrap_or_else(default_uplink);
    let standin = match StandIn::start(FAILOVER_SHARE.to_vec()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the stand-in: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let port = standin.port();
    if args.standin_only {
        println!(
            "stand-in listening on http://127.0.0.1:{port}\n\nconfig.toml for the gateway:\n{}",
            gateway::config_toml(port)
        );
        println!(
            "accounts.json:\n{}",
            gateway::accounts_json(FAILOVER_SHARE.len())
        );
        let _ = tokio::signal::ctrl_c().await;
        return ExitCode::SUCCESS;
    }
    let wrapper: Vec<String> = args
        .gateway_wrapper
        .as_deref()
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let mut gw = match start_gateway(&uplink, port, &wrapper).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: the gateway could not start: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    eprintln!(
        "stand-in on 127.0.0.1:{port}; gateway pid {} on {} ({})",
        gw.pid,
        gw.addr,
        uplink.display()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut memory = Memory {
        idle_mb: memory_mb(gw.pid, "VmRSS"),
        ..Memory::default()
    };

    let selected: Vec<scenarios::Scenario> = scenarios::all()
        .into_iter()
        .filter(|s| args.only.is_empty() || args.only.iter().any(|o| o == s.name))
        .collect();
    let (peer, peer_info) = start_peer(&args, port, &selected).await;
    let mut bench = Bench {
        client: load::client(),
        standin: standin.clone(),
        // The direct lanes' CPU is this process's: client and stand-in together.
        direct: Target {
            base: format!("http://127.0.0.1:{port}"),
            pid: Some(std::process::id()),
        },
        gateway: Target {
            base: gw.base(),
            pid: Some(gw.pid),
        },
        peer: peer.as_ref().map(|p| Target {
            base: p.base.clone(),
            pid: Some(p.pid),
        }),
        plan,
        lane_kinds: args.lane.clone(),
        ids: Arc::new(AtomicU64::new(1)),
        failures: Vec::new(),
    };
    let mut results = Vec::new();
    for scenario in selected {
        results.push(bench.scenario(scenario).await);
        standin.clear_stamps();
        if !gw.alive() {
            bench
                .failures
                .push(format!("the gateway exited; its log:\n{}", gw.log_tail()));
            break;
        }
    }
    drop(peer);
    // Shed request records would make the gateway's figures cheaper than its
    // real work: the run fails if any were dropped.
    let dropped_records = match gw.dropped_records(&bench.client).await {
        Ok(n) => {
            if n > 0 {
                bench.failures.push(format!(
                    "the gateway dropped {n} request records: its log writer fell behind"
                ));
            }
            Some(n)
        }
        Err(e) => {
            bench.failures.push(format!("dropped request records: {e}"));
            None
        }
    };
    memory.after_load_mb = memory_mb(gw.pid, "VmRSS");
    memory.peak_mb = memory_mb(gw.pid, "VmHWM");
    drop(gw);
    // The streams are held by a fresh gateway, so that what the load lanes
    // left on the heap does not count.
    let streams_lane = args.lane.is_empty() || args.lane.contains(&LaneKind::Streams);
    if streams_lane {
        match start_gateway(&uplink, port, &wrapper).await {
            Ok(fresh) => {
                let n = streams_that_fit(plan.streams);
                eprintln!("== holding {n} streams open through a fresh gateway");
                tokio::time::sleep(Duration::from_secs(1)).await;
                memory.streams_baseline_mb = memory_mb(fresh.pid, "VmRSS");
                memory::hold_streams(&mut memory, &fresh.base(), n, fresh.pid).await;
                if let Some(e) = &memory.streams_error {
                    bench.failures.push(format!("held streams: {e}"));
                }
            }
            Err(e) => bench
                .failures
                .push(format!("the gateway could not start again: {e}")),
        }
    }
    let failures = std::mem::take(&mut bench.failures);
    let (cpu, cores) = procfs::machine();
    let report = Report {
        schema: 1,
        mode: if args.quick { "quick" } else { "full" }.to_owned(),
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        git_commit: git_commit(),
        machine: Machine { cpu, cores },
        plan,
        duration_s: started.elapsed().as_secs_f64(),
        budget: report::budget(&results, &memory),
        headline: report::headline(&results, &memory),
        scenarios: results,
        memory,
        dropped_records,
        peer: peer_info,
        failures,
    };
    println!("{}", report::markdown(&report));
    compare(&args, &report);
    if let Some(path) = &args.json {
        write_json(path, &report);
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} failure(s): the gateway did not answer correctly",
            report.failures.len()
        );
        ExitCode::from(EXIT_FAILED)
    }
}

/// Start a gateway on a blocking thread.
async fn start_gateway(uplink: &Path, standin: u16, wrapper: &[String]) -> Result<Gateway, String> {
    let (uplink, wrapper) = (uplink.to_path_buf(), wrapper.to_vec());
    tokio::task::spawn_blocking(move || {
        Gateway::start(&uplink, standin, FAILOVER_SHARE.len(), &wrapper)
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn start_peer(
    args: &Args,
    standin: u16,
    scenarios: &[scenarios::Scenario],
) -> (Option<peer::Peer>, Option<PeerInfo>) {
    let Some(kind) = args.peer else {
        return (None, None);
    };
    let name = kind.name();
    let mut models: Vec<String> = scenarios
        .iter()
        .filter(|s| s.peer)
        .filter_map(|s| s.bodies.first())
        .filter_map(|b| standin::str_field(b, "model").map(str::to_owned))
        .collect();
    models.dedup();
    let cache = args.cache_dir.clone();
    eprintln!("starting {name} (peer)");
    let started = tokio::task::spawn_blocking(move || match kind {
        PeerKind::Hyper => bare_proxy::start(standin),
        PeerKind::Litellm => peer::start_litellm(&cache, standin, &models),
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|started| started);
    let info = |version, note| PeerInfo {
        name: name.to_owned(),
        version,
        note,
    };
    match started {
        Ok(p) => {
            eprintln!(
                "{name}{} on {}",
                p.version
                    .as_deref()
                    .map_or(String::new(), |v| format!(" {v}")),
                p.base
            );
            let info = info(p.version.clone(), None);
            (Some(p), Some(info))
        }
        Err(e) => {
            eprintln!("{name} is not available, continuing without it: {e}");
            (None, Some(info(None, Some(format!("not run: {e}")))))
        }
    }
}

fn compare(args: &Args, report: &Report) {
    if args.no_compare {
        return;
    }
    let path = match &args.compare {
        Some(p) => p.clone(),
        None => {
            let default = Path::new("bench/results/latest.json");
            if !default.is_file() {
                return;
            }
            default.to_path_buf()
        }
    };
    let previous = std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()));
    match previous {
        Ok(v) => println!("{}", report::compare(&v, report)),
        Err(e) => eprintln!("note: cannot compare with {}: {e}", path.display()),
    }
}

fn write_json(path: &Path, report: &Report) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    match serde_json::to_string_pretty(report) {
        Ok(text) => match std::fs::write(path, text + "\n") {
            Ok(()) => eprintln!("results written to {}", path.display()),
            Err(e) => eprintln!("error: cannot write {}: {e}", path.display()),
        },
        Err(e) => eprintln!("error: cannot encode the results: {e}"),
    }
}

//! The report: Markdown tables on stdout, the JSON document, the reading
//! against DESIGN.md's performance budget, and the comparison with a previous
//! results file (deltas only; timing never fails the run).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::lanes::{Added, Lane, LaneKind, LaneResult, Plan, ScenarioResult};
use crate::load::RunStats;
use crate::memory::Memory;
use crate::stats::Pcts;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerInfo {
    pub name: String,
    pub version: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BudgetRow {
    pub item: String,
    pub limit: String,
    pub measured: String,
    /// `None` when it could not be measured.
    pub ok: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub mode: String,
    pub unix_time: u64,
    pub git_commit: Option<String>,
    pub machine: Machine,
    pub plan: Plan,
    pub duration_s: f64,
    pub scenarios: Vec<ScenarioResult>,
    pub memory: Memory,
    /// Request records the gateway dropped during the load lanes (its log
    /// writer fell behind); the run fails when there are any.
    #[serde(default)]
    pub dropped_records: Option<u64>,
    pub peer: Option<PeerInfo>,
    pub budget: Vec<BudgetRow>,
    /// The figures compared between runs, by name.
    pub headline: BTreeMap<String, f64>,
    pub failures: Vec<String>,
}

fn us(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.1} ms", v / 1_000.0)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `us` with its unit.
fn dur(v: f64) -> String {
    let s = us(v);
    if s.ends_with("ms") {
        s
    } else {
        format!("{s} µs")
    }
}

fn signed(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", us(v))
    } else {
        us(v)
    }
}

fn cells(p: Option<Pcts>, f: fn(f64) -> String) -> [String; 4] {
    match p {
        Some(p) => [f(p.p50), f(p.p90), f(p.p99), f(p.max)],
        None => ["-".into(), "-".into(), "-".into(), "-".into()],
    }
}

fn scenario(out: &mut String, s: &ScenarioResult, peer: Option<&str>) {
    let _ = writeln!(out, "\n### {} — {}\n", s.name, s.title);
    if !s.available {
        let _ = writeln!(out, "{}", s.note.as_deref().unwrap_or("not run"));
        return;
    }
    if s.stream {
        let _ = writeln!(
            out,
            "| lane | via | TTFB p50 µs | p90 | p99 | max | per-chunk p50 µs | p99 | req/s | CPU s/1k req | ctx sw/req |"
        );
        let _ = writeln!(
            out,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
    } else {
        let _ = writeln!(
            out,
            "| lane | via | p50 µs | p90 | p99 | max | req/s | CPU s/1k req | ctx sw/req |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    }
    for lane in &s.lanes {
        let row = |out: &mut String, label: &str, who: &str, st: &RunStats, ratio: Option<f64>| {
            let main = if s.stream { st.ttfb } else { st.latency };
            let [a, b, c, d] = cells(main, us);
            let chunk = st
                .chunk
                .map_or(("-".into(), "-".into()), |p| (us(p.p50), us(p.p99)));
            let rps = match ratio {
                Some(x) => format!("{:.0} ({:.0} % of direct)", st.rps, x * 100.0),
                None => format!("{:.0}", st.rps),
            };
            let cpu = st.cpu_s_per_1k.map_or("-".into(), |c| format!("{c:.3}"));
            let cs = st
                .switches_per_request
                .map_or("-".into(), |c| format!("{c:.1}"));
            if s.stream {
                let _ = writeln!(
                    out,
                    "| {label} | {who} | {a} | {b} | {c} | {d} | {} | {} | {rps} | {cpu} | {cs} |",
                    chunk.0, chunk.1
                );
            } else {
                let _ = writeln!(
                    out,
                    "| {label} | {who} | {a} | {b} | {c} | {d} | {rps} | {cpu} | {cs} |"
                );
            }
        };
        let label = lane.lane.label();
        row(out, &label, "direct", &lane.direct, None);
        row(out, "", "**uplink**", &lane.gateway, lane.throughput_ratio);
        let added_row = |out: &mut String, who: &str, added: &Added| {
            let main = if s.stream { added.ttfb } else { added.latency };
            let [a, b, c, d] = cells(main, signed);
            if s.stream {
                let chunk = added
                    .chunk
                    .map_or(("-".into(), "-".into()), |p| (signed(p.p50), signed(p.p99)));
                let _ = writeln!(
                    out,
                    "| | {who} | {a} | {b} | {c} | {d} | {} | {} | | | |",
                    chunk.0, chunk.1
                );
            } else {
                let _ = writeln!(out, "| | {who} | {a} | {b} | {c} | {d} | | | |");
            }
        };
        added_row(out, "added", &lane.added);
        if let (Some(p), Some(name)) = (&lane.peer, peer) {
            row(out, "", name, p, lane.peer_throughput_ratio);
            if let Some(added) = &lane.peer_added {
                added_row(out, &format!("added by {name}"), added);
            }
        }
    }
    if let Some(f) = s.failovers_per_request {
        let _ = writeln!(
            out,
            "\nUpstream 429s per successful request through the gateway: {f:.2}."
        );
    }
    let lags: Vec<String> = s
        .lanes
        .iter()
        .filter_map(|l| {
            let (d, g) = (l.direct.send_lag?, l.gateway.send_lag?);
            Some(format!(
                "{}: {:.0}/{:.0} µs direct, {:.0}/{:.0} µs uplink",
                l.lane.label(),
                d.p50,
                d.p99,
                g.p50,
                g.p99
            ))
        })
        .collect();
    if !lags.is_empty() {
        let _ = writeln!(
            out,
            "\nOpen-loop send lag p50/p99 (how late the load generator started requests; counted in the latencies): {}.",
            lags.join(", ")
        );
    }
}

fn mb(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} MB"))
}

fn pair(p: Option<Pcts>, f: fn(f64) -> String) -> String {
    p.map_or("-".into(), |p| format!("{} / {}", f(p.p50), f(p.p99)))
}

/// One row per scenario: one request in flight (latency, or time to first byte
/// for streams), per-chunk cost, and saturation throughput and CPU.
pub fn summary(r: &Report) -> String {
    let mut out = String::new();
    let peer = r
        .peer
        .as_ref()
        .filter(|p| p.note.is_none())
        .map(|p| p.name.as_str());
    let _ = write!(
        out,
        "| scenario | direct p50 / p99 µs | uplink p50 / p99 µs | added p50 / p99 µs | added after idle p50 / p99 µs | added per chunk p50 µs | uplink throughput vs direct | uplink CPU per request |"
    );
    let _ = writeln!(
        out,
        "{}",
        peer.map_or(String::new(), |name| format!(
            " {name} p50 / p99 µs | {name} added p50 / p99 µs | {name} throughput vs direct |"
        ))
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|{}",
        if peer.is_some() {
            "---:|---:|---:|"
        } else {
            ""
        }
    );
    for s in r.scenarios.iter().filter(|s| s.available) {
        let serial = s.lanes.iter().find(|l| l.lane == Lane::Serial);
        let sat = s
            .lanes
            .iter()
            .find(|l| l.lane.kind() == LaneKind::Saturation);
        let pick = |st: &RunStats| if s.stream { st.ttfb } else { st.latency };
        let what = if s.stream { " (TTFB)" } else { "" };
        let added = serial.and_then(|l| {
            if s.stream {
                l.added.ttfb
            } else {
                l.added.latency
            }
        });
        let after_idle = s
            .lanes
            .iter()
            .find(|l| l.lane.kind() == LaneKind::Idle)
            .and_then(|l| l.added.latency);
        let chunk = serial
            .and_then(|l| l.added.chunk)
            .map_or("-".into(), |p| signed(p.p50));
        let ratio = sat
            .and_then(|l| l.throughput_ratio)
            .map_or("-".into(), |x| {
                format!(
                    "{:.0} % ({:.0}/s)",
                    x * 100.0,
                    sat.map_or(0.0, |l| l.gateway.rps)
                )
            });
        let cpu = sat
            .or(serial)
            .and_then(|l| l.gateway.cpu_s_per_1k)
            .map_or("-".into(), |c| format!("{:.0} µs", c * 1_000.0));
        let _ = write!(
            out,
            "| {}{what} | {} | {} | {} | {} | {chunk} | {ratio} | {cpu} |",
            s.name,
            pair(serial.and_then(|l| pick(&l.direct)), us),
            pair(serial.and_then(|l| pick(&l.gateway)), us),
            pair(added, signed),
            pair(after_idle, signed),
        );
        if peer.is_some() {
            let p = serial.and_then(|l| l.peer.as_ref()).and_then(pick);
            let p_added = serial
                .and_then(|l| l.peer_added.as_ref())
                .and_then(|a| if s.stream { a.ttfb } else { a.latency });
            let pr = sat
                .and_then(|l| l.peer_throughput_ratio)
                .map_or("-".into(), |x| format!("{:.1} %", x * 100.0));
            let _ = write!(out, " {} | {} | {pr} |", pair(p, us), pair(p_added, signed));
        }
        let _ = writeln!(out);
    }
    out
}

/// The whole report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let peer = r
        .peer
        .as_ref()
        .filter(|p| p.note.is_none())
        .map(|p| p.name.as_str());
    let _ = writeln!(
        out,
        "## Uplink benchmark ({} run, {} cores: {}, {:.0} s{})",
        r.mode,
        r.machine.cores,
        r.machine.cpu,
        r.duration_s,
        r.git_commit
            .as_deref()
            .map_or(String::new(), |c| format!(", commit {c}"))
    );
    let _ = writeln!(
        out,
        "\nMedians of {} repetition(s), {:.1} s measured after {:.1} s warm-up per run. \"added\" = via uplink − direct to the stand-in, per percentile. Non-stream lanes show the whole request; stream lanes show time to first byte and per-chunk latency (stand-in write → client read). CPU and context switches (all threads) are the gateway process's for uplink rows and the bench process's (load generator + stand-in) for direct rows.",
        r.plan.repetitions, r.plan.window_s, r.plan.warmup_s
    );
    let _ = writeln!(
        out,
        "\n### Summary: one request in flight, and saturation ({} workers)\n\n{}",
        r.plan.workers,
        summary(r)
    );
    for s in &r.scenarios {
        scenario(&mut out, s, peer);
    }
    let m = &r.memory;
    let _ = writeln!(out, "\n### Gateway memory\n");
    let _ = writeln!(
        out,
        "| idle | after the load lanes | peak (VmHWM) | fresh gateway | with {} streams open | after they close |",
        m.streams
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        mb(m.idle_mb),
        mb(m.after_load_mb),
        mb(m.peak_mb),
        mb(m.streams_baseline_mb),
        mb(m.streams_mb),
        mb(m.after_streams_mb)
    );
    if let Some(e) = &m.streams_error {
        let _ = writeln!(out, "\nStreams: {e}");
    }
    if let Some(n) = r.dropped_records {
        let _ = writeln!(out, "\nRequest records dropped by the gateway: {n}");
    }
    if let Some(p) = &r.peer {
        let _ = writeln!(
            out,
            "\nPeer: {}{}{}",
            p.name,
            p.version
                .as_deref()
                .map_or(String::new(), |v| format!(" {v}")),
            p.note
                .as_deref()
                .map_or(String::new(), |n| format!(" — {n}"))
        );
    }
    let _ = writeln!(out, "\n### Against the budget (DESIGN.md)\n");
    let _ = writeln!(out, "| budget item | limit | measured | |");
    let _ = writeln!(out, "|---|---|---|---|");
    for b in &r.budget {
        let verdict = match b.ok {
            Some(true) => "ok",
            Some(false) => "**missed**",
            None => "n/a",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {verdict} |",
            b.item, b.limit, b.measured
        );
    }
    if !r.failures.is_empty() {
        let _ = writeln!(out, "\n### Failures\n");
        for f in &r.failures {
            let _ = writeln!(out, "- {f}");
        }
    }
    out
}

/// The scenario's first lane of this kind.
fn find<'a>(r: &'a [ScenarioResult], name: &str, kind: LaneKind) -> Option<&'a LaneResult> {
    r.iter()
        .find(|s| s.name == name && s.available)?
        .lanes
        .iter()
        .find(|l| l.lane.kind() == kind)
}

fn row(item: String, limit: &str, measured: String, ok: Option<bool>) -> BudgetRow {
    BudgetRow {
        item,
        limit: limit.to_owned(),
        measured,
        ok,
    }
}

/// Read the results against DESIGN.md's budget.
pub fn budget(scenarios: &[ScenarioResult], memory: &Memory) -> Vec<BudgetRow> {
    let mut rows = Vec::new();
    // The budget's lane is the same protocol in and out; the small request
    // translated to Cloud Code is held to the same limits.
    for name in ["openai-to-openai", "openai-chat"] {
        for (how, lane) in [
            ("back to back", LaneKind::Serial),
            ("after idle", LaneKind::Idle),
        ] {
            let Some(l) = find(scenarios, name, lane) else {
                continue;
            };
            let added = l.added.latency;
            rows.push(row(
                format!("added latency p50, one request in flight, {how} ({name})"),
                "≤ 50 µs",
                added.map_or("-".into(), |p| dur(p.p50)),
                added.map(|p| p.p50 <= 50.0),
            ));
            rows.push(row(
                format!("added latency p99, one request in flight, {how} ({name})"),
                "≤ 100 µs",
                added.map_or("-".into(), |p| dur(p.p99)),
                added.map(|p| p.p99 <= 100.0),
            ));
        }
    }
    for name in ["openai-100k-tools", "anthropic-100k-tools"] {
        if let Some(p) = find(scenarios, name, LaneKind::Serial).and_then(|l| l.added.latency) {
            rows.push(row(
                format!("translation, added p99 ({name}, one in flight)"),
                "≤ 300 µs",
                format!("{} (p50 {})", dur(p.p99), dur(p.p50)),
                Some(p.p99 <= 300.0),
            ));
        }
    }
    for name in [
        "openai-chat-stream",
        "gemini-stream",
        "anthropic-stream",
        "responses-stream",
    ] {
        let Some(l) = find(scenarios, name, LaneKind::Serial) else {
            continue;
        };
        if let Some(p) = l.added.ttfb {
            rows.push(row(
                format!("stream time to first byte, added p99 ({name})"),
                "≤ 1 ms",
                format!("{} (p50 {})", dur(p.p99), dur(p.p50)),
                Some(p.p99 <= 1_000.0),
            ));
        }
        if let Some(p) = l.added.chunk {
            rows.push(row(
                format!("per chunk, added p50 ({name})"),
                "≤ 20 µs",
                format!("{} (p99 {})", dur(p.p50), dur(p.p99)),
                Some(p.p50 <= 20.0),
            ));
        }
    }
    for name in ["openai-to-openai", "openai-chat", "openai-100k-tools"] {
        if let Some(r) =
            find(scenarios, name, LaneKind::Saturation).and_then(|l| l.throughput_ratio)
        {
            rows.push(row(
                format!("throughput at saturation vs direct ({name})"),
                "≥ 50 %",
                format!("{:.0} %", r * 100.0),
                Some(r >= 0.5),
            ));
        }
    }
    rows.push(row(
        "RSS idle".into(),
        "≤ 30 MB",
        mb(memory.idle_mb),
        memory.idle_mb.map(|v| v <= 30.0),
    ));
    let full = memory.streams >= 1_000 && memory.streams_open == memory.streams;
    if memory.streams == 0 {
        return rows;
    }
    rows.push(row(
        format!("RSS with {} concurrent open streams", memory.streams),
        "≤ 150 MB at 1,000",
        format!("{} ({} open)", mb(memory.streams_mb), memory.streams_open),
        memory.streams_mb.filter(|_| full).map(|v| v <= 150.0),
    ));
    rows
}

/// The figures compared between runs: one request in flight and saturation
/// (the open-loop lanes stay in the JSON but are too noisy to diff).
pub fn headline(scenarios: &[ScenarioResult], memory: &Memory) -> BTreeMap<String, f64> {
    let mut h = BTreeMap::new();
    for s in scenarios.iter().filter(|s| s.available) {
        for l in &s.lanes {
            let key = format!("{}.{}", s.name, l.lane.key());
            let mut put = |name: &str, v: Option<f64>| {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    h.insert(format!("{key}.{name}"), v);
                }
            };
            match (l.lane, s.stream) {
                (Lane::Serial, true) => {
                    put("ttfb_added_p50_us", l.added.ttfb.map(|p| p.p50));
                    put("ttfb_added_p99_us", l.added.ttfb.map(|p| p.p99));
                    put("chunk_added_p50_us", l.added.chunk.map(|p| p.p50));
                }
                (Lane::Serial | Lane::Idle { .. }, false) => {
                    put("added_p50_us", l.added.latency.map(|p| p.p50));
                    put("added_p99_us", l.added.latency.map(|p| p.p99));
                }
                (Lane::Saturation { .. }, _) => {
                    put("gateway_rps", Some(l.gateway.rps));
                    put("throughput_ratio", l.throughput_ratio);
                    put("cpu_s_per_1k", l.gateway.cpu_s_per_1k);
                }
                (Lane::Open { .. } | Lane::Idle { .. }, _) => {}
            }
        }
    }
    for (name, v) in [
        ("memory.idle_mb", memory.idle_mb),
        ("memory.peak_mb", memory.peak_mb),
        ("memory.streams_mb", memory.streams_mb),
    ] {
        if let Some(v) = v {
            h.insert(name.to_owned(), v);
        }
    }
    h
}

/// Deltas against a previous results file's headline figures.
pub fn compare(previous: &serde_json::Value, now: &Report) -> String {
    let mut out = String::new();
    let old: BTreeMap<String, f64> = previous
        .get("headline")
        .and_then(|h| serde_json::from_value(h.clone()).ok())
        .unwrap_or_default();
    let old_mode = previous.get("mode").and_then(|m| m.as_str()).unwrap_or("?");
    let old_commit = previous
        .get("git_commit")
        .and_then(|m| m.as_str())
        .unwrap_or("?");
    let _ = writeln!(
        out,
        "\n### Compared with the previous results ({old_mode} run, commit {old_commit})\n"
    );
    if old_mode != now.mode {
        let _ = writeln!(
            out,
            "(a {old_mode} run against a {} run: windows differ, read with care)\n",
            now.mode
        );
    }
    let _ = writeln!(out, "| figure | before | now | change |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (key, new) in &now.headline {
        match old.get(key) {
            Some(before) => {
                let pct = if before.abs() > 1e-9 {
                    format!(" ({:+.0} %)", (new - before) / before.abs() * 100.0)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "| {key} | {before:.3} | {new:.3} | {:+.3}{pct} |",
                    new - before
                );
            }
            None => {
                let _ = writeln!(out, "| {key} | - | {new:.3} | new |");
            }
        }
    }
    let gone = old
        .keys()
        .filter(|k| !now.headline.contains_key(*k))
        .count();
    if gone > 0 {
        let _ = writeln!(
            out,
            "\n{gone} earlier figure(s) were not measured in this run."
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::Added;

    fn lane(lane: Lane, added: f64) -> LaneResult {
        let p = Pcts {
            p50: added,
            p90: added,
            p99: added * 3.0,
            max: added * 5.0,
        };
        LaneResult {
            lane,
            direct: RunStats {
                rps: 1000.0,
                ..RunStats::default()
            },
            gateway: RunStats {
                rps: 400.0,
                ..RunStats::default()
            },
            peer: None,
            added: Added {
                latency: Some(p),
                ttfb: None,
                chunk: None,
            },
            peer_added: None,
            throughput_ratio: matches!(lane, Lane::Saturation { .. }).then_some(0.4),
            peer_throughput_ratio: None,
        }
    }

    #[test]
    fn the_budget_reading_flags_misses() {
        let s = vec![ScenarioResult {
            name: "openai-to-openai".into(),
            title: String::new(),
            body_bytes: 100,
            stream: false,
            available: true,
            note: None,
            lanes: vec![
                lane(Lane::Serial, 40.0),
                lane(Lane::Idle { pause_ms: 20 }, 400.0),
                lane(Lane::Saturation { workers: 16 }, 90.0),
            ],
            failovers_per_request: None,
        }];
        let memory = Memory {
            idle_mb: Some(12.0),
            streams: 200,
            streams_open: 200,
            streams_mb: Some(40.0),
            ..Memory::default()
        };
        let rows = budget(&s, &memory);
        let verdict = |prefix: &str| rows.iter().find(|r| r.item.starts_with(prefix)).unwrap().ok;
        assert_eq!(
            verdict("added latency p50, one request in flight, back"),
            Some(true)
        );
        assert_eq!(
            verdict("added latency p99, one request in flight, back"),
            Some(false)
        ); // 120 µs
        assert_eq!(
            verdict("added latency p50, one request in flight, after idle"),
            Some(false)
        );
        assert_eq!(verdict("throughput"), Some(false)); // 40 %
        assert_eq!(verdict("RSS idle"), Some(true));
        assert_eq!(verdict("RSS with"), None); // only 200 streams
        let h = headline(&s, &memory);
        assert_eq!(h.get("openai-to-openai.serial.added_p50_us"), Some(&40.0));
        assert_eq!(h.get("openai-to-openai.idle.added_p99_us"), Some(&1200.0));
        assert_eq!(
            h.get("openai-to-openai.saturation.throughput_ratio"),
            Some(&0.4)
        );
    }
}

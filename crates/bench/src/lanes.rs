//! Running a scenario's lanes — serial (one request in flight, back to back),
//! idle (one request in flight after a pause, as a person sends them), open
//! loop at fixed rates, closed loop at saturation — against the direct stand-in, the
//! gateway and (optionally) a peer, in alternating order over several
//! repetitions, and reducing the repetitions to medians.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::load::{Client, Job, RunStats, Window, closed_loop, open_loop, probe};
use crate::procfs::Cpu;
use crate::scenarios::Scenario;
use crate::standin::StandIn;
use crate::stats::{Pcts, median};

/// How much to run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Plan {
    pub quick: bool,
    pub repetitions: usize,
    pub warmup_s: f64,
    pub window_s: f64,
    pub workers: usize,
    pub streams: usize,
    pub timeout_s: f64,
}

impl Plan {
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                repetitions: 1,
                warmup_s: 0.2,
                window_s: 0.8,
                workers: 16,
                streams: 200,
                timeout_s: 5.0,
            }
        } else {
            Plan {
                quick,
                repetitions: 3,
                warmup_s: 0.4,
                window_s: 2.0,
                workers: 16,
                streams: 1_000,
                timeout_s: 10.0,
            }
        }
    }

    /// The lanes a scenario runs, of the `kinds` given (all when empty).
    pub fn lanes(&self, scenario: &Scenario, kinds: &[LaneKind]) -> Vec<Lane> {
        let rates = if self.quick {
            &scenario.quick_rates
        } else {
            &scenario.rates
        };
        let mut lanes = vec![Lane::Serial];
        if !scenario.is_stream() {
            // A stream's first byte already comes after the previous stream's
            // paced chunks; the idle lane is for whole answers.
            lanes.push(Lane::Idle {
                pause_ms: IDLE_PAUSE_MS,
            });
        }
        lanes.extend(rates.iter().map(|&rate| Lane::Open { rate }));
        if scenario.saturation {
            lanes.push(Lane::Saturation {
                workers: self.workers,
            });
        }
        lanes.retain(|lane| kinds.is_empty() || kinds.contains(&lane.kind()));
        lanes
    }

    pub fn window(&self) -> Window {
        Window {
            warmup: Duration::from_secs_f64(self.warmup_s),
            measure: Duration::from_secs_f64(self.window_s),
        }
    }
}

/// The silence before each request of the idle lane: long enough for the
/// gateway's busy polling to stop and the CPUs to halt.
pub const IDLE_PAUSE_MS: u64 = 20;

/// The kinds of lane `--lane` picks (`streams` is the memory lane with 1,000
/// open streams, run outside the scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LaneKind {
    Serial,
    Idle,
    Open,
    Saturation,
    Streams,
}

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Target {
    pub base: String,
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lane {
    Serial,
    /// One request at a time, each after `pause_ms` of silence: the process
    /// and its CPU have gone idle, as between a person's requests.
    Idle {
        pause_ms: u64,
    },
    Open {
        rate: f64,
    },
    Saturation {
        workers: usize,
    },
}

impl Lane {
    pub fn kind(&self) -> LaneKind {
        match self {
            Lane::Serial => LaneKind::Serial,
            Lane::Idle { .. } => LaneKind::Idle,
            Lane::Open { .. } => LaneKind::Open,
            Lane::Saturation { .. } => LaneKind::Saturation,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Lane::Serial => "serial".to_owned(),
            Lane::Idle { pause_ms } => format!("after {pause_ms} ms idle"),
            Lane::Open { rate } => format!("open {rate:.0}/s"),
            Lane::Saturation { workers } => format!("saturation C={workers}"),
        }
    }

    pub fn key(&self) -> String {
        match self {
            Lane::Serial => "serial".to_owned(),
            Lane::Idle { .. } => "idle".to_owned(),
            Lane::Open { rate } => format!("open{rate:.0}"),
            Lane::Saturation { .. } => "saturation".to_owned(),
        }
    }
}

/// What the gateway adds to the direct call (medians over repetitions of the
/// per-repetition differences).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Added {
    pub latency: Option<Pcts>,
    pub ttfb: Option<Pcts>,
    pub chunk: Option<Pcts>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaneResult {
    pub lane: Lane,
    pub direct: RunStats,
    pub gateway: RunStats,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<RunStats>,
    pub added: Added,
    /// What the peer adds to the direct call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_added: Option<Added>,
    /// Gateway throughput as a fraction of direct (saturation lane).
    pub throughput_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_throughput_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub title: String,
    pub body_bytes: usize,
    pub stream: bool,
    pub available: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub lanes: Vec<LaneResult>,
    /// Upstream 429s per successful request through the gateway (failover lane).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failovers_per_request: Option<f64>,
}

/// Everything the scenarios share.
pub struct Bench {
    pub client: Client,
    pub standin: Arc<StandIn>,
    pub direct: Target,
    pub gateway: Target,
    pub peer: Option<Target>,
    pub plan: Plan,
    /// Lane kinds to run; empty means all.
    pub lane_kinds: Vec<LaneKind>,
    pub ids: Arc<AtomicU64>,
    /// Gateway failures: the run exits non-zero when this is not empty.
    pub failures: Vec<String>,
}

impl Bench {
    fn job(&self, scenario: &Arc<Scenario>, target: &Target) -> Result<Job, String> {
        Ok(Job {
            client: self.client.clone(),
            uri: scenario.uri(&target.base)?,
            scenario: scenario.clone(),
            standin: self.standin.clone(),
            cpu: target.pid.map(Cpu::new),
            timeout: Duration::from_secs_f64(self.plan.timeout_s),
            ids: self.ids.clone(),
        })
    }

    async fn run(&self, job: &Job, lane: Lane) -> RunStats {
        let window = self.plan.window();
        match lane {
            Lane::Serial => closed_loop(job, 1, Duration::ZERO, window).await,
            Lane::Idle { pause_ms } => {
                closed_loop(job, 1, Duration::from_millis(pause_ms), window).await
            }
            Lane::Open { rate } => open_loop(job, rate, window).await,
            Lane::Saturation { workers } => closed_loop(job, workers, Duration::ZERO, window).await,
        }
    }

    /// Probe, then run every lane of `scenario`.
    pub async fn scenario(&mut self, scenario: Scenario) -> ScenarioResult {
        let scenario = Arc::new(scenario);
        let mut result = ScenarioResult {
            name: scenario.name.to_owned(),
            title: scenario.title.clone(),
            body_bytes: scenario.body_len(),
            stream: scenario.is_stream(),
            available: false,
            note: None,
            lanes: Vec::new(),
            failovers_per_request: None,
        };
        eprintln!("== {} — {}", scenario.name, scenario.title);
        let jobs = match (
            self.job(&scenario, &self.direct),
            self.job(&scenario, &self.gateway),
        ) {
            (Ok(d), Ok(g)) => (d, g),
            (Err(e), _) | (_, Err(e)) => {
                self.failures.push(format!("{}: {e}", scenario.name));
                result.note = Some(e);
                return result;
            }
        };
        let (direct, gateway) = jobs;
        match probe(&gateway).await {
            Ok(Some(())) => {}
            Ok(None) if scenario.optional => {
                eprintln!("   not available (the gateway answers 404)");
                result.note = Some("not available: the gateway answers 404 on this route".into());
                return result;
            }
            Ok(None) => {
                let e = "the gateway answers 404".to_owned();
                self.failures.push(format!("{}: {e}", scenario.name));
                result.note = Some(e);
                return result;
            }
            Err(e) => {
                eprintln!("   gateway probe failed: {e}");
                self.failures
                    .push(format!("{}: gateway probe failed: {e}", scenario.name));
                result.note = Some(format!("gateway probe failed: {e}"));
                return result;
            }
        }
        if let Err(e) | Ok(Err(e)) = probe(&direct).await.map(|ok| ok.ok_or("404".to_owned())) {
            self.failures.push(format!(
                "{}: direct probe failed (a bench bug): {e}",
                scenario.name
            ));
            result.note = Some(format!("direct probe failed: {e}"));
            return result;
        }
        result.available = true;
        let peer = match (&self.peer, scenario.peer) {
            (Some(t), true) => self.job(&scenario, t).ok(),
            _ => None,
        };
        let (s0, q0) = self.counters();
        for lane in self.plan.lanes(&scenario, &self.lane_kinds) {
            let peer_lane = peer
                .as_ref()
                .filter(|_| !matches!(lane, Lane::Open { rate } if rate > 100.0));
            let mut reps: Vec<Rep> = Vec::new();
            for rep in 0..self.plan.repetitions {
                let (d, g) = if rep % 2 == 0 {
                    let d = self.run(&direct, lane).await;
                    (d, self.run(&gateway, lane).await)
                } else {
                    let g = self.run(&gateway, lane).await;
                    (self.run(&direct, lane).await, g)
                };
                let p = match peer_lane {
                    Some(job) => Some(self.run(job, lane).await),
                    None => None,
                };
                reps.push((d, g, p));
            }
            let lane_result = reduce(lane, &reps);
            self.judge(&scenario, &lane_result);
            eprintln!("   {}", progress_line(&lane_result));
            result.lanes.push(lane_result);
        }
        if scenario.failover {
            let (s1, q1) = self.counters();
            let served = s1.saturating_sub(s0).max(1);
            result.failovers_per_request = Some(q1.saturating_sub(q0) as f64 / served as f64);
        }
        result
    }

    fn counters(&self) -> (u64, u64) {
        (
            self.standin.cloudcode_streams.load(Ordering::Relaxed),
            self.standin.quota_429s.load(Ordering::Relaxed),
        )
    }

    /// Record gateway (and direct) failures: wrong answers always; timeouts when
    /// one request was in flight (under an open loop they mean overload).
    fn judge(&mut self, scenario: &Scenario, lane: &LaneResult) {
        for (who, stats) in [("gateway", &lane.gateway), ("direct", &lane.direct)] {
            let timeouts = if matches!(lane.lane, Lane::Serial | Lane::Idle { .. }) {
                stats.timeouts
            } else {
                0
            };
            if stats.errors > 0 || timeouts > 0 {
                self.failures.push(format!(
                    "{} {} via {who}: {} errors, {} timeouts of {} requests; e.g. {}",
                    scenario.name,
                    lane.lane.label(),
                    stats.errors,
                    stats.timeouts,
                    stats.requests,
                    stats.error_samples.first().map_or("-", String::as_str)
                ));
            }
        }
    }
}

fn progress_line(l: &LaneResult) -> String {
    let p = |x: Option<Pcts>| x.map_or("-".to_owned(), |p| format!("{:.0}/{:.0} µs", p.p50, p.p99));
    format!(
        "{:<16} direct {:>16} {:>8.0}/s | gateway {:>16} {:>8.0}/s | added {}{}",
        l.lane.label(),
        p(l.direct.latency),
        l.direct.rps,
        p(l.gateway.latency),
        l.gateway.rps,
        p(l.added.latency),
        l.peer.as_ref().map_or(String::new(), |s| format!(
            " | peer {} {:.0}/s",
            p(s.latency),
            s.rps
        ))
    )
}

/// Median of each figure over repetitions; errors and requests are summed.
pub fn median_stats(all: &[RunStats]) -> RunStats {
    let pcts = |f: fn(&RunStats) -> Option<Pcts>| {
        Pcts::median_of(&all.iter().filter_map(f).collect::<Vec<_>>())
    };
    let cpu: Vec<f64> = all.iter().filter_map(|s| s.cpu_s_per_1k).collect();
    let switches: Vec<f64> = all.iter().filter_map(|s| s.switches_per_request).collect();
    RunStats {
        requests: all.iter().map(|s| s.requests).sum(),
        errors: all.iter().map(|s| s.errors).sum(),
        timeouts: all.iter().map(|s| s.timeouts).sum(),
        rps: median(&all.iter().map(|s| s.rps).collect::<Vec<_>>()),
        latency: pcts(|s| s.latency),
        ttfb: pcts(|s| s.ttfb),
        chunk: pcts(|s| s.chunk),
        send_lag: pcts(|s| s.send_lag),
        cpu_s_per_1k: (!cpu.is_empty()).then(|| median(&cpu)),
        switches_per_request: (!switches.is_empty()).then(|| median(&switches)),
        error_samples: all
            .iter()
            .flat_map(|s| s.error_samples.iter().cloned())
            .take(3)
            .collect(),
    }
}

/// One repetition of a lane: direct, through the gateway, through the peer.
type Rep = (RunStats, RunStats, Option<RunStats>);

/// What the target picked by `via` adds to the direct call: per repetition,
/// then the median.
fn added(reps: &[Rep], via: fn(&Rep) -> Option<&RunStats>) -> Added {
    let diff = |f: fn(&RunStats) -> Option<Pcts>| {
        let per_rep: Vec<Pcts> = reps
            .iter()
            .filter_map(|rep| Some(f(via(rep)?)?.minus(&f(&rep.0)?)))
            .collect();
        Pcts::median_of(&per_rep)
    };
    Added {
        latency: diff(|s| s.latency),
        ttfb: diff(|s| s.ttfb),
        chunk: diff(|s| s.chunk),
    }
}

fn ratio(reps: &[Rep], peer: bool) -> Option<f64> {
    let ratios: Vec<f64> = reps
        .iter()
        .filter_map(|(d, g, p)| {
            let num = if peer { p.as_ref()?.rps } else { g.rps };
            (d.rps > 0.0).then(|| num / d.rps)
        })
        .collect();
    (!ratios.is_empty()).then(|| median(&ratios))
}

/// Reduce the repetitions of one lane.
pub fn reduce(lane: Lane, reps: &[Rep]) -> LaneResult {
    let direct: Vec<RunStats> = reps.iter().map(|r| r.0.clone()).collect();
    let gateway: Vec<RunStats> = reps.iter().map(|r| r.1.clone()).collect();
    let peer: Vec<RunStats> = reps.iter().filter_map(|r| r.2.clone()).collect();
    let saturation = matches!(lane, Lane::Saturation { .. });
    LaneResult {
        lane,
        direct: median_stats(&direct),
        gateway: median_stats(&gateway),
        peer: (!peer.is_empty()).then(|| median_stats(&peer)),
        added: added(reps, |rep| Some(&rep.1)),
        peer_added: (!peer.is_empty()).then(|| added(reps, |rep| rep.2.as_ref())),
        throughput_ratio: ratio(reps, false).filter(|_| saturation),
        peer_throughput_ratio: ratio(reps, true).filter(|_| saturation && !peer.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Scenario {
        crate::scenarios::all()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap()
    }

    #[test]
    fn whole_answers_get_an_idle_lane_and_streams_do_not() {
        let plan = Plan::new(false);
        let kinds = |name| -> Vec<LaneKind> {
            plan.lanes(&scenario(name), &[])
                .iter()
                .map(Lane::kind)
                .collect()
        };
        use LaneKind::*;
        assert_eq!(
            kinds("openai-to-openai"),
            [Serial, Idle, Open, Open, Open, Open, Saturation]
        );
        assert_eq!(kinds("openai-chat"), [Serial, Idle, Open, Saturation]);
        assert_eq!(
            plan.lanes(&scenario("openai-chat"), &[])[1],
            Lane::Idle {
                pause_ms: IDLE_PAUSE_MS
            }
        );
        let stream = plan.lanes(&scenario("openai-chat-stream"), &[]);
        assert!(!stream.is_empty() && stream.iter().all(|l| l.kind() != Idle));
    }

    #[test]
    fn lane_kinds_pick_lanes() {
        let plan = Plan::new(true);
        let chat = scenario("openai-chat");
        assert_eq!(
            plan.lanes(&chat, &[LaneKind::Idle]),
            [Lane::Idle {
                pause_ms: IDLE_PAUSE_MS
            }]
        );
        let picked = plan.lanes(&chat, &[LaneKind::Serial, LaneKind::Saturation]);
        assert_eq!(
            picked,
            [
                Lane::Serial,
                Lane::Saturation {
                    workers: plan.workers
                }
            ]
        );
        // The memory lane is not a scenario lane.
        assert!(plan.lanes(&chat, &[LaneKind::Streams]).is_empty());
    }

    fn stats(p50: f64, rps: f64) -> RunStats {
        RunStats {
            requests: 10,
            rps,
            latency: Some(Pcts {
                p50,
                p90: p50 * 2.0,
                p99: p50 * 3.0,
                max: p50 * 4.0,
            }),
            ..RunStats::default()
        }
    }

    #[test]
    fn repetitions_reduce_to_medians_of_paired_differences() {
        let reps = vec![
            (stats(100.0, 1000.0), stats(140.0, 600.0), None),
            (stats(110.0, 900.0), stats(130.0, 450.0), None),
            (stats(90.0, 1100.0), stats(300.0, 440.0), None),
        ];
        let r = reduce(Lane::Saturation { workers: 4 }, &reps);
        // Differences per repetition: 40, 20, 210 → median 40.
        assert_eq!(r.added.latency.unwrap().p50, 40.0);
        assert_eq!(r.gateway.latency.unwrap().p50, 140.0);
        assert_eq!(r.gateway.requests, 30);
        // Ratios 0.6, 0.5, 0.4 → 0.5.
        assert!((r.throughput_ratio.unwrap() - 0.5).abs() < 1e-9);
        assert!(reduce(Lane::Serial, &reps).throughput_ratio.is_none());
        assert!(r.peer.is_none() && r.peer_added.is_none());
    }

    #[test]
    fn a_peer_is_reduced_against_the_same_direct_runs() {
        let reps = vec![
            (
                stats(100.0, 1000.0),
                stats(140.0, 600.0),
                Some(stats(110.0, 900.0)),
            ),
            (
                stats(110.0, 900.0),
                stats(130.0, 450.0),
                Some(stats(150.0, 450.0)),
            ),
            (
                stats(90.0, 1100.0),
                stats(300.0, 440.0),
                Some(stats(95.0, 550.0)),
            ),
        ];
        let r = reduce(Lane::Saturation { workers: 4 }, &reps);
        // Peer differences per repetition: 10, 40, 5 → median 10.
        assert_eq!(r.peer_added.unwrap().latency.unwrap().p50, 10.0);
        assert_eq!(r.added.latency.unwrap().p50, 40.0);
        // Peer ratios 0.9, 0.5, 0.5 → 0.5.
        assert!((r.peer_throughput_ratio.unwrap() - 0.5).abs() < 1e-9);
    }
}

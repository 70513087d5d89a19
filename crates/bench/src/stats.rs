//! Latency histograms and the report's arithmetic: percentiles, medians over
//! repetitions, gateway-minus-direct differences, the open-loop schedule and the
//! per-chunk latency pairing.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The largest latency a histogram holds (longer values are clamped).
const MAX_NS: u64 = 600_000_000_000;

/// A latency histogram in nanoseconds, 3 significant figures.
#[derive(Debug, Clone)]
pub struct Hist {
    inner: Option<Histogram<u64>>,
}

impl Default for Hist {
    fn default() -> Self {
        Self {
            inner: Histogram::new_with_bounds(1, MAX_NS, 3).ok(),
        }
    }
}

impl Hist {
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos())
            .unwrap_or(MAX_NS)
            .clamp(1, MAX_NS);
        if let Some(h) = self.inner.as_mut() {
            h.saturating_record(ns);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.inner.as_ref().map_or(0, Histogram::len)
    }

    /// p50/p90/p99/max in microseconds, or `None` when nothing was recorded.
    pub fn pcts(&self) -> Option<Pcts> {
        let h = self.inner.as_ref().filter(|h| !h.is_empty())?;
        // Microseconds, to 0.1 µs.
        let us = |ns: u64| (ns as f64 / 100.0).round() / 10.0;
        Some(Pcts {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            max: us(h.max()),
        })
    }
}

/// Percentiles of one distribution, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Pcts {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Pcts {
    /// Field by field `self - other` (what the gateway adds to the direct call).
    pub fn minus(&self, other: &Pcts) -> Pcts {
        let d = |a: f64, b: f64| ((a - b) * 10.0).round() / 10.0;
        Pcts {
            p50: d(self.p50, other.p50),
            p90: d(self.p90, other.p90),
            p99: d(self.p99, other.p99),
            max: d(self.max, other.max),
        }
    }

    /// Field by field median over repetitions.
    pub fn median_of(all: &[Pcts]) -> Option<Pcts> {
        if all.is_empty() {
            return None;
        }
        let field = |f: fn(&Pcts) -> f64| median(&all.iter().map(f).collect::<Vec<_>>());
        Some(Pcts {
            p50: field(|p| p.p50),
            p90: field(|p| p.p90),
            p99: field(|p| p.p99),
            max: field(|p| p.max),
        })
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    match (
        v.len() % 2,
        v.get(mid),
        mid.checked_sub(1).and_then(|i| v.get(i)),
    ) {
        (1, Some(m), _) => *m,
        (_, Some(hi), Some(lo)) => (hi + lo) / 2.0,
        _ => 0.0,
    }
}

/// When the `i`-th request of an open loop at `rate` per second is due, from the
/// loop's start. Computed from the index, never accumulated, so it cannot drift.
pub fn scheduled_offset(i: u64, rate: f64) -> Duration {
    if rate <= 0.0 || !rate.is_finite() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(i as f64 / rate)
}

/// How many requests an open loop at `rate` sends in `window`.
pub fn requests_in(window: Duration, rate: f64) -> u64 {
    if rate <= 0.0 || !rate.is_finite() {
        return 0;
    }
    (window.as_secs_f64() * rate).round() as u64
}

/// Per-chunk latency: for every chunk after the first, when the client saw its
/// token minus when the stand-in wrote it. `None` when the counts differ (the
/// chunks cannot be paired).
pub fn chunk_latencies(arrived: &[Instant], written: &[Instant]) -> Option<Vec<Duration>> {
    if arrived.len() != written.len() || arrived.len() < 2 {
        return None;
    }
    Some(
        arrived
            .iter()
            .zip(written)
            .skip(1)
            .map(|(a, w)| a.saturating_duration_since(*w))
            .collect(),
    )
}

/// Occurrences of `needle` in `carry ++ data`; `carry` is left holding the bytes
/// a match split across the next frame would need.
pub fn count_across(carry: &mut Vec<u8>, data: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    let mut buf = std::mem::take(carry);
    buf.extend_from_slice(data);
    let n = memchr::memmem::find_iter(&buf, needle).count();
    let keep = (needle.len() - 1).min(buf.len());
    buf.drain(..buf.len() - keep);
    *carry = buf;
    n
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_out_in_microseconds() {
        let mut h = Hist::default();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        let p = h.pcts().unwrap();
        assert!((p.p50 - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p90 - 90.0).abs() < 0.1, "{p:?}");
        assert!((p.p99 - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max - 100.0).abs() < 0.1, "{p:?}");
        assert_eq!(h.len(), 100);
        assert!(Hist::default().pcts().is_none());
    }

    #[test]
    fn median_and_differences() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        let a = Pcts {
            p50: 100.0,
            p90: 150.0,
            p99: 300.0,
            max: 900.0,
        };
        let b = Pcts {
            p50: 60.0,
            p90: 100.0,
            p99: 120.0,
            max: 1000.0,
        };
        let d = a.minus(&b);
        assert_eq!((d.p50, d.p90, d.p99, d.max), (40.0, 50.0, 180.0, -100.0));
        let m = Pcts::median_of(&[a, b, a]).unwrap();
        assert_eq!(m, a);
    }

    #[test]
    fn the_open_loop_schedule_does_not_drift() {
        assert_eq!(scheduled_offset(0, 500.0), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 500.0), Duration::from_millis(2));
        // After 10 minutes at 2,000 req/s the schedule is still exact to a microsecond.
        let late = scheduled_offset(1_200_000, 2_000.0);
        assert!(late.abs_diff(Duration::from_secs(600)) < Duration::from_micros(1));
        assert_eq!(requests_in(Duration::from_millis(2_500), 1_000.0), 2_500);
        assert_eq!(requests_in(Duration::from_secs(1), 0.0), 0);
    }

    #[test]
    fn chunks_pair_by_index_and_skip_the_first() {
        let t = Instant::now();
        let written = [
            t,
            t + Duration::from_millis(1),
            t + Duration::from_millis(2),
        ];
        let arrived = [
            t + Duration::from_micros(500),
            t + Duration::from_micros(1_030),
            t + Duration::from_micros(2_045),
        ];
        let lat = chunk_latencies(&arrived, &written).unwrap();
        assert_eq!(
            lat,
            vec![Duration::from_micros(30), Duration::from_micros(45)]
        );
        assert!(chunk_latencies(&arrived[..2], &written).is_none());
    }

    #[test]
    fn markers_split_across_frames_are_counted_once() {
        let mut carry = Vec::new();
        let needle = b"\"tok \"";
        assert_eq!(
            count_across(&mut carry, b"{\"text\":\"tok \"}{\"text\":\"to", needle),
            1
        );
        assert_eq!(count_across(&mut carry, b"k \"}", needle), 1);
        assert_eq!(count_across(&mut carry, b"nothing", needle), 0);
        assert!(contains(b"data: [DONE]\n\n", b"[DONE]"));
        assert!(!contains(b"data: {}", b"[DONE]"));
    }
}

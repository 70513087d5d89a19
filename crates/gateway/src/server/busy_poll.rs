//! Bounded busy polling. Waking a thread that sleeps in `epoll_wait` costs
//! tens of microseconds on virtual machines (an inter-processor interrupt and
//! a halted vCPU to resume), more than the gateway's own work on a request.
//! So while requests come back to back, one task keeps the runtime polling
//! its sockets for a short window after each one starts or ends instead of
//! letting the thread sleep: a local upstream's answer, or the client's next
//! request on a kept-alive connection, is then picked up at once. Past the
//! window the thread sleeps as usual, so an idle gateway, or one waiting on a
//! distant upstream, spends nothing more than the window per request.
//!
//! A request that comes after a pause (over [`PAUSE`] since the last one
//! started or ended, or two windows if that is longer) is served without
//! spinning, from its start to its end: the other CPUs have gone idle by
//! then too, and a thread spinning here keeps the client's and the
//! upstream's threads off its CPU, so that they wait for it or wake another. With a request every 20 ms on 2 vCPUs,
//! spinning added ~75 µs at the median and ~115 µs of CPU per request. The
//! next request, if it follows at once, spins again.
//!
//! It needs the thread that owns the sockets: with one worker thread (the
//! default) that is the only thread; with more, the sockets are polled by
//! whichever worker parks last, and spinning elsewhere would not help.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A request this long after the last start or end comes after a pause. It
/// is well above a client's turnaround between requests sent back to back
/// (which on a busy VM can reach a few hundred µs, including the wake-up of
/// a thread that stopped spinning), so that such traffic keeps spinning.
pub const PAUSE: Duration = Duration::from_millis(1);

#[derive(Debug)]
pub struct BusyPoll {
    window: u64,
    /// Nanoseconds without a start or end that make a pause.
    pause: u64,
    epoch: Instant,
    /// Nanoseconds since `epoch` of the latest activity.
    last: AtomicU64,
    /// The spinner is waiting for activity.
    idle: AtomicBool,
    wake: Notify,
}

impl BusyPoll {
    pub fn new(window: Duration) -> Self {
        Self {
            window: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            pause: u64::try_from(PAUSE.max(window.saturating_mul(2)).as_nanos())
                .unwrap_or(u64::MAX),
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            idle: AtomicBool::new(true),
            wake: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// When the latest request started or ended, as time since the poller
    /// was made.
    pub fn last_activity(&self) -> Duration {
        Duration::from_nanos(self.last.load(Ordering::Relaxed))
    }

    fn within_window(&self) -> bool {
        self.now().saturating_sub(self.last.load(Ordering::Relaxed)) < self.window
    }

    /// A request starts. When it follows the last start or end within a
    /// pause, poll for the next event for one more window and say so: the
    /// request is `warm`, and its end does the same. After a longer pause,
    /// record the time only.
    pub fn start(&self) -> bool {
        let now = self.now();
        let previous = self.last.swap(now, Ordering::Relaxed);
        let warm = now.saturating_sub(previous) < self.pause;
        if warm {
            self.wake();
        }
        warm
    }

    /// A request ends: poll for the next event for one more window if it
    /// started `warm`, else record the time only.
    pub fn end(&self, warm: bool) {
        self.last.store(self.now(), Ordering::Relaxed);
        if warm {
            self.wake();
        }
    }

    fn wake(&self) {
        if self.idle.swap(false, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// The spinner: yields to the scheduler (which polls the sockets without
    /// blocking each time) while within the window, then waits for a warm
    /// start or end.
    pub async fn run(&self, stop: CancellationToken) {
        loop {
            while self.within_window() {
                if stop.is_cancelled() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            self.idle.store(true, Ordering::Release);
            // A wake between the last check and `idle` being set saw the
            // spinner busy and did not notify: look again.
            if self.within_window() {
                self.idle.store(false, Ordering::Release);
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = stop.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A poller with `window` and its spinner running, once it has settled.
    async fn spinner(
        window: Duration,
    ) -> (
        Arc<BusyPoll>,
        CancellationToken,
        tokio::task::JoinHandle<()>,
    ) {
        let poll = Arc::new(BusyPoll::new(window));
        let stop = CancellationToken::new();
        let runner = tokio::spawn({
            let (poll, stop) = (poll.clone(), stop.clone());
            async move { poll.run(stop).await }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        (poll, stop, runner)
    }

    async fn finish(runner: tokio::task::JoinHandle<()>, stop: CancellationToken) {
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), runner)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn requests_back_to_back_spin_within_the_window() {
        let (poll, stop, runner) = spinner(Duration::from_millis(20)).await;
        // Untouched: the spinner waits, so a timer still fires on time and the
        // spinner is marked idle.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(poll.idle.load(Ordering::Acquire));
        // The first request after a pause does not spin, start or end.
        assert!(!poll.start());
        assert!(poll.idle.load(Ordering::Acquire));
        poll.end(false);
        assert!(poll.idle.load(Ordering::Acquire));
        // The next, right behind it, does.
        let warm = poll.start();
        assert!(warm);
        assert!(!poll.idle.load(Ordering::Acquire));
        // While it spins, other tasks still run (it yields).
        let other = tokio::spawn(async { 42 });
        assert_eq!(other.await.unwrap(), 42);
        poll.end(warm);
        assert!(!poll.idle.load(Ordering::Acquire));
        // After the window it goes back to waiting.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(poll.idle.load(Ordering::Acquire));
        // A pause (here two windows) after the last end, a request is cold again.
        assert!(!poll.start());
        assert!(poll.idle.load(Ordering::Acquire));
        finish(runner, stop).await;
    }

    #[tokio::test]
    async fn starts_in_quick_succession_keep_it_spinning() {
        let (poll, stop, runner) = spinner(Duration::from_millis(40)).await;
        tokio::time::sleep(Duration::from_millis(90)).await;
        assert!(!poll.start());
        assert!(poll.start());
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert!(poll.start());
        }
        // 60 ms after the first warm start: still spinning.
        assert!(!poll.idle.load(Ordering::Acquire));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(poll.idle.load(Ordering::Acquire));
        finish(runner, stop).await;
    }
}

//! Bounded busy polling. Waking a thread that sleeps in `epoll_wait` costs
//! tens of microseconds on virtual machines (an inter-processor interrupt and
//! a halted vCPU to resume), more than the gateway's own work on a request.
//! So after a request starts or ends, one task keeps the runtime polling its
//! sockets for a short window instead of letting the thread sleep: a local
//! upstream's answer, or the client's next request on a kept-alive
//! connection, is then picked up at once. Past the window the thread sleeps
//! as usual, so an idle gateway, or one waiting on a distant upstream, spends
//! nothing more than the window per request.
//!
//! It needs the thread that owns the sockets: with one worker thread (the
//! default) that is the only thread; with more, the sockets are polled by
//! whichever worker parks last, and spinning elsewhere would not help.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct BusyPoll {
    window: u64,
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
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            idle: AtomicBool::new(true),
            wake: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn within_window(&self) -> bool {
        self.now().saturating_sub(self.last.load(Ordering::Relaxed)) < self.window
    }

    /// Something happened: poll for the next event for one more window.
    pub fn touch(&self) {
        self.last.store(self.now(), Ordering::Relaxed);
        if self.idle.swap(false, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// The spinner: yields to the scheduler (which polls the sockets without
    /// blocking each time) while within the window, then waits for a touch.
    pub async fn run(&self, stop: CancellationToken) {
        loop {
            while self.within_window() {
                if stop.is_cancelled() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            self.idle.store(true, Ordering::Release);
            // A touch between the last check and `idle` being set saw the
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

    #[tokio::test]
    async fn spins_only_within_the_window_after_a_touch() {
        let poll = Arc::new(BusyPoll::new(Duration::from_millis(20)));
        let stop = CancellationToken::new();
        let runner = tokio::spawn({
            let (poll, stop) = (poll.clone(), stop.clone());
            async move { poll.run(stop).await }
        });
        // Untouched: the spinner waits, so a timer still fires on time and the
        // spinner is marked idle.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(poll.idle.load(Ordering::Acquire));
        poll.touch();
        assert!(!poll.idle.load(Ordering::Acquire));
        // While it spins, other tasks still run (it yields).
        let other = tokio::spawn(async { 42 });
        assert_eq!(other.await.unwrap(), 42);
        // After the window it goes back to waiting.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(poll.idle.load(Ordering::Acquire));
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), runner)
            .await
            .unwrap()
            .unwrap();
    }
}

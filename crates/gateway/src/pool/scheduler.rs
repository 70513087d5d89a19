//! Ordering the ready accounts for one request, per the scheduling mode. Health
//! (which accounts are ready) is decided before this; here only the order is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::Account;
use crate::config::{SchedulingConfig, SchedulingMode};

/// Sessions are forgotten after this long without a request.
const SESSION_TTL: Duration = Duration::from_secs(3600);
/// At most this many sessions are remembered.
const MAX_SESSIONS: usize = 50_000;

/// Session → account bindings for `sticky`.
#[derive(Debug, Default)]
pub struct Sessions {
    bound: Mutex<HashMap<String, (i64, Instant)>>,
}

impl Sessions {
    pub fn get(&self, session: &str) -> Option<i64> {
        let bound = self.bound.lock().ok()?;
        bound
            .get(session)
            .filter(|(_, at)| at.elapsed() < SESSION_TTL)
            .map(|(id, _)| *id)
    }

    pub fn bind(&self, session: &str, account: i64) {
        let Ok(mut bound) = self.bound.lock() else {
            return;
        };
        if bound.len() >= MAX_SESSIONS {
            bound.retain(|_, (_, at)| at.elapsed() < SESSION_TTL);
            if bound.len() >= MAX_SESSIONS {
                // Still full of live sessions: drop the oldest tenth.
                let mut ages: Vec<(String, Instant)> =
                    bound.iter().map(|(k, (_, at))| (k.clone(), *at)).collect();
                ages.sort_by_key(|(_, at)| *at);
                for (k, _) in ages.into_iter().take(MAX_SESSIONS / 10) {
                    bound.remove(&k);
                }
            }
        }
        bound.insert(session.to_owned(), (account, Instant::now()));
    }
}

/// Order `ready` (non-empty, each account once) for a request.
/// `remaining(account)` is the account's remaining quota fraction for the model
/// (1.0 when unknown); `turn` advances for every request (round robin).
pub fn order(
    mut ready: Vec<Arc<Account>>,
    config: &SchedulingConfig,
    session: Option<&str>,
    sessions: &Sessions,
    turn: usize,
    remaining: impl Fn(&Account) -> f64,
) -> Vec<Arc<Account>> {
    match config.mode {
        SchedulingMode::RoundRobin => {
            let start = turn % ready.len().max(1);
            ready.rotate_left(start);
            ready
        }
        SchedulingMode::Balance => balance(ready, remaining),
        SchedulingMode::Sticky => {
            let mut ordered = balance(ready, remaining);
            if let Some(id) = session.and_then(|s| sessions.get(s)) {
                promote(&mut ordered, |a| a.id == id);
            }
            ordered
        }
        SchedulingMode::Fixed => {
            let mut ordered = balance(ready, remaining);
            if let Some(email) = &config.preferred_account {
                promote(&mut ordered, |a| {
                    a.email().as_deref() == Some(email.as_str())
                });
            }
            ordered
        }
    }
}

fn promote(list: &mut [Arc<Account>], pick: impl Fn(&Account) -> bool) {
    if let Some(at) = list.iter().position(|a| pick(a)) {
        list[..=at].rotate_right(1);
    }
}

/// A random order weighted by remaining quota (Efraimidis–Spirakis: each account
/// draws `u^(1/w)`, highest first), so accounts with more quota go first more
/// often while load still spreads over all of them.
fn balance(ready: Vec<Arc<Account>>, remaining: impl Fn(&Account) -> f64) -> Vec<Arc<Account>> {
    let mut keyed: Vec<(f64, Arc<Account>)> = ready
        .into_iter()
        .map(|a| {
            let weight = remaining(&a).clamp(0.0, 1.0) + 0.01;
            let u: f64 = rand::random::<f64>().max(f64::MIN_POSITIVE);
            (u.powf(1.0 / weight), a)
        })
        .collect();
    keyed.sort_by(|(x, _), (y, _)| y.total_cmp(x));
    keyed.into_iter().map(|(_, a)| a).collect()
}

//! Pool invariants: candidates never repeat an account and never include one
//! that is cooling down for the model or not active.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use secrecy::SecretString;

use super::*;
use crate::config::{SchedulingConfig, SchedulingMode};
use crate::storage::AccountRecord;
use crate::upstream::Scope;

fn rr() -> SchedulingConfig {
    SchedulingConfig {
        mode: SchedulingMode::RoundRobin,
        preferred_account: None,
        max_attempts: 10,
        retry_budget: Duration::from_secs(30),
        max_wait: Duration::from_secs(5),
    }
}

fn pool_of(statuses: &[AccountStatus]) -> Pool {
    let accounts: Vec<Arc<Account>> = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            Arc::new(Account::from_record(AccountRecord {
                id: i as i64 + 1,
                email: Some(format!("a{i}@x")),
                refresh_token: SecretString::from(format!("rt{i}")),
                project_id: Some("p".into()),
                status: *status,
                status_reason: None,
                validation_url: None,
            }))
        })
        .collect();
    Pool {
        accounts: RwLock::new(accounts.into()),
        cursor: AtomicUsize::new(0),
        sessions: Sessions::default(),
        quota: QuotaBook::default(),
    }
}

fn status() -> impl Strategy<Value = AccountStatus> {
    prop_oneof![
        4 => Just(AccountStatus::Active),
        1 => Just(AccountStatus::Disabled),
        1 => Just(AccountStatus::Blocked),
    ]
}

proptest! {
    #[test]
    fn candidates_are_unique_ready_and_active(
        statuses in proptest::collection::vec(status(), 0..12),
        cooling in proptest::collection::vec((0usize..12, any::<bool>(), 1u64..10_000), 0..12),
        requests in 1usize..5,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        rt.block_on(async {
            let pool = pool_of(&statuses);
            let all = pool.all();
            for (i, whole_account, secs) in &cooling {
                if let Some(a) = all.get(*i) {
                    let scope = if *whole_account { Scope::Account } else { Scope::Model };
                    a.cool_down("m", scope, Duration::from_secs(*secs));
                }
            }
            for _ in 0..requests {
                match pool.candidates("m", None, &rr()) {
                    Ok(list) => {
                        let ids: HashSet<i64> = list.iter().map(|a| a.id).collect();
                        prop_assert_eq!(ids.len(), list.len(), "an account twice");
                        for a in &list {
                            prop_assert!(a.is_usable());
                            prop_assert!(a.cooldown_left("m").is_none());
                        }
                        let expected = all.iter().filter(|a| a.is_usable() && a.cooldown_left("m").is_none()).count();
                        prop_assert_eq!(list.len(), expected, "every ready account is offered");
                    }
                    Err(NoCandidate::Empty { .. }) => {
                        prop_assert!(all.iter().all(|a| !a.is_usable()));
                    }
                    Err(NoCandidate::AllCooling { shortest, .. }) => {
                        let usable: Vec<_> = all.iter().filter(|a| a.is_usable()).collect();
                        prop_assert!(!usable.is_empty());
                        prop_assert!(usable.iter().all(|a| a.cooldown_left("m").is_some()));
                        let min = usable.iter().filter_map(|a| a.cooldown_left("m")).min().unwrap();
                        prop_assert_eq!(shortest, min);
                    }
                }
            }
            Ok(())
        })?;
    }
}

#[tokio::test(start_paused = true)]
async fn cooldowns_are_per_model_and_expire() {
    let pool = pool_of(&[AccountStatus::Active, AccountStatus::Active]);
    let a = pool.all()[0].clone();
    a.cool_down("m1", Scope::Model, Duration::from_secs(60));
    assert!(a.cooldown_left("m1").is_some());
    assert!(a.cooldown_left("m2").is_none(), "other models unaffected");
    assert_eq!(pool.candidates("m1", None, &rr()).unwrap().len(), 1);
    assert_eq!(pool.candidates("m2", None, &rr()).unwrap().len(), 2);

    // A shorter cooldown never shortens a running one.
    a.cool_down("m1", Scope::Model, Duration::from_secs(1));
    tokio::time::advance(Duration::from_secs(30)).await;
    assert!(a.cooldown_left("m1").is_some());
    tokio::time::advance(Duration::from_secs(31)).await;
    assert!(a.cooldown_left("m1").is_none(), "expired");
    assert_eq!(pool.candidates("m1", None, &rr()).unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn all_cooling_reports_the_shortest_wait() {
    let pool = pool_of(&[
        AccountStatus::Active,
        AccountStatus::Active,
        AccountStatus::Disabled,
    ]);
    let all = pool.all();
    all[0].cool_down("m", Scope::Model, Duration::from_secs(90));
    all[1].cool_down("m", Scope::Account, Duration::from_secs(30));
    assert_eq!(
        pool.candidates("m", None, &rr()).err(),
        Some(NoCandidate::AllCooling {
            accounts: 2,
            shortest: Duration::from_secs(30)
        })
    );
}

#[test]
fn consecutive_requests_start_at_different_accounts() {
    let pool = pool_of(&[
        AccountStatus::Active,
        AccountStatus::Active,
        AccountStatus::Active,
    ]);
    let firsts: HashSet<i64> = (0..3)
        .map(|_| pool.candidates("m", None, &rr()).unwrap()[0].id)
        .collect();
    assert_eq!(firsts.len(), 3);
}

//! The claim, fence and instance-lock functions that exactly-once execution rests on,
//! run on SQLite and on MariaDB: a claim is exclusive until its lease ends (a renewal
//! extends it; an expired one nobody took is still renewable); every claim, a runner
//! taking its own task back included, is a new generation; a runner whose claim was
//! taken over can neither renew nor write; of concurrent claimers, of a fresh or of an
//! expired claim, exactly one wins; retries and hand-backs make the task claimable when
//! they should; of concurrent lockers of an instance exactly one wins, and a lock
//! renewal never resurrects a released lock.

mod common;

use chrono::NaiveDateTime;
use common::Db;
use tars_store::instance_lock::LockAttempt;
use tars_store::server_conf::NewServer;
use tars_store::task_effects::Instance;
use tars_store::task_queue::{ClaimOutcome, Claimed, Fence};
use tars_store::tasks::{NewTask, NewTaskItem};
use tars_store::Store;

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn task(task_no: &str, items: usize) -> NewTask {
    NewTask {
        task_no: task_no.into(),
        serial: true,
        user_name: "test".into(),
        items: (0..items)
            .map(|i| NewTaskItem {
                item_no: format!("{task_no}-{i}"),
                application: "Shop".into(),
                server_name: "Cart".into(),
                node_name: format!("10.0.0.{i}"),
                set_name: String::new(),
                command: "start".into(),
                parameters: "{}".into(),
            })
            .collect(),
        trace_parent: String::new(),
    }
}

async fn with_task(store: &Store, task_no: &str, items: usize) {
    let created = t("2026-01-01 10:00:00");
    store
        .insert_task(&task(task_no, items), created, created)
        .await
        .unwrap();
}

async fn claim(store: &Store, task_no: &str, holder: &str, now: &str, until: &str) -> ClaimOutcome {
    store
        .claim_task(task_no, holder, t(now), t(until))
        .await
        .unwrap()
}

fn claimed(outcome: ClaimOutcome) -> Claimed {
    match outcome {
        ClaimOutcome::Claimed(c) => c,
        other => panic!("expected a claim, got {other:?}"),
    }
}

async fn item_states(store: &Store, task_no: &str) -> Vec<(i64, String)> {
    store
        .task_items(task_no)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.status.unwrap_or(-1), i.log.unwrap_or_default()))
        .collect()
}

async fn a_claim_is_exclusive_and_a_taken_over_runner_cannot_write(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    store
        .insert_servers_with_adapters(
            &[NewServer {
                application: "Shop".into(),
                server_name: "Cart".into(),
                node_name: "10.0.0.0".into(),
                server_type: "tars_cpp".into(),
                template_name: "tars.default".into(),
                posttime: t("2026-01-01 09:00:00"),
                ..NewServer::default()
            }],
            &[],
        )
        .await
        .unwrap();
    with_task(&store, "T1", 2).await;
    let a = claimed(
        claim(
            &store,
            "T1",
            "runner-a",
            "2026-01-01 10:00:01",
            "2026-01-01 10:00:11",
        )
        .await,
    );
    assert_eq!(a.fence.generation, 1);
    assert_eq!(
        claim(
            &store,
            "T1",
            "runner-b",
            "2026-01-01 10:00:05",
            "2026-01-01 10:00:15"
        )
        .await,
        ClaimOutcome::Held,
        "a live lease keeps the task its holder's"
    );
    assert!(store
        .start_task_item(&a.fence, "T1-0", t("2026-01-01 10:00:02"))
        .await
        .unwrap());
    // Runner A pauses past its lease; B takes the task over with a new generation.
    let b = claimed(
        claim(
            &store,
            "T1",
            "runner-b",
            "2026-01-01 10:00:12",
            "2026-01-01 10:00:22",
        )
        .await,
    );
    assert_eq!(b.fence.generation, 2);
    assert!(!store
        .renew_task_lease(&a.fence, t("2026-01-01 10:00:30"))
        .await
        .unwrap());
    assert!(!store
        .start_task_item(&a.fence, "T1-1", t("2026-01-01 10:00:13"))
        .await
        .unwrap());
    assert!(!store
        .finish_task_item(&a.fence, "T1-0", 3, "a says done", t("2026-01-01 10:00:13"))
        .await
        .unwrap());
    let at = Instance {
        application: "Shop",
        server_name: "Cart",
        node_name: "10.0.0.0",
    };
    assert!(!store
        .set_setting_state(&a.fence, at, "active")
        .await
        .unwrap());
    assert!(!store
        .finish_task(&a.fence, t("2026-01-01 10:00:13"))
        .await
        .unwrap());
    assert_eq!(
        store
            .server_by_name("Shop", "Cart", "10.0.0.0")
            .await
            .unwrap()
            .unwrap()
            .setting_state,
        "inactive",
        "the stale runner changed nothing"
    );
    assert!(store
        .set_setting_state(&b.fence, at, "active")
        .await
        .unwrap());
    assert!(store
        .finish_task_item(&b.fence, "T1-0", 3, "b says done", t("2026-01-01 10:00:14"))
        .await
        .unwrap());
    assert!(store
        .finish_task(&b.fence, t("2026-01-01 10:00:15"))
        .await
        .unwrap());
    assert_eq!(
        item_states(&store, "T1").await[0],
        (3, "b says done".into())
    );
    assert_eq!(
        claim(
            &store,
            "T1",
            "runner-c",
            "2026-01-01 11:00:00",
            "2026-01-01 11:00:10"
        )
        .await,
        ClaimOutcome::Finished
    );
    assert!(!store
        .renew_task_lease(&b.fence, t("2026-01-01 11:00:00"))
        .await
        .unwrap());
    assert_eq!(
        claim(
            &store,
            "nope",
            "runner-c",
            "2026-01-01 11:00:00",
            "2026-01-01 11:00:10"
        )
        .await,
        ClaimOutcome::Missing
    );
}

/// Runner `i` of `runners` claims `task_no` at `now` (each with a store of its own, as
/// runner processes have), all at once; answers the outcomes, in runner order.
async fn claim_all_at_once(
    runners: &[Store],
    task_no: &'static str,
    now: &'static str,
    until: &'static str,
) -> Vec<ClaimOutcome> {
    let claims = runners.iter().enumerate().map(|(i, store)| {
        let store = store.clone();
        async move {
            store
                .claim_task(task_no, &format!("runner-{i}"), t(now), t(until))
                .await
                .unwrap()
        }
    });
    spawn_all(claims).await
}

/// The one claim among `outcomes`; every other outcome is `Held`.
fn sole_winner(outcomes: Vec<ClaimOutcome>) -> Claimed {
    let mut winners = Vec::new();
    for outcome in outcomes {
        match outcome {
            ClaimOutcome::Claimed(c) => winners.push(c),
            ClaimOutcome::Held => {}
            other => panic!("a loser is told the task is held, not {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
    winners.pop().unwrap()
}

/// `n` stores on one database: `n` runners.
async fn runners(db: &Db, n: usize) -> Vec<Store> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(db.open().await);
    }
    stores
}

async fn concurrent_claims_have_one_winner(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    with_task(&store, "T2", 1).await;
    let runners = runners(&db, 8).await;
    let outcomes =
        claim_all_at_once(&runners, "T2", "2026-01-01 10:00:01", "2026-01-01 10:00:11").await;
    let won = sole_winner(outcomes);
    assert_eq!(won.fence.generation, 1);
    let queue = store.task_queue_state("T2").await.unwrap().unwrap();
    assert_eq!(
        (queue.claimed_by.as_deref(), queue.attempts),
        (Some(won.fence.holder.as_str()), 1),
        "the row names the winner"
    );
}

async fn concurrent_takeovers_of_an_expired_claim_have_one_winner(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    with_task(&store, "T5", 2).await;
    let dead = claimed(
        claim(
            &store,
            "T5",
            "runner-dead",
            "2026-01-01 10:00:01",
            "2026-01-01 10:00:11",
        )
        .await,
    );
    // The holder died; once its lease ended every runner's sweeper tries at once.
    let runners = runners(&db, 8).await;
    let outcomes =
        claim_all_at_once(&runners, "T5", "2026-01-01 10:00:12", "2026-01-01 10:00:22").await;
    let won = sole_winner(outcomes);
    assert_eq!(won.fence.generation, 2);
    assert!(!store
        .start_task_item(&dead.fence, "T5-0", t("2026-01-01 10:00:13"))
        .await
        .unwrap());
    assert!(store
        .start_task_item(&won.fence, "T5-0", t("2026-01-01 10:00:13"))
        .await
        .unwrap());
    let queue = store.task_queue_state("T5").await.unwrap().unwrap();
    assert_eq!(
        (queue.claimed_by.as_deref(), queue.attempts),
        (Some(won.fence.holder.as_str()), 2)
    );
}

async fn a_renewal_extends_the_lease_and_an_expired_one_is_renewed_until_taken(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    with_task(&store, "T6", 1).await;
    let a = claimed(
        claim(
            &store,
            "T6",
            "runner-a",
            "2026-01-01 10:00:01",
            "2026-01-01 10:00:11",
        )
        .await,
    );
    assert!(store
        .renew_task_lease(&a.fence, t("2026-01-01 10:00:21"))
        .await
        .unwrap());
    for now in ["2026-01-01 10:00:15", "2026-01-01 10:00:21"] {
        assert_eq!(
            claim(&store, "T6", "runner-b", now, "2026-01-01 10:00:40").await,
            ClaimOutcome::Held,
            "the renewed lease holds until its end, inclusive ({now})"
        );
    }
    // Expired, but nobody took it: the claim is still A's and renewable.
    assert!(store
        .renew_task_lease(&a.fence, t("2026-01-01 10:00:35"))
        .await
        .unwrap());
    assert_eq!(
        claim(
            &store,
            "T6",
            "runner-b",
            "2026-01-01 10:00:30",
            "2026-01-01 10:00:40"
        )
        .await,
        ClaimOutcome::Held
    );
    let b = claimed(
        claim(
            &store,
            "T6",
            "runner-b",
            "2026-01-01 10:00:36",
            "2026-01-01 10:00:46",
        )
        .await,
    );
    assert_eq!(b.fence.generation, 2);
    assert!(!store
        .renew_task_lease(&a.fence, t("2026-01-01 10:01:00"))
        .await
        .unwrap());
}

async fn a_runner_taking_its_own_task_back_starts_a_new_generation(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    with_task(&store, "T7", 2).await;
    let first = claimed(
        claim(
            &store,
            "T7",
            "runner-a",
            "2026-01-01 10:00:01",
            "2026-01-01 10:00:11",
        )
        .await,
    );
    assert!(store
        .start_task_item(&first.fence, "T7-0", t("2026-01-01 10:00:02"))
        .await
        .unwrap());
    // Runner A restarted with the same id (or its sweeper found its own expired task).
    let again = claimed(
        claim(
            &store,
            "T7",
            "runner-a",
            "2026-01-01 10:00:12",
            "2026-01-01 10:00:22",
        )
        .await,
    );
    assert_eq!(
        (again.fence.holder.as_str(), again.fence.generation),
        ("runner-a", 2)
    );
    // The earlier attempt (same holder, old generation) is fenced off like anyone's.
    assert!(!store
        .renew_task_lease(&first.fence, t("2026-01-01 10:00:30"))
        .await
        .unwrap());
    assert!(!store
        .finish_task_item(
            &first.fence,
            "T7-0",
            3,
            "old attempt",
            t("2026-01-01 10:00:13")
        )
        .await
        .unwrap());
    assert!(!store
        .finish_task(&first.fence, t("2026-01-01 10:00:13"))
        .await
        .unwrap());
    assert!(store
        .finish_task_item(
            &again.fence,
            "T7-0",
            3,
            "new attempt",
            t("2026-01-01 10:00:14")
        )
        .await
        .unwrap());
    assert_eq!(
        item_states(&store, "T7").await[0],
        (3, "new attempt".into())
    );
}

/// Runs the futures concurrently (each on its own task) and answers their outputs.
async fn spawn_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn retries_wait_their_delay_and_failures_are_counted(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    with_task(&store, "T3", 1).await;
    let a = claimed(
        claim(
            &store,
            "T3",
            "runner-a",
            "2026-01-01 10:00:01",
            "2026-01-01 10:00:11",
        )
        .await,
    );
    assert!(store
        .release_task_for_retry(&a.fence, t("2026-01-01 10:00:30"), "database busy")
        .await
        .unwrap());
    let claimable = |now: &'static str| {
        let store = store.clone();
        async move {
            store
                .claimable_tasks(t(now), t(now), false, 10)
                .await
                .unwrap()
        }
    };
    assert!(
        claimable("2026-01-01 10:00:20").await.is_empty(),
        "not before its retry time"
    );
    assert_eq!(
        claim(
            &store,
            "T3",
            "runner-b",
            "2026-01-01 10:00:20",
            "2026-01-01 10:00:40"
        )
        .await,
        ClaimOutcome::Held
    );
    assert_eq!(claimable("2026-01-01 10:00:31").await, ["T3"]);
    let b = claimed(
        claim(
            &store,
            "T3",
            "runner-b",
            "2026-01-01 10:00:31",
            "2026-01-01 10:00:41",
        )
        .await,
    );
    assert_eq!((b.fence.generation, b.failures), (2, 1));
    assert_eq!(b.last_error.as_deref(), Some("database busy"));
    // The runner shuts down: the task is handed back and claimable at once.
    assert!(store
        .release_task(&b.fence, t("2026-01-01 10:00:32"))
        .await
        .unwrap());
    assert_eq!(claimable("2026-01-01 10:00:33").await, ["T3"]);
    let c = claimed(
        claim(
            &store,
            "T3",
            "runner-c",
            "2026-01-01 10:00:33",
            "2026-01-01 10:00:43",
        )
        .await,
    );
    assert_eq!(
        (c.fence.generation, c.failures),
        (3, 1),
        "a hand-back is no failure"
    );
}

async fn failing_a_task_ends_its_open_items_only_under_the_claim(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    with_task(&store, "T4", 3).await;
    let a = claimed(
        claim(
            &store,
            "T4",
            "runner-a",
            "2026-01-01 10:00:01",
            "2026-01-01 10:00:11",
        )
        .await,
    );
    assert!(store
        .finish_task_item(&a.fence, "T4-0", 3, "started", t("2026-01-01 10:00:02"))
        .await
        .unwrap());
    let stale = Fence {
        generation: 0,
        ..a.fence.clone()
    };
    assert!(!store
        .fail_task(
            &stale,
            "nope",
            t("2026-01-01 10:00:03"),
            t("2026-01-01 10:00:03")
        )
        .await
        .unwrap());
    assert_eq!(item_states(&store, "T4").await[1].0, 0, "nothing written");
    assert!(store
        .fail_task(
            &a.fence,
            "gave up",
            t("2026-01-01 10:00:04"),
            t("2026-01-01 10:00:04")
        )
        .await
        .unwrap());
    assert_eq!(
        item_states(&store, "T4").await,
        [
            (3, "started".to_string()),
            (4, "gave up".to_string()),
            (4, "gave up".to_string())
        ]
    );
    let queue = store.task_queue_state("T4").await.unwrap().unwrap();
    assert!(queue.finished_at.is_some());
}

async fn instance_locks_exclude_expire_and_never_come_back(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    let lock = |holder: &'static str, now: &'static str, until: &'static str| {
        let store = store.clone();
        async move {
            store
                .try_lock_instance("Shop.Cart@10.0.0.1", holder, t(now), t(until))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        lock("a", "2026-01-01 10:00:00", "2026-01-01 10:00:10").await,
        LockAttempt::Taken
    );
    assert_eq!(
        lock("b", "2026-01-01 10:00:01", "2026-01-01 10:00:11").await,
        LockAttempt::Busy {
            holder: "a".into(),
            lease_until: t("2026-01-01 10:00:10")
        }
    );
    assert_eq!(
        lock("a", "2026-01-01 10:00:02", "2026-01-01 10:00:12").await,
        LockAttempt::Taken,
        "re-entrant"
    );
    assert!(store
        .renew_instance_lock("Shop.Cart@10.0.0.1", "a", t("2026-01-01 10:00:15"))
        .await
        .unwrap());
    assert!(
        matches!(
            lock("b", "2026-01-01 10:00:13", "2026-01-01 10:00:23").await,
            LockAttempt::Busy { holder, .. } if holder == "a"
        ),
        "the renewal extended A's lease"
    );
    // A's lease runs out; B takes the instance; A can neither renew nor release it.
    assert_eq!(
        lock("b", "2026-01-01 10:00:16", "2026-01-01 10:00:26").await,
        LockAttempt::Taken
    );
    assert!(!store
        .renew_instance_lock("Shop.Cart@10.0.0.1", "a", t("2026-01-01 10:00:30"))
        .await
        .unwrap());
    store
        .unlock_instance("Shop.Cart@10.0.0.1", "a")
        .await
        .unwrap();
    assert!(matches!(
        lock("c", "2026-01-01 10:00:17", "2026-01-01 10:00:27").await,
        LockAttempt::Busy { holder, .. } if holder == "b"
    ));
    store
        .unlock_instance("Shop.Cart@10.0.0.1", "b")
        .await
        .unwrap();
    // A renewal after the release finds nothing and creates nothing.
    assert!(!store
        .renew_instance_lock("Shop.Cart@10.0.0.1", "b", t("2026-01-01 10:00:40"))
        .await
        .unwrap());
    assert_eq!(
        lock("c", "2026-01-01 10:00:18", "2026-01-01 10:00:28").await,
        LockAttempt::Taken
    );
}

async fn concurrent_lockers_of_an_instance_have_one_winner(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let runners = runners(&db, 8).await;
    let lock_all_at_once = |now: &'static str, until: &'static str| {
        let attempts = runners.iter().enumerate().map(move |(i, store)| {
            let store = store.clone();
            async move {
                let holder = format!("runner-{i}/T#1");
                let attempt = store
                    .try_lock_instance("Shop.Cart@10.0.0.1", &holder, t(now), t(until))
                    .await
                    .unwrap();
                (holder, attempt)
            }
        });
        spawn_all(attempts)
    };
    // A free instance: every locker inserts the row, one insert wins.
    let fresh = lock_all_at_once("2026-01-01 10:00:00", "2026-01-01 10:00:10").await;
    let first = one_holder(&fresh);
    // Its lease ran out: every locker updates the row, one update wins.
    let expired = lock_all_at_once("2026-01-01 10:00:11", "2026-01-01 10:00:21").await;
    let second = one_holder(&expired);
    let renew = |holder: String| {
        let store = runners[0].clone();
        async move {
            store
                .renew_instance_lock("Shop.Cart@10.0.0.1", &holder, t("2026-01-01 10:00:30"))
                .await
                .unwrap()
        }
    };
    if first != second {
        assert!(!renew(first).await, "the first holder lost the lock");
    }
    assert!(renew(second).await, "the lock is the second holder's");
}

/// The one holder that took the lock; the others are told it is busy, naming it.
fn one_holder(attempts: &[(String, LockAttempt)]) -> String {
    let taken: Vec<&String> = attempts
        .iter()
        .filter(|(_, a)| *a == LockAttempt::Taken)
        .map(|(h, _)| h)
        .collect();
    assert_eq!(taken.len(), 1, "exactly one holder: {attempts:?}");
    for (holder, attempt) in attempts {
        if holder != taken[0] {
            assert!(
                matches!(attempt, LockAttempt::Busy { holder: h, .. } if h == taken[0]),
                "{holder} is told {} holds it: {attempt:?}",
                taken[0]
            );
        }
    }
    taken[0].clone()
}

store_test_suite!(
    a_claim_is_exclusive_and_a_taken_over_runner_cannot_write,
    concurrent_claims_have_one_winner,
    concurrent_takeovers_of_an_expired_claim_have_one_winner,
    a_renewal_extends_the_lease_and_an_expired_one_is_renewed_until_taken,
    a_runner_taking_its_own_task_back_starts_a_new_generation,
    concurrent_lockers_of_an_instance_have_one_winner,
    retries_wait_their_delay_and_failures_are_counted,
    failing_a_task_ends_its_open_items_only_under_the_claim,
    instance_locks_exclude_expire_and_never_come_back,
);

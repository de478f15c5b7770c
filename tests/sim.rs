//! Several state machines on a simulated LAN with virtual time, in one process.
//!
//! The LAN itself lives in `tests/common/mod.rs` (shared with `tests/chaos.rs`): adverts
//! travel through the real codec (`packet::encode` then `packet::validate`) so the
//! simulation exercises the same bytes the agent sends, and time is virtual.

mod common;

use std::time::Duration;

use common::{Lan, WIRE_DELAY, assert_single_master, secs};
use vipd::protocol::fsm::State;
use vipd::protocol::units::Centisecs;

#[test]
fn election_converges_on_the_highest_priority() {
    let mut lan = Lan::new(&[(100, 100, true), (200, 100, true), (150, 100, true)]);
    lan.start_all();
    lan.run_until(secs(10), |_| {});
    assert_single_master(&lan, 1, "three routers");
}

#[test]
fn equal_priorities_elect_the_greatest_address() {
    let mut lan = Lan::new(&[(100, 100, true), (100, 100, true), (100, 100, true)]);
    lan.start_all();
    lan.run_until(secs(10), |_| {});
    assert_single_master(&lan, 2, "tie broken by 10.0.0.3");
}

#[test]
fn never_two_masters_after_convergence() {
    let mut lan = Lan::new(&[
        (120, 1, true),
        (110, 1, true),
        (130, 1, true),
        (90, 1, true),
    ]);
    lan.start_all();
    lan.run_until(secs(1), |_| {});
    assert_single_master(&lan, 2, "converged");
    // A minute of 10 ms adverts: ~6000 adverts per router, checked after every step.
    lan.run_until(secs(61), |lan| {
        assert_eq!(lan.masters().len(), 1, "two masters at {:?}", lan.now);
        assert_eq!(lan.holders().len(), 1, "two holders at {:?}", lan.now);
    });
}

#[test]
fn failover_happens_within_master_down_interval() {
    for interval_cs in [1u32, 10, 100] {
        let mut lan = Lan::new(&[(200, interval_cs, true), (100, interval_cs, true)]);
        lan.start_all();
        lan.run_until(secs(10), |_| {});
        assert_single_master(&lan, 0, "before the crash");
        let crash_at = lan.now;
        lan.crash(0);
        lan.run_until(crash_at + secs(10), |_| {});
        let (took_over, who) = lan.first_master_since(crash_at).expect("a takeover");
        assert_eq!(who, 1);
        let mdi = vipd::protocol::units::master_down_interval(100, Centisecs(interval_cs));
        // The backup heard the last advert at most one interval before the crash.
        assert!(
            took_over - crash_at <= mdi,
            "interval {interval_cs} cs: took {:?}, master-down interval {mdi:?}",
            took_over - crash_at
        );
        assert_single_master(&lan, 1, "after failover");
    }
}

#[test]
fn shutdown_hands_over_within_skew_time() {
    let mut lan = Lan::new(&[(200, 100, true), (100, 100, true)]);
    lan.start_all();
    lan.run_until(secs(10), |_| {});
    let t = lan.now;
    lan.shutdown(0);
    lan.run_until(t + secs(5), |_| {});
    let (took_over, who) = lan.first_master_since(t).expect("a takeover");
    assert_eq!(who, 1);
    let skew = vipd::protocol::units::skew_time(100, Centisecs(100));
    assert!(
        took_over - t <= skew + WIRE_DELAY,
        "took {:?}",
        took_over - t
    );
}

#[test]
fn preempt_brings_the_better_router_back_and_no_preempt_does_not() {
    for preempt in [true, false] {
        let mut lan = Lan::new(&[(200, 100, preempt), (100, 100, preempt)]);
        lan.start_all();
        lan.run_until(secs(10), |_| {});
        lan.crash(0);
        lan.run_until(secs(20), |_| {});
        assert_single_master(&lan, 1, "after the crash");
        lan.start(0);
        lan.run_until(secs(40), |_| {});
        let expected = if preempt { 0 } else { 1 };
        assert_single_master(&lan, expected, &format!("preempt={preempt} after restart"));
    }
}

#[test]
fn a_partition_makes_two_masters_and_healing_leaves_one() {
    let mut lan = Lan::new(&[(200, 10, true), (100, 10, true)]);
    lan.start_all();
    lan.run_until(secs(1), |_| {});
    lan.routers[0].connected = false;
    lan.run_until(secs(2), |_| {});
    // Router 0 still believes it is master (its link looks fine to it); router 1 took over.
    assert_eq!(lan.masters(), vec![0, 1]);
    lan.routers[0].connected = true;
    let healed = lan.now;
    lan.run_until(healed + secs(1), |_| {});
    assert_single_master(&lan, 0, "after heal");
    let back = lan
        .changes
        .iter()
        .find(|(at, i, to)| *at >= healed && *i == 1 && *to == State::Backup)
        .map(|(at, ..)| *at - healed)
        .expect("router 1 stepped down");
    // Within one advert interval (100 ms) plus the wire delay of an advert and its answer.
    assert!(
        back <= Duration::from_millis(100) + 2 * WIRE_DELAY,
        "stepped down after {back:?}"
    );
}

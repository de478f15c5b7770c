//! Several state machines on a simulated LAN with virtual time, in one process.
//!
//! Adverts travel through the real codec (`packet::encode` then `packet::validate`) so the
//! simulation exercises the same bytes the agent sends. Time is virtual: the loop jumps to the
//! next delivery or timer, so a minute of protocol time costs microseconds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vipd::fsm::{Action, AdvertIn, Event, Fsm, Params, State};
use vipd::packet::{self, AdvertOut, Expect, RxMeta};
use vipd::units::{Centisecs, Family, Version};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
const VRID: u8 = 7;
/// One-way delay on the simulated wire.
const WIRE_DELAY: Duration = Duration::from_micros(200);

struct Router {
    fsm: Fsm,
    addr: IpAddr,
    alive: bool,
    connected: bool,
    holds_vip: bool,
}

/// An advert on the wire: (delivery time, sequence, receiver index, VRRP bytes, sender).
type InFlight = (Duration, u64, usize, Vec<u8>, IpAddr);

struct Lan {
    now: Duration,
    routers: Vec<Router>,
    wire: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    scratch: Vec<Action>,
    /// Every state change: (time, router, to).
    changes: Vec<(Duration, usize, State)>,
}

impl Lan {
    fn new(specs: &[(u8, u32, bool)]) -> Lan {
        let routers = specs
            .iter()
            .enumerate()
            .map(|(i, &(priority, interval_cs, preempt))| Router {
                fsm: Fsm::new(Params {
                    version: Version::V3,
                    priority,
                    advert_interval: Centisecs(interval_cs),
                    preempt,
                }),
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, i as u8 + 1)),
                alive: false,
                connected: true,
                holds_vip: false,
            })
            .collect();
        Lan {
            now: Duration::ZERO,
            routers,
            wire: BinaryHeap::new(),
            seq: 0,
            scratch: Vec::new(),
            changes: Vec::new(),
        }
    }

    fn start(&mut self, i: usize) {
        let addr = self.routers[i].addr;
        self.routers[i].alive = true;
        self.event(i, Event::Interface(Some(addr)));
        self.event(i, Event::Startup);
    }

    fn start_all(&mut self) {
        for i in 0..self.routers.len() {
            self.start(i);
        }
    }

    /// The router vanishes without a word (power cut, kill -9 with its link gone).
    fn crash(&mut self, i: usize) {
        let r = &mut self.routers[i];
        r.alive = false;
        r.holds_vip = false;
        r.fsm = Fsm::new(r.fsm.params().clone());
    }

    fn event(&mut self, i: usize, ev: Event) {
        let now = self.now;
        self.routers[i].fsm.handle(now, ev, &mut self.scratch);
        self.apply(i);
    }

    fn apply(&mut self, i: usize) {
        let actions = std::mem::take(&mut self.scratch);
        for a in &actions {
            match *a {
                Action::SendAdvert { priority } => self.send(i, priority),
                Action::AddAddresses => self.routers[i].holds_vip = true,
                Action::RemoveAddresses => self.routers[i].holds_vip = false,
                Action::Announce => {}
                Action::StateChanged { to, .. } => self.changes.push((self.now, i, to)),
            }
        }
        self.scratch = actions;
        self.scratch.clear();
    }

    fn send(&mut self, from: usize, priority: u8) {
        let r = &self.routers[from];
        if !r.alive || !r.connected {
            return;
        }
        let p = r.fsm.params();
        let mut bytes = Vec::new();
        let out = AdvertOut {
            version: p.version,
            vrid: VRID,
            priority,
            interval: p.advert_interval,
            addresses: &[VIP],
            auth_pass: None,
            checksum_ipv4_pseudo_header: true,
        };
        packet::encode(&out, r.addr, IpAddr::V4(packet::MULTICAST_V4), &mut bytes);
        let src = r.addr;
        for to in 0..self.routers.len() {
            if to != from {
                self.seq += 1;
                let at = self.now + WIRE_DELAY;
                self.wire
                    .push(Reverse((at, self.seq, to, bytes.clone(), src)));
            }
        }
    }

    fn deliver(&mut self, to: usize, bytes: &[u8], src: IpAddr) {
        let r = &self.routers[to];
        if !r.alive || !r.connected {
            return;
        }
        let meta = RxMeta {
            src,
            dst: IpAddr::V4(packet::MULTICAST_V4),
            hop_limit: 255,
        };
        let p = r.fsm.params().clone();
        let expect = |vrid: u8| {
            (vrid == VRID).then_some(Expect {
                version: p.version,
                checksum_ipv4_pseudo_header: true,
                auth_pass: None,
                interval: p.advert_interval,
                addresses: &[VIP],
                unicast_peers: &[],
            })
        };
        let adv = packet::validate(bytes, &meta, Family::V4, expect)
            .expect("simulated adverts are valid");
        let ev = Event::Advert(AdvertIn {
            src: adv.src,
            priority: adv.priority,
            interval: adv.interval,
        });
        self.event(to, ev);
    }

    /// Run until `until`, processing deliveries and timers in time order.
    fn run_until(&mut self, until: Duration, mut check: impl FnMut(&Lan)) {
        loop {
            let next_timer = (0..self.routers.len())
                .filter(|&i| self.routers[i].alive)
                .filter_map(|i| self.routers[i].fsm.poll_timeout().map(|t| (t, i)))
                .min();
            let next_wire = self.wire.peek().map(|Reverse(d)| d.0);
            let timer_first = match (next_timer, next_wire) {
                (Some((t, _)), Some(w)) => t <= w,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let at = if timer_first {
                next_timer.map(|(t, _)| t)
            } else {
                next_wire
            };
            if at.is_some_and(|t| t > until) {
                break;
            }
            if timer_first {
                let (t, i) = next_timer.expect("checked above");
                self.now = t;
                self.routers[i].fsm.handle_timeout(t, &mut self.scratch);
                self.apply(i);
            } else if let Some(Reverse((t, _, to, bytes, src))) = self.wire.pop() {
                self.now = t;
                self.deliver(to, &bytes, src);
            }
            check(self);
        }
        self.now = until;
    }

    fn masters(&self) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&i| self.routers[i].alive && self.routers[i].fsm.state() == State::Master)
            .collect()
    }

    fn holders(&self) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&i| self.routers[i].holds_vip)
            .collect()
    }

    fn first_master_since(&self, t: Duration) -> Option<(Duration, usize)> {
        self.changes
            .iter()
            .find(|(at, _, to)| *at >= t && *to == State::Master)
            .map(|&(at, i, _)| (at, i))
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// After convergence, exactly one master and it alone holds the address.
fn assert_single_master(lan: &Lan, expected: usize, ctx: &str) {
    assert_eq!(
        lan.masters(),
        vec![expected],
        "{ctx}: masters at {:?}",
        lan.now
    );
    assert_eq!(lan.holders(), vec![expected], "{ctx}: address holders");
}

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
        let mdi = vipd::units::master_down_interval(100, Centisecs(interval_cs)).to_duration();
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
    lan.event(0, Event::Shutdown);
    lan.run_until(t + secs(5), |_| {});
    let (took_over, who) = lan.first_master_since(t).expect("a takeover");
    assert_eq!(who, 1);
    let skew = vipd::units::skew_time(100, Centisecs(100)).to_duration();
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

//! The simulated LAN shared by `tests/sim.rs` and `tests/chaos.rs`.
//!
//! Several state machines run in one process on a shared segment with virtual time: the loop
//! jumps to the next delivery or timer, so a minute of protocol time costs microseconds.
//! Adverts travel through the real codec (`packet::encode` then `packet::validate`), so the
//! simulation exercises the same bytes the agent sends.
//!
//! Faults the LAN can model, all deterministic for a given seed:
//! - random loss per (packet, receiver), decided at send time;
//! - a fixed one-way delay plus uniform jitter (jitter can reorder packets);
//! - two-way partitions (`group`: routers only hear routers of their own group) and one-way
//!   cuts (`blocked`: directed pairs), both applied at delivery time, so a partition also
//!   cuts what is already on the wire;
//! - a router's cable (`connected`), its link (`link_up`, which the node hears of as an
//!   interface report), crashes (`alive`) and restarts.
//!
//! Each router runs the agent's own sans-IO node (`protocol::node`) with one instance, so
//! the simulation exercises the same policy code the agent runs, not a copy of its glue.
//! Priority changes go through the node's tracking: each router has a track file of weight
//! 1 whose value moves the effective priority, as an operator's file would.
//!
//! Every step is recorded in a ring buffer ([`Trace`]) so that a failing test can print the
//! last few hundred things that happened.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vipd::config::VirtualAddress;
use vipd::protocol::fsm::{AdvertIn, Fsm, State};
use vipd::protocol::link::{IfAddr, IfState};
use vipd::protocol::node::{self, Input, InstanceSpec, Node, Output, Spec, TrackSpec, TrackUse};
use vipd::protocol::packet::{self, AdvertOut, DropKind, Expect, RxMeta};
use vipd::protocol::track::{CheckResult, Kind};
use vipd::protocol::units::{Centisecs, Family, Version};

pub const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
pub const VIP6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100));
pub const VRID: u8 = 7;
/// Default one-way delay on the simulated wire.
pub const WIRE_DELAY: Duration = Duration::from_micros(200);
/// The directed-cut bitmap is a `u64`: at most 8 routers.
pub const MAX_ROUTERS: usize = 8;
/// Records kept by the trace ring.
pub const TRACE_LEN: usize = 200;

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to drive a simulation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias for small `n` is far below 2^-32).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Uniform in `0..=max`; zero without drawing when `max` is zero (no jitter configured
    /// leaves the random sequence as it was).
    pub fn up_to(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            Duration::ZERO
        } else {
            self.duration(Duration::ZERO, max)
        }
    }

    /// Uniform duration in `lo..=hi`, nanosecond resolution.
    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_nanos() as u64;
        lo + Duration::from_nanos(self.range(0, span))
    }
}

/// Configuration of one simulated router.
#[derive(Clone, Debug)]
pub struct RouterSpec {
    pub priority: u8,
    pub interval: Centisecs,
    pub preempt: bool,
    /// Primary IPv4 address or IPv6 link-local: source of its adverts and its tie-break key.
    pub addr: IpAddr,
}

pub struct Router {
    pub node: Node,
    pub spec: RouterSpec,
    pub addr: IpAddr,
    /// The process runs (false after a crash, until restarted).
    pub alive: bool,
    /// Carrier on the router's interface; the state machine is told of changes.
    pub link_up: bool,
    /// The cable to the segment, without the router noticing (a silent partition).
    pub connected: bool,
    /// The virtual address is installed (tracked from Add/RemoveAddress).
    pub holds_vip: bool,
}

impl Router {
    /// The node's one state machine.
    pub fn fsm(&self) -> &Fsm {
        self.node
            .fsm(0)
            .expect("every simulated node runs one instance")
    }
}

/// Why a packet did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lost {
    /// Random loss.
    Loss,
    /// Partition or one-way cut between the two routers.
    Cut,
    /// The receiver is crashed, unplugged or has no carrier.
    Down,
}

/// One record of the trace.
#[derive(Clone, Debug)]
pub enum Rec {
    /// An input fed to a router by the test (not adverts: those are `Rx`).
    Input(usize, Input),
    /// A router's timer fired.
    Timer(usize),
    Output(usize, Output),
    Rx {
        from: usize,
        to: usize,
        priority: u8,
        interval: Centisecs,
    },
    Lost {
        from: usize,
        to: usize,
        why: Lost,
    },
    /// What the test did (crash, partition, ...), free text.
    Note(String),
}

impl fmt::Display for Rec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rec::Input(i, Input::Link { state, .. }) => {
                let up = state.as_ref().is_some_and(|s| s.up);
                write!(f, "r{i} interface up={up}")
            }
            Rec::Input(i, input) => write!(f, "r{i} input {input:?}"),
            Rec::Timer(i) => write!(f, "r{i} timer fired"),
            Rec::Output(i, Output::Send { priority, .. }) => {
                write!(f, "r{i} send advert prio={priority}")
            }
            Rec::Output(i, Output::AddAddress { .. }) => write!(f, "r{i} add vip"),
            Rec::Output(i, Output::RemoveAddress { .. }) => write!(f, "r{i} remove vip"),
            Rec::Output(
                i,
                Output::Event(node::Event::StateChange {
                    from, to, reason, ..
                }),
            ) => {
                write!(f, "r{i} STATE {from} -> {to} ({reason})")
            }
            Rec::Output(i, out) => write!(f, "r{i} {out:?}"),
            Rec::Rx {
                from,
                to,
                priority,
                interval,
            } => write!(
                f,
                "r{to} recv advert from r{from} prio={priority} int={interval}"
            ),
            Rec::Lost { from, to, why } => write!(f, "r{to} lost advert from r{from} ({why:?})"),
            Rec::Note(s) => write!(f, "-- {s}"),
        }
    }
}

/// Ring buffer of the last [`TRACE_LEN`] records.
pub struct Trace {
    buf: Vec<(Duration, Rec)>,
    next: usize,
    pub total: u64,
}

impl Trace {
    fn new() -> Trace {
        Trace {
            buf: Vec::with_capacity(TRACE_LEN),
            next: 0,
            total: 0,
        }
    }

    pub fn push(&mut self, at: Duration, rec: Rec) {
        self.total += 1;
        if self.buf.len() < TRACE_LEN {
            self.buf.push((at, rec));
        } else {
            self.buf[self.next] = (at, rec);
            self.next = (self.next + 1) % TRACE_LEN;
        }
    }

    /// The kept records, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &(Duration, Rec)> {
        let (new, old) = self.buf.split_at(self.next);
        old.iter().chain(new)
    }

    pub fn dump(&self) -> String {
        let mut s = String::new();
        let kept = self.buf.len() as u64;
        let _ = writeln!(
            s,
            "trace: last {kept} of {} records (time in seconds)",
            self.total
        );
        for (at, rec) in self.records() {
            let _ = writeln!(s, "{:>12.6} {rec}", at.as_secs_f64());
        }
        s
    }
}

/// A VRRP message on the wire. Ordered so that `BinaryHeap` pops the earliest first.
#[derive(Clone, Copy)]
struct Pkt {
    at: Duration,
    seq: u64,
    from: u8,
    to: u8,
    src: IpAddr,
    len: u8,
    bytes: [u8; 32],
}

impl PartialEq for Pkt {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pkt {}
impl PartialOrd for Pkt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pkt {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub cut: u64,
    pub steps: u64,
}

pub struct Lan {
    pub now: Duration,
    pub routers: Vec<Router>,
    pub version: Version,
    pub vip: IpAddr,
    wire: BinaryHeap<Pkt>,
    seq: u64,
    enc: Vec<u8>,
    /// Every state change: (time, router, to).
    pub changes: Vec<(Duration, usize, State)>,
    pub delay: Duration,
    pub jitter: Duration,
    /// Random loss per packet and receiver, in parts per million.
    pub loss_ppm: u32,
    /// Two-way partition: a router hears only routers with the same group number.
    pub group: [u8; MAX_ROUTERS],
    /// One-way cuts: bit `from * 8 + to` set = nothing from `from` reaches `to`.
    pub blocked: u64,
    rng: Rng,
    pub trace: Trace,
    pub stats: Stats,
}

pub fn cut_bit(from: usize, to: usize) -> u64 {
    1 << (from * MAX_ROUTERS + to)
}

impl Lan {
    /// VRRPv3 over IPv4, routers at 10.0.0.1, .2, ...; `(priority, interval_cs, preempt)`.
    pub fn new(specs: &[(u8, u32, bool)]) -> Lan {
        let specs: Vec<RouterSpec> = specs
            .iter()
            .enumerate()
            .map(|(i, &(priority, interval_cs, preempt))| RouterSpec {
                priority,
                interval: Centisecs(interval_cs),
                preempt,
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, i as u8 + 1)),
            })
            .collect();
        Lan::build(Version::V3, &specs, 0)
    }

    /// Any version; the family follows the routers' addresses (all must be of one family).
    /// `seed` drives loss and jitter.
    pub fn build(version: Version, specs: &[RouterSpec], seed: u64) -> Lan {
        assert!(specs.len() <= MAX_ROUTERS);
        let family = Family::of(&specs[0].addr);
        assert!(specs.iter().all(|s| Family::of(&s.addr) == family));
        let vip = match family {
            Family::V4 => VIP,
            Family::V6 => VIP6,
        };
        let routers = specs
            .iter()
            .map(|s| Router {
                node: Node::new(node_spec(version, s, vip)),
                spec: s.clone(),
                addr: s.addr,
                alive: false,
                link_up: true,
                connected: true,
                holds_vip: false,
            })
            .collect();
        Lan {
            now: Duration::ZERO,
            routers,
            version,
            vip,
            wire: BinaryHeap::new(),
            seq: 0,
            enc: Vec::new(),
            changes: Vec::new(),
            delay: WIRE_DELAY,
            jitter: Duration::ZERO,
            loss_ppm: 0,
            group: [0; MAX_ROUTERS],
            blocked: 0,
            rng: Rng::new(seed ^ 0x005E_ED0F_1A7E_0000),
            trace: Trace::new(),
            stats: Stats::default(),
        }
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.trace.push(self.now, Rec::Note(text.into()));
    }

    /// What the router's interface looks like now, as netlink would report it.
    fn interface(&self, i: usize) -> Input {
        let r = &self.routers[i];
        let prefix_len = if r.addr.is_ipv4() { 24 } else { 64 };
        let mut addrs = vec![IfAddr {
            addr: r.addr,
            prefix_len,
            secondary: false,
            tentative: false,
            by_vipd: false,
        }];
        if r.holds_vip {
            addrs.push(IfAddr {
                addr: self.vip,
                prefix_len,
                secondary: true,
                tentative: false,
                by_vipd: true,
            });
        }
        Input::Link {
            interface: IFACE.to_owned(),
            state: Some(IfState {
                index: 2,
                name: IFACE.to_owned(),
                up: r.link_up,
                mac: Some([0x02, 0, 0, 0, 0, i as u8]),
                addrs,
            }),
        }
    }

    /// (Re)start the process: it learns the interface and joins.
    pub fn start(&mut self, i: usize) {
        self.routers[i].alive = true;
        let link = self.interface(i);
        self.input(i, link);
        self.input(i, Input::Start);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.routers.len() {
            self.start(i);
        }
    }

    /// The router vanishes without a word (power cut, or kill -9 with the addresses gone).
    pub fn crash(&mut self, i: usize) {
        self.note(format!("r{i} crashes"));
        let version = self.version;
        let vip = self.vip;
        let r = &mut self.routers[i];
        r.alive = false;
        r.holds_vip = false;
        r.node = Node::new(node_spec(version, &r.spec, vip));
    }

    /// Carrier up or down; a running router is told.
    pub fn set_link(&mut self, i: usize, up: bool) {
        self.routers[i].link_up = up;
        if self.routers[i].alive {
            let link = self.interface(i);
            self.input(i, link);
        }
    }

    /// The router's primary address (IPv6: link-local) changes; a running router is told,
    /// as the agent does on a netlink address change.
    pub fn set_addr(&mut self, i: usize, addr: IpAddr) {
        self.note(format!("r{i} address {} -> {addr}", self.routers[i].addr));
        self.routers[i].addr = addr;
        if self.routers[i].alive {
            let link = self.interface(i);
            self.input(i, link);
        }
    }

    /// The router's effective priority becomes `priority` (clamped to 1..=254; an owner
    /// stays 255) through its track file, whose weight is 1.
    pub fn set_priority(&mut self, i: usize, priority: u8) {
        let value = i64::from(priority) - i64::from(self.routers[i].spec.priority);
        let result = CheckResult::Value { value };
        self.input(i, Input::Check { track: 0, result });
    }

    /// The process stops cleanly (a master releases with priority 0); `rejoin` starts it
    /// again with the same node.
    pub fn shutdown(&mut self, i: usize) {
        self.input(i, Input::Shutdown);
    }

    pub fn rejoin(&mut self, i: usize) {
        let link = self.interface(i);
        self.input(i, link);
        self.input(i, Input::Start);
    }

    /// Feed an input to a running router and carry out its outputs.
    pub fn input(&mut self, i: usize, input: Input) {
        assert!(self.routers[i].alive, "input for a crashed router");
        self.trace.push(self.now, Rec::Input(i, input.clone()));
        let now = self.now;
        self.routers[i].node.handle(now, input);
        self.apply(i);
    }

    fn apply(&mut self, i: usize) {
        while let Some(out) = self.routers[i].node.poll_output() {
            match &out {
                Output::Send { priority, .. } => self.send(i, *priority),
                Output::AddAddress { address, .. } => {
                    self.routers[i].holds_vip = true;
                    let added = Input::AddressAdded {
                        instance: 0,
                        address: *address,
                        created: true,
                    };
                    let now = self.now;
                    self.routers[i].node.handle(now, added);
                }
                Output::RemoveAddress { .. } => self.routers[i].holds_vip = false,
                Output::Event(node::Event::StateChange { to, .. }) => {
                    self.changes.push((self.now, i, *to));
                }
                Output::Announce { .. }
                | Output::Check { .. }
                | Output::Notify { .. }
                | Output::Event(_)
                | Output::Reloaded { .. }
                // No virtual MAC or accept_mode filter in these simulations.
                | Output::CreateVmac { .. }
                | Output::DeleteVmac { .. }
                | Output::SetVmacUp { .. }
                | Output::AcceptFilter { .. } => {}
            }
            self.trace.push(self.now, Rec::Output(i, out));
        }
    }

    /// Can a packet currently get from `from` to `to` (partitions and one-way cuts only)?
    pub fn link_ok(&self, from: usize, to: usize) -> bool {
        self.group[from] == self.group[to] && self.blocked & cut_bit(from, to) == 0
    }

    fn multicast(&self) -> IpAddr {
        match self.vip {
            IpAddr::V4(_) => IpAddr::V4(packet::MULTICAST_V4),
            IpAddr::V6(_) => IpAddr::V6(packet::MULTICAST_V6),
        }
    }

    fn send(&mut self, from: usize, priority: u8) {
        let r = &self.routers[from];
        if !(r.alive && r.link_up && r.connected) {
            return;
        }
        self.stats.sent += 1;
        let out = AdvertOut {
            version: self.version,
            vrid: VRID,
            priority,
            interval: r.spec.interval,
            addresses: std::slice::from_ref(&self.vip),
            auth_pass: None,
            checksum_ipv4_pseudo_header: true,
        };
        let src = r.addr;
        let dst = self.multicast();
        packet::encode(&out, src, dst, &mut self.enc);
        let mut bytes = [0u8; 32];
        bytes[..self.enc.len()].copy_from_slice(&self.enc);
        let len = self.enc.len() as u8;
        for to in 0..self.routers.len() {
            if to == from {
                continue;
            }
            if self.loss_ppm > 0 && self.rng.below(1_000_000) < u64::from(self.loss_ppm) {
                self.stats.lost += 1;
                self.trace.push(
                    self.now,
                    Rec::Lost {
                        from,
                        to,
                        why: Lost::Loss,
                    },
                );
                continue;
            }
            let jitter = self.rng.up_to(self.jitter);
            self.seq += 1;
            self.wire.push(Pkt {
                at: self.now + self.delay + jitter,
                seq: self.seq,
                from: from as u8,
                to: to as u8,
                src,
                len,
                bytes,
            });
        }
    }

    fn deliver(&mut self, pkt: &Pkt) {
        let (from, to) = (usize::from(pkt.from), usize::from(pkt.to));
        let why = if !self.link_ok(from, to) {
            Some(Lost::Cut)
        } else {
            let r = &self.routers[to];
            (!(r.alive && r.link_up && r.connected)).then_some(Lost::Down)
        };
        if let Some(why) = why {
            self.stats.cut += 1;
            self.trace.push(self.now, Rec::Lost { from, to, why });
            return;
        }
        let meta = RxMeta {
            src: pkt.src,
            dst: self.multicast(),
            hop_limit: packet::HOP_LIMIT,
        };
        let interval = self.routers[to].spec.interval;
        let version = self.version;
        let vip = std::slice::from_ref(&self.vip);
        let expect = |vrid: u8| {
            (vrid == VRID).then_some(Expect {
                version,
                checksum_ipv4_pseudo_header: true,
                auth_pass: None,
                interval,
                addresses: vip,
                unicast_peers: &[],
            })
        };
        let family = Family::of(&pkt.src);
        let adv = match packet::validate(&pkt.bytes[..usize::from(pkt.len)], &meta, family, expect)
        {
            Ok(adv) => adv,
            Err(kind) => self.invalid(from, to, kind),
        };
        assert!(
            adv.addresses_match,
            "simulated adverts carry the configured list"
        );
        let adv = AdvertIn {
            src: adv.src,
            priority: adv.priority,
            interval: adv.interval,
        };
        self.stats.delivered += 1;
        self.trace.push(
            self.now,
            Rec::Rx {
                from,
                to,
                priority: adv.priority,
                interval: adv.interval,
            },
        );
        let now = self.now;
        let input = Input::Advert {
            instance: 0,
            advert: adv,
            addresses_match: true,
        };
        self.routers[to].node.handle(now, input);
        self.apply(to);
    }

    fn invalid(&self, from: usize, to: usize, kind: DropKind) -> ! {
        panic!("advert from r{from} to r{to} failed validation: {kind:?}")
    }

    /// The earliest timer of a running router: (time, router).
    fn next_timer(&self) -> Option<(Duration, usize)> {
        let mut best: Option<(Duration, usize)> = None;
        for (i, r) in self.routers.iter().enumerate() {
            if !r.alive {
                continue;
            }
            if let Some(t) = r.node.poll_timeout()
                && best.is_none_or(|(b, _)| t < b)
            {
                best = Some((t, i));
            }
        }
        best
    }

    /// Run until `until`, processing deliveries and timers in time order (a timer due at the
    /// same instant as a delivery goes first), calling `check` after every step.
    pub fn run_until(&mut self, until: Duration, mut check: impl FnMut(&Lan)) {
        loop {
            let next_timer = self.next_timer();
            let next_wire = self.wire.peek().map(|p| p.at);
            let (at, timer_first) = match (next_timer, next_wire) {
                (Some((t, _)), Some(w)) if t <= w => (t, true),
                (_, Some(w)) => (w, false),
                (Some((t, _)), None) => (t, true),
                (None, None) => break,
            };
            if at > until {
                break;
            }
            self.now = at;
            self.stats.steps += 1;
            if timer_first {
                let (t, i) = next_timer.expect("checked above");
                self.trace.push(t, Rec::Timer(i));
                self.routers[i].node.handle_timeout(t);
                self.apply(i);
            } else if let Some(pkt) = self.wire.pop() {
                self.deliver(&pkt);
            }
            check(self);
        }
        self.now = self.now.max(until);
    }

    pub fn is_master(&self, i: usize) -> bool {
        self.routers[i].alive && self.routers[i].fsm().state() == State::Master
    }

    pub fn masters(&self) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&i| self.is_master(i))
            .collect()
    }

    pub fn holders(&self) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&i| self.routers[i].holds_vip)
            .collect()
    }

    pub fn first_master_since(&self, t: Duration) -> Option<(Duration, usize)> {
        self.changes
            .iter()
            .find(|(at, _, to)| *at >= t && *to == State::Master)
            .map(|&(at, i, _)| (at, i))
    }

    /// One line per router: configuration and current view.
    pub fn describe_routers(&self) -> String {
        let mut s = String::new();
        for (i, r) in self.routers.iter().enumerate() {
            let p = r.fsm().params();
            let _ = writeln!(
                s,
                "  r{i} {} prio={} (eff {}) int={} preempt={} | alive={} link={} cable={} \
                 group={} state={} vip={} master={:?} learned_int={} timer={:?}",
                r.addr,
                p.priority,
                r.fsm().effective_priority(),
                p.advert_interval,
                p.preempt,
                r.alive,
                r.link_up,
                r.connected,
                self.group[i],
                r.fsm().state(),
                r.holds_vip,
                r.fsm().master_address(),
                r.fsm().master_adver_interval(),
                r.fsm().poll_timeout(),
            );
        }
        s
    }
}

/// The simulated routers' one interface.
pub const IFACE: &str = "eth0";

/// One instance for the router, and a track file of weight 1 through which tests move its
/// priority (checked once an hour: the simulation answers with values, not reads).
pub fn node_spec(version: Version, r: &RouterSpec, vip: IpAddr) -> Spec {
    let prefix_len = if vip.is_ipv4() { 24 } else { 64 };
    Spec {
        instances: vec![InstanceSpec {
            name: "vr".into(),
            interface: IFACE.into(),
            family: Family::of(&vip),
            version,
            vrid: VRID,
            priority: r.priority,
            advert_interval: r.interval,
            preempt: r.preempt,
            preempt_delay: Duration::ZERO,
            addresses: vec![VirtualAddress {
                addr: vip,
                prefix_len,
            }],
            track: vec![TrackUse {
                track: 0,
                weight: 1,
            }],
            garp_refresh: None,
            vmac: None,
            accept_mode: true,
        }],
        tracks: vec![TrackSpec {
            name: "priority".into(),
            kind: Kind::File,
            interface: String::new(),
            interval: Duration::from_secs(3600),
            rise: 1,
            fall: 1,
        }],
        groups: Vec::new(),
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// After convergence, exactly one master and it alone holds the address.
pub fn assert_single_master(lan: &Lan, expected: usize, ctx: &str) {
    assert_eq!(
        lan.masters(),
        vec![expected],
        "{ctx}: masters at {:?}\n{}{}",
        lan.now,
        lan.describe_routers(),
        lan.trace.dump()
    );
    assert_eq!(lan.holders(), vec![expected], "{ctx}: address holders");
}

/// What a seeded run adds up over its seeds.
pub trait Tally: Default + Send {
    fn add(&mut self, other: &Self);
}

/// Seeds to run: `VIPD_SIM_SEEDS`, or the default for this build (debug builds are slower).
pub fn seed_count(release_default: u64, debug_default: u64) -> u64 {
    let default = if cfg!(debug_assertions) {
        debug_default
    } else {
        release_default
    };
    env_u64("VIPD_SIM_SEEDS").unwrap_or(default)
}

/// A number from the environment; a value that is not one is a mistake worth stopping for.
pub fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

/// Run seeds `0..seeds` on up to 8 threads and add up their tallies. `run` returns a
/// failure report, printed as it comes with `keep_going`; otherwise the first failure
/// stops every thread and the smallest failing seed's report is returned.
pub fn run_seeds<T: Tally>(
    seeds: u64,
    keep_going: bool,
    run: impl Fn(u64) -> Result<T, String> + Sync,
) -> Result<(T, usize), (u64, String)> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(seeds.max(1) as usize);
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<(u64, String)>> = Mutex::new(None);
    let failures = AtomicU64::new(0);
    let total: Mutex<T> = Mutex::new(T::default());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut mine = T::default();
                while !stop.load(Ordering::Relaxed) {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= seeds {
                        break;
                    }
                    match run(seed) {
                        Ok(tally) => mine.add(&tally),
                        Err(report) if keep_going => {
                            println!("{}", report.lines().nth(1).unwrap_or_default());
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(report) => {
                            stop.store(true, Ordering::Relaxed);
                            let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
                            // Report the smallest failing seed seen.
                            if f.as_ref().is_none_or(|(s, _)| seed < *s) {
                                *f = Some((seed, report));
                            }
                        }
                    }
                }
                total.lock().unwrap_or_else(|e| e.into_inner()).add(&mine);
            });
        }
    });
    if let Some(failed) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(failed);
    }
    let failed = failures.into_inner();
    if failed > 0 {
        return Err((0, format!("{failed} seeds failed (listed above)")));
    }
    Ok((
        total.into_inner().unwrap_or_else(|e| e.into_inner()),
        workers,
    ))
}

/// The text of a caught panic (`catch_unwind`'s payload).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

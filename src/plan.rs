//! `vipd plan`: what would happen, before it happens. The hosts' configurations (one file
//! each) run through the agent's own sans-IO node, one node per host, on a simulated LAN in
//! virtual time: who becomes master of each virtual router, who takes over as hosts fail one
//! by one and how long that takes, and what happens when a failed host returns (preempt,
//! preempt_delay).
//!
//! The simulation is exact about the protocol (the same code decides) and ideal about the
//! rest: adverts arrive 1 ms after they are sent and are never lost, every track check
//! passes, every interface is up. A host fails as a crash does (no priority-0 advert), right
//! after an advert, so a takeover time is the full wait from the failed master's last
//! advert. The files do not say which host has the greater primary address, which decides
//! ties of priority: the plan takes the hosts in command-line order, later = greater.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
pub use crate::config::Router;
use crate::protocol::fsm::{AdvertIn, State};
use crate::protocol::link::{IfAddr, IfState};
use crate::protocol::node::{Event, Input, InstanceId, Node, Output, Spec};
use crate::protocol::units::{Centisecs, Family};

/// Adverts arrive this long after they are sent.
const WIRE_DELAY: Duration = Duration::from_millis(1);

/// One host: a name (its `router_id`) and its configuration.
pub struct Host {
    pub name: String,
    pub config: Config,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub host: String,
    pub instance: String,
    pub priority: u8,
    pub preempt: bool,
    pub preempt_delay_ms: u64,
}

/// One step of a failure sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Takeover {
    /// The host that failed (with every host failed before it still down).
    pub failed: String,
    /// Who is master next; `None`: nobody left.
    pub master: Option<String>,
    /// From the failed master's last advert to the new master's state change.
    pub after_ms: Option<u64>,
}

/// The first master's return after its failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Return {
    pub host: String,
    /// Whether it becomes master again (preempt), and how long after its start.
    pub takes_over: bool,
    pub after_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouterPlan {
    pub router: Router,
    pub members: Vec<Member>,
    /// After every host starts together; more than one is a split the plan could not settle.
    pub masters: Vec<String>,
    /// Hosts failing one by one, each time the current master.
    pub failures: Vec<Takeover>,
    pub on_return: Option<Return>,
}

/// `--fail HOST`: that host fails; every router's next master, then its return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailurePlan {
    pub host: String,
    pub routers: Vec<(Router, Takeover, Option<Return>)>,
}

/// The routers of all hosts, each with its members, in the order first met.
pub fn routers(hosts: &[Host]) -> Vec<(Router, Vec<Member>)> {
    let mut routers: Vec<(Router, Vec<Member>)> = Vec::new();
    for host in hosts {
        for i in &host.config.instances {
            let router = i.router();
            let member = Member {
                host: host.name.clone(),
                instance: i.name.clone(),
                priority: i.priority,
                preempt: i.preempt,
                preempt_delay_ms: i.preempt_delay.as_millis() as u64,
            };
            match routers.iter_mut().find(|(r, _)| *r == router) {
                Some((_, members)) => members.push(member),
                None => routers.push((router, vec![member])),
            }
        }
    }
    routers
}

/// The plan of every router.
pub fn plan(hosts: &[Host]) -> Vec<RouterPlan> {
    routers(hosts)
        .into_iter()
        .map(|(router, members)| {
            let mut sim = Sim::new(hosts);
            let masters = sim.settle().masters(&router);
            let mut failures = Vec::new();
            let mut current = masters.first().cloned();
            while let Some(master) = current {
                let step = sim.fail_master(&master, &router);
                current = step.master.clone();
                failures.push(step);
            }
            let on_return = masters.first().map(|first| {
                let mut sim = Sim::new(hosts);
                sim.settle();
                let _ = sim.fail_master(first, &router);
                sim.bring_back(first, &router)
            });
            RouterPlan {
                router,
                members,
                masters,
                failures,
                on_return,
            }
        })
        .collect()
}

/// What happens to every router when `host` fails, and when it returns.
pub fn fail_host(hosts: &[Host], host: &str) -> Option<FailurePlan> {
    let h = hosts.iter().position(|x| x.name == host)?;
    let mut sim = Sim::new(hosts);
    sim.settle();
    let before: Vec<(Router, Vec<String>)> = routers(hosts)
        .into_iter()
        .map(|(r, _)| {
            let m = sim.masters(&r);
            (r, m)
        })
        .collect();
    let failed_at = sim.now;
    sim.crash(h);
    sim.run_for(sim.longest_wait());
    let mut after = Vec::new();
    for (router, masters) in &before {
        let last = sim.last_advert(h, router).unwrap_or(failed_at);
        let master = sim.masters(router).into_iter().next();
        let after_ms = if masters.first().map(String::as_str) == Some(host) {
            master
                .as_ref()
                .and_then(|m| sim.became_master(m, router, failed_at))
                .map(|t| ms(t.saturating_sub(last)))
        } else {
            None
        };
        after.push((
            router.clone(),
            Takeover {
                failed: host.to_owned(),
                master,
                after_ms,
            },
        ));
    }
    let back_at = sim.now;
    sim.restart(h);
    sim.run_for(sim.longest_wait());
    let routers = after
        .into_iter()
        .map(|(router, takeover)| {
            let ret = sim.member(h, &router).map(|_| {
                let at = sim.became_master(host, &router, back_at);
                Return {
                    host: host.to_owned(),
                    takes_over: at.is_some(),
                    after_ms: at.map(|t| ms(t - back_at)),
                }
            });
            (router, takeover, ret)
        })
        .collect();
    Some(FailurePlan {
        host: host.to_owned(),
        routers,
    })
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

// ---------------------------------------------------------------------------------------------
// The simulated LAN.

struct SimHost {
    name: String,
    spec: Spec,
    node: Node,
    alive: bool,
    index: usize,
}

/// An advert on its way: to host `to`'s instance `instance`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    to: usize,
    instance: InstanceId,
    src: IpAddr,
    priority: u8,
    interval: Centisecs,
}

struct Sim {
    hosts: Vec<SimHost>,
    now: Duration,
    seq: u64,
    wire: BinaryHeap<Reverse<(Duration, u64, Delivery)>>,
    /// (time, host, instance name, new state)
    changes: Vec<(Duration, usize, String, State)>,
    /// (time, host, router) of every advert sent with a priority above 0
    adverts: Vec<(Duration, usize, Router)>,
}

impl Sim {
    fn new(hosts: &[Host]) -> Sim {
        let hosts = hosts
            .iter()
            .enumerate()
            .map(|(index, h)| {
                let spec = Spec::from(&h.config);
                SimHost {
                    name: h.name.clone(),
                    node: Node::new(spec.clone()),
                    spec,
                    alive: false,
                    index,
                }
            })
            .collect();
        let mut sim = Sim {
            hosts,
            now: Duration::ZERO,
            seq: 0,
            wire: BinaryHeap::new(),
            changes: Vec::new(),
            adverts: Vec::new(),
        };
        for h in 0..sim.hosts.len() {
            sim.restart(h);
        }
        sim
    }

    /// The host's addresses: its position decides the tie-breaks (later = greater).
    fn address(index: usize, family: Family) -> IpAddr {
        let n = (index + 1) as u8;
        match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)),
            Family::V6 => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n))),
        }
    }

    /// Start (or start again) host `h` as a fresh process: every interface up.
    fn restart(&mut self, h: usize) {
        let host = &mut self.hosts[h];
        host.node = Node::new(host.spec.clone());
        host.alive = true;
        for (k, name) in host.node.watched_interfaces().into_iter().enumerate() {
            let addrs = [Family::V4, Family::V6]
                .into_iter()
                .map(|family| IfAddr {
                    addr: Sim::address(host.index, family),
                    prefix_len: if family == Family::V4 { 24 } else { 64 },
                    secondary: false,
                    tentative: false,
                    by_vipd: false,
                })
                .collect();
            let state = IfState {
                index: k as u32 + 2,
                name: name.clone(),
                up: true,
                mac: Some([2, 0, 0, 0, host.index as u8, k as u8]),
                addrs,
            };
            host.node.handle(
                self.now,
                Input::Link {
                    interface: name,
                    state: Some(state),
                },
            );
        }
        host.node.handle(self.now, Input::Start);
        self.drain(h);
    }

    fn crash(&mut self, h: usize) {
        self.hosts[h].alive = false;
    }

    /// Long enough for any router to settle: the slowest master-down wait and preempt delay
    /// of every instance, four times over, and a second.
    fn longest_wait(&self) -> Duration {
        let longest = self
            .hosts
            .iter()
            .flat_map(|h| &h.spec.instances)
            .map(|i| i.advert_interval.to_duration() * 4 + i.preempt_delay)
            .max()
            .unwrap_or_default();
        longest * 4 + Duration::from_secs(1)
    }

    fn settle(&mut self) -> &mut Sim {
        let wait = self.longest_wait();
        self.run_for(wait);
        self
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let timer = self
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.alive)
                .filter_map(|(i, h)| Some((h.node.poll_timeout()?, i)))
                .min();
            let wire = self.wire.peek().map(|Reverse((t, _, _))| *t);
            let next = match (timer, wire) {
                (Some((t, _)), Some(w)) if w <= t => w,
                (Some((t, _)), _) => t,
                (None, Some(w)) => w,
                (None, None) => break,
            };
            if next > end {
                break;
            }
            self.now = next.max(self.now);
            if wire == Some(next) {
                if let Some(Reverse((_, _, d))) = self.wire.pop()
                    && self.hosts[d.to].alive
                {
                    let input = Input::Advert {
                        instance: d.instance,
                        advert: AdvertIn {
                            src: d.src,
                            priority: d.priority,
                            interval: d.interval,
                        },
                        addresses_match: true,
                    };
                    self.hosts[d.to].node.handle(self.now, input);
                    self.drain(d.to);
                }
            } else if let Some((_, h)) = timer {
                self.hosts[h].node.handle_timeout(self.now);
                self.drain(h);
            }
        }
        self.now = end;
    }

    fn drain(&mut self, h: usize) {
        while let Some(out) = self.hosts[h].node.poll_output() {
            match out {
                Output::Send {
                    instance,
                    src,
                    priority,
                } => self.send(h, instance, src, priority),
                Output::AddAddress {
                    instance, address, ..
                } => {
                    let added = Input::AddressAdded {
                        instance,
                        address,
                        created: true,
                    };
                    self.hosts[h].node.handle(self.now, added);
                }
                Output::Check { track } => {
                    let passed = Input::Check {
                        track,
                        result: crate::protocol::track::CheckResult::Passed,
                    };
                    self.hosts[h].node.handle(self.now, passed);
                }
                Output::Event(Event::StateChange { instance, to, .. }) => {
                    self.changes.push((self.now, h, instance, to));
                }
                _ => {}
            }
        }
    }

    fn router_of(&self, h: usize, i: InstanceId) -> Option<(Router, Centisecs)> {
        let spec = self.hosts[h].node.instance_spec(i)?;
        Some((spec.router(), spec.advert_interval))
    }

    fn send(&mut self, h: usize, instance: InstanceId, src: IpAddr, priority: u8) {
        let Some((router, interval)) = self.router_of(h, instance) else {
            return;
        };
        if priority > 0 {
            self.adverts.push((self.now, h, router.clone()));
        }
        for to in 0..self.hosts.len() {
            if to == h || !self.hosts[to].alive {
                continue;
            }
            if let Some(slot) = self.member(to, &router) {
                self.seq += 1;
                let d = Delivery {
                    to,
                    instance: slot,
                    src,
                    priority,
                    interval,
                };
                self.wire
                    .push(Reverse((self.now + WIRE_DELAY, self.seq, d)));
            }
        }
    }

    /// Host `h`'s instance of `router`.
    fn member(&self, h: usize, router: &Router) -> Option<InstanceId> {
        self.hosts[h].spec.instances.iter().position(|i| {
            (&i.interface, i.vrid, i.family) == (&router.interface, router.vrid, router.family)
        })
    }

    /// The hosts that are master of `router` now.
    fn masters(&self, router: &Router) -> Vec<String> {
        (0..self.hosts.len())
            .filter(|&h| self.hosts[h].alive)
            .filter(|&h| {
                self.member(h, router)
                    .and_then(|i| self.hosts[h].node.state(i))
                    == Some(State::Master)
            })
            .map(|h| self.hosts[h].name.clone())
            .collect()
    }

    fn last_advert(&self, h: usize, router: &Router) -> Option<Duration> {
        self.adverts
            .iter()
            .rev()
            .find(|(_, host, r)| *host == h && r == router)
            .map(|(t, _, _)| *t)
    }

    /// When host `name` became master of `router` at or after `since`.
    fn became_master(&self, name: &str, router: &Router, since: Duration) -> Option<Duration> {
        let h = self.hosts.iter().position(|x| x.name == name)?;
        let slot = self.member(h, router)?;
        let instance = &self.hosts[h].spec.instances.get(slot)?.name;
        self.changes
            .iter()
            .find(|(t, host, i, to)| {
                *t >= since && *host == h && i == instance && *to == State::Master
            })
            .map(|(t, ..)| *t)
    }

    /// Crash the master `name` of `router` right after its next advert; who takes over.
    fn fail_master(&mut self, name: &str, router: &Router) -> Takeover {
        let Some(h) = self.hosts.iter().position(|x| x.name == name) else {
            return Takeover {
                failed: name.to_owned(),
                master: None,
                after_ms: None,
            };
        };
        let sent = self.adverts.len();
        let deadline = self.now + self.longest_wait();
        let advertised = |sim: &Sim| {
            sim.adverts[sent..]
                .iter()
                .any(|(_, host, r)| *host == h && r == router)
        };
        while self.now < deadline && !advertised(self) {
            self.run_for(Duration::from_millis(1));
        }
        let last = self.last_advert(h, router).unwrap_or(self.now);
        let failed_at = self.now;
        self.crash(h);
        let wait = self.longest_wait();
        self.run_for(wait);
        let master = self.masters(router).into_iter().next();
        let after_ms = master
            .as_ref()
            .and_then(|m| self.became_master(m, router, failed_at))
            .map(|t| ms(t - last));
        Takeover {
            failed: name.to_owned(),
            master,
            after_ms,
        }
    }

    /// Start the failed host `name` again; does it take `router` back, and when.
    fn bring_back(&mut self, name: &str, router: &Router) -> Return {
        let at = self.now;
        if let Some(h) = self.hosts.iter().position(|x| x.name == name) {
            self.restart(h);
        }
        let wait = self.longest_wait();
        self.run_for(wait);
        let back = self.became_master(name, router, at);
        Return {
            host: name.to_owned(),
            takes_over: back.is_some(),
            after_ms: back.map(|t| ms(t - at)),
        }
    }
}

/// The plan as text.
pub fn render(hosts: &[Host], plans: &[RouterPlan]) -> String {
    let mut out = format!(
        "{} hosts: {}\nties of priority are decided by the hosts' primary addresses, which the \
         files do not give: taken here in the order given (later = greater)\n",
        hosts.len(),
        hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for p in plans {
        out.push_str(&format!("\n{}\n", p.router));
        for m in &p.members {
            let preempt = match (m.preempt, m.preempt_delay_ms) {
                (false, _) => "no preempt".to_owned(),
                (true, 0) => "preempt".to_owned(),
                (true, d) => format!("preempt after {d} ms"),
            };
            out.push_str(&format!(
                "  {} `{}`: priority {}, {preempt}\n",
                m.host, m.instance, m.priority
            ));
        }
        match p.masters.as_slice() {
            [] => out.push_str("  master: nobody\n"),
            [one] => out.push_str(&format!("  master: {one}\n")),
            many => out.push_str(&format!(
                "  master: {} (split: never settles)\n",
                many.join(" and ")
            )),
        }
        for (n, step) in p.failures.iter().enumerate() {
            let too = if n == 0 { "" } else { " too" };
            match (&step.master, step.after_ms) {
                (Some(m), Some(ms)) => out.push_str(&format!(
                    "  if {} fails{too}: {m} takes over {ms} ms after its last advert\n",
                    step.failed
                )),
                (Some(m), None) => {
                    out.push_str(&format!("  if {} fails{too}: {m} is master\n", step.failed))
                }
                (None, _) => out.push_str(&format!(
                    "  if {} fails{too}: nobody is left\n",
                    step.failed
                )),
            }
        }
        if let Some(r) = &p.on_return {
            out.push_str(&render_return(r));
        }
    }
    out
}

fn render_return(r: &Return) -> String {
    format!("  when {} returns: {}\n", r.host, return_words(r))
}

fn return_words(r: &Return) -> String {
    match (r.takes_over, r.after_ms) {
        (true, Some(ms)) => format!("it takes over again {ms} ms after it starts"),
        _ => "it stays backup".to_owned(),
    }
}

/// The `--fail` plan as text.
pub fn render_failure(p: &FailurePlan) -> String {
    let mut out = format!("if {} fails:\n", p.host);
    for (router, step, _) in &p.routers {
        let line = match (&step.master, step.after_ms) {
            (Some(m), Some(ms)) => format!("{m} takes over {ms} ms after {}'s last advert", p.host),
            (Some(m), None) => format!("{m} stays master"),
            (None, _) => "nobody is master".to_owned(),
        };
        out.push_str(&format!("  {router}: {line}\n"));
    }
    out.push_str(&format!("when {} returns:\n", p.host));
    for (router, _, ret) in &p.routers {
        if let Some(r) = ret {
            out.push_str(&format!("  {router}: {}\n", return_words(r)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::protocol::units::master_down_interval;

    /// A host with one instance `web` (VRID 51, 100 ms) and `extra` lines in its table.
    fn host(name: &str, prio: u8, extra: &str) -> Host {
        let text = format!(
            "[[instance]]\nname = \"web\"\ninterface = \"eth0\"\nvrid = 51\npriority = {prio}\n\
             advert_interval = \"100ms\"\nvirtual_addresses = [\"10.0.0.50/24\"]\n{extra}\n"
        );
        match crate::config::parse(&text, Path::new("t.toml")) {
            Ok(config) => Host {
                name: name.to_owned(),
                config,
            },
            Err(e) => panic!("{e:?}"),
        }
    }

    /// Master_Down_Interval in ms at 100 ms adverts, plus the wire delay of the last advert.
    fn expected_ms(prio: u8) -> u64 {
        master_down_interval(prio, Centisecs(10)).as_millis() as u64 + 1
    }

    #[test]
    fn three_hosts_fail_in_priority_order_each_after_its_master_down_interval() {
        let hosts = [host("a", 150, ""), host("b", 120, ""), host("c", 100, "")];
        let plans = plan(&hosts);
        assert_eq!(plans.len(), 1);
        let p = &plans[0];
        assert_eq!(p.masters, vec!["a"]);
        let steps: Vec<(&str, Option<&str>, Option<u64>)> = p
            .failures
            .iter()
            .map(|s| (s.failed.as_str(), s.master.as_deref(), s.after_ms))
            .collect();
        assert_eq!(
            steps,
            vec![
                ("a", Some("b"), Some(expected_ms(120))),
                ("b", Some("c"), Some(expected_ms(100))),
                ("c", None, None),
            ]
        );
        let back = p.on_return.as_ref().expect("a return");
        assert!(back.takes_over, "a preempts on return");
        // It listens for one Master_Down_Interval of its own, then preempts b.
        assert_eq!(back.after_ms, Some(expected_ms(150) - 1));
    }

    #[test]
    fn a_host_without_preempt_stays_backup_and_a_delay_is_waited_for() {
        let calm = [host("a", 150, "preempt = false"), host("b", 100, "")];
        let back = plan(&calm)[0].on_return.clone().expect("a return");
        assert!(!back.takes_over, "{back:?}");
        let delayed = [host("a", 150, "preempt_delay = \"2s\""), host("b", 100, "")];
        let back = plan(&delayed)[0].on_return.clone().expect("a return");
        assert!(back.takes_over);
        assert!(back.after_ms.is_some_and(|ms| ms >= 2000), "{back:?}");
    }

    #[test]
    fn a_tie_goes_to_the_host_given_later() {
        let tie = [host("a", 100, ""), host("b", 100, "")];
        assert_eq!(plan(&tie)[0].masters, vec!["b"]);
    }

    #[test]
    fn failing_one_host_shows_every_router_and_the_return() {
        let db = "[[instance]]\nname = \"db\"\ninterface = \"eth0\"\nvrid = 52\n\
                  advert_interval = \"100ms\"\nvirtual_addresses = [\"10.0.0.60/24\"]\npriority =";
        let hosts = [
            host("a", 150, &format!("{db} 100")),
            host("b", 100, &format!("{db} 150")),
        ];
        let p = fail_host(&hosts, "a").expect("a is a host");
        assert_eq!(p.routers.len(), 2);
        let (web, step, ret) = &p.routers[0];
        assert_eq!(web.vrid, 51);
        assert_eq!(step.master.as_deref(), Some("b"));
        assert_eq!(step.after_ms, Some(expected_ms(100)));
        assert!(ret.as_ref().is_some_and(|r| r.takes_over));
        let (db, step, ret) = &p.routers[1];
        assert_eq!(db.vrid, 52);
        assert_eq!((step.master.as_deref(), step.after_ms), (Some("b"), None));
        assert!(ret.as_ref().is_some_and(|r| !r.takes_over));
        assert!(fail_host(&hosts, "nobody").is_none());
        let text = render_failure(&p);
        assert!(
            text.contains("vrid 51 ipv4 on eth0: b takes over"),
            "{text}"
        );
    }

    #[test]
    fn a_sync_group_moves_together() {
        let grouped = |prio_web: u8, prio_db: u8| {
            let extra = format!(
                "[[instance]]\nname = \"db\"\ninterface = \"eth1\"\nvrid = 52\n\
                 priority = {prio_db}\nadvert_interval = \"100ms\"\n\
                 virtual_addresses = [\"10.1.0.60/24\"]\n\n\
                 [[sync_group]]\nname = \"g\"\ninstances = [\"web\", \"db\"]"
            );
            host(if prio_web > 120 { "a" } else { "b" }, prio_web, &extra)
        };
        // a is the better web, b the better db: the group still moves as one.
        let hosts = [grouped(150, 100), grouped(100, 150)];
        let plans = plan(&hosts);
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0].masters, plans[1].masters, "{plans:?}");
    }
}

/// The node at scale, in the plan's simulation (virtual time, a perfect LAN).
#[cfg(test)]
mod scale {
    use std::path::Path;

    use super::*;
    use crate::protocol::units::master_down_interval;

    /// 4 interfaces x 250 VRIDs at 100 ms adverts, all at `prio`.
    fn big_host(name: &str, prio: u8) -> Host {
        let mut text = String::new();
        for k in 0..4 {
            for v in 1..=250u32 {
                text.push_str(&format!(
                    "[[instance]]\nname = \"i{k}_{v}\"\ninterface = \"eth{k}\"\nvrid = {v}\n\
                     priority = {prio}\nadvert_interval = \"100ms\"\n\
                     virtual_addresses = [\"10.{k}.{v}.1/24\"]\n\n"
                ));
            }
        }
        match crate::config::parse(&text, Path::new("big.toml")) {
            Ok(config) => Host {
                name: name.to_owned(),
                config,
            },
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_thousand_instances_settle_keep_their_rhythm_and_fail_over_on_time() {
        let hosts = [big_host("a", 150), big_host("b", 100)];
        let routers: Vec<Router> = routers(&hosts).into_iter().map(|(r, _)| r).collect();
        assert_eq!(routers.len(), 1000);
        let mut sim = Sim::new(&hosts);
        sim.settle();
        for r in &routers {
            assert_eq!(sim.masters(r), vec!["a"], "{r}");
        }
        // Steady state: no state change, and every master advert exactly one interval after
        // the one before.
        let (changes, adverts) = (sim.changes.len(), sim.adverts.len());
        sim.run_for(Duration::from_secs(10));
        assert_eq!(sim.changes.len(), changes, "state changes in steady state");
        let mut last: std::collections::HashMap<&Router, Duration> = Default::default();
        for (t, h, r) in &sim.adverts[adverts..] {
            assert_eq!(*h, 0, "b advertised for {r}");
            if let Some(prev) = last.insert(r, *t) {
                assert_eq!(*t - prev, Duration::from_millis(100), "{r} at {t:?}");
            }
        }
        assert_eq!(last.len(), 1000, "every router advertised");
        // a crashes: b takes over every router exactly Master_Down_Interval after a's last
        // advert arrived.
        let crash_at = sim.now;
        sim.crash(0);
        sim.run_for(Duration::from_secs(2));
        let mdi = master_down_interval(100, Centisecs(10));
        for r in &routers {
            assert_eq!(sim.masters(r), vec!["b"], "{r}");
            let last = sim.last_advert(0, r).expect("a advertised");
            let took = sim.became_master("b", r, crash_at).expect("b took over");
            assert_eq!(took - last, mdi + WIRE_DELAY, "{r}");
        }
    }
}

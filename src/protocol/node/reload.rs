//! Reload: the node takes a new [`Spec`] as a difference by name, so that what did not
//! change keeps running untouched (state, timers, held addresses, tracker history).
//!
//! Ids are slots that are never reused: a removed instance, tracker or group stays in its
//! slot, retired and inert, and whatever is new gets a fresh slot. Outputs queued before
//! [`Output::Reloaded`] (the removed masters' priority-0 adverts and address removals) and
//! results still on their way (checks, notify commands) thus keep naming what they meant.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Group, GroupSpec, Instance, InstanceId, InstanceSpec, Node, Output, Spec, TrackId};
use super::{TrackSpec, Tracker};
use crate::protocol::fsm::{Event as FsmEvent, OWNER_PRIORITY, Reason, State};
use crate::protocol::track::Kind;

/// What a reload did to one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceChange {
    /// Nothing the node runs changed: not touched.
    Kept,
    /// Priority, interval, preempt, addresses or tracking changed: applied in place.
    Changed,
    /// Interface, VRID, family or version changed: another virtual router under the same
    /// name. The old one was released, the new one joined.
    Replaced,
    Added,
    /// Released (priority 0 if it was master) and its addresses removed.
    Removed,
}

/// Where each entry of a [`Spec`] lives in the node, by its position in the spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slots {
    pub instances: Vec<InstanceId>,
    pub tracks: Vec<TrackId>,
    pub groups: Vec<usize>,
}

/// Entries given in a spec's order, moved to their slots; slots nothing lands on hold
/// `fill()`. The agent keeps its per-instance and per-tracker tables this way.
pub fn place<T>(items: Vec<T>, slots: &[usize], mut fill: impl FnMut() -> T) -> Vec<T> {
    let len = slots.iter().max().map_or(0, |m| m + 1);
    let mut placed: Vec<T> = (0..len).map(|_| fill()).collect();
    for (item, &slot) in items.into_iter().zip(slots) {
        placed[slot] = item;
    }
    placed
}

impl Slots {
    /// The slots of a node made from `spec`: each entry where it stands.
    pub fn identity(spec: &Spec) -> Slots {
        Slots {
            instances: (0..spec.instances.len()).collect(),
            tracks: (0..spec.tracks.len()).collect(),
            groups: (0..spec.groups.len()).collect(),
        }
    }
}

/// One instance's fate in a reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceReload {
    pub name: String,
    pub change: InstanceChange,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadSummary {
    pub slots: Slots,
    /// Every instance of the old and the new spec, by name: the new ones in the new order,
    /// then the removed ones.
    pub instances: Vec<InstanceReload>,
}

/// Whether two specs describe the same virtual router (what the wire and the kernel see
/// of it), so that the one can become the other in place.
/// A different macvlan (`virtual_mac`, `vmac_interface`) is another router too: its MAC and
/// the interface its addresses live on change.
pub fn same_router(a: &InstanceSpec, b: &InstanceSpec) -> bool {
    (&a.interface, a.vrid, a.family, a.version, &a.vmac)
        == (&b.interface, b.vrid, b.family, b.version, &b.vmac)
}

/// Whether two tracker specs watch the same thing (so its history carries over).
fn same_object(a: &TrackSpec, b: &TrackSpec) -> bool {
    (&a.name, a.kind, &a.interface) == (&b.name, b.kind, &b.interface)
}

impl Node {
    pub(super) fn on_reload(&mut self, now: Duration, spec: Spec) {
        let tracks_before = self.tracks.len();
        let tracks = self.reload_tracks(now, spec.tracks);
        let mut changes = Vec::new();
        let mut joined = Vec::new();
        let mut changed = Vec::new();
        let mut instances = Vec::new();
        let mut new_specs = Vec::new();
        for mut new in spec.instances {
            for u in &mut new.track {
                u.track = tracks.get(u.track).copied().unwrap_or(usize::MAX);
            }
            let old = self.live_instance(&new.name);
            let change = match old {
                Some(i) if !same_router(&self.instances[i].spec, &new) => {
                    self.retire(now, i);
                    InstanceChange::Replaced
                }
                Some(i) if self.instances[i].spec == new => InstanceChange::Kept,
                Some(_) => InstanceChange::Changed,
                None => InstanceChange::Added,
            };
            changes.push(InstanceReload {
                name: new.name.clone(),
                change,
            });
            new_specs.push((old.filter(|_| change != InstanceChange::Replaced), new));
        }
        for i in 0..self.instances.len() {
            let name = &self.instances[i].spec.name;
            if !self.instances[i].retired && !changes.iter().any(|c| &c.name == name) {
                changes.push(InstanceReload {
                    name: name.clone(),
                    change: InstanceChange::Removed,
                });
                self.retire(now, i);
            }
        }
        for (old, new) in new_specs {
            let i = match old {
                Some(i) => {
                    if self.instances[i].spec != new {
                        changed.push((i, std::mem::replace(&mut self.instances[i].spec, new)));
                    }
                    i
                }
                None => {
                    self.instances.push(Instance::new(new));
                    joined.push(self.instances.len() - 1);
                    self.instances.len() - 1
                }
            };
            instances.push(i);
        }
        let groups = self.reload_groups(spec.groups, &instances);
        self.relink();
        // Specs (preempt, its delay) and retirements move deadlines too.
        self.mark_all();
        self.out.push_back(Output::Reloaded {
            summary: ReloadSummary {
                slots: Slots {
                    instances,
                    tracks,
                    groups,
                },
                instances: changes,
            },
        });
        if !self.started {
            return;
        }
        for (i, old) in changed {
            self.apply_change(now, i, &old);
        }
        let new_tracks: Vec<TrackId> = (tracks_before..self.tracks.len()).collect();
        self.join(now, &joined, &new_tracks);
        // Group membership may have moved under instances that did not change themselves;
        // for those, nothing else did, and this finds nothing to do.
        for i in 0..self.instances.len() {
            if !self.instances[i].retired {
                self.reconcile(now, i);
            }
        }
    }

    fn live_instance(&self, name: &str) -> Option<InstanceId> {
        self.instances
            .iter()
            .position(|inst| !inst.retired && inst.spec.name == name)
    }

    /// Match the new trackers to the running ones: the same object keeps its slot and its
    /// verdict (new interval, rise and fall apply from now); the rest get fresh slots.
    fn reload_tracks(&mut self, now: Duration, specs: Vec<TrackSpec>) -> Vec<TrackId> {
        let mut slots = Vec::with_capacity(specs.len());
        for spec in specs {
            let old = (0..self.tracks.len())
                .find(|&t| !self.tracks[t].retired && same_object(&self.tracks[t].spec, &spec))
                .filter(|t| !slots.contains(t));
            let t = match old {
                Some(t) => {
                    let tracker = &mut self.tracks[t];
                    if let Some(due) = tracker.next_check {
                        tracker.next_check = Some(due.min(now + spec.interval));
                    }
                    tracker.spec = spec;
                    t
                }
                None => {
                    self.tracks.push(Tracker::new(spec));
                    self.tracks.len() - 1
                }
            };
            slots.push(t);
        }
        for (t, tracker) in self.tracks.iter_mut().enumerate() {
            if !slots.contains(&t) {
                tracker.retired = true;
                tracker.next_check = None;
            }
        }
        slots
    }

    /// Groups by name: one that stays keeps what it remembers (its agreed state, a recent
    /// loss); `instances` maps the new spec's positions to slots.
    fn reload_groups(&mut self, specs: Vec<GroupSpec>, instances: &[InstanceId]) -> Vec<usize> {
        let mut slots = Vec::with_capacity(specs.len());
        for mut spec in specs {
            spec.members = spec
                .members
                .iter()
                .filter_map(|&m| instances.get(m).copied())
                .collect();
            let old = self
                .groups
                .iter()
                .position(|g| !g.retired && g.spec.name == spec.name);
            let g = match old {
                Some(g) => {
                    self.groups[g].spec = spec;
                    g
                }
                None => {
                    self.groups.push(Group::new(spec));
                    self.groups.len() - 1
                }
            };
            slots.push(g);
        }
        for (g, group) in self.groups.iter_mut().enumerate() {
            if !slots.contains(&g) {
                group.retired = true;
                group.release_at = None;
                group.spec.members.clear();
            }
        }
        slots
    }

    /// Take an instance out for good: a master releases with priority 0 and removes what it
    /// added; the STOP notification runs.
    fn retire(&mut self, now: Duration, i: InstanceId) {
        self.stop_instance(now, i, Some(Reason::Removed));
        self.instances[i].retired = true;
    }

    /// A running instance got a new spec for the same router (`old` is what it had).
    fn apply_change(&mut self, now: Duration, i: InstanceId, old: &InstanceSpec) {
        let interval = self.instances[i].spec.advert_interval;
        if interval != old.advert_interval {
            self.feed(now, i, FsmEvent::SetAdvertInterval(interval), None);
        }
        if self.instances[i].spec.addresses != old.addresses {
            self.apply_addresses(now, i);
        }
        let inst = &mut self.instances[i];
        let spec = &inst.spec;
        if inst.fsm.state() == State::Master
            && spec.priority != OWNER_PRIORITY
            && (spec.accept_mode != old.accept_mode
                || (!spec.accept_mode && spec.addresses != old.addresses))
        {
            let drop = if spec.accept_mode {
                Vec::new()
            } else {
                spec.addresses.iter().map(|a| a.addr).collect()
            };
            self.out
                .push_back(Output::AcceptFilter { instance: i, drop });
        }
        if inst.spec.garp_refresh != old.garp_refresh {
            // From now on, at the new period (or never).
            inst.refresh_at = match (inst.fsm.state(), inst.spec.garp_refresh) {
                (State::Master, Some(every)) => Some(now + every),
                _ => None,
            };
        }
        // Priority, tracking and preempt: brought in line as after any other change.
        self.reconcile(now, i);
    }

    /// A master removes only the addresses that left the list and adds the new ones.
    fn apply_addresses(&mut self, now: Duration, i: InstanceId) {
        let inst = &mut self.instances[i];
        let (keep, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut inst.held)
            .into_iter()
            .partition(|(_, a)| inst.spec.addresses.contains(a));
        inst.held = keep;
        for (ifindex, address) in gone {
            self.remove_address(i, ifindex, address);
        }
        if self.instances[i].fsm.state() == State::Master {
            self.ensure_addresses(i);
            self.announce(now, i);
        }
    }

    /// Bring instances and trackers into the running node (at start, or added by a
    /// reload): leftovers of a crashed run go, trackers start checking, instances join.
    pub(super) fn join(&mut self, now: Duration, instances: &[InstanceId], tracks: &[TrackId]) {
        for &i in instances {
            self.remove_leftovers(i);
            self.instances[i].usable = self.usable_address(i);
        }
        for &t in tracks {
            let tracker = &mut self.tracks[t];
            match tracker.spec.kind {
                Kind::Interface => {
                    let up = self
                        .links
                        .get(&tracker.spec.interface)
                        .is_some_and(|s| s.up);
                    tracker.verdict.healthy = up;
                }
                // The first check runs at once.
                _ => {
                    tracker.next_check = Some(now + tracker.spec.interval);
                    tracker.running = true;
                    self.out.push_back(Output::Check { track: t });
                }
            }
        }
        for &i in instances {
            self.reconcile(now, i);
            self.feed(now, i, FsmEvent::Startup, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::Path;

    use super::*;
    use crate::config;
    use crate::protocol::link::{IfAddr, IfState};
    use crate::protocol::node::Input;

    const ONE: &str = r#"
        [[track_script]]
        name = "svc"
        command = ["/bin/true"]
        interval = "1s"

        [[instance]]
        name = "web"
        interface = "eth0"
        vrid = 51
        priority = 150
        advert_interval = "100ms"
        virtual_addresses = ["10.0.0.50/24"]
        track = [{ script = "svc", weight = -60 }]
    "#;

    fn spec(text: &str) -> Spec {
        match config::parse(text, Path::new("test.toml")) {
            Ok(c) => Spec::from(&c),
            Err(e) => panic!("{e:?}"),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A node running `text` on eth0 at 10.0.0.2, master by 1 s (no peers).
    fn running(text: &str) -> Node {
        let mut node = Node::new(spec(text));
        let addr: IpAddr = [10, 0, 0, 2].into();
        let link = IfState {
            name: "eth0".into(),
            index: 2,
            up: true,
            mac: Some([2, 0, 0, 0, 0, 1]),
            addrs: vec![IfAddr {
                addr,
                prefix_len: 24,
                secondary: false,
                tentative: false,
                by_vipd: false,
            }],
        };
        node.handle(
            ms(0),
            Input::Link {
                interface: "eth0".into(),
                state: Some(link),
            },
        );
        node.handle(ms(0), Input::Start);
        settle(&mut node, ms(1000));
        node
    }

    /// Run timers up to `to`, answering address adds; every output on the way.
    fn settle(node: &mut Node, to: Duration) -> Vec<Output> {
        let mut seen = Vec::new();
        loop {
            while let Some(out) = node.poll_output() {
                if let Output::AddAddress {
                    instance, address, ..
                } = &out
                {
                    let added = Input::AddressAdded {
                        instance: *instance,
                        address: *address,
                        created: true,
                    };
                    seen.push(out.clone());
                    node.handle(to, added);
                    continue;
                }
                seen.push(out);
            }
            match node.poll_timeout().filter(|t| *t <= to) {
                Some(t) => node.handle_timeout(t),
                None => return seen,
            }
        }
    }

    fn reload(node: &mut Node, at: Duration, text: &str) -> (Vec<Output>, ReloadSummary) {
        node.handle(at, Input::Reload { spec: spec(text) });
        let seen = settle(node, at);
        let summary = seen.iter().find_map(|o| match o {
            Output::Reloaded { summary } => Some(summary.clone()),
            _ => None,
        });
        (seen, summary.expect("a reloaded output"))
    }

    fn sends(outputs: &[Output]) -> usize {
        outputs
            .iter()
            .filter(|o| matches!(o, Output::Send { .. }))
            .count()
    }

    #[test]
    fn the_same_file_again_changes_nothing() {
        let mut node = running(ONE);
        let timer = node.poll_timeout();
        let (seen, summary) = reload(&mut node, ms(1001), ONE);
        assert_eq!(seen.len(), 1, "only the summary: {seen:?}");
        assert_eq!(summary.instances[0].change, InstanceChange::Kept);
        assert_eq!(summary.slots, Slots::identity(&spec(ONE)));
        assert_eq!(node.poll_timeout(), timer, "the advert timer moved");
    }

    #[test]
    fn a_new_interval_sets_the_masters_rhythm_from_its_next_advert() {
        let mut node = running(ONE);
        let next = node.poll_timeout().expect("advert timer");
        let slower = ONE.replace("\"100ms\"", "\"300ms\"");
        let (seen, summary) = reload(&mut node, ms(1001), &slower);
        assert_eq!(summary.instances[0].change, InstanceChange::Changed);
        assert_eq!(sends(&seen), 0, "no advert out of rhythm: {seen:?}");
        assert_eq!(
            node.poll_timeout(),
            Some(next),
            "the due advert keeps its time"
        );
        assert_eq!(sends(&settle(&mut node, next)), 1);
        assert_eq!(node.poll_timeout(), Some(next + ms(300)));
        let report = node.report(0).expect("web");
        assert_eq!(
            report.master_advert_interval,
            crate::protocol::units::Centisecs(30)
        );
    }

    #[test]
    fn a_tracker_keeps_its_verdict_and_a_new_weight_applies_at_once() {
        let mut node = running(ONE);
        let failed = crate::protocol::track::CheckResult::Failed {
            reason: "down".into(),
        };
        for at in [1100, 1200, 1300] {
            node.handle(
                ms(at),
                Input::Check {
                    track: 0,
                    result: failed.clone(),
                },
            );
            settle(&mut node, ms(at));
        }
        let report = node.report(0).expect("web");
        assert_eq!(report.effective_priority, 90, "the check failed");
        let heavier = ONE.replace("weight = -60", "weight = -100");
        let (_, summary) = reload(&mut node, ms(1400), &heavier);
        assert_eq!(summary.slots.tracks, vec![0], "the tracker kept its slot");
        assert_eq!(node.report(0).expect("web").effective_priority, 50);
        assert!(!node.track_reports()[0].verdict.healthy, "history kept");
    }

    #[test]
    fn preempt_off_and_a_lower_priority_apply_in_place() {
        let mut node = running(ONE);
        let calmer = ONE.replace("priority = 150", "priority = 100\n        preempt = false");
        let (seen, summary) = reload(&mut node, ms(1001), &calmer);
        assert_eq!(summary.instances[0].change, InstanceChange::Changed);
        assert_eq!(node.state(0), Some(State::Master), "a master stays master");
        assert_eq!(node.report(0).expect("web").effective_priority, 100);
        assert!(!node.fsm(0).expect("web").params().preempt);
        assert!(
            !seen
                .iter()
                .any(|o| matches!(o, Output::RemoveAddress { .. })),
            "no address touched: {seen:?}"
        );
    }

    #[test]
    fn an_instance_moved_to_another_vrid_is_replaced_and_its_slot_never_reused() {
        let mut node = running(ONE);
        let moved = ONE.replace("vrid = 51", "vrid = 52");
        let (seen, summary) = reload(&mut node, ms(1001), &moved);
        assert_eq!(summary.instances[0].change, InstanceChange::Replaced);
        assert_eq!(summary.slots.instances, vec![1]);
        let release = seen.iter().position(|o| {
            matches!(
                o,
                Output::Send {
                    instance: 0,
                    priority: 0,
                    ..
                }
            )
        });
        let reloaded = seen
            .iter()
            .position(|o| matches!(o, Output::Reloaded { .. }));
        assert!(
            release < reloaded,
            "released before the new slots: {seen:?}"
        );
        assert!(node.report(0).is_none(), "the old slot is retired");
        assert_eq!(node.state(1), Some(State::Backup));
        // Back again: a third slot, the retired ones stay retired.
        let (_, summary) = reload(&mut node, ms(1100), ONE);
        assert_eq!(summary.slots.instances, vec![2]);
        assert_eq!(node.watched_interfaces(), vec!["eth0".to_owned()]);
    }

    #[test]
    fn a_sync_group_is_kept_by_name() {
        let grouped = format!(
            "{ONE}\n{}\n[[sync_group]]\nname = \"g\"\ninstances = [\"web\", \"db\"]\n",
            ONE.replace("name = \"web\"", "name = \"db\"")
                .replace("vrid = 51", "vrid = 52")
                .replace("10.0.0.50", "10.0.0.60")
                .replace("[[track_script]]\n        name = \"svc\"\n        command = [\"/bin/true\"]\n        interval = \"1s\"\n", "")
        );
        let mut node = running(&grouped);
        assert_eq!(node.group_reports()[0].state, "master");
        let (_, summary) = reload(&mut node, ms(1001), &grouped);
        assert!(
            summary
                .instances
                .iter()
                .all(|i| i.change == InstanceChange::Kept)
        );
        assert_eq!(summary.slots.groups, vec![0]);
        assert_eq!(node.group_reports()[0].members, vec!["web", "db"]);
        // Without the group, both stay master, ungrouped.
        let (_, _) = reload(
            &mut node,
            ms(1100),
            grouped.split("[[sync_group]]").next().unwrap_or(""),
        );
        assert!(node.group_reports().is_empty());
        assert_eq!(node.state(0), Some(State::Master));
        assert_eq!(node.state(1), Some(State::Master));
    }
}

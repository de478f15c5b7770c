//! The node: every VRRP instance of one host, their tracking, their sync groups and their
//! timers, as one sans-IO state machine. quinn-proto's `Endpoint` over its `Connection`s is
//! the model: [`Input`]s with the current time in, [`Output`]s out through
//! [`Node::poll_output`], timers through [`Node::poll_timeout`] and
//! [`Node::handle_timeout`]. Inputs, outputs and events are serde types, so a behaviour can
//! be written down as a script of inputs and replayed in a test.
//!
//! The node holds the policy the agent used to carry: which address an instance speaks
//! from, which addresses it added (and so may remove), the announce repeat, restoring
//! addresses that vanish under a master, telling a crashed run's leftovers from the host's
//! own addresses, ignoring another agent on this host, FAULT and its causes, tracking
//! weights, preempt_delay and sync groups.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Config, Router, TrackTarget, VirtualAddress};
use crate::protocol::fsm::{Action, AdvertIn, Event as FsmEvent, Fsm, OWNER_PRIORITY, Params};
use crate::protocol::fsm::{Reason, State};
use crate::protocol::link::{IfAddr, IfState};
use crate::protocol::throttle::Throttle;
use crate::protocol::track::{self, CheckResult, Kind, Verdict};
use crate::protocol::units::{Centisecs, Family, Version};

/// Announcements are repeated once after this, so hosts whose neighbour entry was locked
/// (Linux locktime) during the first burst follow too.
pub const ANNOUNCE_REPEAT_AFTER: Duration = Duration::from_secs(5);
/// Gratuitous ARPs or unsolicited NAs per address in a takeover announcement (and its
/// repeat, and after a split brain): one lost frame must not leave a host behind.
pub const ANNOUNCE_BURST: u8 = 5;
/// Frames per address in a `garp_refresh` announcement: it only keeps tables warm (as
/// keepalived's `garp_master_refresh_repeat` 1 does).
pub const REFRESH_BURST: u8 = 1;
/// How often a peer's different address list is reported per instance.
const MISMATCH_EVERY: Duration = Duration::from_secs(60);
/// How often adverts from another agent on this host are reported per instance.
const FOREIGN_EVERY: Duration = Duration::from_secs(60);
/// How often a lasting split brain is reported and re-announced.
const CONFLICT_EVERY: Duration = Duration::from_secs(1);

/// An instance, by its position in [`Spec::instances`]; stable for the node's life.
pub type InstanceId = usize;
/// A tracked object, by its position in [`Spec::tracks`].
pub type TrackId = usize;

// ---------------------------------------------------------------------------------------------
// What the node runs.

/// Everything the node runs, as the configuration describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub instances: Vec<InstanceSpec>,
    pub tracks: Vec<TrackSpec>,
    pub groups: Vec<GroupSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSpec {
    pub name: String,
    pub interface: String,
    pub family: Family,
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    pub advert_interval: Centisecs,
    pub preempt: bool,
    /// A backup preempts only once it has run this long since it started, left FAULT or saw
    /// one of its trackers recover.
    pub preempt_delay: Duration,
    pub addresses: Vec<VirtualAddress>,
    pub track: Vec<TrackUse>,
    /// A master re-announces its addresses this often; `None`: only at takeover (and the
    /// repeat [`ANNOUNCE_REPEAT_AFTER`] later).
    #[serde(default)]
    pub garp_refresh: Option<Duration>,
    /// `virtual_mac = true`: the name of the macvlan (on `interface`) that carries the
    /// virtual MAC and the addresses. The node asks for it ([`Output::CreateVmac`]), keeps it
    /// up only while master ([`Output::SetVmacUp`]) and deletes it when the instance leaves.
    #[serde(default)]
    pub vmac: Option<String>,
    /// RFC 9568 Accept_Mode. `false`: while master (never an owner), traffic to the
    /// addresses other than ARP, ND and VRRP is dropped ([`Output::AcceptFilter`]).
    #[serde(default = "accepts")]
    pub accept_mode: bool,
}

/// The default Accept_Mode (a master accepts traffic to its addresses).
fn accepts() -> bool {
    true
}

impl InstanceSpec {
    /// The virtual router it is this host's part of (as [`InstanceConfig::router`]).
    ///
    /// [`InstanceConfig::router`]: crate::config::InstanceConfig::router
    pub fn router(&self) -> Router {
        Router {
            interface: self.interface.clone(),
            vrid: self.vrid,
            family: self.family,
        }
    }
}

/// One entry of an instance's `track` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackUse {
    pub track: TrackId,
    /// < 0: added while failed; > 0: added while healthy; 0: FAULT while failed. A file's
    /// weight multiplies its value.
    pub weight: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackSpec {
    pub name: String,
    pub kind: Kind,
    /// The interface of an interface tracker; empty for the others (the agent knows what to
    /// run, read or look for).
    pub interface: String,
    /// How often the agent is asked to check (scripts, files, processes).
    pub interval: Duration,
    pub rise: u32,
    pub fall: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSpec {
    pub name: String,
    pub members: Vec<InstanceId>,
}

impl Spec {
    /// The interfaces a node running this spec watches ([`Node::watched_interfaces`]).
    pub fn interfaces(&self) -> Vec<String> {
        interface_names(self.instances.iter(), self.tracks.iter())
    }
}

/// The interfaces of these instances and interface trackers, sorted, each once.
fn interface_names<'a>(
    instances: impl Iterator<Item = &'a InstanceSpec>,
    tracks: impl Iterator<Item = &'a TrackSpec>,
) -> Vec<String> {
    let mut names: Vec<String> = instances
        .flat_map(|i| std::iter::once(i.interface.clone()).chain(i.vmac.clone()))
        .chain(
            tracks
                .filter(|t| t.kind == Kind::Interface)
                .map(|t| t.interface.clone()),
        )
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A track file or process is looked at this often.
pub const FILE_AND_PROCESS_INTERVAL: Duration = Duration::from_secs(1);

/// Every object some instance tracks, each once, in the order first named: the node's
/// [`TrackId`]s, which the agent's checks follow too.
pub fn tracked_objects(config: &Config) -> Vec<TrackTarget> {
    let mut targets: Vec<TrackTarget> = Vec::new();
    for t in config.instances.iter().flat_map(|i| &i.track) {
        if !targets.contains(&t.target) {
            targets.push(t.target.clone());
        }
    }
    targets
}

impl From<&Config> for Spec {
    fn from(config: &Config) -> Spec {
        let targets = tracked_objects(config);
        let tracks = targets.iter().map(|t| track_spec(config, t)).collect();
        let instances = config
            .instances
            .iter()
            .map(|c| InstanceSpec {
                name: c.name.clone(),
                interface: c.interface.clone(),
                family: c.family,
                version: c.version,
                vrid: c.vrid,
                priority: c.priority,
                advert_interval: c.advert_interval,
                preempt: c.preempt,
                preempt_delay: c.preempt_delay,
                addresses: c.virtual_addresses.clone(),
                garp_refresh: c.garp_refresh,
                vmac: c.virtual_mac.clone(),
                accept_mode: c.accept_mode,
                track: c
                    .track
                    .iter()
                    .filter_map(|r| {
                        let track = targets.iter().position(|t| *t == r.target)?;
                        Some(TrackUse {
                            track,
                            weight: r.weight,
                        })
                    })
                    .collect(),
            })
            .collect();
        let groups = config
            .sync_groups
            .iter()
            .map(|g| GroupSpec {
                name: g.name.clone(),
                members: g
                    .instances
                    .iter()
                    .filter_map(|name| config.instances.iter().position(|i| &i.name == name))
                    .collect(),
            })
            .collect();
        Spec {
            instances,
            tracks,
            groups,
        }
    }
}

fn track_spec(config: &Config, target: &TrackTarget) -> TrackSpec {
    let simple = |name: &str, kind, interface: &str| TrackSpec {
        name: name.to_owned(),
        kind,
        interface: interface.to_owned(),
        interval: FILE_AND_PROCESS_INTERVAL,
        rise: 1,
        fall: 1,
    };
    match target {
        TrackTarget::Script(name) => match config.track_scripts.iter().find(|s| &s.name == name) {
            Some(s) => TrackSpec {
                name: name.clone(),
                kind: Kind::Script,
                interface: String::new(),
                interval: s.interval,
                rise: s.rise,
                fall: s.fall,
            },
            // The configuration checks every name; a missing one can only come from a
            // hand-built Config, and is a check that never passes nor fails.
            None => simple(name, Kind::Script, ""),
        },
        TrackTarget::File(name) => simple(name, Kind::File, ""),
        TrackTarget::Interface(name) => simple(name, Kind::Interface, name),
        TrackTarget::Process(name) => simple(name, Kind::Process, ""),
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs, outputs, events.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// What the interface called `interface` looks like now; `None`: there is none (or it
    /// cannot carry VRRP, say its socket could not be opened). Feed every
    /// [`Node::watched_interfaces`] once before [`Input::Start`].
    Link {
        interface: String,
        state: Option<IfState>,
    },
    /// Remove a crashed run's leftovers and join the elections.
    Start,
    /// A valid advert for an instance.
    Advert {
        instance: InstanceId,
        advert: AdvertIn,
        addresses_match: bool,
    },
    /// How an [`Output::AddAddress`] went: `created` when the kernel added it, false when it
    /// was there already (then it is not this instance's to remove).
    AddressAdded {
        instance: InstanceId,
        address: VirtualAddress,
        created: bool,
    },
    /// The result of an [`Output::Check`].
    Check { track: TrackId, result: CheckResult },
    /// Release every master role and every address vipd added.
    Shutdown,
    /// Run this instead, as a difference by name: see [`Node`]'s `reload` module. Answered
    /// by [`Output::Reloaded`] after the removed instances' release outputs and before any
    /// output for an added one.
    Reload { spec: Spec },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "output", rename_all = "snake_case")]
pub enum Output {
    /// Send one advert for the instance from `src` (to its group or peers).
    Send {
        instance: InstanceId,
        src: IpAddr,
        priority: u8,
    },
    /// Add the address, tagged as vipd's; answer with [`Input::AddressAdded`].
    AddAddress {
        instance: InstanceId,
        ifindex: u32,
        address: VirtualAddress,
    },
    RemoveAddress {
        instance: InstanceId,
        ifindex: u32,
        address: VirtualAddress,
    },
    /// Gratuitous ARP / unsolicited NA for the instance's addresses from `mac`, `count`
    /// frames per address.
    Announce {
        instance: InstanceId,
        ifindex: u32,
        mac: [u8; 6],
        count: u8,
    },
    /// Create the instance's macvlan `name` (mode bridge) on interface `parent` with `mac`,
    /// admin down, in place of any macvlan of that name vipd made before (a crashed run's,
    /// or one on a parent that went away), and report it as an [`Input::Link`].
    CreateVmac {
        instance: InstanceId,
        name: String,
        parent: u32,
        mac: [u8; 6],
    },
    /// Accept_Mode off: drop traffic to these addresses on this host, all but ARP, neighbour
    /// discovery and VRRP, in place of what this instance asked for before (empty: nothing).
    AcceptFilter {
        instance: InstanceId,
        drop: Vec<IpAddr>,
    },
    /// Delete the instance's macvlan (the addresses on it go with it).
    DeleteVmac {
        instance: InstanceId,
        name: String,
    },
    /// Bring the macvlan up (a master, before its addresses go on it) or down (anything
    /// else: a down macvlan sends nothing, so no switch learns the virtual MAC at a backup).
    SetVmacUp {
        instance: InstanceId,
        ifindex: u32,
        up: bool,
    },
    /// Run the script, read the file or look for the process; answer with [`Input::Check`].
    Check {
        track: TrackId,
    },
    /// Run the notify commands of an instance or a group for this change (`to` = init at
    /// shutdown: the STOP notification).
    Notify {
        target: Target,
        from: State,
        to: State,
        reason: Reason,
        priority: u8,
    },
    Event(Event),
    /// A reload took effect: where the new spec's entries live, and what happened to each
    /// instance. Outputs before it may name instances that are gone after it.
    Reloaded {
        summary: ReloadSummary,
    },
}

/// Who a notification is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Instance(InstanceId),
    /// A sync group, by its position in [`Spec::groups`].
    Group(usize),
}

/// What happened, for logs (and, later, the event stream).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    StateChange {
        instance: String,
        from: State,
        to: State,
        reason: Reason,
        priority: u8,
        effective_priority: u8,
    },
    PriorityChange {
        instance: String,
        from: u8,
        to: u8,
    },
    TrackChange {
        track: String,
        healthy: bool,
        result: Option<CheckResult>,
    },
    /// A crashed run's address (it carries vipd's tag) removed at start.
    LeftoverRemoved {
        instance: String,
        address: VirtualAddress,
    },
    /// A configured address the host itself has (no vipd tag), on an instance that does not
    /// own it: left alone, so this host answers for it even as backup.
    HostAddress {
        instance: String,
        address: VirtualAddress,
    },
    /// The instance's macvlan disappeared under the agent (deleted by someone else); it is
    /// being created again.
    VmacVanished {
        instance: String,
        name: String,
    },
    /// An address vanished under a master; it is being added again.
    AddressVanished {
        instance: String,
        address: VirtualAddress,
    },
    /// A peer advertises another address list (accepted, RFC 9568). At most once a minute.
    AddressListMismatch {
        instance: String,
        src: IpAddr,
        count: u64,
    },
    /// This master heard a worse master while it had been master for longer than a
    /// handover takes: a split brain is healing. It stays master and re-announces its
    /// addresses at once.
    MasterConflict {
        instance: String,
        peer: IpAddr,
        peer_priority: u8,
        priority: u8,
    },
    /// A reload took effect (the agent's account: it also counts settings only it uses,
    /// such as notify commands, as changes).
    Reload {
        instances: Vec<InstanceReload>,
    },
    /// An advert for this VRID from one of this host's own addresses: another VRRP agent
    /// runs here. Never answered. At most once a minute.
    ForeignAdvert {
        instance: String,
        vrid: u8,
        src: IpAddr,
        count: u64,
    },
}

// ---------------------------------------------------------------------------------------------
// Reports (status).

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceReport {
    pub name: String,
    pub state: State,
    pub priority: u8,
    pub effective_priority: u8,
    pub master_address: Option<IpAddr>,
    pub master_advert_interval: Centisecs,
    /// Why the instance is in FAULT (empty otherwise): `interface`, `track:NAME`,
    /// `sync_group:NAME`.
    pub fault_causes: Vec<String>,
    pub sync_group: Option<String>,
    pub adverts_received: u64,
    pub address_list_mismatches: u64,
    pub local_source_adverts: u64,
    pub master_conflicts: u64,
    pub transitions: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackReport {
    pub name: String,
    pub kind: Kind,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupReport {
    pub name: String,
    pub members: Vec<String>,
    /// `master`, `backup` or `fault` when every member agrees, else `mixed`.
    pub state: String,
}

// ---------------------------------------------------------------------------------------------
// The node.

/// Why an instance is in FAULT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Faults {
    /// Its own interface cannot carry VRRP (missing, down, no usable address).
    interface: bool,
    /// A weight-0 tracker failed (its first, for the report).
    track: Option<TrackId>,
    /// Another member of its sync group is in FAULT for a cause of its own.
    group: bool,
}

impl Faults {
    fn own(&self) -> bool {
        self.interface || self.track.is_some()
    }

    fn any(&self) -> bool {
        self.own() || self.group
    }

    /// The reason a state change into or out of FAULT is logged with.
    fn reason(&self, entering: bool, before: Faults) -> Reason {
        let cause = if entering { *self } else { before };
        match (cause.interface, cause.track.is_some(), entering) {
            (true, _, true) => Reason::InterfaceDown,
            (true, _, false) => Reason::InterfaceUp,
            (false, true, true) => Reason::TrackFault,
            (false, true, false) => Reason::TrackRecovered,
            (false, false, _) => Reason::SyncGroup,
        }
    }
}

#[derive(Default)]
struct Counters {
    adverts_received: u64,
    address_list_mismatches: u64,
    local_source_adverts: u64,
    master_conflicts: u64,
    transitions: u64,
}

struct Instance {
    spec: InstanceSpec,
    fsm: Fsm,
    group: Option<usize>,
    /// The address it speaks from while its interface can carry VRRP.
    usable: Option<IpAddr>,
    /// What the state machine was last told (`None` while in FAULT).
    told: Option<IpAddr>,
    faults: Faults,
    /// Addresses vipd added for this instance (ifindex, address): the only ones it removes.
    held: Vec<(u32, VirtualAddress)>,
    announce_at: Option<Duration>,
    /// The next `garp_refresh` announcement, while master.
    refresh_at: Option<Duration>,
    /// Its macvlan was asked for and has not been reported yet.
    vmac_asked: bool,
    /// What the macvlan was last told: up (true) or down.
    vmac_up: bool,
    /// Since when it has been master.
    master_since: Option<Duration>,
    /// Since when it has been out of FAULT with every tracker healthy.
    ready_since: Option<Duration>,
    counters: Counters,
    mismatch_log: Throttle,
    foreign_log: Throttle,
    /// A split brain that lasts (a one-way partition) is reported and answered with
    /// announcements once a second, not at every advert of the other master.
    conflict_log: Throttle,
    /// A reload removed it: inert, and its id is never reused (outputs already queued for
    /// it stay meaningful to the agent until [`Output::Reloaded`]).
    retired: bool,
}

impl Instance {
    fn new(spec: InstanceSpec) -> Instance {
        Instance {
            fsm: Fsm::new(Params {
                version: spec.version,
                priority: spec.priority,
                advert_interval: spec.advert_interval,
                preempt: spec.preempt && spec.preempt_delay.is_zero(),
            }),
            group: None,
            spec,
            usable: None,
            told: None,
            faults: Faults {
                interface: true,
                ..Faults::default()
            },
            held: Vec::new(),
            announce_at: None,
            refresh_at: None,
            vmac_asked: false,
            vmac_up: false,
            master_since: None,
            ready_since: None,
            counters: Counters::default(),
            mismatch_log: Throttle::new(MISMATCH_EVERY),
            foreign_log: Throttle::new(FOREIGN_EVERY),
            conflict_log: Throttle::new(CONFLICT_EVERY),
            retired: false,
        }
    }
}

struct Tracker {
    spec: TrackSpec,
    verdict: Verdict,
    /// Instances whose `track` lists it.
    users: Vec<InstanceId>,
    next_check: Option<Duration>,
    /// A check was asked for and has not answered yet: never two at once.
    running: bool,
    /// A reload removed it: never checked again, late results ignored.
    retired: bool,
}

impl Tracker {
    fn new(spec: TrackSpec) -> Tracker {
        Tracker {
            spec,
            verdict: Verdict::new(),
            users: Vec::new(),
            next_check: None,
            running: false,
            retired: false,
        }
    }
}

/// A sync group and what the node remembers of it.
struct Group {
    spec: GroupSpec,
    /// The state its members last agreed on (what its notifications said).
    state: State,
    /// When it last lost a LAN to a better master (a member stepped down for it).
    lost_at: Option<Duration>,
    /// Due to take over after a recent loss, it waits until then (see `fsm_timeout`).
    release_at: Option<Duration>,
    /// A reload removed it: its id is never reused.
    retired: bool,
}

impl Group {
    fn new(spec: GroupSpec) -> Group {
        Group {
            spec,
            state: State::Init,
            lost_at: None,
            release_at: None,
            retired: false,
        }
    }
}

pub struct Node {
    instances: Vec<Instance>,
    tracks: Vec<Tracker>,
    groups: Vec<Group>,
    /// Interfaces as last reported, by name.
    links: HashMap<String, IfState>,
    started: bool,
    out: VecDeque<Output>,
    /// Scratch for state-machine actions, reused so an advert allocates nothing.
    actions: Vec<Action>,
    /// Each instance's next deadline.
    timers: timers::Timers,
    /// Scratch for the instances due in `handle_timeout`.
    due: Vec<InstanceId>,
}

impl Node {
    pub fn new(spec: Spec) -> Node {
        let mut node = Node {
            instances: spec.instances.into_iter().map(Instance::new).collect(),
            tracks: spec.tracks.into_iter().map(Tracker::new).collect(),
            groups: spec.groups.into_iter().map(Group::new).collect(),
            links: HashMap::new(),
            started: false,
            out: VecDeque::new(),
            actions: Vec::new(),
            timers: timers::Timers::default(),
            due: Vec::new(),
        };
        node.relink();
        node
    }

    /// Derive who uses which tracker and which group each instance is in from the specs.
    fn relink(&mut self) {
        for t in &mut self.tracks {
            t.users.clear();
        }
        for (i, inst) in self.instances.iter_mut().enumerate() {
            inst.group = None;
            if inst.retired {
                continue;
            }
            for u in &inst.spec.track {
                if let Some(t) = self.tracks.get_mut(u.track) {
                    t.users.push(i);
                }
            }
        }
        for (g, group) in self.groups.iter().enumerate() {
            if group.retired {
                continue;
            }
            for &m in &group.spec.members {
                if let Some(inst) = self.instances.get_mut(m) {
                    inst.group = Some(g);
                }
            }
        }
    }

    /// The interfaces the node needs to hear about: its instances' and its trackers'.
    pub fn watched_interfaces(&self) -> Vec<String> {
        interface_names(
            self.instances
                .iter()
                .filter(|i| !i.retired)
                .map(|i| &i.spec),
            self.tracks.iter().filter(|t| !t.retired).map(|t| &t.spec),
        )
    }

    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    pub fn instance_spec(&self, i: InstanceId) -> Option<&InstanceSpec> {
        self.instances.get(i).map(|inst| &inst.spec)
    }

    pub fn track_spec(&self, t: TrackId) -> Option<&TrackSpec> {
        self.tracks.get(t).map(|tr| &tr.spec)
    }

    pub fn state(&self, i: InstanceId) -> Option<State> {
        self.instances.get(i).map(|inst| inst.fsm.state())
    }

    /// An instance's state machine, to inspect (simulations check its view of the master).
    pub fn fsm(&self, i: InstanceId) -> Option<&Fsm> {
        self.instances.get(i).map(|inst| &inst.fsm)
    }

    /// The next output, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    pub fn handle(&mut self, now: Duration, input: Input) {
        match input {
            Input::Link { interface, state } => self.on_link(now, interface, state),
            Input::Start => self.on_start(now),
            Input::Advert {
                instance,
                advert,
                addresses_match,
            } => self.on_advert(now, instance, advert, addresses_match),
            Input::AddressAdded {
                instance,
                address,
                created,
            } => self.on_address_added(instance, address, created),
            Input::Check { track, result } => self.on_check(now, track, result),
            Input::Shutdown => self.on_shutdown(now),
            Input::Reload { spec } => self.on_reload(now, spec),
        }
        self.flush_timers();
    }

    /// Take in the deadlines of the instances that changed.
    fn flush_timers(&mut self) {
        let Node {
            timers, instances, ..
        } = self;
        timers.flush(|i| instances.get(i).and_then(Node::deadline_of));
    }

    /// When instance `inst` has work to do next: its state machine's timer, the announce
    /// repeat, the end of its preempt_delay.
    fn deadline_of(inst: &Instance) -> Option<Duration> {
        if inst.retired {
            return None;
        }
        [
            inst.fsm.poll_timeout(),
            inst.announce_at,
            inst.refresh_at,
            Node::preempt_due(inst),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Every instance's deadline may have changed (start, stop, reload).
    fn mark_all(&mut self) {
        for i in 0..self.instances.len() {
            self.timers.mark(i);
        }
    }

    /// The earliest time [`Node::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let checks = self.tracks.iter().map(|t| t.next_check);
        let groups = self.groups.iter().map(|g| g.release_at);
        std::iter::once(self.timers.next())
            .chain(checks)
            .chain(groups)
            .flatten()
            .min()
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        for g in 0..self.groups.len() {
            if self.groups[g].release_at.is_some_and(|t| t <= now) {
                self.release_group(now, g);
            }
        }
        let mut due = std::mem::take(&mut self.due);
        self.timers.take_due(now, &mut due);
        for &i in &due {
            if self.instances[i]
                .fsm
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.fsm_timeout(now, i);
            }
            if self.instances[i].announce_at.is_some_and(|t| t <= now) {
                // The repeat arms nothing (through `announce` it would re-arm itself, and
                // a master would announce every 5 s for as long as it lasts).
                self.instances[i].announce_at = None;
                self.emit_announce(i, ANNOUNCE_BURST);
            }
            if let Some(due) = self.instances[i].refresh_at.filter(|t| *t <= now) {
                let inst = &mut self.instances[i];
                // Anchored to the schedule, but never a burst after a stall.
                let every = inst.spec.garp_refresh.unwrap_or(ANNOUNCE_REPEAT_AFTER);
                let next = due + every;
                inst.refresh_at = Some(if next > now { next } else { now + every });
                self.emit_announce(i, REFRESH_BURST);
            }
            if Node::preempt_due(&self.instances[i]).is_some_and(|t| t <= now) {
                self.reconcile(now, i);
            }
        }
        due.clear();
        self.due = due;
        for t in 0..self.tracks.len() {
            let tracker = &mut self.tracks[t];
            let Some(due) = tracker.next_check.filter(|d| *d <= now) else {
                continue;
            };
            // Anchored to the schedule, but never a burst after a stall.
            let next = due + tracker.spec.interval;
            tracker.next_check = Some(if next > now {
                next
            } else {
                now + tracker.spec.interval
            });
            if !tracker.running {
                tracker.running = true;
                self.out.push_back(Output::Check { track: t });
            }
        }
        self.flush_timers();
    }

    // ----- inputs ----------------------------------------------------------------------------

    fn on_link(&mut self, now: Duration, name: String, state: Option<IfState>) {
        let before = self.links.get(&name).map(|s| s.index);
        match state {
            Some(s) => self.links.insert(name.clone(), s),
            None => self.links.remove(&name),
        };
        let after = self.links.get(&name).map(|s| s.index);
        if !self.started {
            return;
        }
        let up = self.links.get(&name).is_some_and(|s| s.up);
        for t in 0..self.tracks.len() {
            let tracker = &self.tracks[t];
            if tracker.spec.kind == Kind::Interface
                && !tracker.retired
                && tracker.spec.interface == name
                && tracker.verdict.healthy != up
            {
                let result = if up {
                    CheckResult::Passed
                } else {
                    CheckResult::Failed {
                        reason: "interface down or missing".into(),
                    }
                };
                self.on_check(now, t, result);
            }
        }
        for i in 0..self.instances.len() {
            if self.instances[i].retired {
                continue;
            }
            if self.instances[i].spec.vmac.as_deref() == Some(name.as_str()) {
                self.on_vmac_link(now, i, before, after);
                continue;
            }
            if self.instances[i].spec.interface != name {
                continue;
            }
            if before != after && self.instances[i].told.is_some() {
                // Renamed away, deleted or replaced: let go from the old address first, so
                // the priority-0 advert and the removals still reach the old interface.
                self.instances[i].told = None;
                self.feed(
                    now,
                    i,
                    FsmEvent::Interface(None),
                    Some(Reason::InterfaceDown),
                );
            }
            self.instances[i].usable = self.usable_address(i);
            if before != after && after.is_some() && self.instances[i].spec.vmac.is_some() {
                // A new parent (it appeared, or another interface took its name): the
                // macvlan goes on it, before the instance may become master through it.
                self.create_vmac(i);
            }
            self.reconcile(now, i);
            if self.instances[i].fsm.state() == State::Master {
                self.ensure_addresses(i);
            }
        }
    }

    /// The macvlan of instance `i` was reported (`before`/`after`: its index, if any).
    fn on_vmac_link(
        &mut self,
        now: Duration,
        i: InstanceId,
        before: Option<u32>,
        after: Option<u32>,
    ) {
        let inst = &mut self.instances[i];
        let Some(name) = inst.spec.vmac.clone() else {
            return;
        };
        match after {
            None => {
                inst.vmac_up = false;
                // Whatever was on it went with it.
                inst.held.clear();
                if before.is_none() {
                    // Never there, or asked for and not made: asking again would loop.
                    return;
                }
                let parent_there = self.links.contains_key(&inst.spec.interface);
                if parent_there && !inst.vmac_asked {
                    self.out.push_back(Output::Event(Event::VmacVanished {
                        instance: inst.spec.name.clone(),
                        name,
                    }));
                    self.create_vmac(i);
                }
            }
            Some(_) => {
                let fresh = before != after;
                if fresh {
                    inst.vmac_asked = false;
                    inst.vmac_up = false;
                }
                if inst.fsm.state() == State::Master {
                    self.ensure_addresses(i);
                    if fresh {
                        // The addresses arrived late (or again): so do their announcements.
                        self.announce(now, i);
                    }
                }
            }
        }
    }

    /// Ask for instance `i`'s macvlan on its parent as it is now. Until the new one is
    /// reported the node knows none: nothing may go on the one it replaces.
    fn create_vmac(&mut self, i: InstanceId) {
        let inst = &mut self.instances[i];
        let (Some(name), Some(parent)) = (
            inst.spec.vmac.clone(),
            self.links.get(&inst.spec.interface).map(|s| s.index),
        ) else {
            return;
        };
        self.links.remove(&name);
        inst.held.clear();
        inst.vmac_asked = true;
        inst.vmac_up = false;
        self.out.push_back(Output::CreateVmac {
            instance: i,
            mac: crate::config::virtual_mac_address(inst.spec.vrid, inst.spec.family),
            name,
            parent,
        });
    }

    /// The instance leaves for good (shutdown, reload): its macvlan goes.
    fn delete_vmac(&mut self, i: InstanceId) {
        let inst = &mut self.instances[i];
        let Some(name) = inst.spec.vmac.clone() else {
            return;
        };
        inst.vmac_asked = false;
        inst.vmac_up = false;
        self.links.remove(&name);
        self.out.push_back(Output::DeleteVmac { instance: i, name });
    }

    /// The interface the instance's addresses live on: its macvlan, or its interface.
    fn address_link(&self, i: InstanceId) -> Option<&IfState> {
        let spec = &self.instances[i].spec;
        self.links
            .get(spec.vmac.as_ref().unwrap_or(&spec.interface))
    }

    fn on_start(&mut self, now: Duration) {
        if self.started {
            return;
        }
        self.started = true;
        self.mark_all();
        let instances: Vec<InstanceId> = (0..self.instances.len())
            .filter(|&i| !self.instances[i].retired)
            .collect();
        let tracks: Vec<TrackId> = (0..self.tracks.len())
            .filter(|&t| !self.tracks[t].retired)
            .collect();
        self.join(now, &instances, &tracks);
    }

    fn on_advert(&mut self, now: Duration, i: InstanceId, advert: AdvertIn, matches: bool) {
        let Some(inst) = self.instances.get_mut(i).filter(|inst| !inst.retired) else {
            return;
        };
        let own = self
            .links
            .get(&inst.spec.interface)
            .is_some_and(|s| s.addrs.iter().any(|a| a.addr == advert.src));
        if own {
            // vipd never hears itself (multicast loop is off, it never sends to its own
            // addresses), so this is another VRRP agent on this host. Answering it would be
            // two agents fighting over one host's addresses: stay out.
            inst.counters.local_source_adverts += 1;
            if inst.foreign_log.pass(now).is_some() {
                self.out.push_back(Output::Event(Event::ForeignAdvert {
                    instance: inst.spec.name.clone(),
                    vrid: inst.spec.vrid,
                    src: advert.src,
                    count: inst.counters.local_source_adverts,
                }));
            }
            return;
        }
        inst.counters.adverts_received += 1;
        if !matches {
            inst.counters.address_list_mismatches += 1;
            if inst.mismatch_log.pass(now).is_some() {
                self.out
                    .push_back(Output::Event(Event::AddressListMismatch {
                        instance: inst.spec.name.clone(),
                        src: advert.src,
                        count: inst.counters.address_list_mismatches,
                    }));
            }
        }
        let was_master = inst.fsm.state() == State::Master && advert.priority != 0;
        self.feed(now, i, FsmEvent::Advert(advert), None);
        let inst = &mut self.instances[i];
        // Only the master that stays can tell a split brain from a handover: right after a
        // takeover the old master's adverts still cross ours for up to one of its intervals.
        // The one that steps down cannot tell, and its state change already says why.
        let overlap = inst
            .master_since
            .is_some_and(|since| now < since + advert.interval.to_duration());
        if was_master && inst.fsm.state() == State::Master && !overlap {
            inst.counters.master_conflicts += 1;
            if inst.conflict_log.pass(now).is_none() {
                return;
            }
            self.out.push_back(Output::Event(Event::MasterConflict {
                instance: inst.spec.name.clone(),
                peer: advert.src,
                peer_priority: advert.priority,
                priority: inst.fsm.effective_priority(),
            }));
            // Clients that followed the other master come back now, not at the next
            // announcement.
            self.announce(now, i);
        }
    }

    fn on_address_added(&mut self, i: InstanceId, address: VirtualAddress, created: bool) {
        let Some(inst) = self.instances.get_mut(i) else {
            return;
        };
        if !created {
            // There already: whoever put it there owns it, unless it is one this instance
            // added before (then it stays held).
            return;
        }
        let on = inst.spec.vmac.as_ref().unwrap_or(&inst.spec.interface);
        let Some(state) = self.links.get_mut(on) else {
            return;
        };
        if inst.fsm.state() != State::Master {
            // Added for a role the instance lost before the answer came back (a fault
            // found later in the same step): it is ours, and it must go again.
            let ifindex = state.index;
            self.out.push_back(Output::RemoveAddress {
                instance: i,
                ifindex,
                address,
            });
            return;
        }
        if !inst.held.iter().any(|(_, a)| *a == address) {
            inst.held.push((state.index, address));
        }
        // The kernel's own report follows; until then the view must not say it is missing.
        if !state.addrs.iter().any(|a| a.addr == address.addr) {
            state.addrs.push(IfAddr {
                addr: address.addr,
                prefix_len: address.prefix_len,
                secondary: false,
                tentative: false,
                by_vipd: true,
            });
        }
    }

    fn on_check(&mut self, now: Duration, t: TrackId, result: CheckResult) {
        let Some(tracker) = self.tracks.get_mut(t).filter(|t| !t.retired) else {
            return;
        };
        tracker.running = false;
        let value_before = tracker.verdict.value;
        let changed = tracker
            .verdict
            .apply(result, tracker.spec.rise, tracker.spec.fall);
        if !changed && tracker.verdict.value == value_before {
            return;
        }
        self.out.push_back(Output::Event(Event::TrackChange {
            track: tracker.spec.name.clone(),
            healthy: tracker.verdict.healthy,
            result: tracker.verdict.last.clone(),
        }));
        if !self.started {
            return;
        }
        let recovered = changed && self.tracks[t].verdict.healthy;
        for u in 0..self.tracks[t].users.len() {
            let i = self.tracks[t].users[u];
            if recovered && !self.instances[i].faults.any() {
                self.instances[i].ready_since = Some(now);
            }
            self.reconcile(now, i);
        }
    }

    fn on_shutdown(&mut self, now: Duration) {
        // A later Start joins again (a process that stops and starts over).
        self.started = false;
        self.mark_all();
        for i in 0..self.instances.len() {
            if self.instances[i].retired {
                continue;
            }
            self.stop_instance(now, i, None);
        }
        for t in &mut self.tracks {
            t.next_check = None;
        }
    }

    /// Instance `i` stops (the agent exits, or a reload removes it): a master releases with
    /// priority 0; whatever the state machine thought, nothing vipd added outlives it.
    fn stop_instance(&mut self, now: Duration, i: InstanceId, reason: Option<Reason>) {
        self.feed(now, i, FsmEvent::Shutdown, reason);
        self.remove_held(i);
        self.delete_vmac(i);
        let inst = &mut self.instances[i];
        inst.announce_at = None;
        inst.refresh_at = None;
        inst.ready_since = None;
        inst.master_since = None;
    }

    // ----- the rules -------------------------------------------------------------------------

    /// Bring instance `i` in line with its interface, its trackers and its group: FAULT and
    /// its causes, the effective priority, whether it may preempt.
    fn reconcile(&mut self, now: Duration, i: InstanceId) {
        if !self.started {
            return;
        }
        let before = self.instances[i].faults;
        let faults = Faults {
            interface: self.instances[i].usable.is_none(),
            track: self.failed_fault_track(i),
            group: self.group_faulted(i),
        };
        self.instances[i].faults = faults;
        let effective = self.effective_priority(i);
        let inst = &self.instances[i];
        if effective != inst.fsm.effective_priority() {
            self.out.push_back(Output::Event(Event::PriorityChange {
                instance: inst.spec.name.clone(),
                from: inst.fsm.effective_priority(),
                to: effective,
            }));
            self.feed(now, i, FsmEvent::SetPriority(effective), None);
        }
        let target = if faults.any() {
            None
        } else {
            self.instances[i].usable
        };
        if target != self.instances[i].told {
            let reason = faults.reason(faults.any(), before);
            self.instances[i].told = target;
            self.feed(now, i, FsmEvent::Interface(target), Some(reason));
        }
        self.update_preempt(now, i);
        if faults.own() != before.own() {
            // The others' group cause follows this one's own causes.
            for m in self.group_members(i) {
                self.reconcile(now, m);
            }
        }
    }

    /// preempt_delay: a backup preempts only once it has run that long since it started,
    /// left FAULT, or saw one of its trackers recover (its service's caches are cold then).
    /// A tracker that stays failed only lowers the priority; it does not hold preemption
    /// back for ever.
    fn update_preempt(&mut self, now: Duration, i: InstanceId) {
        self.timers.mark(i);
        let inst = &mut self.instances[i];
        if inst.faults.any() {
            inst.ready_since = None;
        } else if inst.ready_since.is_none() {
            inst.ready_since = Some(now);
        }
        let delay = inst.spec.preempt_delay;
        let allowed = inst.spec.preempt
            && (delay.is_zero() || inst.ready_since.is_some_and(|since| now >= since + delay));
        if allowed != inst.fsm.params().preempt {
            self.feed(now, i, FsmEvent::SetPreempt(allowed), None);
        }
    }

    /// When a waiting backup's preempt_delay ends.
    fn preempt_due(inst: &Instance) -> Option<Duration> {
        let since = inst.ready_since?;
        (inst.spec.preempt && !inst.fsm.params().preempt).then(|| since + inst.spec.preempt_delay)
    }

    fn effective_priority(&self, i: InstanceId) -> u8 {
        let inst = &self.instances[i];
        let contributions = inst.spec.track.iter().filter_map(|u| {
            let t = self.tracks.get(u.track)?;
            Some(t.verdict.contribution(t.spec.kind, u.weight))
        });
        track::effective_priority(inst.spec.priority, contributions)
    }

    /// The first weight-0 tracker of instance `i` that is failing.
    fn failed_fault_track(&self, i: InstanceId) -> Option<TrackId> {
        self.instances[i]
            .spec
            .track
            .iter()
            .find(|u| {
                self.tracks
                    .get(u.track)
                    .is_some_and(|t| t.verdict.faults(u.weight))
            })
            .map(|u| u.track)
    }

    fn group_members(&self, i: InstanceId) -> Vec<InstanceId> {
        let Some(g) = self.instances[i].group else {
            return Vec::new();
        };
        self.groups[g]
            .spec
            .members
            .iter()
            .copied()
            .filter(|&m| m != i && m < self.instances.len())
            .collect()
    }

    /// Another member of `i`'s group is in FAULT for a cause of its own.
    fn group_faulted(&self, i: InstanceId) -> bool {
        self.group_members(i)
            .into_iter()
            .any(|m| self.instances[m].faults.own())
    }

    /// A sync group goes master together: a member whose timer ran out takes over only when
    /// every other member is master already, or due too (held back, or its timer ran out).
    fn fsm_timeout(&mut self, now: Duration, i: InstanceId) {
        self.timers.mark(i);
        let inst = &self.instances[i];
        if let (State::Backup, Some(g)) = (inst.fsm.state(), inst.group) {
            if !self.group_ready(now, i) {
                self.feed(now, i, FsmEvent::HoldTakeover, None);
                return;
            }
            if let Some(at) = self.release_after_loss(now, i, g) {
                // Two routers whose election order is crossed between the LANs both lose
                // one LAN, and their timers run out together again and again. Waiting a
                // share of an interval that depends on the address breaks the tie: the
                // first to take over is heard by the other before its own turn.
                self.groups[g].release_at = Some(at);
                self.feed(now, i, FsmEvent::HoldTakeover, None);
                return;
            }
        }
        self.instances[i].fsm.handle_timeout(now, &mut self.actions);
        self.execute(now, i, None);
    }

    /// Every other member of `i`'s group is master, or a backup that is due.
    fn group_ready(&self, now: Duration, i: InstanceId) -> bool {
        self.group_members(i).into_iter().all(|m| {
            let fsm = &self.instances[m].fsm;
            fsm.state() == State::Master
                || (fsm.state() == State::Backup
                    && (fsm.takeover_due() || fsm.poll_timeout().is_some_and(|t| t <= now)))
        })
    }

    /// After its group lost a LAN in the last three master-down intervals, when a ready
    /// member may take over: later than now by up to one advert interval, by the last byte of
    /// the group's first member's address (modulo 32). `None`: now.
    fn release_after_loss(&mut self, now: Duration, i: InstanceId, g: usize) -> Option<Duration> {
        let lost = self.groups[g].lost_at?;
        let inst = &self.instances[i];
        let window = 3 * inst.fsm.master_down_interval();
        if now.saturating_sub(lost) > window {
            return None;
        }
        if let Some(at) = self.groups[g].release_at {
            return (at > now).then_some(at);
        }
        // The same member's address for the whole group (its first one's), so that the two
        // routers of a crossed pair, whose addresses are crossed too, still differ.
        let first = self.groups[g].spec.members.first().copied().unwrap_or(i);
        let address = self
            .instances
            .get(first)
            .and_then(|f| f.usable)
            .or(inst.usable)?;
        let last_byte = match address {
            IpAddr::V4(a) => a.octets()[3],
            IpAddr::V6(a) => a.octets()[15],
        };
        // Steps of 1/32 interval (3 ms at 100 ms adverts): wide enough for the first
        // router's advert to arrive before the other's turn.
        let interval = inst.fsm.master_adver_interval().to_duration();
        Some(now + interval * (u32::from(last_byte % 32) + 1) / 32)
    }

    /// A group held after a loss: when its turn comes and it is still ready, every member
    /// takes over together.
    fn release_group(&mut self, now: Duration, g: usize) {
        self.groups[g].release_at = None;
        let members = self.groups[g].spec.members.clone();
        let due = |node: &Node, m: InstanceId| {
            node.instances.get(m).is_some_and(|inst| {
                inst.fsm.state() == State::Master
                    || (inst.fsm.state() == State::Backup
                        && (inst.fsm.takeover_due()
                            || inst.fsm.poll_timeout().is_some_and(|t| t <= now)))
            })
        };
        if !members.iter().all(|&m| due(self, m)) {
            return;
        }
        self.groups[g].lost_at = None;
        for m in members {
            if self.instances[m].fsm.state() == State::Backup {
                self.feed(now, m, FsmEvent::TakeOver, None);
            }
        }
    }

    /// The group follows a member's own move: out of master for backup takes the others'
    /// master roles down, into master brings the due backups along.
    fn follow_group(&mut self, now: Duration, i: InstanceId, from: State, to: State) {
        if let (State::Master, State::Backup, Some(g)) = (from, to, self.instances[i].group) {
            self.groups[g].lost_at = Some(now);
        }
        for m in self.group_members(i) {
            let fsm = &self.instances[m].fsm;
            if from == State::Master && to == State::Backup && fsm.state() == State::Master {
                self.feed(now, m, FsmEvent::StepDown, None);
            } else if to == State::Master
                && fsm.state() == State::Backup
                && (fsm.takeover_due() || fsm.poll_timeout().is_some_and(|t| t <= now))
            {
                self.feed(now, m, FsmEvent::TakeOver, None);
            }
        }
    }

    // ----- carrying out the state machine's actions -----------------------------------------

    fn feed(&mut self, now: Duration, i: InstanceId, event: FsmEvent, reason: Option<Reason>) {
        self.timers.mark(i);
        self.instances[i].fsm.handle(now, event, &mut self.actions);
        self.execute(now, i, reason);
    }

    /// `reason`: what the node knows better than the state machine (why FAULT came or went).
    fn execute(&mut self, now: Duration, i: InstanceId, reason: Option<Reason>) {
        let mut actions = std::mem::take(&mut self.actions);
        let mut moved = None;
        let mut lift_filter = false;
        for action in actions.drain(..) {
            match action {
                Action::SendAdvert { priority } => {
                    if let Some(src) = self.instances[i].usable {
                        self.out.push_back(Output::Send {
                            instance: i,
                            src,
                            priority,
                        });
                    }
                }
                Action::AddAddresses => self.ensure_addresses(i),
                Action::RemoveAddresses => self.remove_held(i),
                Action::Announce => self.announce(now, i),
                Action::StateChanged {
                    from,
                    to,
                    reason: fsm_reason,
                } => {
                    let reason = match (reason, fsm_reason) {
                        (
                            Some(r),
                            Reason::InterfaceDown | Reason::InterfaceUp | Reason::Shutdown,
                        ) => r,
                        _ => fsm_reason,
                    };
                    let inst = &mut self.instances[i];
                    inst.counters.transitions += 1;
                    inst.master_since = (to == State::Master).then_some(now);
                    if to != State::Master {
                        inst.announce_at = None;
                    }
                    if !inst.spec.accept_mode && inst.spec.priority != OWNER_PRIORITY {
                        // Before the addresses go on at a takeover, after they went at a
                        // release (below): they never accept traffic in between.
                        if to == State::Master {
                            let drop = inst.spec.addresses.iter().map(|a| a.addr).collect();
                            self.out
                                .push_back(Output::AcceptFilter { instance: i, drop });
                        } else if from == State::Master {
                            lift_filter = true;
                        }
                    }
                    inst.refresh_at = match (to, inst.spec.garp_refresh) {
                        (State::Master, Some(every)) => Some(now + every),
                        _ => None,
                    };
                    self.out.push_back(Output::Event(Event::StateChange {
                        instance: inst.spec.name.clone(),
                        from,
                        to,
                        reason,
                        priority: inst.spec.priority,
                        effective_priority: inst.fsm.effective_priority(),
                    }));
                    self.out.push_back(Output::Notify {
                        target: Target::Instance(i),
                        from,
                        to,
                        reason,
                        priority: inst.fsm.effective_priority(),
                    });
                    if reason != Reason::SyncGroup {
                        moved = Some((from, to));
                    }
                }
            }
        }
        self.actions = actions;
        if lift_filter {
            self.out.push_back(Output::AcceptFilter {
                instance: i,
                drop: Vec::new(),
            });
        }
        if let Some((from, to)) = moved {
            self.follow_group(now, i, from, to);
        }
        self.notify_group(i);
    }

    /// A group is notified when its members come to agree on a new state (keepalived's
    /// vrrp_sync_group notify): not for each member, and not while they are in transit.
    fn notify_group(&mut self, i: InstanceId) {
        let Some(g) = self.instances[i].group else {
            return;
        };
        let mut states = self.groups[g]
            .spec
            .members
            .iter()
            .filter_map(|&m| self.instances.get(m).map(|inst| inst.fsm.state()));
        let Some(first) = states.next() else {
            return;
        };
        if !states.all(|s| s == first) || self.groups[g].state == first {
            return;
        }
        let from = std::mem::replace(&mut self.groups[g].state, first);
        let priority = self.instances[i].fsm.effective_priority();
        self.out.push_back(Output::Notify {
            target: Target::Group(g),
            from,
            to: first,
            reason: Reason::SyncGroup,
            priority,
        });
    }

    /// Put the master's addresses on its interface. One already there stays: if vipd's tag
    /// is on it, it is adopted; if not, it is the host's and is left to the host.
    /// A held one that is missing vanished underneath the master (an operator, another
    /// tool, or the kernel taking a subnet's secondaries along with its primary): it is put
    /// back, and said so.
    fn ensure_addresses(&mut self, i: InstanceId) {
        let inst = &mut self.instances[i];
        let on = inst.spec.vmac.as_ref().unwrap_or(&inst.spec.interface);
        let Some(state) = self.links.get(on) else {
            if inst.spec.vmac.is_some() && !inst.vmac_asked {
                self.create_vmac(i);
            }
            return;
        };
        // With a virtual MAC an address the host itself has on the parent (an owner's)
        // stays there, and is not added twice.
        let parent = self.links.get(&inst.spec.interface);
        let hosts = |addr: IpAddr| {
            inst.spec.vmac.is_some()
                && parent.is_some_and(|p| p.addrs.iter().any(|a| a.addr == addr && !a.by_vipd))
        };
        if inst.spec.vmac.is_some() && !inst.vmac_up {
            inst.vmac_up = true;
            self.out.push_back(Output::SetVmacUp {
                instance: i,
                ifindex: state.index,
                up: true,
            });
        }
        for address in &inst.spec.addresses {
            let held = inst.held.iter().any(|(_, a)| a == address);
            if hosts(address.addr) {
                continue;
            }
            match state.addrs.iter().find(|a| a.addr == address.addr) {
                Some(found) if found.by_vipd && !held => inst.held.push((state.index, *address)),
                Some(_) => {}
                None => {
                    if held {
                        self.out.push_back(Output::Event(Event::AddressVanished {
                            instance: inst.spec.name.clone(),
                            address: *address,
                        }));
                    }
                    self.out.push_back(Output::AddAddress {
                        instance: i,
                        ifindex: state.index,
                        address: *address,
                    });
                }
            }
        }
    }

    fn remove_held(&mut self, i: InstanceId) {
        for (ifindex, address) in std::mem::take(&mut self.instances[i].held) {
            self.remove_address(i, ifindex, address);
        }
        if self.instances[i].vmac_up {
            self.instances[i].vmac_up = false;
            if let Some(ifindex) = self.address_link(i).map(|s| s.index) {
                self.out.push_back(Output::SetVmacUp {
                    instance: i,
                    ifindex,
                    up: false,
                });
            }
        }
    }

    fn remove_address(&mut self, i: InstanceId, ifindex: u32, address: VirtualAddress) {
        // The kernel's own report follows; until then the view must not offer the address
        // for adoption by a quick retake (it would never be added again).
        let spec = &self.instances[i].spec;
        let on = spec.vmac.as_ref().unwrap_or(&spec.interface);
        if let Some(state) = self.links.get_mut(on) {
            state.addrs.retain(|a| a.addr != address.addr);
        }
        self.out.push_back(Output::RemoveAddress {
            instance: i,
            ifindex,
            address,
        });
    }

    /// At start: an address carrying vipd's tag is a crashed run's leftover (two hosts would
    /// answer for it): removed. One without the tag is the host's: never touched.
    fn remove_leftovers(&mut self, i: InstanceId) {
        if self.instances[i].spec.vmac.is_some() {
            self.replace_vmac(i);
            return;
        }
        let inst = &self.instances[i];
        let Some(state) = self.links.get(&inst.spec.interface) else {
            return;
        };
        let mut leftovers = Vec::new();
        for address in &inst.spec.addresses {
            let Some(found) = state.addrs.iter().find(|a| a.addr == address.addr) else {
                continue;
            };
            let held = |other: &Instance| other.held.iter().any(|(_, a)| a.addr == found.addr);
            if self.instances.iter().any(held) {
                // Another instance's, moved here by a reload: that one lets it go.
                continue;
            }
            let instance = inst.spec.name.clone();
            if found.by_vipd {
                // With the prefix found: the kernel matches both, and the configuration may
                // have changed since the address was added.
                let address = VirtualAddress {
                    addr: found.addr,
                    prefix_len: found.prefix_len,
                };
                leftovers.push((state.index, address));
            } else if inst.spec.priority != OWNER_PRIORITY {
                self.out.push_back(Output::Event(Event::HostAddress {
                    instance,
                    address: *address,
                }));
            }
        }
        for (ifindex, address) in leftovers {
            self.remove_address(i, ifindex, address);
            let instance = self.instances[i].spec.name.clone();
            self.out
                .push_back(Output::Event(Event::LeftoverRemoved { instance, address }));
        }
    }

    /// At start (and when a reload adds it), a virtual-MAC instance gets a fresh macvlan:
    /// one of that name a crashed run left goes, and its addresses with it.
    fn replace_vmac(&mut self, i: InstanceId) {
        let inst = &self.instances[i];
        if let Some(old) = inst.spec.vmac.as_ref().and_then(|n| self.links.get(n)) {
            let instance = inst.spec.name.clone();
            for a in old.addrs.iter().filter(|a| a.by_vipd) {
                let address = VirtualAddress {
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                };
                self.out.push_back(Output::Event(Event::LeftoverRemoved {
                    instance: instance.clone(),
                    address,
                }));
            }
        }
        self.create_vmac(i);
    }

    fn announce(&mut self, now: Duration, i: InstanceId) {
        self.timers.mark(i);
        if !self.emit_announce(i, ANNOUNCE_BURST) {
            return;
        }
        // The first burst arms one repeat; the repeat arms nothing.
        let inst = &mut self.instances[i];
        if inst.announce_at.is_none() && inst.fsm.state() == State::Master {
            inst.announce_at = Some(now + ANNOUNCE_REPEAT_AFTER);
        }
    }

    /// Announce instance `i`'s addresses from where they live; false if they cannot be
    /// (no such interface now, or no MAC).
    fn emit_announce(&mut self, i: InstanceId, count: u8) -> bool {
        let Some((ifindex, Some(mac))) = self.address_link(i).map(|s| (s.index, s.mac)) else {
            return false;
        };
        self.out.push_back(Output::Announce {
            instance: i,
            ifindex,
            mac,
            count,
        });
        true
    }

    /// The address instance `i` can speak from, if its interface can carry VRRP now: the
    /// IPv4 primary or the IPv6 link-local, never an address vipd added (it moves with the
    /// role). The owner's own address, which the host configured, is a real source.
    fn usable_address(&self, i: InstanceId) -> Option<IpAddr> {
        let spec = &self.instances[i].spec;
        let state = self.links.get(&spec.interface).filter(|s| s.up)?;
        let added_here = |a: &IpAddr| {
            self.instances.iter().any(|inst| {
                inst.spec.interface == spec.interface && inst.held.iter().any(|(_, v)| v.addr == *a)
            })
        };
        state
            .addrs
            .iter()
            .filter(|a| !a.tentative && !a.by_vipd && !added_here(&a.addr))
            .find(|a| match (spec.family, a.addr) {
                (Family::V4, IpAddr::V4(_)) => !a.secondary,
                (Family::V6, IpAddr::V6(v6)) => v6.is_unicast_link_local(),
                _ => false,
            })
            .map(|a| a.addr)
    }

    // ----- reports ---------------------------------------------------------------------------

    pub fn report(&self, i: InstanceId) -> Option<InstanceReport> {
        let inst = self.instances.get(i).filter(|inst| !inst.retired)?;
        let f = inst.faults;
        let mut fault_causes = Vec::new();
        if inst.fsm.state() == State::Fault {
            if f.interface {
                fault_causes.push("interface".to_owned());
            }
            if let Some(t) = f.track.and_then(|t| self.tracks.get(t)) {
                fault_causes.push(format!("track:{}", t.spec.name));
            }
            if let (true, Some(g)) = (f.group, inst.group) {
                fault_causes.push(format!("sync_group:{}", self.groups[g].spec.name));
            }
        }
        Some(InstanceReport {
            name: inst.spec.name.clone(),
            state: inst.fsm.state(),
            priority: inst.spec.priority,
            effective_priority: inst.fsm.effective_priority(),
            master_address: inst.fsm.master_address(),
            master_advert_interval: inst.fsm.master_adver_interval(),
            fault_causes,
            sync_group: inst.group.map(|g| self.groups[g].spec.name.clone()),
            adverts_received: inst.counters.adverts_received,
            address_list_mismatches: inst.counters.address_list_mismatches,
            local_source_adverts: inst.counters.local_source_adverts,
            master_conflicts: inst.counters.master_conflicts,
            transitions: inst.counters.transitions,
        })
    }

    pub fn track_reports(&self) -> Vec<TrackReport> {
        self.tracks
            .iter()
            .filter(|t| !t.retired)
            .map(|t| TrackReport {
                name: t.spec.name.clone(),
                kind: t.spec.kind,
                verdict: t.verdict.clone(),
            })
            .collect()
    }

    pub fn group_reports(&self) -> Vec<GroupReport> {
        self.groups
            .iter()
            .filter(|g| !g.retired)
            .map(|g| &g.spec)
            .map(|g| {
                let states: Vec<State> = g
                    .members
                    .iter()
                    .filter_map(|&m| self.instances.get(m).map(|i| i.fsm.state()))
                    .collect();
                let state = match states.first() {
                    Some(first) if states.iter().all(|s| s == first) => first.name().to_owned(),
                    _ => "mixed".to_owned(),
                };
                GroupReport {
                    name: g.name.clone(),
                    members: g
                        .members
                        .iter()
                        .filter_map(|&m| self.instances.get(m).map(|i| i.spec.name.clone()))
                        .collect(),
                    state,
                }
            })
            .collect()
    }
}

impl Serialize for VirtualAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VirtualAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

mod reload;
mod timers;
pub use reload::{InstanceChange, InstanceReload, ReloadSummary, Slots, place, same_router};

#[cfg(test)]
mod tests;

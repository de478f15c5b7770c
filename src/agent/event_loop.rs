//! The agent: a single-threaded tokio event loop that owns every instance's state machine and
//! carries out their actions (adverts, addresses, announcements). Inputs are adverts from the
//! receive tasks, interface changes from netlink, timers, signals and status requests.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::agent::control::{self, InstanceStatus, ReceiveStatus, Status, StatusRequest};
use crate::agent::lock;
use crate::agent::netlink::{Added, Change, IfState, Netlink};
use crate::agent::network::{self, FrameSocket, VrrpSocket};
use crate::agent::receive::{self, Inbound, RxStats, VridTable};
use crate::config::{Config, InstanceConfig, VirtualAddress};
use crate::protocol::announce;
use crate::protocol::fsm::{Action, Event, Fsm, OWNER_PRIORITY, Params, State};
use crate::protocol::packet::{self, AdvertOut};
use crate::protocol::throttle::Throttle;
use crate::protocol::units::Family;

/// Announcements on takeover: a burst per address, repeated once after a delay so that
/// hosts whose neighbour entry was locked (Linux locktime) during the first burst follow too.
const ANNOUNCE_BURST: usize = 5;
const ANNOUNCE_REPEAT_AFTER: Duration = Duration::from_secs(5);
/// Netlink can lose events (overruns, messages it cannot parse): re-read every interface
/// this often so a missed carrier change cannot leave an instance in the wrong state.
const RESYNC_INTERVAL: Duration = Duration::from_secs(5);
/// How often an address-list mismatch from a peer is logged per instance.
const MISMATCH_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// How often a master that still cannot send says so again.
const SEND_FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// How often adverts from another agent on this host are logged per instance.
const LOCAL_SOURCE_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Linux capability numbers (linux/capability.h) of what the agent needs.
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

#[derive(Default)]
struct Counters {
    adverts_received: u64,
    adverts_sent: u64,
    send_errors: u64,
    address_list_mismatches: u64,
    transitions: u64,
    local_source_adverts: u64,
}

/// Whether adverts go out. A master that cannot send (an output firewall, a dead link
/// driver) looks dead to its backups, which take over: two hosts then hold the addresses,
/// so the operator must hear of it at once, and again until it ends.
struct SendHealth {
    /// The current run of failures: when it started, how many, the last error.
    failing: Option<(Duration, u64, String)>,
    log: Throttle,
}

impl SendHealth {
    fn new() -> SendHealth {
        SendHealth {
            failing: None,
            log: Throttle::new(SEND_FAILURE_LOG_INTERVAL),
        }
    }

    fn failed(&mut self, now: Duration, name: &str, dst: IpAddr, error: &std::io::Error) {
        let (since, count, last) = self.failing.get_or_insert_with(|| (now, 0, String::new()));
        *count += 1;
        *last = error.to_string();
        let (since, count) = (*since, *count);
        if self.log.pass(now).is_some() {
            tracing::warn!(instance = %name, %dst, %error, failures = count, failing_for = ?now.saturating_sub(since),
                "cannot send adverts: backups will take this host for dead and take over");
        }
    }

    fn sent(&mut self, now: Duration, name: &str) {
        if let Some((since, count, _)) = self.failing.take() {
            self.log.reset();
            tracing::warn!(instance = %name, failures = count, failed_for = ?now.saturating_sub(since),
                "adverts go out again");
        }
    }
}

struct Instance {
    cfg: InstanceConfig,
    addresses: Vec<IpAddr>,
    fsm: Fsm,
    /// Index into `Agent::links`.
    link: usize,
    /// The tie-break / source address last given to the state machine.
    local: Option<IpAddr>,
    /// The addresses vipd added (ifindex, address) and so must remove when it lets go.
    /// An address that was there before (the owner's own, or one the host configured) is
    /// never in here and never removed.
    held: Vec<(u32, VirtualAddress)>,
    announce_again_at: Option<Duration>,
    mismatch_log: Throttle,
    local_source_log: Throttle,
    send: SendHealth,
    counters: Counters,
}

/// One (interface, family) pair: the socket that serves all its VRIDs.
struct Link {
    interface: String,
    family: Family,
    /// The interface as netlink last described it; `None` while it does not exist.
    state: Option<IfState>,
    socket: Option<Arc<VrrpSocket>>,
    reader: Option<JoinHandle<()>>,
    /// We turned `promote_secondaries` on for this interface and turn it off at exit.
    promoted_secondaries: bool,
    table: Arc<VridTable>,
    stats: Arc<RxStats>,
}

pub struct Agent {
    router_id: String,
    epoch: Instant,
    instances: Vec<Instance>,
    links: Vec<Link>,
    netlink: Netlink,
    frames: FrameSocket,
    inbound_tx: mpsc::Sender<Inbound>,
    actions: Vec<Action>,
    tx_buf: Vec<u8>,
}

/// Run the agent until SIGTERM/SIGINT. Errors are fatal start-up problems (exit 1).
pub async fn run(config: Config, config_path: &Path) -> Result<(), String> {
    check_capabilities()?;
    let socket_path = &config.global.control_socket;
    // Before anything is touched: a second agent must not get as far as "cleaning up" the
    // first one's addresses, and a bad socket path must not surface after the election.
    let _locks = lock::acquire(config_path, socket_path)?;
    let listener = control::bind(socket_path, config.global.control_group.as_deref())?;
    let (netlink, mut changes) =
        Netlink::open().map_err(|e| format!("cannot open netlink: {e}"))?;
    let frames =
        FrameSocket::open().map_err(|e| format!("cannot open the announcement socket: {e}"))?;
    let (inbound_tx, mut inbound) = mpsc::channel(4096);
    let (status_tx, mut status_rx) = mpsc::channel::<StatusRequest>(16);
    let mut agent = Agent::new(&config, netlink, frames, inbound_tx);
    let mut signals = Signals::new()?;

    agent.start().await?;
    control::serve(listener, status_tx);
    tracing::info!(
        instances = agent.instances.len(),
        control_socket = %socket_path.display(),
        "vipd running"
    );

    let mut resync = tokio::time::interval(RESYNC_INTERVAL);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let deadline = agent.next_deadline();
        tokio::select! {
            signal = signals.next() => match signal {
                Signal::Stop => break,
                Signal::Reload => {
                    tracing::warn!("SIGHUP: configuration reload is not supported yet; ignoring");
                }
                Signal::DumpStatus => agent.log_status(),
                Signal::DumpCounters => agent.log_counters(),
                Signal::Ignored(name) => tracing::info!(signal = name, "signal ignored"),
            },
            Some(msg) = inbound.recv() => agent.on_advert(msg).await,
            Some(change) = changes.recv() => agent.on_change(change).await,
            Some(reply) = status_rx.recv() => { let _ = reply.send(agent.status()); }
            _ = tokio::time::sleep_until(deadline) => agent.on_timers().await,
            _ = resync.tick() => agent.resync().await,
        }
    }
    agent.shutdown().await;
    let _ = std::fs::remove_file(socket_path);
    Ok(())
}

/// Without CAP_NET_RAW and CAP_NET_ADMIN nothing works; say so plainly rather than fail
/// later with a bare "Operation not permitted".
fn check_capabilities() -> Result<(), String> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Ok(());
    };
    let Some(effective) = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
    else {
        return Ok(());
    };
    let missing: Vec<&str> = [
        (CAP_NET_RAW, "CAP_NET_RAW"),
        (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
    ]
    .into_iter()
    .filter(|(bit, _)| effective & (1 << bit) == 0)
    .map(|(_, name)| name)
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "vipd run needs CAP_NET_RAW (raw VRRP sockets, ARP) and CAP_NET_ADMIN (addresses); \
         this process lacks {}: run it as root or through its systemd unit \
         (systemd/vipd.service grants exactly these two)",
        missing.join(" and ")
    ))
}

/// The signals the agent acts on. Every signal an operator or a keepalived-era tool may
/// send has a handler, so none of them kills the agent without its clean exit (which would
/// leave the addresses on this host while a backup takes them too). SIGPIPE is ignored by
/// the Rust runtime before `main`.
enum Signal {
    /// SIGTERM, SIGINT: release and exit.
    Stop,
    /// SIGHUP.
    Reload,
    /// SIGUSR1: every instance's state to the log (keepalived writes a data file).
    DumpStatus,
    /// SIGUSR2: every instance's counters to the log (keepalived writes a stats file).
    DumpCounters,
    Ignored(&'static str),
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
    alrm: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, String> {
        let listen = |kind: SignalKind| {
            signal(kind).map_err(|e| format!("cannot install a signal handler: {e}"))
        };
        Ok(Signals {
            term: listen(SignalKind::terminate())?,
            int: listen(SignalKind::interrupt())?,
            hup: listen(SignalKind::hangup())?,
            usr1: listen(SignalKind::user_defined1())?,
            usr2: listen(SignalKind::user_defined2())?,
            alrm: listen(SignalKind::alarm())?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
            _ = self.hup.recv() => Signal::Reload,
            _ = self.usr1.recv() => Signal::DumpStatus,
            _ = self.usr2.recv() => Signal::DumpCounters,
            _ = self.alrm.recv() => Signal::Ignored("SIGALRM"),
        }
    }
}

impl Agent {
    fn new(
        config: &Config,
        netlink: Netlink,
        frames: FrameSocket,
        inbound_tx: mpsc::Sender<Inbound>,
    ) -> Agent {
        let mut links: Vec<Link> = Vec::new();
        let mut instances = Vec::new();
        for cfg in &config.instances {
            let key = (cfg.interface.as_str(), cfg.family);
            let link = match links
                .iter()
                .position(|l| (l.interface.as_str(), l.family) == key)
            {
                Some(i) => i,
                None => {
                    links.push(Link {
                        interface: cfg.interface.clone(),
                        family: cfg.family,
                        state: None,
                        socket: None,
                        reader: None,
                        promoted_secondaries: false,
                        table: Arc::new(VridTable::new(std::iter::empty())),
                        stats: Arc::default(),
                    });
                    links.len() - 1
                }
            };
            instances.push(Instance {
                addresses: cfg.virtual_addresses.iter().map(|v| v.addr).collect(),
                fsm: Fsm::new(Params {
                    version: cfg.version,
                    priority: cfg.priority,
                    advert_interval: cfg.advert_interval,
                    preempt: cfg.preempt,
                }),
                cfg: cfg.clone(),
                link,
                local: None,
                held: Vec::new(),
                announce_again_at: None,
                mismatch_log: Throttle::new(MISMATCH_LOG_INTERVAL),
                local_source_log: Throttle::new(LOCAL_SOURCE_LOG_INTERVAL),
                send: SendHealth::new(),
                counters: Counters::default(),
            });
        }
        for (li, link) in links.iter_mut().enumerate() {
            let members = instances
                .iter()
                .enumerate()
                .filter(|(_, inst)| inst.link == li)
                .map(|(i, inst)| (i, &inst.cfg));
            link.table = Arc::new(VridTable::new(members));
        }
        Agent {
            router_id: config.global.router_id.clone(),
            epoch: Instant::now(),
            instances,
            links,
            netlink,
            frames,
            inbound_tx,
            actions: Vec::new(),
            tx_buf: Vec::with_capacity(1500),
        }
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Clean up what a crashed predecessor left, learn the interfaces, join the elections.
    async fn start(&mut self) -> Result<(), String> {
        for li in 0..self.links.len() {
            let name = self.links[li].interface.clone();
            match self.netlink.interface(&name).await {
                Ok(Some(state)) => {
                    self.remove_leftovers(li, &state).await;
                    self.refresh_link(li, Some(state))
                        .map_err(|e| format!("interface {name}: {e}"))?;
                }
                Ok(None) => {
                    tracing::warn!(interface = %name, "interface does not exist (yet): instances on it start in fault");
                }
                Err(e) => return Err(format!("interface {name}: {e}")),
            }
        }
        let now = self.now();
        for i in 0..self.instances.len() {
            let local = self.usable_address(i);
            self.instances[i].local = local;
            self.feed(i, now, Event::Interface(local)).await;
            self.feed(i, now, Event::Startup).await;
        }
        Ok(())
    }

    /// A virtual address that a previous run added (it carries vipd's address tag) and
    /// left behind when it died would make two hosts answer for it: remove it. An address
    /// without the tag belongs to the host (the owner's own address, or one an operator
    /// configured) and is never touched.
    async fn remove_leftovers(&mut self, li: usize, state: &IfState) {
        for inst in self.instances.iter().filter(|inst| inst.link == li) {
            for found in state
                .addrs
                .iter()
                .filter(|a| inst.addresses.contains(&a.addr))
            {
                let (addr, prefix) = (found.addr, found.prefix_len);
                if !found.by_vipd {
                    if inst.cfg.priority != OWNER_PRIORITY {
                        tracing::warn!(instance = %inst.cfg.name, %addr, interface = %state.name,
                            "virtual address is already on the interface and vipd did not add it: \
                             left alone, and never removed, so this host answers for it even as \
                             backup; remove it, or make this host the owner (priority 255)");
                    }
                    continue;
                }
                tracing::info!(instance = %inst.cfg.name, %addr, prefix, "removing a virtual address left by a previous run");
                // Delete with the prefix found on the interface: the kernel matches both,
                // and the configuration may have changed since the address was added.
                if let Err(e) = self.netlink.del_address(state.index, addr, prefix).await {
                    tracing::warn!(instance = %inst.cfg.name, %addr, error = %e, "cannot remove leftover address");
                }
            }
        }
    }

    /// Take in a fresh view of a link; (re)open its socket when the interface index changed.
    fn refresh_link(&mut self, li: usize, state: Option<IfState>) -> std::io::Result<()> {
        let inbound_tx = self.inbound_tx.clone();
        let link = &mut self.links[li];
        let old_index = link.state.as_ref().map(|s| s.index);
        let new_index = state.as_ref().map(|s| s.index);
        link.state = state;
        if old_index == new_index && link.socket.is_some() {
            return Ok(());
        }
        if let Some(reader) = link.reader.take() {
            reader.abort();
        }
        link.socket = None;
        let Some(index) = new_index else {
            return Ok(());
        };
        let socket = Arc::new(VrrpSocket::open(link.family, &link.interface, index)?);
        if link.family == Family::V4 {
            // Without it, releasing the VIP that is the kernel's primary of its subnet would
            // delete the other instances' VIPs of that subnet with it.
            match network::enable_promote_secondaries(&link.interface) {
                Ok(changed) => link.promoted_secondaries |= changed,
                Err(e) => {
                    tracing::warn!(interface = %link.interface, error = %e, "cannot enable promote_secondaries")
                }
            }
        }
        link.reader = Some(tokio::spawn(receive::read_loop(
            socket.clone(),
            link.interface.clone(),
            link.family,
            link.table.clone(),
            link.stats.clone(),
            inbound_tx,
        )));
        link.socket = Some(socket);
        Ok(())
    }

    /// The address instance `i` can speak from, if its interface can carry VRRP now.
    fn usable_address(&self, i: usize) -> Option<IpAddr> {
        let link = &self.links[self.instances[i].link];
        link.socket.as_ref()?;
        let state = link.state.as_ref().filter(|s| s.up)?;
        // Never speak from an address vipd added: it moves with the role. The owner's own
        // address, which the host configured, is a real source.
        let added_here = |a: &IpAddr| {
            self.instances.iter().any(|inst| {
                inst.link == self.instances[i].link && inst.held.iter().any(|(_, v)| v.addr == *a)
            })
        };
        state
            .addrs
            .iter()
            .filter(|a| !a.tentative && !a.by_vipd && !added_here(&a.addr))
            .map(|a| (a.addr, a.secondary))
            .find(|(addr, secondary)| match (link.family, addr) {
                // IPv4: the interface's primary address is the source and tie-break key.
                (Family::V4, IpAddr::V4(_)) => !secondary,
                // IPv6: the link-local address (RFC 9568 section 5.1.2.2).
                (Family::V6, IpAddr::V6(v6)) => v6.is_unicast_link_local(),
                _ => false,
            })
            .map(|(addr, _)| addr)
    }

    /// The next time a timer is due, or far in the future when none is armed.
    fn next_deadline(&self) -> Instant {
        let next = self
            .instances
            .iter()
            .flat_map(|inst| [inst.fsm.poll_timeout(), inst.announce_again_at])
            .flatten()
            .min();
        match next {
            Some(d) => self.epoch + d,
            None => Instant::now() + Duration::from_secs(3600),
        }
    }

    async fn on_timers(&mut self) {
        let now = self.now();
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.fsm.poll_timeout().is_some_and(|t| t <= now) {
                inst.fsm.handle_timeout(now, &mut self.actions);
                self.execute(i).await;
            }
            let inst = &mut self.instances[i];
            if inst.announce_again_at.is_some_and(|t| t <= now) {
                inst.announce_again_at = None;
                self.announce(i);
            }
        }
    }

    async fn on_advert(&mut self, msg: Inbound) {
        let now = self.now();
        let Some(inst) = self.instances.get_mut(msg.instance) else {
            return;
        };
        let own = self.links[inst.link]
            .state
            .as_ref()
            .is_some_and(|s| s.addrs.iter().any(|a| a.addr == msg.advert.src));
        if own {
            // vipd never hears itself (multicast loop is off, it never sends to its own
            // addresses), so another VRRP agent on this host runs this VRID. Answering it
            // would be a fight between two agents over one host's addresses: stay out.
            inst.counters.local_source_adverts += 1;
            if let Some(held) = inst.local_source_log.pass(now) {
                tracing::error!(instance = %inst.cfg.name, vrid = inst.cfg.vrid, src = %msg.advert.src,
                    count = inst.counters.local_source_adverts, suppressed = held,
                    "another VRRP agent on this host (keepalived?) advertises this VRID from this \
                     host's own address; ignoring its adverts: stop one of the two");
            }
            return;
        }
        inst.counters.adverts_received += 1;
        if !msg.addresses_match {
            inst.counters.address_list_mismatches += 1;
            if inst.mismatch_log.pass(now).is_some() {
                tracing::warn!(
                    instance = %inst.cfg.name,
                    src = %msg.advert.src,
                    count = inst.counters.address_list_mismatches,
                    "peer advertises a different address list (accepted, RFC 9568); check both configurations"
                );
            }
        }
        self.feed(msg.instance, now, Event::Advert(msg.advert))
            .await;
    }

    /// Netlink says something changed on an interface: re-read it.
    async fn on_change(&mut self, change: Change) {
        let index = match change {
            Change::Link { index } | Change::Addr { index } => index,
        };
        match self.netlink.interface_by_index(index).await {
            Ok(state) => self.apply_interface(index, state).await,
            Err(e) => tracing::warn!(index, error = %e, "cannot read interface state"),
        }
    }

    /// Re-read every configured interface by name.
    async fn resync(&mut self) {
        for li in 0..self.links.len() {
            let name = self.links[li].interface.clone();
            let known = self.links[li].state.as_ref().map(|s| s.index);
            match self.netlink.interface(&name).await {
                Ok(Some(state)) => self.apply_interface(state.index, Some(state)).await,
                Ok(None) => {
                    if let Some(index) = known {
                        self.apply_interface(index, None).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(interface = %name, error = %e, "cannot read interface state")
                }
            }
        }
    }

    /// Take in what interface `index` looks like now (`None`: it is gone) and tell the
    /// instances whose usable address changed.
    async fn apply_interface(&mut self, index: u32, state: Option<IfState>) {
        for li in 0..self.links.len() {
            let link = &self.links[li];
            let ours_now = state.as_ref().is_some_and(|s| s.name == link.interface);
            let ours_before = link.state.as_ref().is_some_and(|s| s.index == index);
            if !ours_now && !ours_before {
                continue;
            }
            let fresh = if ours_now { state.clone() } else { None };
            if fresh.as_ref().map(|s| s.index) != link.state.as_ref().map(|s| s.index) {
                // The interface was renamed away, deleted or replaced: let go while the old
                // socket can still send the priority-0 advert, and remove the addresses
                // from the interface they are on, whatever it is called now.
                self.release_link(li).await;
            }
            if let Err(e) = self.refresh_link(li, fresh) {
                tracing::error!(interface = %self.links[li].interface, error = %e, "cannot open the VRRP socket");
            }
            self.update_instances_on(li).await;
        }
    }

    /// Every instance on link `li` loses its interface.
    async fn release_link(&mut self, li: usize) {
        let now = self.now();
        for i in 0..self.instances.len() {
            if self.instances[i].link == li && self.instances[i].local.is_some() {
                self.feed(i, now, Event::Interface(None)).await;
                self.instances[i].local = None;
            }
        }
    }

    async fn update_instances_on(&mut self, li: usize) {
        let now = self.now();
        for i in 0..self.instances.len() {
            if self.instances[i].link != li {
                continue;
            }
            let local = self.usable_address(i);
            if local != self.instances[i].local {
                // Actions of this event (a priority-0 advert) still go out from the old address.
                self.feed(i, now, Event::Interface(local)).await;
                self.instances[i].local = local;
            }
            if self.instances[i].fsm.state() == State::Master {
                self.ensure_addresses(i, true).await;
            }
        }
    }

    /// Put the master's addresses on its interface. Those already there stay as they are:
    /// one vipd added (tagged) is adopted, one the host configured is left to the host.
    /// `restoring`: the master already held them, so a missing one vanished underneath it
    /// (an operator or another tool, or the kernel deleting a subnet's secondaries along
    /// with its primary when another instance released that primary); it is put back.
    async fn ensure_addresses(&mut self, i: usize, restoring: bool) {
        let inst = &mut self.instances[i];
        let Some(state) = self.links[inst.link].state.as_ref() else {
            return;
        };
        for vip in &inst.cfg.virtual_addresses {
            let held = inst.held.iter().any(|(_, v)| v == vip);
            match state.addrs.iter().find(|a| a.addr == vip.addr) {
                Some(found) if found.by_vipd && !held => inst.held.push((state.index, *vip)),
                Some(_) => {}
                None => {
                    if restoring {
                        tracing::warn!(instance = %inst.cfg.name, address = %vip, "virtual address disappeared from the interface while master; adding it again");
                    }
                    match self
                        .netlink
                        .add_address(state.index, vip.addr, vip.prefix_len)
                        .await
                    {
                        Ok(Added::Created) if !held => inst.held.push((state.index, *vip)),
                        // Already there although the last view said not: whoever put it
                        // there owns it, unless it is one this instance added.
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(instance = %inst.cfg.name, address = %vip, error = %e, "cannot add the address")
                        }
                    }
                }
            }
        }
    }

    /// Remove what this instance added, from the interface it added it to.
    async fn remove_addresses(&mut self, i: usize) {
        let inst = &mut self.instances[i];
        for (index, vip) in std::mem::take(&mut inst.held) {
            if let Err(e) = self
                .netlink
                .del_address(index, vip.addr, vip.prefix_len)
                .await
            {
                tracing::error!(instance = %inst.cfg.name, address = %vip, error = %e, "cannot remove the address");
            }
        }
    }

    async fn shutdown(&mut self) {
        tracing::info!("shutting down: releasing master roles");
        let now = self.now();
        for i in 0..self.instances.len() {
            self.feed(i, now, Event::Shutdown).await;
            // Whatever the state machine thought, nothing vipd added outlives it.
            self.remove_addresses(i).await;
        }
        for link in self.links.iter().filter(|l| l.promoted_secondaries) {
            if let Err(e) = network::restore_promote_secondaries(&link.interface) {
                tracing::debug!(interface = %link.interface, error = %e, "cannot restore promote_secondaries");
            }
        }
    }

    async fn feed(&mut self, i: usize, now: Duration, event: Event) {
        self.instances[i].fsm.handle(now, event, &mut self.actions);
        self.execute(i).await;
    }

    /// Carry out what the state machine asked for, in order.
    async fn execute(&mut self, i: usize) {
        let mut actions = std::mem::take(&mut self.actions);
        for action in actions.drain(..) {
            match action {
                Action::SendAdvert { priority } => self.send_advert(i, priority),
                Action::AddAddresses => self.ensure_addresses(i, false).await,
                Action::RemoveAddresses => self.remove_addresses(i).await,
                Action::Announce => {
                    self.announce(i);
                    self.instances[i].announce_again_at = Some(self.now() + ANNOUNCE_REPEAT_AFTER);
                }
                Action::StateChanged { from, to, reason } => {
                    let inst = &mut self.instances[i];
                    inst.counters.transitions += 1;
                    if to != State::Master {
                        inst.announce_again_at = None;
                        // Only a master sends: a failure streak ends with the role.
                        inst.send.failing = None;
                        inst.send.log.reset();
                    }
                    tracing::info!(instance = %inst.cfg.name, %from, %to, %reason, "state change");
                }
            }
        }
        // Hand the (empty) buffer back so its capacity is reused.
        self.actions = actions;
    }

    fn send_advert(&mut self, i: usize, priority: u8) {
        let inst = &mut self.instances[i];
        let link = &self.links[inst.link];
        let (Some(socket), Some(src)) = (link.socket.as_ref(), inst.local) else {
            return;
        };
        let out = AdvertOut {
            version: inst.cfg.version,
            vrid: inst.cfg.vrid,
            priority,
            interval: inst.cfg.advert_interval,
            addresses: &inst.addresses,
            auth_pass: inst.cfg.auth_pass,
            checksum_ipv4_pseudo_header: inst.cfg.checksum_ipv4_pseudo_header,
        };
        let group = [network::multicast_group(link.family)];
        let peers: &[IpAddr] = if inst.cfg.unicast_peers.is_empty() {
            &group
        } else {
            &inst.cfg.unicast_peers
        };
        let now = self.epoch.elapsed();
        // The same peer list is often deployed on every host: never send to ourselves.
        for &dst in peers.iter().filter(|&&p| p != src) {
            // The checksum may cover the destination (pseudo-header): encode per peer.
            packet::encode(&out, src, dst, &mut self.tx_buf);
            match socket.send(&self.tx_buf, src, dst) {
                Ok(()) => {
                    inst.counters.adverts_sent += 1;
                    inst.send.sent(now, &inst.cfg.name);
                }
                Err(e) => {
                    inst.counters.send_errors += 1;
                    inst.send.failed(now, &inst.cfg.name, dst, &e);
                }
            }
        }
    }

    /// Gratuitous ARP requests (IPv4) or unsolicited neighbour advertisements (IPv6) for
    /// every virtual address, so switches and hosts move to this interface at once.
    fn announce(&self, i: usize) {
        let inst = &self.instances[i];
        let link = &self.links[inst.link];
        let Some(state) = link.state.as_ref() else {
            return;
        };
        let Some(mac) = state.mac else {
            return;
        };
        let router = is_ipv6_router(&link.interface);
        for vip in &inst.addresses {
            // The NA is sourced from the virtual address itself, as keepalived does; it is
            // on the interface by now and RFC 4861 allows any of the interface's addresses.
            let frame = match vip {
                IpAddr::V4(v4) => announce::gratuitous_arp(mac, *v4),
                IpAddr::V6(v6) => announce::unsolicited_na(mac, *v6, *v6, router),
            };
            for _ in 0..ANNOUNCE_BURST {
                if let Err(e) = self.frames.send(state.index, &frame) {
                    tracing::debug!(instance = %inst.cfg.name, address = %vip, error = %e, "announcement not sent");
                }
            }
        }
    }

    /// SIGUSR1: one line per instance, as `vipd status` shows it.
    fn log_status(&self) {
        let status = self.status();
        tracing::info!(router_id = %status.router_id, instances = status.instances.len(), "status (SIGUSR1)");
        for i in &status.instances {
            tracing::info!(
                instance = %i.name,
                state = %i.state,
                priority = i.priority,
                effective_priority = i.effective_priority,
                vrid = i.vrid,
                interface = %i.interface,
                master = i.master_address.as_deref().unwrap_or("-"),
                virtual_addresses = %i.virtual_addresses.join(" "),
                send_error = i.send_error.as_deref().unwrap_or("-"),
                "status"
            );
        }
    }

    /// SIGUSR2: every counter.
    fn log_counters(&self) {
        let status = self.status();
        for i in &status.instances {
            tracing::info!(
                instance = %i.name,
                adverts_received = i.adverts_received,
                adverts_sent = i.adverts_sent,
                send_errors = i.send_errors,
                address_list_mismatches = i.address_list_mismatches,
                local_source_adverts = i.local_source_adverts,
                transitions = i.transitions,
                "counters (SIGUSR2)"
            );
        }
        for r in &status.receive {
            let drops: Vec<String> = r.drops.iter().map(|(k, v)| format!("{k}={v}")).collect();
            tracing::info!(interface = %r.interface, family = %r.family, received = r.received,
                drops = %drops.join(" "), "receive counters (SIGUSR2)");
        }
    }

    fn status(&self) -> Status {
        let instances = self
            .instances
            .iter()
            .map(|inst| {
                let link = &self.links[inst.link];
                InstanceStatus {
                    name: inst.cfg.name.clone(),
                    state: inst.fsm.state().name().to_string(),
                    priority: inst.cfg.priority,
                    effective_priority: inst.fsm.effective_priority(),
                    vrid: inst.cfg.vrid,
                    version: inst.cfg.version.number(),
                    interface: inst.cfg.interface.clone(),
                    family: link.family.to_string(),
                    master_address: inst.fsm.master_address().map(|a| a.to_string()),
                    virtual_addresses: inst
                        .cfg
                        .virtual_addresses
                        .iter()
                        .map(|v| v.to_string())
                        .collect(),
                    advert_interval_ms: inst.cfg.advert_interval.to_duration().as_millis() as u64,
                    master_advert_interval_ms: inst
                        .fsm
                        .master_adver_interval()
                        .to_duration()
                        .as_millis() as u64,
                    adverts_received: inst.counters.adverts_received,
                    adverts_sent: inst.counters.adverts_sent,
                    send_errors: inst.counters.send_errors,
                    send_error: inst.send.failing.as_ref().map(|(_, _, e)| e.clone()),
                    local_source_adverts: inst.counters.local_source_adverts,
                    address_list_mismatches: inst.counters.address_list_mismatches,
                    transitions: inst.counters.transitions,
                }
            })
            .collect();
        let receive = self
            .links
            .iter()
            .map(|l| ReceiveStatus {
                interface: l.interface.clone(),
                family: l.family.to_string(),
                received: l.stats.received(),
                drops: l.stats.drops(),
            })
            .collect();
        Status {
            router_id: self.router_id.clone(),
            instances,
            receive,
        }
    }
}

/// RFC 4861: the R flag of a neighbour advertisement says whether the sender is a router.
fn is_ipv6_router(interface: &str) -> bool {
    let path = format!("/proc/sys/net/ipv6/conf/{interface}/forwarding");
    std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "1")
}

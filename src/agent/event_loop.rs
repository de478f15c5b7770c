//! The agent: a single-threaded tokio event loop that drives the node (`protocol::node`)
//! and carries out its outputs. Inputs come from the receive tasks (adverts), netlink
//! (interface changes), check tasks (tracking), timers, signals and the control socket.
//! Policy lives in the node; this file only moves bytes, addresses and processes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::agent::addresses::{self, AddressOps};
use crate::agent::checks::{Checks, Done};
use crate::agent::control::{self, InstanceStatus, ReceiveStatus, Requests, Status};
use crate::agent::events::EventHub;
use crate::agent::lock;
use crate::agent::metrics_server::{self, MetricsServer};
use crate::agent::netlink::{Added, Change, IfState, Netlink, Owner};
use crate::agent::network::{self, FrameSocket, Outbox, VrrpSocket};
use crate::agent::nft;
use crate::agent::notify::{Finished, Notifier, StateChange};
use crate::agent::receive::{Reader, RxStats, Source, VridTable};
use crate::agent::runner;
use crate::agent::sd_notify;
use crate::agent::signals::{Signal, Signals};
use crate::agent::timer;
use crate::config::{Config, InstanceConfig, virtual_mac_address};
use crate::protocol::announce;
use crate::protocol::fsm::State;
use crate::protocol::node::Slots;
use crate::protocol::node::{self, Event, Input, InstanceId, Node, Output, Target};
use crate::protocol::packet::{self, AdvertOut};
use crate::protocol::throttle::Throttle;
use crate::protocol::units::Family;

/// Netlink can lose events (overruns, messages it cannot parse): re-read every interface
/// this often so a missed carrier change cannot leave an instance in the wrong state.
const RESYNC_INTERVAL: Duration = Duration::from_secs(5);
/// How long the agent waits at exit for the kernel to answer its last address changes.
const ADDRESSES_AT_EXIT: Duration = Duration::from_secs(5);
/// How long the agent waits at exit for its notify commands (the STOP ones) to finish.
const NOTIFY_AT_EXIT: Duration = Duration::from_secs(5);
/// Batches read from one socket in one turn of the loop at most (16 datagrams each), so
/// that a flood cannot hold up the timers; the rest wait in the socket for the next turn.
const READS_PER_TURN: usize = 16;
/// How often a master that still cannot send says so again.
const SEND_FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Linux capability numbers (linux/capability.h) of what the agent needs.
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// Whether adverts go out. A master that cannot send (an output firewall, a dead link
/// driver) looks dead to its backups, which take over: two hosts then hold the addresses,
/// so the operator must hear of it at once, and again until it ends.
struct SendHealth {
    sent: u64,
    errors: u64,
    /// The current run of failures: when it started, how many, the last error.
    failing: Option<(Duration, u64, String)>,
    log: Throttle,
}

impl SendHealth {
    fn new() -> SendHealth {
        SendHealth {
            sent: 0,
            errors: 0,
            failing: None,
            log: Throttle::new(SEND_FAILURE_LOG_INTERVAL),
        }
    }

    fn failed(&mut self, now: Duration, name: &str, dst: IpAddr, error: &std::io::Error) {
        self.errors += 1;
        let (since, count, last) = self.failing.get_or_insert_with(|| (now, 0, String::new()));
        *count += 1;
        *last = error.to_string();
        let (since, count) = (*since, *count);
        if self.log.pass(now).is_some() {
            tracing::warn!(instance = %name, %dst, %error, failures = count, failing_for = ?now.saturating_sub(since),
                "cannot send adverts: backups will take this host for dead and take over");
        }
    }

    fn count(&mut self, now: Duration, name: &str, dst: IpAddr, sent: std::io::Result<()>) {
        match sent {
            Ok(()) => self.succeeded(now, name),
            Err(e) => self.failed(now, name, dst, &e),
        }
    }

    fn succeeded(&mut self, now: Duration, name: &str) {
        self.sent += 1;
        if let Some((since, count, _)) = self.failing.take() {
            self.log.reset();
            tracing::warn!(instance = %name, failures = count, failed_for = ?now.saturating_sub(since),
                "adverts go out again");
        }
    }

    /// Only a master sends: a failure streak ends with the role.
    fn forget(&mut self) {
        self.failing = None;
        self.log.reset();
    }
}

/// One (interface, family) pair: the socket that serves all its VRIDs.
struct Link {
    interface: String,
    family: Family,
    /// The interface index the socket is bound to.
    index: Option<u32>,
    socket: Option<Arc<VrrpSocket>>,
    reader: Reader,
    /// We turned `promote_secondaries` on for this interface and turn it off at exit.
    promoted_secondaries: bool,
    table: VridTable,
    stats: RxStats,
    /// Adverts of this step, by instance and destination.
    outbox: Outbox<(InstanceId, IpAddr)>,
}

impl Link {
    fn new(interface: &str, family: Family) -> Link {
        Link {
            interface: interface.to_owned(),
            family,
            index: None,
            socket: None,
            reader: Reader::default(),
            promoted_secondaries: false,
            table: VridTable::new(std::iter::empty()),
            stats: RxStats::default(),
            outbox: Outbox::default(),
        }
    }

    fn close(&mut self) {
        self.socket = None;
        self.index = None;
        self.outbox.clear();
    }
}

/// What the agent keeps per instance for carrying out the node's outputs.
struct Instance {
    cfg: InstanceConfig,
    addresses: Vec<IpAddr>,
    /// Index into `Agent::links`.
    link: usize,
    send: SendHealth,
}

pub struct Agent {
    /// The configuration running now.
    config: Config,
    epoch: Instant,
    node: Node,
    /// By the node's instance ids; `None`: a retired id.
    instances: Vec<Option<Instance>>,
    links: Vec<Link>,
    /// Every interface the node watches, as last reported to it.
    interfaces: HashMap<String, Option<IfState>>,
    netlink: Netlink,
    /// Address adds and removes the kernel has not answered yet.
    addresses: AddressOps,
    frames: FrameSocket,
    checks: Checks,
    notifier: Notifier,
    /// The node's outputs of one step (kept to reuse its memory).
    step: Vec<Output>,
    /// The link whose socket is read first next time, so a flood on one cannot starve the
    /// others.
    next_link: usize,
    tx_buf: Vec<u8>,
    /// Adverts from a virtual MAC, as whole Ethernet frames.
    frame_buf: Vec<u8>,
    /// Sysctls changed for virtual MACs (the parents' ARP behaviour), with the values to
    /// put back at exit.
    sysctls: Vec<(String, String)>,
    /// Accept_Mode off: what each master that does not own its addresses drops.
    accept_filters: HashMap<InstanceId, Vec<IpAddr>>,
    /// The agent wrote its nftables table at least once (so it removes it at exit).
    accept_table: bool,
    /// The event stream (`vipd events`).
    hub: EventHub,
    /// systemd's notification socket, when started with `Type=notify`.
    systemd: Option<sd_notify::Notifier>,
    /// The control socket and the single-agent locks.
    control: reload::Control,
    /// A reload under way: what the node's `Reloaded` output puts in place.
    pending: Option<reload::Pending>,
}

/// Run the agent until SIGTERM/SIGINT. Errors are fatal start-up problems (exit 1).
pub async fn run(config: Config, config_path: &Path) -> Result<(), String> {
    check_capabilities()?;
    if let Err(e) = crate::agent::sched::prefer_short_slices() {
        tracing::debug!(error = %e, "cannot ask for short scheduling slices");
    }
    let socket_path = config.global.control_socket.clone();
    // Before anything is touched: a second agent must not get as far as "cleaning up" the
    // first one's addresses, and a bad socket path must not surface after the election.
    let locks = lock::acquire(config_path, &socket_path)?;
    let listener = control::bind(&socket_path, config.global.control_group.as_deref())?;
    // Served from here on (a scrape waits for the loop to turn), so that nothing can fail
    // once the agent has joined its elections.
    let (status_tx, mut status_rx) = mpsc::channel(16);
    let metrics = match config.global.metrics_listen {
        Some(address) => Some(MetricsServer::start(
            metrics_server::bind(address)?,
            status_tx.clone(),
            metrics_server::Limits::DEFAULT,
        )?),
        None => None,
    };
    let identity = Arc::new(runner::identity(config.global.script_user.as_deref())?);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let checks = Checks::new(
        &config,
        &node::tracked_objects(&config),
        identity.clone(),
        done_tx,
    )?;
    let (finished_tx, mut finished_rx) = mpsc::unbounded_channel();
    let notifier = Notifier::new(&config, identity, finished_tx)?;
    let (netlink, mut changes) =
        Netlink::open().map_err(|e| format!("cannot open netlink: {e}"))?;
    let frames =
        FrameSocket::open().map_err(|e| format!("cannot open the announcement socket: {e}"))?;
    let addresses = AddressOps::open()
        .map_err(|e| format!("cannot open the netlink socket for addresses: {e}"))?;
    let (reload_tx, mut reload_rx) = mpsc::channel(4);
    let hub = EventHub::new();
    let control = reload::Control::new(
        locks,
        Requests {
            status: status_tx,
            reload: reload_tx,
        },
        hub.clone(),
        metrics,
    );
    let mut agent = Agent::new(
        config,
        (netlink, addresses),
        frames,
        (checks, notifier),
        control,
    );
    let mut signals = Signals::new()?;
    let mut timer = timer::Deadline::new(agent.epoch)
        .map_err(|e| format!("cannot create the protocol timer (timerfd): {e}"))?;

    agent.check_vmac_names(&agent.config).await?;
    agent.start().await;
    agent.control.serve(listener, &socket_path);
    // Every instance has joined its election (or waits in FAULT for its interface).
    agent.tell_systemd("READY=1");
    agent.tell_systemd(&agent.status_line());
    let mut watchdog = sd_notify::watchdog_interval().map(tokio::time::interval);
    tracing::info!(
        instances = agent.node.instance_count(),
        control_socket = %socket_path.display(),
        metrics = %agent.control.metrics_url(),
        "vipd running"
    );

    let mut resync = tokio::time::interval(RESYNC_INTERVAL);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if let Err(e) = timer.set(agent.node.poll_timeout()) {
            // Not expected of a timerfd; the resync tick below keeps the loop turning.
            tracing::error!(error = %e, "cannot arm the protocol timer");
        }
        tokio::select! {
            signal = signals.next() => match signal {
                Signal::Stop => break,
                Signal::Reload => {
                    agent.reload(config_path, "SIGHUP").await;
                }
                Signal::DumpStatus => agent.log_status(),
                Signal::DumpCounters => agent.log_counters(),
                Signal::Ignored(name) => tracing::info!(signal = name, "signal ignored"),
            },
            li = readable(&agent.links, agent.next_link) => agent.on_readable(li).await,
            Some(change) = changes.recv() => agent.on_changes(change, &mut changes).await,
            Some(done) = done_rx.recv() => agent.on_check(done).await,
            Some(Finished(target)) = finished_rx.recv() => agent.notifier.finished(target),
            Some(reply) = status_rx.recv() => { let _ = reply.send(agent.status()); }
            Some(reply) = reload_rx.recv() => {
                let outcome = agent.reload(config_path, "vipd reload").await;
                let _ = reply.send(outcome);
            }
            _ = timer.wait() => agent.on_timers().await,
            done = agent.addresses.next() => agent.on_addresses(done).await,
            _ = resync.tick() => {
                agent.addresses.expire();
                agent.resync().await;
            }
            // From the loop itself: a loop that stops turning stops the pings.
            _ = tick(&mut watchdog) => agent.tell_systemd("WATCHDOG=1"),
        }
    }
    agent.tell_systemd("STOPPING=1");
    // The loop answers no more snapshots: scrapes from here on would only wait.
    agent.control.stop_metrics().await;
    agent.shutdown().await;
    // The STOP notifications (and any still queued) run before the agent exits, bounded so a
    // hanging command cannot hold up a stop that systemd will time out.
    let deadline = tokio::time::Instant::now() + NOTIFY_AT_EXIT;
    while agent.notifier.busy() {
        match tokio::time::timeout_at(deadline, finished_rx.recv()).await {
            Ok(Some(Finished(target))) => agent.notifier.finished(target),
            Ok(None) => break,
            Err(_) => {
                tracing::warn!("notify commands still running at exit: not waiting for them");
                break;
            }
        }
    }
    // The subscribers get the last state changes, then the end of the stream.
    hub.close(Duration::from_millis(500)).await;
    let _ = std::fs::remove_file(&agent.config.global.control_socket);
    Ok(())
}

/// The first link, from `start` on, whose socket may have datagrams waiting.
fn readable(links: &[Link], start: usize) -> impl Future<Output = usize> + '_ {
    std::future::poll_fn(move |cx| {
        let n = links.len();
        for k in 0..n {
            let li = (start + k) % n;
            let ready = links
                .get(li)
                .and_then(|l| l.socket.as_ref())
                .is_some_and(|s| s.poll_readable(cx).is_ready());
            if ready {
                return std::task::Poll::Ready(li);
            }
        }
        std::task::Poll::Pending
    })
}

/// The next tick of an optional interval; never, without one.
async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
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

impl Agent {
    fn new(
        config: Config,
        (netlink, addresses): (Netlink, AddressOps),
        frames: FrameSocket,
        (checks, notifier): (Checks, Notifier),
        control: reload::Control,
    ) -> Agent {
        let spec = node::Spec::from(&config);
        let slots = Slots::identity(&spec);
        let node = Node::new(spec);
        let interfaces = node
            .watched_interfaces()
            .into_iter()
            .map(|name| (name, None))
            .collect();
        let mut agent = Agent {
            config,
            epoch: Instant::now(),
            node,
            instances: Vec::new(),
            links: Vec::new(),
            interfaces,
            netlink,
            addresses,
            frames,
            checks,
            notifier,
            next_link: 0,
            step: Vec::new(),
            tx_buf: Vec::with_capacity(1500),
            frame_buf: Vec::with_capacity(1514),
            sysctls: Vec::new(),
            accept_filters: HashMap::new(),
            accept_table: false,
            hub: control.hub().clone(),
            systemd: sd_notify::Notifier::from_env(),
            control,
            pending: None,
        };
        agent.place(&slots);
        agent
    }

    /// Lay out the per-instance records and the sockets for `self.config`, whose instances
    /// the node holds at `slots`: a record whose id stays keeps its send counters, a socket
    /// still needed stays open (with its VRIDs updated), a new one
    /// opens if its interface is there, one no longer needed closes.
    fn place(&mut self, slots: &Slots) {
        let mut old_links = std::mem::take(&mut self.links);
        let old = std::mem::take(&mut self.instances);
        let configs: Vec<Option<InstanceConfig>> =
            self.config.instances.iter().cloned().map(Some).collect();
        let placed = node::place(configs, &slots.instances, || None);
        let mut old = old.into_iter();
        for cfg in placed {
            let before = old.next().flatten();
            let Some(cfg) = cfg else {
                self.instances.push(None);
                continue;
            };
            let key = (cfg.interface.clone(), cfg.family);
            let link = match self
                .links
                .iter()
                .position(|l| (l.interface.clone(), l.family) == key)
            {
                Some(li) => li,
                None => {
                    let kept = old_links
                        .iter()
                        .position(|l| (l.interface.clone(), l.family) == key)
                        .map(|li| old_links.swap_remove(li));
                    self.links
                        .push(kept.unwrap_or_else(|| Link::new(&cfg.interface, cfg.family)));
                    self.links.len() - 1
                }
            };
            self.instances.push(Some(Instance {
                addresses: cfg.virtual_addresses.iter().map(|v| v.addr).collect(),
                send: before.map_or_else(SendHealth::new, |b| b.send),
                cfg,
                link,
            }));
        }
        for mut link in old_links {
            link.close();
        }
        for li in 0..self.links.len() {
            let members = self
                .instances
                .iter()
                .enumerate()
                .filter_map(|(i, inst)| inst.as_ref().map(|inst| (i, inst)))
                .filter(|(_, inst)| inst.link == li)
                .map(|(i, inst)| (i, &inst.cfg));
            let link = &mut self.links[li];
            link.table = VridTable::new(members);
            let known = self.interfaces.get(&link.interface).cloned().flatten();
            if let (None, Some(state)) = (&link.socket, known)
                && let Err(e) = self.open_link(li, state.index)
            {
                tracing::error!(interface = %self.links[li].interface, error = %e, "cannot open the VRRP socket");
            }
        }
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Learn the interfaces, then let the node clean up after a crashed predecessor and
    /// join the elections.
    async fn start(&mut self) {
        let names: Vec<String> = self.interfaces.keys().cloned().collect();
        for name in names {
            match self.netlink.interface(&name).await {
                Ok(Some(state)) => self.apply(&name, Some(state)).await,
                Ok(None) if self.is_vmac_name(&name) => {}
                Ok(None) => {
                    tracing::warn!(interface = %name, "interface does not exist (yet): instances on it start in fault")
                }
                Err(e) => tracing::warn!(interface = %name, error = %e, "cannot read interface"),
            }
        }
        self.remove_leftover_accept_table();
        let now = self.now();
        self.node.handle(now, Input::Start);
        self.drain().await;
    }

    /// Tell the node what interface `name` looks like now, keeping the sockets in step:
    /// a socket that goes away is closed only after the node let go through it (its
    /// priority-0 advert), a new one is opened before the node may speak through it.
    async fn apply(&mut self, name: &str, fresh: Option<IfState>) {
        let Some(known) = self.interfaces.get(name) else {
            return;
        };
        if *known == fresh {
            return;
        }
        let old_index = known.as_ref().map(|s| s.index);
        let new_index = fresh.as_ref().map(|s| s.index);
        if old_index.is_some() && old_index != new_index {
            self.tell_node(name, None).await;
        }
        let mut fresh = fresh;
        if old_index != new_index
            && let Some(index) = new_index
            && let Err(e) = self.open_sockets(name, index)
        {
            tracing::error!(interface = %name, error = %e, "cannot open the VRRP socket");
            fresh = None;
        }
        if fresh.is_none() {
            self.close_sockets(name);
        }
        self.tell_node(name, fresh).await;
    }

    async fn tell_node(&mut self, name: &str, state: Option<IfState>) {
        self.interfaces.insert(name.to_owned(), state.clone());
        let now = self.now();
        self.node.handle(
            now,
            Input::Link {
                interface: name.to_owned(),
                state,
            },
        );
        self.drain().await;
    }

    /// (Re)open the sockets of every link on interface `name`, bound to `index`.
    fn open_sockets(&mut self, name: &str, index: u32) -> std::io::Result<()> {
        for li in 0..self.links.len() {
            if self.links[li].interface == name {
                self.open_link(li, index)?;
            }
        }
        Ok(())
    }

    fn open_link(&mut self, li: usize, index: u32) -> std::io::Result<()> {
        let link = &mut self.links[li];
        link.close();
        let socket = Arc::new(VrrpSocket::open(link.family, &link.interface, index)?);
        if link.family == Family::V4 {
            // Without it, releasing the VIP that is the kernel's primary of its subnet
            // would delete the other instances' VIPs of that subnet with it.
            match network::enable_promote_secondaries(&link.interface) {
                Ok(changed) => link.promoted_secondaries |= changed,
                Err(e) => {
                    tracing::warn!(interface = %link.interface, error = %e, "cannot enable promote_secondaries")
                }
            }
        }
        link.socket = Some(socket);
        link.index = Some(index);
        Ok(())
    }

    fn close_sockets(&mut self, name: &str) {
        for link in &mut self.links {
            if link.interface == name {
                link.close();
            }
        }
    }

    /// Put vipd's nftables table in line with `accept_filters` (see `agent::nft`).
    fn write_accept_table(&mut self) {
        let mut drop: Vec<IpAddr> = self.accept_filters.values().flatten().copied().collect();
        drop.sort();
        drop.dedup();
        match nft::apply(&drop) {
            Ok(()) => {
                self.accept_table = !drop.is_empty();
                tracing::debug!(addresses = drop.len(), "accept_mode rules written");
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot write the accept_mode rules: traffic to the virtual addresses is not filtered")
            }
        }
    }

    /// A crashed run's table goes before anything else: it would drop traffic to addresses
    /// this run may hold as owner or with accept_mode on.
    fn remove_leftover_accept_table(&self) {
        let needed = self.config.instances.iter().any(|i| !i.accept_mode);
        match nft::apply(&[]) {
            Ok(()) => {}
            // Without nf_tables there is nothing left over, and nothing needs it.
            Err(e) if !needed => tracing::debug!(error = %e, "no nftables table to remove"),
            Err(e) => tracing::warn!(error = %e, "cannot remove vipd's nftables table at start"),
        }
    }

    /// A macvlan of one of the instances: vipd makes it.
    fn is_vmac_name(&self, name: &str) -> bool {
        self.config
            .instances
            .iter()
            .any(|i| i.virtual_mac.as_deref() == Some(name))
    }

    /// Every macvlan name the configuration asks for must be free or one vipd made: an
    /// interface of someone else's is never deleted, so the instance could not run.
    async fn check_vmac_names(&self, config: &Config) -> Result<(), String> {
        let mut errors = Vec::new();
        for inst in &config.instances {
            let Some(name) = &inst.virtual_mac else {
                continue;
            };
            match self.netlink.owner(name).await {
                Ok(Owner::Nobody | Owner::Vipd) => {}
                Ok(Owner::Other) => errors.push(format!(
                    "instance {}: interface {name:?} exists and is not a macvlan vipd made \
                     (its alias does not start with {:?}): remove it, or set \
                     vmac_interface to another name",
                    inst.name,
                    crate::agent::netlink::VMAC_ALIAS
                )),
                Err(e) => errors.push(format!("instance {}: {e}", inst.name)),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    /// Create instance `i`'s macvlan and set what Linux needs so that only it answers for
    /// the virtual addresses, with the virtual MAC; its state as created, `None` on failure.
    async fn create_vmac(
        &mut self,
        i: InstanceId,
        name: &str,
        parent: u32,
        mac: [u8; 6],
    ) -> Option<IfState> {
        let (instance, interface, family) = match self.instance(i) {
            Some(inst) => (
                inst.cfg.name.clone(),
                inst.cfg.interface.clone(),
                inst.cfg.family,
            ),
            None => return None,
        };
        let replaced = match self.netlink.create_vmac(name, parent, mac, &instance).await {
            Ok(replaced) => replaced,
            Err(e) => {
                tracing::error!(%instance, interface = %name, error = %e, "cannot create the virtual MAC interface");
                return None;
            }
        };
        for (path, value) in network::vmac_sysctls(name, family) {
            if let Err(e) = network::write_sysctl(&path, value) {
                tracing::warn!(%instance, %path, error = %e, "cannot set a sysctl of the virtual MAC interface");
            }
        }
        if family == Family::V4 {
            for (path, value) in network::parent_sysctls(&interface) {
                let known = self.sysctls.iter().any(|(p, _)| *p == path);
                match network::swap_sysctl(&path, value) {
                    Ok(Some(old)) if !known => {
                        tracing::info!(%path, from = %old, to = value, "set for the virtual MAC (restored at exit)");
                        self.sysctls.push((path, old));
                    }
                    // Found as vipd sets it, beside a crashed run's macvlan: that run set it,
                    // and the value before it is lost; the kernel's default (0) goes back.
                    Ok(None) if replaced && !known => self.sysctls.push((path, "0".to_owned())),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(%instance, %path, error = %e, "cannot set a sysctl of the virtual MAC's parent")
                    }
                }
            }
            if network::strict_rp_filter() {
                tracing::warn!(%instance,
                    "net.ipv4.conf.all.rp_filter is 1 (strict): traffic to the virtual addresses \
                     arrives on the macvlan but routes back through its parent, and is dropped; \
                     set it to 2 (loose) or 0");
            }
        }
        tracing::info!(%instance, interface = %name, parent = %interface, "virtual MAC interface created");
        match self.netlink.interface(name).await {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!(%instance, interface = %name, error = %e, "cannot read the virtual MAC interface");
                None
            }
        }
    }

    /// A deadline passed. Adverts already waiting in the sockets go first: they came before
    /// the deadline, or while the loop was not running. A backup whose master-down timer
    /// fires while the new master's first advert waits unread must hear it, not take over
    /// too (the loop would otherwise pick either, at random, when both are ready).
    async fn on_timers(&mut self) {
        for li in 0..self.links.len() {
            self.read_link(li);
        }
        let now = self.now();
        self.node.handle_timeout(now);
        self.drain().await;
    }

    /// The kernel answered an address change, and maybe more since (a mass takeover sends a
    /// thousand): all of them are booked, then the outputs carried out once.
    async fn on_addresses(&mut self, first: addresses::Done) {
        let mut next = Some(first);
        while let Some(done) = next {
            self.book_address(done);
            next = self.addresses.ready();
        }
        self.drain().await;
    }

    fn book_address(&mut self, done: addresses::Done) {
        let released = self.addresses.answered(&done);
        match done {
            addresses::Done::Added {
                instance,
                address,
                result: Ok(added),
            } => {
                let now = self.now();
                self.node.handle(
                    now,
                    Input::AddressAdded {
                        instance,
                        address,
                        created: added == Added::Created,
                    },
                );
            }
            // The error names the address, the interface and the change.
            addresses::Done::Added {
                instance,
                result: Err(e),
                ..
            }
            | addresses::Done::Removed {
                instance,
                result: Err(e),
                ..
            } => {
                tracing::error!(instance = %self.name(instance), error = %e, "cannot change the address");
            }
            addresses::Done::Removed { .. } => {}
        }
        // Only a master announces: the role may have gone while the adds were on their way.
        if let Some((instance, how)) = released
            && self.node.state(instance) == Some(State::Master)
        {
            self.announce(instance, how);
        }
    }

    /// Every address change sent is answered (at exit, before the agent lets go).
    /// Bounded: an answer the kernel lost must not hold up the exit.
    async fn settle_addresses(&mut self) {
        let deadline = tokio::time::Instant::now() + ADDRESSES_AT_EXIT;
        while !self.addresses.is_idle() {
            match tokio::time::timeout_at(deadline, self.addresses.next()).await {
                Ok(done) => self.on_addresses(done).await,
                Err(_) => {
                    tracing::warn!(
                        "address changes still unanswered at exit: not waiting for them"
                    );
                    return;
                }
            }
        }
    }

    /// Link `li`'s socket has datagrams: feed them to the node and carry out the outputs.
    async fn on_readable(&mut self, li: usize) {
        self.next_link = li + 1;
        self.read_link(li);
        self.drain().await;
    }

    /// Read what waits on link `li`'s socket in batches (a bounded number, so that a flood
    /// cannot hold up the timers; the rest waits in the socket) and feed the valid adverts to
    /// the node.
    fn read_link(&mut self, li: usize) {
        let Agent {
            links, node, epoch, ..
        } = self;
        let Some(link) = links.get_mut(li) else {
            return;
        };
        let Some(socket) = link.socket.clone() else {
            return;
        };
        let from = Source {
            socket: &socket,
            interface: &link.interface,
            family: link.family,
            table: &link.table,
            stats: &link.stats,
        };
        for _ in 0..READS_PER_TURN {
            // Every datagram of a batch had arrived by the time it was read: timing them from
            // here never starts a master-down timer before its advert came.
            let mut now = None;
            let read = link.reader.read(&from, |msg| {
                let now = *now.get_or_insert_with(|| epoch.elapsed());
                node.handle(
                    now,
                    Input::Advert {
                        instance: msg.instance,
                        advert: msg.advert,
                        addresses_match: msg.addresses_match,
                    },
                );
            });
            if read < network::RECV_BATCH {
                break;
            }
        }
    }

    async fn on_check(&mut self, done: Done) {
        if let Some(spec) = self.node.track_spec(done.track) {
            let name = spec.name.clone();
            self.checks.note(&done, &name);
        }
        let now = self.now();
        self.node.handle(
            now,
            Input::Check {
                track: done.track,
                result: done.result,
            },
        );
        self.drain().await;
    }

    /// Netlink says something changed on interface `index`, and maybe on more since: each
    /// interface named is re-read once however many changes it had (a mass takeover adds a
    /// thousand addresses, and the kernel reports each).
    async fn on_changes(
        &mut self,
        first: Change,
        more: &mut tokio::sync::mpsc::UnboundedReceiver<Change>,
    ) {
        let mut indexes = vec![first.index()];
        while let Ok(change) = more.try_recv() {
            if !indexes.contains(&change.index()) {
                indexes.push(change.index());
            }
        }
        for index in indexes {
            self.on_change(index).await;
        }
    }

    /// Re-read interface `index`, and every watched name it was or is now.
    async fn on_change(&mut self, index: u32) {
        let state = match self.netlink.interface_by_index(index).await {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!(index, error = %e, "cannot read interface state");
                return;
            }
        };
        let mut names: Vec<String> = self
            .interfaces
            .iter()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| s.index == index))
            .map(|(name, _)| name.clone())
            .collect();
        if let Some(s) = &state
            && self.interfaces.contains_key(&s.name)
            && !names.contains(&s.name)
        {
            names.push(s.name.clone());
        }
        for name in names {
            let fresh = state.clone().filter(|s| s.name == name);
            self.apply(&name, fresh).await;
        }
    }

    /// Re-read every watched interface by name.
    async fn resync(&mut self) {
        let names: Vec<String> = self.interfaces.keys().cloned().collect();
        for name in names {
            match self.netlink.interface(&name).await {
                Ok(state) => self.apply(&name, state).await,
                Err(e) => {
                    tracing::warn!(interface = %name, error = %e, "cannot read interface state")
                }
            }
        }
    }

    async fn shutdown(&mut self) {
        tracing::info!("shutting down: releasing master roles");
        let now = self.now();
        self.node.handle(now, Input::Shutdown);
        self.drain().await;
        self.settle_addresses().await;
        if self.accept_table {
            self.accept_filters.clear();
            self.write_accept_table();
        }
        for (path, value) in std::mem::take(&mut self.sysctls).into_iter().rev() {
            if let Err(e) = network::write_sysctl(&path, &value) {
                tracing::debug!(%path, error = %e, "cannot restore a sysctl");
            }
        }
        for link in self.links.iter().filter(|l| l.promoted_secondaries) {
            if let Err(e) = network::restore_promote_secondaries(&link.interface) {
                tracing::debug!(interface = %link.interface, error = %e, "cannot restore promote_secondaries");
            }
        }
    }

    // ----- carrying out the node's outputs ---------------------------------------------------

    /// Carry out the node's outputs. Adverts go first, together: a takeover's advert is on
    /// the wire before its log line, its addresses and its announcements, and when hundreds
    /// of instances move at once, all their adverts leave in one `sendmmsg` per socket before
    /// any address work starts. Everything else keeps the node's order.
    async fn drain(&mut self) {
        let mut step = std::mem::take(&mut self.step);
        loop {
            step.extend(std::iter::from_fn(|| self.node.poll_output()));
            if step.is_empty() {
                break;
            }
            // Up to a reload, which changes what an instance's advert carries.
            let before_reload = step
                .iter()
                .position(|o| matches!(o, Output::Reloaded { .. }))
                .unwrap_or(step.len());
            for output in step.iter().take(before_reload) {
                if let Output::Send {
                    instance,
                    src,
                    priority,
                } = *output
                {
                    self.send_advert(instance, src, priority);
                }
            }
            self.flush_adverts();
            for (k, output) in step.drain(..).enumerate() {
                if k < before_reload && matches!(output, Output::Send { .. }) {
                    continue;
                }
                self.carry_out(output).await;
            }
            // The step's address changes in as few writes as fit, and any advert of an
            // instance a reload changed.
            self.addresses.flush();
            self.flush_adverts();
        }
        self.step = step;
    }

    async fn carry_out(&mut self, output: Output) {
        if matches!(
            output,
            Output::CreateVmac { .. } | Output::DeleteVmac { .. } | Output::SetVmacUp { .. }
        ) {
            // The kernel sees interface changes in the order the node asked for them: the
            // address changes queued before this one go first.
            self.addresses.flush();
        }
        match output {
            Output::Send {
                instance,
                src,
                priority,
            } => self.send_advert(instance, src, priority),
            Output::AddAddress {
                instance,
                ifindex,
                address,
            } => self.addresses.add(instance, ifindex, address),
            Output::RemoveAddress {
                instance,
                ifindex,
                address,
            } => self.addresses.remove(instance, ifindex, address),
            Output::Announce {
                instance,
                ifindex,
                mac,
                count,
            } => {
                let announce = addresses::Announce {
                    ifindex,
                    mac,
                    count,
                };
                if let Some(due) = self.addresses.announce(instance, announce) {
                    self.announce(instance, due);
                }
            }
            Output::CreateVmac {
                instance,
                name,
                parent,
                mac,
            } => {
                let state = self.create_vmac(instance, &name, parent, mac).await;
                self.interfaces.insert(name.clone(), state.clone());
                let now = self.now();
                self.node.handle(
                    now,
                    Input::Link {
                        interface: name,
                        state,
                    },
                );
            }
            Output::AcceptFilter { instance, drop } => {
                if drop.is_empty() {
                    self.accept_filters.remove(&instance);
                } else {
                    self.accept_filters.insert(instance, drop);
                }
                self.write_accept_table();
            }
            Output::DeleteVmac { instance, name } => {
                if let Err(e) = self.netlink.delete_vmac(&name).await {
                    tracing::error!(instance = %self.name(instance), interface = %name, error = %e, "cannot delete the virtual MAC interface");
                }
                if let Some(known) = self.interfaces.get_mut(&name) {
                    *known = None;
                }
            }
            Output::SetVmacUp {
                instance,
                ifindex,
                up,
            } => {
                if let Err(e) = self.netlink.set_up(ifindex, up).await {
                    tracing::error!(instance = %self.name(instance), error = %e, "cannot set the virtual MAC interface up or down");
                }
            }
            Output::Check { track } => self.checks.start(track),
            Output::Notify {
                target,
                from,
                to,
                reason,
                priority,
            } => self.notifier.push(
                target,
                StateChange {
                    from,
                    to,
                    reason,
                    priority,
                },
            ),
            Output::Event(event) => self.log_event(event),
            Output::Reloaded { summary } => self.on_reloaded(summary),
        }
        self.flush_adverts();
    }

    fn name(&self, i: InstanceId) -> &str {
        self.instance(i).map_or("?", |inst| &inst.cfg.name)
    }

    fn instance(&self, i: InstanceId) -> Option<&Instance> {
        self.instances.get(i)?.as_ref()
    }

    fn send_advert(&mut self, i: InstanceId, src: IpAddr, priority: u8) {
        let Some(inst) = self.instances.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let link = &mut self.links[inst.link];
        let Some(socket) = link.socket.as_ref() else {
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
        // With a virtual MAC, multicast adverts leave the parent as whole frames from that
        // MAC (RFC 9568 7.3): switches learn it at the master, and no local address is
        // needed on the macvlan. Unicast ones need the neighbour table: the socket sends them.
        let vmac = (inst.cfg.virtual_mac.is_some())
            .then(|| virtual_mac_address(inst.cfg.vrid, inst.cfg.family))
            .zip(link.index);
        // The same peer list is often deployed on every host: never send to ourselves.
        for &dst in peers.iter().filter(|&&p| p != src) {
            // The checksum may cover the destination (pseudo-header): encode per peer.
            packet::encode(&out, src, dst, &mut self.tx_buf);
            let sent = match vmac {
                Some((mac, ifindex))
                    if announce::advert_frame(&mut self.frame_buf, mac, src, dst, &self.tx_buf) =>
                {
                    self.frames.send(ifindex, &self.frame_buf)
                }
                // Counted when the outbox goes out, at the end of this step.
                _ => match link.outbox.push(socket, &self.tx_buf, (src, dst), (i, dst)) {
                    Ok(()) => continue,
                    Err(e) => Err(e),
                },
            };
            inst.send.count(now, &inst.cfg.name, dst, sent);
        }
    }

    /// Send the adverts queued in this step, one system call per socket.
    fn flush_adverts(&mut self) {
        let now = self.epoch.elapsed();
        let Agent {
            links, instances, ..
        } = self;
        for link in links.iter_mut().filter(|l| !l.outbox.is_empty()) {
            let Some(socket) = link.socket.as_ref() else {
                link.outbox.clear();
                continue;
            };
            link.outbox.flush(socket, |(i, dst), sent| {
                if let Some(inst) = instances.get_mut(i).and_then(Option::as_mut) {
                    inst.send.count(now, &inst.cfg.name, dst, sent);
                }
            });
        }
    }

    /// Gratuitous ARP requests (IPv4) or unsolicited neighbour advertisements (IPv6) for
    /// every virtual address, so switches and hosts move to this interface at once.
    fn announce(&self, i: InstanceId, how: addresses::Announce) {
        let addresses::Announce {
            ifindex,
            mac,
            count,
        } = how;
        let Some(inst) = self.instance(i) else {
            return;
        };
        let router = is_ipv6_router(&inst.cfg.interface);
        for vip in &inst.addresses {
            // The NA is sourced from the virtual address itself, as keepalived does; it is
            // on the interface by now and RFC 4861 allows any of the interface's addresses.
            let frame = match vip {
                IpAddr::V4(v4) => announce::gratuitous_arp(mac, *v4),
                IpAddr::V6(v6) => announce::unsolicited_na(mac, *v6, *v6, router),
            };
            for _ in 0..count {
                if let Err(e) = self.frames.send(ifindex, &frame) {
                    tracing::debug!(instance = %inst.cfg.name, address = %vip, error = %e, "announcement not sent");
                }
            }
        }
    }

    fn tell_systemd(&self, message: &str) {
        if let Some(systemd) = &self.systemd {
            systemd.send(message);
        }
    }

    /// `STATUS=2 master, 1 backup, 0 fault` for systemd.
    fn status_line(&self) -> String {
        let count = |want: State| {
            (0..self.node.instance_count())
                .filter(|&i| self.node.state(i) == Some(want))
                .count()
        };
        sd_notify::status_line(
            count(State::Master),
            count(State::Backup),
            count(State::Fault),
        )
    }

    /// One log line per event, at the level an operator needs it.
    fn log_event(&mut self, event: Event) {
        self.hub.publish(&event);
        if matches!(event, Event::StateChange { .. }) && self.systemd.is_some() {
            self.tell_systemd(&self.status_line());
        }
        match event {
            Event::StateChange {
                instance,
                from,
                to,
                reason,
                priority,
                effective_priority,
            } => {
                if to != State::Master
                    && let Some(inst) = self
                        .instances
                        .iter_mut()
                        .flatten()
                        .find(|i| i.cfg.name == instance)
                {
                    inst.send.forget();
                }
                tracing::info!(%instance, %from, %to, %reason, priority, effective_priority, "state change");
            }
            Event::PriorityChange { instance, from, to } => {
                tracing::info!(%instance, from, to, "effective priority change");
            }
            Event::TrackChange {
                track,
                healthy,
                result,
            } => {
                let result = result.map(|r| format!("{r:?}")).unwrap_or_default();
                if healthy {
                    tracing::info!(%track, %result, "track healthy");
                } else {
                    tracing::warn!(%track, %result, "track failed");
                }
            }
            Event::LeftoverRemoved { instance, address } => {
                tracing::info!(%instance, %address, "removing a virtual address left by a previous run");
            }
            Event::HostAddress { instance, address } => {
                tracing::warn!(%instance, %address,
                    "virtual address is already on the interface and vipd did not add it: \
                     left alone, and never removed, so this host answers for it even as \
                     backup; remove it, or make this host the owner (priority 255)");
            }
            Event::VmacVanished { instance, name } => {
                tracing::warn!(%instance, interface = %name,
                    "the virtual MAC interface was deleted under vipd; creating it again");
            }
            Event::AddressVanished { instance, address } => {
                tracing::warn!(%instance, %address, "virtual address disappeared from the interface while master; adding it again");
            }
            Event::AddressListMismatch {
                instance,
                src,
                count,
            } => {
                tracing::warn!(%instance, %src, count,
                    "peer advertises a different address list (accepted, RFC 9568); check both configurations");
            }
            Event::MasterConflict {
                instance,
                peer,
                peer_priority,
                priority,
            } => {
                tracing::warn!(%instance, %peer, peer_priority, priority,
                    "another master heard: a split brain is healing");
            }
            // Logged once, by `reload`, with what triggered it and its counts.
            Event::Reload { .. } => {}
            Event::ForeignAdvert {
                instance,
                vrid,
                src,
                count,
            } => {
                tracing::error!(%instance, vrid, %src, count,
                    "another VRRP agent on this host (keepalived?) advertises this VRID from this \
                     host's own address; ignoring its adverts: stop one of the two");
            }
        }
    }

    // ----- reports -----------------------------------------------------------------------------

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
            .enumerate()
            .filter_map(|(i, inst)| {
                let inst = inst.as_ref()?;
                let report = self.node.report(i)?;
                let (notify_waiting, notify_dropped) =
                    self.notifier.queue_stats(Target::Instance(i));
                Some(InstanceStatus {
                    name: inst.cfg.name.clone(),
                    state: report.state.name().to_string(),
                    priority: inst.cfg.priority,
                    effective_priority: report.effective_priority,
                    vrid: inst.cfg.vrid,
                    version: inst.cfg.version.number(),
                    interface: inst.cfg.interface.clone(),
                    family: inst.cfg.family.to_string(),
                    master_address: report.master_address.map(|a| a.to_string()),
                    virtual_addresses: inst
                        .cfg
                        .virtual_addresses
                        .iter()
                        .map(|v| v.to_string())
                        .collect(),
                    advert_interval_ms: inst.cfg.advert_interval.to_duration().as_millis() as u64,
                    master_advert_interval_ms: report
                        .master_advert_interval
                        .to_duration()
                        .as_millis() as u64,
                    adverts_received: report.adverts_received,
                    adverts_sent: inst.send.sent,
                    send_errors: inst.send.errors,
                    send_error: inst.send.failing.as_ref().map(|(_, _, e)| e.clone()),
                    local_source_adverts: report.local_source_adverts,
                    master_conflicts: report.master_conflicts,
                    notify_waiting,
                    notify_dropped,
                    address_list_mismatches: report.address_list_mismatches,
                    transitions: report.transitions,
                    fault_causes: report.fault_causes,
                    sync_group: report.sync_group,
                })
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
            router_id: self.config.global.router_id.clone(),
            instances,
            receive,
            tracks: self.node.track_reports(),
            sync_groups: self.node.group_reports(),
            events: self.hub.stats(),
        }
    }
}

/// RFC 4861: the R flag of a neighbour advertisement says whether the sender is a router.
fn is_ipv6_router(interface: &str) -> bool {
    let path = format!("/proc/sys/net/ipv6/conf/{interface}/forwarding");
    std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "1")
}

mod reload;

//! Interface state and virtual-address management over rtnetlink.
//!
//! Two netlink sockets are used: a request socket (queries, address add/del)
//! and a monitor socket subscribed to link and IPv4/IPv6 address multicast
//! groups. Monitor events are deliberately coarse ([`Change`]): they only say
//! *which* interface changed, and the caller re-queries it. This keeps the
//! caller's view consistent (the query is authoritative) and makes lost or
//! unparseable events harmless as long as a later event or a resync follows.
//!
//! The runtime driving this module must have both the IO and the time driver
//! enabled (`enable_all()`, as `#[tokio::main]` does): sockets are registered
//! with the reactor and every kernel request is bounded by a timeout.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressProtocol,
};
use netlink_packet_route::link::{
    InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, MacVlanMode, State,
};
use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload,
};
use rtnetlink::sys::AsyncSocket;
use rtnetlink::{
    AddressMessageBuilder, Handle, LinkGetRequest, LinkMacVlan, LinkUnspec, MulticastGroup,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tracing::{debug, warn};

pub use crate::protocol::link::{IfAddr, IfState};

/// Upper bound for one kernel round trip. The kernel answers in microseconds;
/// this only exists so that a reply dropped by the decoder (netlink-proto
/// silently skips messages it cannot parse) can never hang the agent.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Receive buffer of the monitor socket. Bursts (many interfaces flapping,
/// many addresses added by other software) can overflow the default buffer;
/// an overflow is recovered by a full resync, but a larger buffer makes it rare.
const MONITOR_RCVBUF: libc::c_int = 1 << 20;

/// Longest interface name the kernel accepts (IFNAMSIZ minus the NUL).
const MAX_IFNAME_LEN: usize = 15;

/// The IFA_PROTO tag (Linux 6.1+) vipd puts on every address it adds; `ip addr` shows it as
/// `proto 112`, VRRP's IP protocol number. The kernel keeps it for as long as the address
/// lives, so after a crash vipd can tell an address it added from one the host owns, and
/// never deletes the latter.
pub const ADDRESS_PROTOCOL: u8 = 112;

/// The interface alias (IFLA_IFALIAS, `ip link` shows it as `alias`) vipd gives every macvlan
/// it creates, followed by the instance's name. A macvlan whose alias starts with it is
/// vipd's to delete and replace; any other interface of that name is left alone.
pub const VMAC_ALIAS: &str = "vipd virtual MAC";

/// Who an interface of a given name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// No such interface.
    Nobody,
    /// A macvlan vipd made (its alias says so).
    Vipd,
    /// Anything else: never touched.
    Other,
}

/// Unsolicited messages of the monitor connection, as netlink-proto hands them over.
type Events = futures::channel::mpsc::UnboundedReceiver<(
    NetlinkMessage<RouteNetlinkMessage>,
    rtnetlink::sys::SocketAddr,
)>;

/// What adding an address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The kernel created it, tagged as vipd's.
    Created,
    /// It was there already (EEXIST); whoever added it still owns it.
    AlreadyThere,
}

/// Something changed on this interface (link state or addresses): re-query it.
/// Both variants call for the same reaction; the distinction is informational.
/// After a monitor overrun every existing link is reported as `Link`.
/// The channel closes if the monitor socket dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Link { index: u32 },
    Addr { index: u32 },
}

impl Change {
    /// The interface it happened on.
    pub fn index(self) -> u32 {
        match self {
            Change::Link { index } | Change::Addr { index } => index,
        }
    }
}

/// Handle to the request connection. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Netlink {
    handle: Handle,
}

impl Netlink {
    /// Opens a request connection (spawned on the current runtime) AND a
    /// monitor connection subscribed to link, IPv4 address and IPv6 address
    /// multicast groups; monitor events are turned into `Change`s on the
    /// returned channel (unparseable messages are skipped, not fatal).
    pub fn open() -> io::Result<(Netlink, UnboundedReceiver<Change>)> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            io::Error::other(format!(
                "netlink: open() must run inside a tokio runtime: {e}"
            ))
        })?;
        // Subscribe before the caller's first query, so that nothing that
        // happens between that query and the subscription can be missed.
        let (monitor_conn, events) = open_monitor()?;
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| context(e, "netlink: opening the request socket"))?;
        runtime.spawn(conn);
        runtime.spawn(monitor_conn);
        let (tx, rx) = unbounded_channel();
        runtime.spawn(monitor(events, handle.clone(), tx));
        Ok((Netlink { handle }, rx))
    }

    /// Current state of the interface called `name`; `None` if no such link.
    pub async fn interface(&self, name: &str) -> io::Result<Option<IfState>> {
        if name.is_empty() || name.len() > MAX_IFNAME_LEN {
            let msg = format!("netlink: invalid interface name {name:?} (1 to 15 bytes)");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
        let request = self.handle.link().get().match_name(name);
        self.query(request, format!("netlink: querying interface {name:?}"))
            .await
    }

    /// Current state of the interface with this index; `None` if no such link.
    pub async fn interface_by_index(&self, index: u32) -> io::Result<Option<IfState>> {
        if index == 0 {
            // Index 0 never names a link (the kernel would answer EINVAL).
            return Ok(None);
        }
        let request = self.handle.link().get().match_index(index);
        self.query(request, format!("netlink: querying ifindex {index}"))
            .await
    }

    /// Whether the interface called `name` is a macvlan vipd made, someone else's, or absent.
    pub async fn owner(&self, name: &str) -> io::Result<Owner> {
        let what = format!("netlink: querying interface {name:?}");
        let request = self.handle.link().get().match_name(name.to_owned());
        let link = match bounded(first_link(request)).await {
            Ok(Some(link)) => link,
            Ok(None) => return Ok(Owner::Nobody),
            Err(RequestError::Netlink(e)) if errno(&e) == Some(libc::ENODEV) => {
                return Ok(Owner::Nobody);
            }
            Err(e) => return Err(e.into_io(&what)),
        };
        Ok(if is_vipd_macvlan(&link) {
            Owner::Vipd
        } else {
            Owner::Other
        })
    }

    /// Create macvlan `name` (mode bridge) on interface `parent` with hardware address `mac`,
    /// admin down, tagged with [`VMAC_ALIAS`] and `instance`. One of that name vipd made
    /// before is deleted first; any other interface of that name is an error, left alone.
    /// `true` when one vipd made was replaced.
    pub async fn create_vmac(
        &self,
        name: &str,
        parent: u32,
        mac: [u8; 6],
        instance: &str,
    ) -> io::Result<bool> {
        let replaced = match self.owner(name).await? {
            Owner::Nobody => false,
            Owner::Vipd => {
                self.delete_vmac(name).await?;
                true
            }
            Owner::Other => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "interface {name:?} exists and is not a macvlan vipd made (no \
                         {VMAC_ALIAS:?} alias): remove it, or set vmac_interface to another name"
                    ),
                ));
            }
        };
        let message = LinkMacVlan::new(name, parent, MacVlanMode::Bridge)
            .address(mac.to_vec())
            .down()
            .build();
        let what = format!("netlink: creating macvlan {name:?} on ifindex {parent}");
        bounded(self.handle.link().add(message).execute())
            .await
            .map_err(|e| e.into_io(&what))?;
        // The kernel ignores IFLA_IFALIAS when it creates a link: set it on the new one.
        // Until then (or after a crash in between) the name, the kind and the VRRP MAC
        // still say it is vipd's.
        let Some(state) = self.interface(name).await? else {
            return Err(io::Error::other(format!(
                "{what}: gone right after creation"
            )));
        };
        let message = LinkUnspec::new_with_index(state.index)
            .alias(format!("{VMAC_ALIAS} {instance}"))
            .build();
        let what = format!("netlink: setting the alias of macvlan {name:?}");
        bounded(self.handle.link().set(message).execute())
            .await
            .map_err(|e| e.into_io(&what))?;
        Ok(replaced)
    }

    /// Delete macvlan `name` if it is one vipd made (its addresses go with it). Absent is
    /// success; anything else of that name is left alone.
    pub async fn delete_vmac(&self, name: &str) -> io::Result<()> {
        let what = format!("netlink: deleting macvlan {name:?}");
        let request = self.handle.link().get().match_name(name.to_owned());
        let link = match bounded(first_link(request)).await {
            Ok(Some(link)) => link,
            Ok(None) => return Ok(()),
            Err(RequestError::Netlink(e)) if errno(&e) == Some(libc::ENODEV) => return Ok(()),
            Err(e) => return Err(e.into_io(&what)),
        };
        if !is_vipd_macvlan(&link) {
            return Ok(());
        }
        match bounded(self.handle.link().del(link.header.index).execute()).await {
            Err(RequestError::Netlink(e)) if errno(&e) == Some(libc::ENODEV) => Ok(()),
            other => other.map_err(|e| e.into_io(&what)),
        }
    }

    /// Set interface `index` administratively up or down.
    pub async fn set_up(&self, index: u32, up: bool) -> io::Result<()> {
        let builder = LinkUnspec::new_with_index(index);
        let message = if up { builder.up() } else { builder.down() }.build();
        let what = format!(
            "netlink: setting ifindex {index} {}",
            if up { "up" } else { "down" }
        );
        bounded(self.handle.link().set(message).execute())
            .await
            .map_err(|e| e.into_io(&what))
    }

    /// Fetches one link and its addresses; ENODEV means "no such link".
    async fn query(&self, request: LinkGetRequest, what: String) -> io::Result<Option<IfState>> {
        let link = match bounded(first_link(request)).await {
            Ok(Some(link)) => link,
            Ok(None) => return Ok(None),
            Err(RequestError::Netlink(e)) if errno(&e) == Some(libc::ENODEV) => return Ok(None),
            Err(e) => return Err(e.into_io(&what)),
        };
        let mut state = link_state(&link);
        let request = self
            .handle
            .address()
            .get()
            .set_link_index_filter(state.index);
        let addrs: Vec<AddressMessage> = bounded(request.execute().try_collect())
            .await
            .map_err(|e| e.into_io(&what))?;
        state.addrs = addrs.iter().filter_map(parse_address).collect();
        Ok(Some(state))
    }
}

/// Why a kernel request did not succeed.
enum RequestError {
    Netlink(rtnetlink::Error),
    TimedOut,
}

impl From<rtnetlink::Error> for RequestError {
    fn from(e: rtnetlink::Error) -> Self {
        RequestError::Netlink(e)
    }
}

impl RequestError {
    /// An `io::Error` keeping the errno's kind, prefixed with what was attempted.
    fn into_io(self, what: &str) -> io::Error {
        match self {
            RequestError::Netlink(rtnetlink::Error::NetlinkError(msg)) => {
                context(msg.to_io(), what)
            }
            RequestError::Netlink(e) => io::Error::other(format!("{what}: {e}")),
            RequestError::TimedOut => io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{what}: no answer from the kernel within {REQUEST_TIMEOUT:?}"),
            ),
        }
    }
}

/// Runs one kernel request with [`REQUEST_TIMEOUT`].
async fn bounded<T, F>(request: F) -> Result<T, RequestError>
where
    F: Future<Output = Result<T, rtnetlink::Error>>,
{
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Ok(result) => result.map_err(RequestError::from),
        Err(_elapsed) => Err(RequestError::TimedOut),
    }
}

/// The single answer to a (non-dump) link query.
async fn first_link(request: LinkGetRequest) -> Result<Option<LinkMessage>, rtnetlink::Error> {
    pin!(request.execute()).try_next().await
}

/// The positive errno of a kernel NACK (the kernel sends it negated).
fn errno(err: &rtnetlink::Error) -> Option<i32> {
    match err {
        rtnetlink::Error::NetlinkError(msg) => msg.code.map(|code| code.get().abs()),
        _ => None,
    }
}

fn context(err: io::Error, what: &str) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

fn check_prefix(addr: IpAddr, prefix_len: u8) -> io::Result<()> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix_len <= max {
        return Ok(());
    }
    let msg = format!("netlink: invalid prefix length {prefix_len} for {addr} (max {max})");
    Err(io::Error::new(io::ErrorKind::InvalidInput, msg))
}

/// The request that adds an address tagged with [`ADDRESS_PROTOCOL`]; IPv6 with IFA_F_NODAD
/// (no DAD: usable at once after a takeover). The kernel answers EEXIST if it is there.
pub fn add_request(
    index: u32,
    addr: IpAddr,
    prefix_len: u8,
) -> io::Result<NetlinkMessage<RouteNetlinkMessage>> {
    check_prefix(addr, prefix_len)?;
    let mut message = address_message(index, addr, prefix_len);
    message
        .attributes
        .push(AddressAttribute::Protocol(AddressProtocol::from(
            ADDRESS_PROTOCOL,
        )));
    if addr.is_ipv6() {
        // A virtual address moves to us because the previous master is gone: DAD would keep
        // it tentative (unusable) for a second or more, and could even fail against a stale
        // holder. VRRP itself arbitrates ownership, so DAD is skipped.
        message.header.flags |= AddressHeaderFlags::Nodad;
        message
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    let mut request = NetlinkMessage::from(RouteNetlinkMessage::NewAddress(message));
    request.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
    Ok(request)
}

/// The request that removes an address. `prefix_len` must be the one it was added with: the
/// kernel matches on both, and reports a mismatch as "not there".
pub fn del_request(
    index: u32,
    addr: IpAddr,
    prefix_len: u8,
) -> io::Result<NetlinkMessage<RouteNetlinkMessage>> {
    check_prefix(addr, prefix_len)?;
    let message = address_message(index, addr, prefix_len);
    let mut request = NetlinkMessage::from(RouteNetlinkMessage::DelAddress(message));
    request.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    Ok(request)
}

/// What the kernel matches a delete against: IFA_LOCAL, IFA_ADDRESS, prefix
/// length and ifindex (the same message an add would send).
fn address_message(index: u32, addr: IpAddr, prefix_len: u8) -> AddressMessage {
    match addr {
        IpAddr::V4(a) => AddressMessageBuilder::<Ipv4Addr>::new()
            .index(index)
            .address(a, prefix_len)
            .build(),
        IpAddr::V6(a) => AddressMessageBuilder::<Ipv6Addr>::new()
            .index(index)
            .address(a, prefix_len)
            .build(),
    }
}

/// A macvlan whose alias is vipd's, or that has no alias and a VRRP virtual MAC (one vipd
/// created and could not label before it was killed).
fn is_vipd_macvlan(link: &LinkMessage) -> bool {
    let mut macvlan = false;
    let mut alias = None;
    let mut vrrp_mac = false;
    for attribute in &link.attributes {
        match attribute {
            LinkAttribute::IfAlias(a) => alias = Some(a.as_str()),
            LinkAttribute::Address(a) => {
                vrrp_mac = matches!(a.as_slice(), [0x00, 0x00, 0x5e, 0x00, 0x01 | 0x02, _]);
            }
            LinkAttribute::LinkInfo(infos) => {
                macvlan = infos
                    .iter()
                    .any(|i| matches!(i, LinkInfo::Kind(InfoKind::MacVlan)));
            }
            _ => {}
        }
    }
    macvlan
        && match alias {
            Some(a) => a.starts_with(VMAC_ALIAS),
            None => vrrp_mac,
        }
}

/// Link attributes of interest; addresses are filled in separately.
fn link_state(link: &LinkMessage) -> IfState {
    let (mut name, mut mac, mut oper) = (String::new(), None, None);
    for attribute in &link.attributes {
        match attribute {
            LinkAttribute::IfName(n) => name.clone_from(n),
            LinkAttribute::Address(a) => mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
            LinkAttribute::OperState(s) => oper = Some(*s),
            _ => {}
        }
    }
    let up = link_is_up(link.header.flags, oper);
    IfState {
        index: link.header.index,
        name,
        up,
        mac,
        addrs: Vec::new(),
    }
}

/// Whether the interface can carry VRRP traffic.
///
/// Requires IFF_UP (admin up) and IFF_RUNNING (the kernel sets it when the
/// operational state is UP or UNKNOWN). Then RFC 2863 operstate decides:
/// UP is up. UNKNOWN is what drivers without operstate support report
/// (loopback, dummy, some virtual devices); for them carrier (IFF_LOWER_UP)
/// decides. A veth reports UP only while its peer is up too, and
/// LOWERLAYERDOWN (without IFF_RUNNING / IFF_LOWER_UP) when the peer is
/// down, so both ends behave like a cable. DORMANT, DOWN, etc. are down.
fn link_is_up(flags: LinkFlags, oper: Option<State>) -> bool {
    if !flags.contains(LinkFlags::Up | LinkFlags::Running) {
        return false;
    }
    match oper {
        Some(State::Up) => true,
        Some(State::Unknown) | None => flags.contains(LinkFlags::LowerUp),
        Some(_) => false,
    }
}

/// One dumped address; `None` for entries without an address attribute.
fn parse_address(message: &AddressMessage) -> Option<IfAddr> {
    let (mut local, mut address) = (None, None);
    // The header only has the low 8 flag bits; IFA_FLAGS, when present, has all.
    let mut flags = AddressFlags::from_bits_retain(message.header.flags.bits().into());
    let mut by_vipd = false;
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Flags(f) => flags = *f,
            AddressAttribute::Protocol(p) => by_vipd = u8::from(*p) == ADDRESS_PROTOCOL,
            _ => {}
        }
    }
    Some(IfAddr {
        // IFA_LOCAL is our own address; IFA_ADDRESS is the peer on
        // point-to-point links and equal to IFA_LOCAL (or alone) otherwise.
        addr: local.or(address)?,
        prefix_len: message.header.prefix_len,
        secondary: flags.contains(AddressFlags::Secondary),
        tentative: flags.contains(AddressFlags::Tentative),
        by_vipd,
    })
}

/// The multicast connection (to be spawned) and its event stream.
fn open_monitor() -> io::Result<(impl Future<Output = ()> + Send + 'static, Events)> {
    let groups = [
        MulticastGroup::Link,
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
    ];
    // Its request handle is dropped at once: this socket only listens. The
    // connection ends when the event receiver is dropped.
    let (mut conn, _handle, events) = rtnetlink::new_multicast_connection(&groups)
        .map_err(|e| context(e, "netlink: opening the monitor socket"))?;
    if let Err(e) = conn.socket_mut().socket_mut().set_rx_buf_sz(MONITOR_RCVBUF) {
        warn!("netlink: cannot enlarge the monitor socket buffer: {e}");
    }
    Ok((conn, events))
}

/// Forwards monitor events as [`Change`]s until the caller drops the receiver
/// or the monitor socket dies (then the channel closes).
async fn monitor(mut events: Events, handle: Handle, tx: UnboundedSender<Change>) {
    loop {
        let next = tokio::select! {
            next = events.next() => next,
            () = tx.closed() => return,
        };
        let Some((message, _)) = next else {
            warn!("netlink: monitor socket closed, no more interface change events");
            return;
        };
        let listening = match message.payload {
            NetlinkPayload::InnerMessage(m) => change_for(&m).is_none_or(|c| tx.send(c).is_ok()),
            NetlinkPayload::Overrun(_) => resync(&handle, &tx).await,
            _ => true,
        };
        if !listening {
            return;
        }
    }
}

fn change_for(message: &RouteNetlinkMessage) -> Option<Change> {
    match message {
        RouteNetlinkMessage::NewLink(m) | RouteNetlinkMessage::DelLink(m) => Some(Change::Link {
            index: m.header.index,
        }),
        RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m) => {
            Some(Change::Addr {
                index: m.header.index,
            })
        }
        other => {
            debug!("netlink: ignoring monitor message {other:?}");
            None
        }
    }
}

/// The kernel dropped events (receive buffer full): we no longer know what
/// changed, so every existing link is reported changed. Returns false once
/// nobody listens any more.
async fn resync(handle: &Handle, tx: &UnboundedSender<Change>) -> bool {
    warn!("netlink: monitor overrun, events were lost; reporting every link as changed");
    let links: Vec<LinkMessage> = match bounded(handle.link().get().execute().try_collect()).await {
        Ok(links) => links,
        Err(e) => {
            let e = e.into_io("netlink: listing links after a monitor overrun");
            warn!("{e}");
            return true;
        }
    };
    links.iter().all(|link| {
        tx.send(Change::Link {
            index: link.header.index,
        })
        .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::addresses::{AddressOps, Done};
    use crate::agent::testns::{ip, netns, run_in};
    use crate::config::VirtualAddress;

    /// Bound on every wait for the kernel (events, link state settling).
    const WAIT: Duration = Duration::from_secs(5);
    const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
    const NO_SUCH_INDEX: u32 = 0x7fff_fff0;

    async fn state(nl: &Netlink, name: &str) -> IfState {
        let state = nl.interface(name).await.expect("querying");
        state.unwrap_or_else(|| panic!("interface {name} missing"))
    }

    /// Polls until `name` reaches `up` (operstate changes go through the
    /// kernel's linkwatch, which may lag by up to a second).
    async fn wait_up(nl: &Netlink, name: &str, up: bool) -> IfState {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let st = state(nl, name).await;
            if st.up == up {
                return st;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} not up={up} after {WAIT:?}: {st:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn expect_change(rx: &mut UnboundedReceiver<Change>, want: Change, after: &str) {
        let wait = async {
            while let Some(change) = rx.recv().await {
                if change == want {
                    return true;
                }
            }
            false
        };
        match tokio::time::timeout(WAIT, wait).await {
            Ok(true) => {}
            Ok(false) => panic!("change channel closed while waiting for {want:?} after {after}"),
            Err(_) => panic!("no {want:?} within {WAIT:?} after {after}"),
        }
    }

    /// One address change through the agent's own path (`add` or else remove), answered.
    async fn change(ops: &mut AddressOps, add: bool, index: u32, addr: IpAddr, len: u8) -> Done {
        let address = VirtualAddress {
            addr,
            prefix_len: len,
        };
        if add {
            ops.add(0, index, address);
        } else {
            ops.remove(0, index, address);
        }
        ops.flush();
        let answer = tokio::time::timeout(WAIT, ops.next()).await;
        answer.expect("answered")
    }

    async fn add(ops: &mut AddressOps, index: u32, addr: IpAddr, len: u8) -> io::Result<Added> {
        match change(ops, true, index, addr, len).await {
            Done::Added { result, .. } => result,
            Done::Removed { .. } => panic!("a removal answered for an add"),
        }
    }

    async fn del(ops: &mut AddressOps, index: u32, addr: IpAddr, len: u8) -> io::Result<()> {
        match change(ops, false, index, addr, len).await {
            Done::Removed { result, .. } => result,
            Done::Added { .. } => panic!("an add answered for a removal"),
        }
    }

    fn find(st: &IfState, addr: IpAddr) -> Option<&IfAddr> {
        st.addrs.iter().find(|a| a.addr == addr)
    }

    #[test]
    fn query_and_idempotent_addresses() {
        let Some(ns) = netns("q") else { return };
        run_in(&ns, query_body);
    }

    #[test]
    fn monitor_reports_changes() {
        let Some(ns) = netns("m") else { return };
        run_in(&ns, monitor_body);
    }

    async fn query_body(ns: String) {
        let (nl, _changes) = Netlink::open().expect("open");
        let va = wait_up(&nl, "va", true).await;
        assert_eq!(va.mac, Some(MAC));
        let by_index = nl
            .interface_by_index(va.index)
            .await
            .expect("by index")
            .expect("va");
        assert_eq!((by_index.name.as_str(), by_index.mac), ("va", Some(MAC)));
        assert_eq!(nl.interface("nosuch0").await.expect("query"), None);
        assert_eq!(
            nl.interface_by_index(NO_SUCH_INDEX).await.expect("query"),
            None
        );
        assert_eq!(nl.interface_by_index(0).await.expect("query"), None);
        assert!(nl.interface("much-too-long-name").await.is_err());
        // Loopback: down at first, then operstate UNKNOWN with carrier = up.
        assert!(!state(&nl, "lo").await.up);
        ip(&ns, "link set lo up");
        wait_up(&nl, "lo", true).await;

        let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
        let v4b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11));
        let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10));
        // Five adds written together, answered in order; the second of each is idempotent.
        let mut ops = AddressOps::open().expect("address socket");
        for (k, (addr, len)) in [(v4, 24), (v4b, 24), (v6, 64), (v4, 24), (v6, 64)]
            .into_iter()
            .enumerate()
        {
            let address = VirtualAddress {
                addr,
                prefix_len: len,
            };
            ops.add(k, va.index, address);
        }
        ops.flush();
        let mut added = Vec::new();
        for k in 0..5 {
            match tokio::time::timeout(WAIT, ops.next())
                .await
                .expect("answered")
            {
                Done::Added {
                    instance, result, ..
                } => {
                    assert_eq!(instance, k, "answers in the order of the requests");
                    added.push(result.expect("add (second time: idempotent)"));
                }
                Done::Removed { .. } => panic!("a removal answered for an add"),
            }
        }
        assert!(ops.is_idle());
        use Added::{AlreadyThere, Created};
        assert_eq!(
            added,
            [Created, Created, Created, AlreadyThere, AlreadyThere]
        );
        let st = state(&nl, "va").await;
        let want = |addr, prefix_len, secondary| IfAddr {
            addr,
            prefix_len,
            secondary,
            tentative: false,
            by_vipd: true,
        };
        assert_eq!(find(&st, v4), Some(&want(v4, 24, false)), "{st:?}");
        assert_eq!(find(&st, v4b), Some(&want(v4b, 24, true)), "{st:?}");
        assert_eq!(find(&st, v6), Some(&want(v6, 64, false)), "NODAD: {st:?}");
        // Without NODAD an IPv6 address stays tentative for about a second.
        ip(&ns, "addr add 2001:db8::99/64 dev va");
        let dad: IpAddr = "2001:db8::99".parse().expect("literal");
        assert!(find(&state(&nl, "va").await, dad).is_some_and(|a| a.tentative && !a.by_vipd));
        // An address someone else added is reported as already there, and stays untagged.
        assert_eq!(
            add(&mut ops, va.index, dad, 64)
                .await
                .expect("add existing"),
            Added::AlreadyThere
        );
        assert!(find(&state(&nl, "va").await, dad).is_some_and(|a| !a.by_vipd));

        for (addr, len) in [(v4, 24), (v4b, 24), (v6, 64), (v4, 24), (v6, 64)] {
            del(&mut ops, va.index, addr, len)
                .await
                .expect("del (second time: idempotent)");
        }
        let st = state(&nl, "va").await;
        assert!(
            [v4, v4b, v6].iter().all(|a| find(&st, *a).is_none()),
            "{st:?}"
        );

        let err = add(&mut ops, NO_SUCH_INDEX, v4, 24)
            .await
            .expect_err("no such link");
        let text = err.to_string();
        assert!(
            text.contains("adding 192.0.2.10/24 on ifindex 2147483632"),
            "{text}"
        );
        // Deleting from an interface that is gone: the address went with it.
        del(&mut ops, NO_SUCH_INDEX, v6, 64)
            .await
            .expect("no such link: nothing left to delete");
        let err = add(&mut ops, va.index, v4, 33)
            .await
            .expect_err("bad prefix");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    async fn monitor_body(ns: String) {
        let (nl, mut rx) = Netlink::open().expect("open");
        let va = wait_up(&nl, "va", true).await;
        let link = Change::Link { index: va.index };

        ip(&ns, "link set vb down");
        expect_change(&mut rx, link, "peer down (carrier loss)").await;
        wait_up(&nl, "va", false).await;
        ip(&ns, "link set vb up");
        expect_change(&mut rx, link, "peer up").await;
        wait_up(&nl, "va", true).await;
        ip(&ns, "link set va down");
        expect_change(&mut rx, link, "link down").await;
        wait_up(&nl, "va", false).await;
        ip(&ns, "link set va up");
        expect_change(&mut rx, link, "link up").await;
        wait_up(&nl, "va", true).await;

        let addr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
        let mut ops = AddressOps::open().expect("address socket");
        add(&mut ops, va.index, addr, 24).await.expect("add");
        expect_change(&mut rx, Change::Addr { index: va.index }, "address add").await;
        let v6: IpAddr = "2001:db8:1::7".parse().expect("literal");
        add(&mut ops, va.index, v6, 64).await.expect("add v6");
        expect_change(
            &mut rx,
            Change::Addr { index: va.index },
            "IPv6 address add",
        )
        .await;
        del(&mut ops, va.index, addr, 24).await.expect("del");
        expect_change(&mut rx, Change::Addr { index: va.index }, "address delete").await;
    }
}

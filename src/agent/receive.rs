//! The receive path: the event loop reads each VRRP socket in batches (`recvmmsg`) into
//! buffers allocated once, runs the packet module's validation against the VRIDs configured
//! on that socket, counts drops by kind, and feeds valid adverts to the node. No task, no
//! channel and no allocation per packet.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::agent::network::{self, Inbox, Received, VrrpSocket};
use crate::config::InstanceConfig;
use crate::protocol::fsm::AdvertIn;
use crate::protocol::packet::{self, DropKind, Expect, RxMeta};
use crate::protocol::units::{Centisecs, Family, Version};

/// A valid advert for one instance.
#[derive(Clone, Copy, Debug)]
pub struct Inbound {
    pub instance: usize,
    pub advert: AdvertIn,
    pub addresses_match: bool,
}

/// What one configured VRID on a socket expects.
#[derive(Debug, PartialEq)]
struct Entry {
    instance: usize,
    version: Version,
    checksum_ipv4_pseudo_header: bool,
    auth_pass: Option<[u8; 8]>,
    interval: Centisecs,
    addresses: Vec<IpAddr>,
    unicast_peers: Vec<IpAddr>,
}

/// VRID -> instance expectations for one (interface, family) socket.
#[derive(Debug, PartialEq)]
pub struct VridTable {
    entries: Vec<Option<Entry>>,
}

impl VridTable {
    /// `members` are (instance index, config) pairs of the instances on this socket.
    pub fn new<'a>(members: impl Iterator<Item = (usize, &'a InstanceConfig)>) -> VridTable {
        let mut entries: Vec<Option<Entry>> = (0..=u8::MAX).map(|_| None).collect();
        for (instance, c) in members {
            if let Some(slot) = entries.get_mut(usize::from(c.vrid)) {
                *slot = Some(Entry {
                    instance,
                    version: c.version,
                    checksum_ipv4_pseudo_header: c.checksum_ipv4_pseudo_header,
                    auth_pass: c.auth_pass,
                    interval: c.advert_interval,
                    addresses: c.virtual_addresses.iter().map(|v| v.addr).collect(),
                    unicast_peers: c.unicast_peers.clone(),
                });
            }
        }
        VridTable { entries }
    }

    fn expect(&self, vrid: u8) -> Option<(usize, Expect<'_>)> {
        let e = self.entries.get(usize::from(vrid))?.as_ref()?;
        Some((
            e.instance,
            Expect {
                version: e.version,
                checksum_ipv4_pseudo_header: e.checksum_ipv4_pseudo_header,
                auth_pass: e.auth_pass,
                interval: e.interval,
                addresses: &e.addresses,
                unicast_peers: &e.unicast_peers,
            },
        ))
    }

    /// Validate one datagram as read from a socket of `family`.
    pub fn check(&self, family: Family, data: &[u8], rx: &Received) -> Result<Inbound, DropKind> {
        let (meta, vrrp) = match family {
            Family::V4 => packet::split_ipv4(data)?,
            Family::V6 => (
                RxMeta {
                    src: rx.src.ok_or(DropKind::IpHeader)?,
                    dst: rx.dst.unwrap_or(network::multicast_group(Family::V6)),
                    // No hop-limit control message means we cannot prove 255: drop.
                    hop_limit: rx.hop_limit.unwrap_or(0),
                },
                data,
            ),
        };
        let mut instance = None;
        let adv = packet::validate(vrrp, &meta, family, |vrid| {
            self.expect(vrid).map(|(i, e)| {
                instance = Some(i);
                e
            })
        })?;
        Ok(Inbound {
            instance: instance.ok_or(DropKind::UnknownVrid)?,
            advert: AdvertIn {
                src: adv.src,
                priority: adv.priority,
                interval: adv.interval,
            },
            addresses_match: adv.addresses_match,
        })
    }
}

/// Per-socket receive counters, shared between the reader task and the status report.
#[derive(Default)]
pub struct RxStats {
    received: AtomicU64,
    drops: [AtomicU64; DropKind::ALL.len()],
}

impl RxStats {
    fn count_drop(&self, kind: DropKind) {
        if let Some(c) = self.drops.get(kind.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    pub fn drops(&self) -> BTreeMap<String, u64> {
        DropKind::ALL
            .iter()
            .map(|k| {
                let n = self
                    .drops
                    .get(k.index())
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                (k.name().to_string(), n)
            })
            .collect()
    }
}

/// At most one debug line per drop kind per interval, with the count suppressed since.
struct DropLog {
    last: [Option<Instant>; DropKind::ALL.len()],
    suppressed: [u64; DropKind::ALL.len()],
}

const DROP_LOG_INTERVAL: Duration = Duration::from_secs(5);

impl DropLog {
    fn new() -> DropLog {
        DropLog {
            last: [None; DropKind::ALL.len()],
            suppressed: [0; DropKind::ALL.len()],
        }
    }

    fn note(&mut self, interface: &str, family: Family, kind: DropKind, rx: &Received) {
        let i = kind.index();
        let (Some(last), Some(suppressed)) = (self.last.get_mut(i), self.suppressed.get_mut(i))
        else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < DROP_LOG_INTERVAL) {
            *suppressed += 1;
            return;
        }
        tracing::debug!(
            interface,
            %family,
            kind = kind.name(),
            src = ?rx.src,
            suppressed = *suppressed,
            "dropped a VRRP packet"
        );
        *last = Some(now);
        *suppressed = 0;
    }
}

/// The receive side of one socket: its buffers and its drop log.
pub struct Reader {
    inbox: Inbox,
    log: DropLog,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader {
            inbox: Inbox::default(),
            log: DropLog::new(),
        }
    }
}

/// The socket a [`Reader`] reads, and what it expects there.
pub struct Source<'a> {
    pub socket: &'a VrrpSocket,
    pub interface: &'a str,
    pub family: Family,
    pub table: &'a VridTable,
    pub stats: &'a RxStats,
}

impl Reader {
    /// Read one batch of what waits on the socket, validate it, count drops by kind, and
    /// hand each valid advert to `deliver`: how many datagrams were read (fewer than
    /// [`network::RECV_BATCH`]: the socket is drained for now).
    pub fn read(&mut self, from: &Source<'_>, mut deliver: impl FnMut(Inbound)) -> usize {
        let n = match from.socket.recv_batch(&mut self.inbox) {
            Ok(n) => n,
            Err(e) => {
                // The socket is not read again before it says it is readable again.
                tracing::debug!(interface = from.interface, family = %from.family, error = %e, "receive failed");
                return 0;
            }
        };
        from.stats.received.fetch_add(n as u64, Ordering::Relaxed);
        for (data, rx) in self.inbox.datagrams() {
            match from.table.check(from.family, data, rx) {
                Ok(inbound) => deliver(inbound),
                Err(kind) => {
                    from.stats.count_drop(kind);
                    self.log.note(from.interface, from.family, kind, rx);
                }
            }
        }
        n
    }
}

//! Address changes on their way to the kernel. When hundreds of instances take over at once,
//! the loop must not wait a kernel round trip per address: adds and removes are written
//! together, many requests in one `send` on a netlink socket of their own (the kernel carries
//! them out in order, one after the other), and the loop goes on sending adverts while the
//! answers come back. An instance's announcement waits for its own adds, so no client is sent
//! to this host before the address is on it.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::packet_core::NetlinkMessage;
use rtnetlink::sys::{Socket, protocols::NETLINK_ROUTE};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::agent::netlink::{self, Added};
use crate::config::VirtualAddress;
use crate::protocol::node::InstanceId;

/// The most bytes of requests in one `send` (well under the socket's send buffer).
const SEND_CHUNK: usize = 32 * 1024;
/// Room for the answers a `recv` takes at once.
const RECV_BUFFER: usize = 64 * 1024;
/// A request the kernel never answered (its answer lost to a full receive buffer) fails
/// after this long, so that nothing waits for it for ever.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// Netlink's "error" message type, which carries every acknowledgement (code 0 for success).
const NLMSG_ERROR: u16 = 2;
/// The netlink message header: length, type, flags, sequence number, port.
const HEADER_LEN: usize = 16;

/// One answered request.
pub enum Done {
    Added {
        instance: InstanceId,
        address: VirtualAddress,
        result: io::Result<Added>,
    },
    Removed {
        instance: InstanceId,
        address: VirtualAddress,
        result: io::Result<()>,
    },
}

/// An announcement held back until its instance's addresses are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announce {
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub count: u8,
}

#[derive(Clone, Copy)]
enum Kind {
    Add,
    Remove,
}

/// A request written (or about to be) and not yet answered.
struct Waiting {
    kind: Kind,
    instance: InstanceId,
    ifindex: u32,
    address: VirtualAddress,
    since: Instant,
}

pub struct AddressOps {
    socket: AsyncFd<Socket>,
    /// Requests not yet written, whole messages back to back, and where each one ends.
    out: Vec<u8>,
    ends: Vec<usize>,
    /// By sequence number.
    waiting: HashMap<u32, Waiting>,
    next_seq: u32,
    answered: VecDeque<Done>,
    rx: Vec<u8>,
    /// Adds not yet answered, by instance.
    adding: HashMap<InstanceId, usize>,
    held_back: HashMap<InstanceId, Announce>,
}

impl AddressOps {
    /// A netlink socket of its own (on the current runtime): its answers are never mixed
    /// with the queries and events of `agent::netlink`.
    pub fn open() -> io::Result<AddressOps> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        // Acknowledgements without a copy of each request: a thousand fit in the buffer.
        socket.set_cap_ack(true)?;
        socket.set_rx_buf_sz(1 << 20)?;
        socket.set_non_blocking(true)?;
        // SAFETY: the socket is owned by the AsyncFd from here on and is never closed or
        // replaced while registered.
        let socket = unsafe { AsyncFd::register(socket) }.map_err(io::Error::from)?;
        Ok(AddressOps {
            socket,
            out: Vec::with_capacity(SEND_CHUNK),
            ends: Vec::new(),
            waiting: HashMap::new(),
            next_seq: 1,
            answered: VecDeque::new(),
            rx: vec![0; RECV_BUFFER],
            adding: HashMap::new(),
            held_back: HashMap::new(),
        })
    }

    /// Queue adding `address` to interface `ifindex` for `instance`; written by the next
    /// [`AddressOps::flush`].
    pub fn add(&mut self, instance: InstanceId, ifindex: u32, address: VirtualAddress) {
        *self.adding.entry(instance).or_default() += 1;
        let request = netlink::add_request(ifindex, address.addr, address.prefix_len);
        self.queue(Kind::Add, instance, ifindex, address, request);
    }

    /// Queue removing `address` from interface `ifindex`; written by the next flush.
    pub fn remove(&mut self, instance: InstanceId, ifindex: u32, address: VirtualAddress) {
        let request = netlink::del_request(ifindex, address.addr, address.prefix_len);
        self.queue(Kind::Remove, instance, ifindex, address, request);
    }

    fn queue(
        &mut self,
        kind: Kind,
        instance: InstanceId,
        ifindex: u32,
        address: VirtualAddress,
        request: io::Result<NetlinkMessage<RouteNetlinkMessage>>,
    ) {
        let op = Waiting {
            kind,
            instance,
            ifindex,
            address,
            since: Instant::now(),
        };
        let mut request = match request {
            Ok(request) => request,
            Err(e) => {
                self.answered.push_back(op.fail(e));
                return;
            }
        };
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        request.header.sequence_number = seq;
        request.finalize();
        let start = self.out.len();
        self.out.resize(start + request.buffer_len(), 0);
        if let Some(room) = self.out.get_mut(start..) {
            request.serialize(room);
        }
        self.ends.push(self.out.len());
        self.waiting.insert(seq, op);
    }

    /// Write every queued request, as few `send`s as fit. Before any other change to the
    /// kernel's interfaces (the order the node asked for is the order the kernel sees).
    pub fn flush(&mut self) {
        let mut sent = 0;
        while sent < self.out.len() {
            // Whole messages only, up to SEND_CHUNK (at least one).
            let end = self
                .ends
                .iter()
                .copied()
                .filter(|&e| e > sent)
                .take_while(|&e| e - sent <= SEND_CHUNK)
                .last()
                .or_else(|| self.ends.iter().copied().find(|&e| e > sent))
                .unwrap_or(self.out.len());
            let chunk = self.out.get(sent..end).unwrap_or_default();
            if let Err(e) = self.socket.get_ref().send(chunk, 0) {
                // Not one of them reached the kernel: each is answered with the error.
                self.fail_unsent(sent, end, &e);
            }
            sent = end;
        }
        self.out.clear();
        self.ends.clear();
    }

    /// The requests serialised in `out[from..to]` failed to go out.
    fn fail_unsent(&mut self, from: usize, to: usize, error: &io::Error) {
        let mut at = from;
        while at + HEADER_LEN <= to {
            let Some((len, _, seq)) = header(self.out.get(at..to).unwrap_or_default()) else {
                break;
            };
            if let Some(op) = self.waiting.remove(&seq) {
                let e = io::Error::new(error.kind(), error.to_string());
                self.answered.push_back(op.fail(e));
            }
            at += align(len).max(HEADER_LEN);
        }
    }

    /// The next answer; never, while nothing is on its way.
    pub async fn next(&mut self) -> Done {
        loop {
            if let Some(done) = self.answered.pop_front() {
                return done;
            }
            if self.waiting.is_empty() {
                return std::future::pending().await;
            }
            let Ok(ready) = self.socket.readable().await else {
                return std::future::pending().await;
            };
            drop(ready);
            self.read_answers();
        }
    }

    /// An answer already there, without waiting.
    pub fn ready(&mut self) -> Option<Done> {
        if self.answered.is_empty() && !self.waiting.is_empty() {
            self.read_answers();
        }
        self.answered.pop_front()
    }

    /// Read what answers wait on the socket, without waiting (the socket's readiness is
    /// cleared when there are none).
    fn read_answers(&mut self) {
        let rx = &mut self.rx;
        match self
            .socket
            .try_io(Interest::READABLE, |s| s.recv(&mut rx.as_mut_slice(), 0))
        {
            Ok(n) => self.take_answers(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // ENOBUFS: answers were lost; `expire` fails their requests in time.
            Err(e) => tracing::debug!(error = %e, "reading address answers"),
        }
    }

    /// Acknowledgements in `rx[..n]`, matched to their requests by sequence number.
    fn take_answers(&mut self, n: usize) {
        let mut at = 0;
        while let Some(rest) = self.rx.get(at..n) {
            let Some((len, kind, seq)) = header(rest) else {
                break;
            };
            if kind == NLMSG_ERROR
                && let Some(op) = self.waiting.remove(&seq)
            {
                let code = rest
                    .get(HEADER_LEN..HEADER_LEN + 4)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, i32::from_ne_bytes);
                self.answered.push_back(op.answer(code));
            }
            at += align(len).max(HEADER_LEN);
        }
    }

    /// Fail the requests the kernel has not answered for [`ANSWER_TIMEOUT`].
    pub fn expire(&mut self) {
        let late: Vec<u32> = self
            .waiting
            .iter()
            .filter(|(_, op)| op.since.elapsed() > ANSWER_TIMEOUT)
            .map(|(&seq, _)| seq)
            .collect();
        for seq in late {
            if let Some(op) = self.waiting.remove(&seq) {
                let e = io::Error::new(io::ErrorKind::TimedOut, "the kernel never answered");
                self.answered.push_back(op.fail(e));
            }
        }
    }

    /// `announce` for `instance`, now if none of its adds is waiting for an answer; held
    /// back otherwise, and given back by [`AddressOps::answered`] with the last of them.
    /// Of two held back, the larger burst stays.
    pub fn announce(&mut self, instance: InstanceId, announce: Announce) -> Option<Announce> {
        if !self.adding.contains_key(&instance) {
            return Some(announce);
        }
        let held = self.held_back.entry(instance).or_insert(announce);
        if announce.count > held.count {
            *held = announce;
        }
        None
    }

    /// Book `done` in; the announcement it releases, if it was its instance's last add.
    pub fn answered(&mut self, done: &Done) -> Option<(InstanceId, Announce)> {
        let Done::Added { instance, .. } = *done else {
            return None;
        };
        let left = self.adding.get_mut(&instance)?;
        *left -= 1;
        if *left > 0 {
            return None;
        }
        self.adding.remove(&instance);
        self.held_back.remove(&instance).map(|a| (instance, a))
    }

    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.answered.is_empty()
    }
}

impl Waiting {
    /// The kernel's answer: `code` 0 or a negated errno.
    fn answer(self, code: i32) -> Done {
        let errno = code.saturating_abs();
        match (self.kind, errno) {
            (Kind::Add, 0) => self.added(Ok(Added::Created)),
            // Already there: a takeover retried, or an address the host owns.
            (Kind::Add, libc::EEXIST) => self.added(Ok(Added::AlreadyThere)),
            // Already gone (removed by an admin, never added), or its interface went and took
            // it along: releasing it has reached the desired state.
            (Kind::Remove, 0 | libc::EADDRNOTAVAIL | libc::ENOENT | libc::ENODEV) => {
                self.removed(Ok(()))
            }
            _ => {
                let e = io::Error::from_raw_os_error(errno);
                self.fail(e)
            }
        }
    }

    fn fail(self, error: io::Error) -> Done {
        let verb = match self.kind {
            Kind::Add => "adding",
            Kind::Remove => "deleting",
        };
        let e = io::Error::new(
            error.kind(),
            format!(
                "netlink: {verb} {}/{} on ifindex {}: {error}",
                self.address.addr, self.address.prefix_len, self.ifindex
            ),
        );
        match self.kind {
            Kind::Add => self.added(Err(e)),
            Kind::Remove => self.removed(Err(e)),
        }
    }

    fn added(self, result: io::Result<Added>) -> Done {
        Done::Added {
            instance: self.instance,
            address: self.address,
            result,
        }
    }

    fn removed(self, result: io::Result<()>) -> Done {
        Done::Removed {
            instance: self.instance,
            address: self.address,
            result,
        }
    }
}

/// A netlink header at the start of `bytes`: (length, type, sequence number).
fn header(bytes: &[u8]) -> Option<(usize, u16, u32)> {
    let len = u32::from_ne_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let kind = u16::from_ne_bytes(bytes.get(4..6)?.try_into().ok()?);
    let seq = u32::from_ne_bytes(bytes.get(8..12)?.try_into().ok()?);
    (len >= HEADER_LEN).then_some((len, kind, seq))
}

/// Netlink messages start on 4-byte boundaries.
fn align(len: usize) -> usize {
    (len + 3) & !3
}

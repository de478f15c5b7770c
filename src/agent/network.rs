//! Sockets: one raw VRRP socket per (interface, family), and an AF_PACKET socket for
//! takeover announcements. Thin by design: bytes in, bytes out; the codec and every
//! validation rule live in `packet`.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{self, sockopt};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use std::task::{Context, Poll};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::protocol::packet::{HOP_LIMIT, IPPROTO_VRRP, MULTICAST_V4, MULTICAST_V6};
use crate::protocol::units::Family;

/// RFC 2474 class selector 6 (network control), what routers mark VRRP with.
const TOS_NETWORK_CONTROL: u32 = 0xc0;

/// What the kernel told us about one received datagram besides its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    pub len: usize,
    /// IPv6 only: IPv4 carries these in the header the raw socket hands over.
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub hop_limit: Option<u8>,
}

/// A raw IP-protocol-112 socket bound to one interface, sending and receiving VRRP.
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    family: Family,
    ifindex: u32,
}

impl VrrpSocket {
    /// Open, bind to `ifname`, join the VRRP group, and set TTL/hop limit 255 for multicast
    /// and unicast alike. Multicast loopback is off so we never hear ourselves.
    pub fn open(family: Family, ifname: &str, ifindex: u32) -> io::Result<VrrpSocket> {
        let domain = match family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(IPPROTO_VRRP as i32)))?;
        sock.bind_device(Some(ifname.as_bytes()))?;
        match family {
            Family::V4 => {
                sock.set_ttl_v4(HOP_LIMIT.into())?;
                sock.set_multicast_ttl_v4(HOP_LIMIT.into())?;
                sock.set_tos_v4(TOS_NETWORK_CONTROL)?;
                sock.set_multicast_loop_v4(false)?;
                sock.join_multicast_v4_n(&MULTICAST_V4, &InterfaceIndexOrAddress::Index(ifindex))?;
            }
            Family::V6 => {
                // Linux defaults IPV6_MULTICAST_HOPS to 1; VRRP requires 255.
                sock.set_multicast_hops_v6(HOP_LIMIT.into())?;
                sock.set_unicast_hops_v6(HOP_LIMIT.into())?;
                sock.set_multicast_loop_v6(false)?;
                sock.set_multicast_if_v6(ifindex)?;
                sock.join_multicast_v6(&MULTICAST_V6, ifindex)?;
                // The hop limit and destination are not in the payload of an IPv6 raw socket.
                socket::setsockopt(&sock, sockopt::Ipv6RecvHopLimit, &true)?;
                socket::setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true)?;
            }
        }
        sock.set_nonblocking(true)?;
        // SAFETY: the socket is owned by the AsyncFd from here on and is never closed or
        // handed out while registered.
        let fd = unsafe { AsyncFd::register(sock) }.map_err(io::Error::from)?;
        Ok(VrrpSocket {
            fd,
            family,
            ifindex,
        })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Where a VRRP message from `src` to `dst` goes, and the packet-info control message
    /// that makes the kernel send it from `src` out of this interface.
    fn route(&self, src: IpAddr, dst: IpAddr) -> io::Result<(SockAddr, Control)> {
        match (self.family, src, dst) {
            (Family::V4, IpAddr::V4(src), IpAddr::V4(dst)) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: self.ifindex as i32,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(src).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                let to = SockAddr::from(SocketAddrV4::new(dst, 0));
                Ok((to, Control::new(libc::IPPROTO_IP, libc::IP_PKTINFO, &info)?))
            }
            (Family::V6, IpAddr::V6(src), IpAddr::V6(dst)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let scope = if is_link_scope(&dst) { self.ifindex } else { 0 };
                let to = SockAddr::from(SocketAddrV6::new(dst, 0, 0, scope));
                let control = Control::new(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &info)?;
                Ok((to, control))
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "address family does not match the socket",
            )),
        }
    }
}

/// One packet-info control message, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct Control {
    buf: [u8; 64],
    len: usize,
}

impl Control {
    fn new<T: Copy>(level: libc::c_int, kind: libc::c_int, info: &T) -> io::Result<Control> {
        let mut control = Control {
            buf: [0; 64],
            len: 0,
        };
        let data_len = std::mem::size_of::<T>() as libc::c_uint;
        // SAFETY: CMSG_SPACE is pure arithmetic.
        let space = unsafe { libc::CMSG_SPACE(data_len) } as usize;
        if space > control.buf.len() {
            return Err(io::Error::other("control message does not fit"));
        }
        // SAFETY: msghdr is plain old data; zeroed is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = control.buf.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: msg_control points at `space` bytes of aligned, zeroed, live storage, so
        // CMSG_FIRSTHDR returns a header inside it with room for `data_len` bytes of data.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            if cmsg.is_null() {
                return Err(io::Error::other("no room for the control message"));
            }
            (*cmsg).cmsg_level = level;
            (*cmsg).cmsg_type = kind;
            (*cmsg).cmsg_len = libc::CMSG_LEN(data_len) as _;
            std::ptr::copy_nonoverlapping(
                (info as *const T).cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                data_len as usize,
            );
        }
        control.len = space;
        Ok(control)
    }
}

/// Messages handed to the kernel by one `sendmmsg` at most.
const SEND_BATCH: usize = 64;

struct Queued<T> {
    bytes: std::ops::Range<usize>,
    to: SockAddr,
    control: Control,
    tag: T,
}

/// VRRP messages waiting to go out of one socket, sent together: instances in step (started
/// together, or taking over together) are due together, and one `sendmmsg` for all of them
/// costs one system call instead of one each. `tag` names each message in its result.
/// The buffers are kept between batches, so steady state allocates nothing.
pub struct Outbox<T> {
    bytes: Vec<u8>,
    queued: Vec<Queued<T>>,
}

impl<T> Default for Outbox<T> {
    fn default() -> Outbox<T> {
        Outbox {
            bytes: Vec::with_capacity(4096),
            queued: Vec::with_capacity(SEND_BATCH),
        }
    }
}

impl<T: Copy> Outbox<T> {
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Queue `payload` from `src` (the interface's primary / link-local address) to `dst`
    /// (the group or a unicast peer) on `socket`; an error says it cannot go at all.
    pub fn push(
        &mut self,
        socket: &VrrpSocket,
        payload: &[u8],
        (src, dst): (IpAddr, IpAddr),
        tag: T,
    ) -> io::Result<()> {
        let (to, control) = socket.route(src, dst)?;
        let start = self.bytes.len();
        self.bytes.extend_from_slice(payload);
        self.queued.push(Queued {
            bytes: start..self.bytes.len(),
            to,
            control,
            tag,
        });
        Ok(())
    }

    /// Send everything queued on `socket`, non-blocking (a full queue is an error the caller
    /// counts, never a stall of the event loop), and tell `done` how each went.
    pub fn flush(&mut self, socket: &VrrpSocket, mut done: impl FnMut(T, io::Result<()>)) {
        let fd = socket.fd.get_ref().as_raw_fd();
        let mut start = 0;
        while start < self.queued.len() {
            let end = self.queued.len().min(start + SEND_BATCH);
            let batch = self.queued.get(start..end).unwrap_or_default();
            match send_batch(fd, &self.bytes, batch) {
                Ok(sent) => {
                    for q in batch.iter().take(sent) {
                        done(q.tag, Ok(()));
                    }
                    start += sent;
                }
                // The first message failed: it is reported, and the rest go on without it.
                Err(e) => {
                    if let Some(q) = batch.first() {
                        done(q.tag, Err(e));
                    }
                    start += 1;
                }
            }
        }
        self.clear();
    }

    pub fn clear(&mut self) {
        self.queued.clear();
        self.bytes.clear();
    }
}

/// One `sendmmsg` of `batch` (at most [`SEND_BATCH`]): how many went; an error only when
/// the first did not.
fn send_batch<T>(fd: RawFd, bytes: &[u8], batch: &[Queued<T>]) -> io::Result<usize> {
    // SAFETY: iovec and mmsghdr are plain old data; zeroed is a valid value.
    let mut iovs: [libc::iovec; SEND_BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; SEND_BATCH] = unsafe { std::mem::zeroed() };
    let n = batch.len().min(SEND_BATCH);
    for ((q, iov), header) in batch.iter().zip(&mut iovs).zip(&mut headers) {
        let payload = bytes.get(q.bytes.clone()).unwrap_or_default();
        iov.iov_base = payload.as_ptr() as *mut libc::c_void;
        iov.iov_len = payload.len();
        let msg = &mut header.msg_hdr;
        msg.msg_name = q.to.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = q.to.len();
        msg.msg_iov = iov;
        msg.msg_iovlen = 1;
        msg.msg_control = q.control.buf.as_ptr() as *mut libc::c_void;
        msg.msg_controllen = q.control.len as _;
    }
    // SAFETY: the first `n` headers point at live payloads, addresses, iovecs and control
    // messages (owned by `batch`, `bytes` and `iovs`), none of which moves or is written
    // during the call; the kernel only reads them.
    let sent = unsafe {
        libc::sendmmsg(
            fd,
            headers.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    match usize::try_from(sent) {
        Ok(0) if n > 0 => Err(io::Error::other("sendmmsg sent nothing")),
        Ok(sent) => Ok(sent),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// Datagrams read by one `recvmmsg` at most.
pub const RECV_BATCH: usize = 16;
/// Room for one datagram: the largest VRRP message (255 IPv6 addresses, 4,088 bytes; an
/// IPv6 raw socket hands over no IP header) or an IPv4 one with its header. Anything longer
/// is not VRRP and arrives truncated, as an empty datagram that fails validation.
const RECV_SLOT: usize = 4160;

/// Room for the control messages of one IPv6 datagram (hop limit, packet info).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct ControlSpace([u8; 64]);

/// The buffers of one socket's reads, allocated once.
pub struct Inbox {
    data: Vec<u8>,
    names: Vec<libc::sockaddr_in6>,
    controls: Vec<ControlSpace>,
    received: Vec<Received>,
}

impl Default for Inbox {
    fn default() -> Inbox {
        Inbox {
            data: vec![0; RECV_BATCH * RECV_SLOT],
            // SAFETY: sockaddr_in6 is plain old data; zeroed is a valid value.
            names: vec![unsafe { std::mem::zeroed() }; RECV_BATCH],
            controls: vec![ControlSpace([0; 64]); RECV_BATCH],
            received: Vec::with_capacity(RECV_BATCH),
        }
    }
}

impl Inbox {
    /// The datagrams of the last read, in arrival order.
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], &Received)> {
        self.received.iter().enumerate().map(|(k, rx)| {
            let start = k * RECV_SLOT;
            (self.data.get(start..start + rx.len).unwrap_or_default(), rx)
        })
    }
}

impl VrrpSocket {
    /// Ready when datagrams may be waiting (registers the waker otherwise).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.fd.poll_read_ready(cx).map(|_| ())
    }

    /// Read the datagrams waiting, up to [`RECV_BATCH`], into `inbox`, without waiting:
    /// how many (0 when none was: the socket then waits for the next one).
    pub fn recv_batch(&self, inbox: &mut Inbox) -> io::Result<usize> {
        inbox.received.clear();
        let family = self.family;
        match self.fd.try_io(Interest::READABLE, |sock| {
            recv_batch(sock.as_raw_fd(), family, inbox)
        }) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            other => other,
        }
    }
}

/// One `recvmmsg` into `inbox`. IPv4 needs neither the sender's address nor control messages:
/// the raw socket hands over the IP header, which carries both.
fn recv_batch(fd: RawFd, family: Family, inbox: &mut Inbox) -> io::Result<usize> {
    // SAFETY: iovec and mmsghdr are plain old data; zeroed is a valid value.
    let mut iovs: [libc::iovec; RECV_BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; RECV_BATCH] = unsafe { std::mem::zeroed() };
    let v6 = family == Family::V6;
    let slots = inbox.data.chunks_exact_mut(RECV_SLOT);
    let extras = inbox.names.iter_mut().zip(inbox.controls.iter_mut());
    for (((slot, iov), header), (name, control)) in
        slots.zip(&mut iovs).zip(&mut headers).zip(extras)
    {
        iov.iov_base = slot.as_mut_ptr().cast();
        iov.iov_len = slot.len();
        let msg = &mut header.msg_hdr;
        msg.msg_iov = iov;
        msg.msg_iovlen = 1;
        if v6 {
            msg.msg_name = (name as *mut libc::sockaddr_in6).cast();
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            msg.msg_control = control.0.as_mut_ptr().cast();
            msg.msg_controllen = control.0.len() as _;
        }
    }
    // SAFETY: every header points at live, writable buffers of the lengths given (the
    // inbox's slots, names and control spaces, and `iovs`), which outlive the call.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            headers.as_mut_ptr(),
            RECV_BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    for (header, name) in headers.iter().zip(&inbox.names).take(n) {
        let truncated = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        let mut rx = Received {
            len: if truncated {
                0
            } else {
                header.msg_len as usize
            },
            src: None,
            dst: None,
            hop_limit: None,
        };
        if v6 {
            let whole =
                header.msg_hdr.msg_namelen as usize >= std::mem::size_of::<libc::sockaddr_in6>();
            if whole && name.sin6_family == libc::AF_INET6 as libc::sa_family_t {
                rx.src = Some(IpAddr::V6(Ipv6Addr::from(name.sin6_addr.s6_addr)));
            }
            read_controls(&header.msg_hdr, &mut rx);
        }
        inbox.received.push(rx);
    }
    Ok(n)
}

/// The hop limit and destination of an IPv6 datagram, from its control messages.
fn read_controls(msg: &libc::msghdr, rx: &mut Received) {
    // SAFETY: `msg` is a header the kernel filled: msg_control and msg_controllen describe
    // the control messages it wrote, which CMSG_FIRSTHDR/CMSG_NXTHDR walk within bounds;
    // each payload is read unaligned, with the size its type has.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            match ((*c).cmsg_level, (*c).cmsg_type) {
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                    let hops = std::ptr::read_unaligned(data.cast::<libc::c_int>());
                    rx.hop_limit = u8::try_from(hops).ok();
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info = std::ptr::read_unaligned(data.cast::<libc::in6_pktinfo>());
                    rx.dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                }
                _ => {}
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
}

fn is_link_scope(a: &Ipv6Addr) -> bool {
    a.is_unicast_link_local() || a.is_multicast()
}

/// AF_PACKET socket for gratuitous ARP and unsolicited NA frames, which the kernel would
/// never send on our behalf for an address it did not choose to announce.
pub struct FrameSocket {
    fd: OwnedFd,
}

impl FrameSocket {
    pub fn open() -> io::Result<FrameSocket> {
        // Protocol 0: send-only, so the kernel does not copy every frame on the host to us.
        let sock = Socket::new(Domain::PACKET, Type::RAW, None)?;
        sock.set_nonblocking(true)?;
        Ok(FrameSocket { fd: sock.into() })
    }

    /// Send a complete Ethernet frame out of interface `ifindex`.
    pub fn send(&self, ifindex: u32, frame: &[u8]) -> io::Result<()> {
        // SAFETY: sockaddr_ll is plain old data; zeroed is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = ifindex as i32;
        // For SOCK_RAW the frame carries its own link-layer header; only the index matters.
        // SAFETY: the pointers and lengths describe live, correctly sized values.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                libc::MSG_DONTWAIT,
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The destination of an advert: the VRRP group of the family, or a unicast peer.
pub fn multicast_group(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(MULTICAST_V4),
        Family::V6 => IpAddr::V6(MULTICAST_V6),
    }
}

fn promote_secondaries_path(interface: &str) -> String {
    format!("/proc/sys/net/ipv4/conf/{interface}/promote_secondaries")
}

/// Linux deletes every secondary address of a subnet together with its primary unless
/// `promote_secondaries` is set on the interface. Turn it on; `true` if we changed it.
pub fn enable_promote_secondaries(interface: &str) -> io::Result<bool> {
    let path = promote_secondaries_path(interface);
    if std::fs::read_to_string(&path)?.trim() == "1" {
        return Ok(false);
    }
    std::fs::write(&path, "1")?;
    Ok(true)
}

/// Put back the kernel default that [`enable_promote_secondaries`] changed.
pub fn restore_promote_secondaries(interface: &str) -> io::Result<()> {
    std::fs::write(promote_secondaries_path(interface), "0")
}

/// Write `value` to the sysctl file at `path` (under /proc/sys).
pub fn write_sysctl(path: &str, value: &str) -> io::Result<()> {
    std::fs::write(path, value)
}

/// Set a sysctl; the value it had, if it differed.
pub fn swap_sysctl(path: &str, value: &str) -> io::Result<Option<String>> {
    let old = std::fs::read_to_string(path)?.trim().to_owned();
    if old == value {
        return Ok(None);
    }
    std::fs::write(path, value)?;
    Ok(Some(old))
}

/// What a virtual-MAC macvlan needs, before it first goes up:
/// - `arp_ignore=1`: it answers ARP only for its own (the virtual) addresses, never for the
///   parent's with the virtual MAC;
/// - `arp_announce=2`: its ARP requests name the best local source for the target;
/// - `rp_filter=0`: traffic to a virtual address arrives on it but routes back through the
///   parent (the effective value is the larger of this and `all`);
/// - IPv4 instances: no IPv6 at all (no link-local, no MLD, nothing sent from it);
/// - IPv6 instances: `addr_gen_mode=1` (none): no link-local of its own, so nothing but the
///   virtual addresses is ever answered from the virtual MAC, and no DAD.
pub fn vmac_sysctls(name: &str, family: Family) -> Vec<(String, &'static str)> {
    let v4 = |key: &str| format!("/proc/sys/net/ipv4/conf/{name}/{key}");
    let v6 = |key: &str| format!("/proc/sys/net/ipv6/conf/{name}/{key}");
    let mut list = vec![
        (v4("arp_ignore"), "1"),
        (v4("arp_announce"), "2"),
        (v4("rp_filter"), "0"),
    ];
    match family {
        Family::V4 => list.push((v6("disable_ipv6"), "1")),
        Family::V6 => {
            list.push((v6("addr_gen_mode"), "1"));
            list.push((v6("accept_dad"), "0"));
            list.push((v6("accept_ra"), "0"));
        }
    }
    list
}

/// What the parent of an IPv4 virtual MAC needs, so that clients only ever learn the virtual
/// MAC for a virtual address:
/// - `arp_ignore=1`: the parent does not answer ARP for the virtual addresses (they live on
///   the macvlan) with its own MAC;
/// - `arp_announce=2`: the master's own ARP requests (resolving a client to answer it) name
///   the parent's address, never a virtual one: with 0 (keepalived leaves it so) the client
///   would take the request's sender, the virtual address, to be at the parent's MAC.
pub fn parent_sysctls(parent: &str) -> [(String, &'static str); 2] {
    let v4 = |key: &str| format!("/proc/sys/net/ipv4/conf/{parent}/{key}");
    [(v4("arp_ignore"), "1"), (v4("arp_announce"), "2")]
}

/// `net.ipv4.conf.all.rp_filter` is strict (1).
pub fn strict_rp_filter() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/rp_filter").is_ok_and(|v| v.trim() == "1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::testns::{ip, move_peer, netns, opened_in, run_in};
    use std::time::Duration;

    /// Bound on the wait for what was sent to arrive.
    const WAIT: Duration = Duration::from_secs(5);

    fn index(name: &str) -> u32 {
        nix::net::if_::if_nametoindex(name).expect("interface index")
    }

    /// Read `vb` until `want` datagrams came (or the bound passes): their bytes and metadata.
    async fn read_all(socket: &VrrpSocket, want: usize) -> Vec<(Vec<u8>, Received)> {
        let mut inbox = Inbox::default();
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        while got.len() < want {
            let ready = std::future::poll_fn(|cx| socket.poll_readable(cx));
            tokio::time::timeout_at(deadline, ready)
                .await
                .unwrap_or_else(|_| panic!("only {} of {want} datagrams arrived", got.len()));
            let n = socket.recv_batch(&mut inbox).expect("recvmmsg");
            assert!(n <= RECV_BATCH);
            got.extend(inbox.datagrams().map(|(d, rx)| (d.to_vec(), *rx)));
        }
        got
    }

    /// 40 messages queued in one step leave in batches of at most 64 and arrive in order, read
    /// back 16 at a time; IPv6 brings its sender, destination and hop limit along.
    #[test]
    fn a_batch_goes_out_and_comes_back_whole() {
        let Some(ns) = netns("net") else {
            return;
        };
        let peer = move_peer(&ns);
        ip(&ns.0, "addr add 10.9.0.1/24 dev va");
        ip(&peer.0, "addr add 10.9.0.2/24 dev vb");
        ip(&ns.0, "addr add fe80::a/64 dev va nodad");
        ip(&peer.0, "addr add fe80::b/64 dev vb nodad");
        run_in(&ns, move |_| async move {
            for (family, src) in [
                (Family::V4, "10.9.0.1".parse::<IpAddr>().expect("literal")),
                (Family::V6, "fe80::a".parse().expect("literal")),
            ] {
                let tx = VrrpSocket::open(family, "va", index("va")).expect("socket on va");
                let runtime = tokio::runtime::Handle::current();
                let rx = opened_in(&peer, &runtime, || {
                    VrrpSocket::open(family, "vb", index("vb")).expect("socket on vb")
                });
                let group = multicast_group(family);
                let mut outbox = Outbox::default();
                for k in 0..40u8 {
                    let payload = [3 << 4 | 1, k, 100, 0, 0, 10, 0, 0];
                    outbox.push(&tx, &payload, (src, group), k).expect("queued");
                }
                let mut results = Vec::new();
                outbox.flush(&tx, |k, sent| results.push((k, sent.is_ok())));
                let want: Vec<(u8, bool)> = (0..40).map(|k| (k, true)).collect();
                assert_eq!(results, want, "{family}: every message reported, in order");
                assert!(outbox.is_empty());

                let got = read_all(&rx, 40).await;
                for (k, (data, meta)) in got.iter().enumerate() {
                    // IPv4 raw sockets hand over the IP header (20 bytes here) too.
                    let vrrp = match family {
                        Family::V4 => data.get(20..).unwrap_or_default(),
                        Family::V6 => data.as_slice(),
                    };
                    assert_eq!(
                        vrrp.get(1),
                        Some(&(k as u8)),
                        "{family}: datagram {k} in order"
                    );
                    if family == Family::V6 {
                        assert_eq!(meta.src, Some(src), "{family}: sender");
                        assert_eq!(meta.dst, Some(group), "{family}: destination");
                        assert_eq!(meta.hop_limit, Some(HOP_LIMIT), "{family}: hop limit");
                    }
                }
            }
        });
    }

    /// A message the kernel refuses is reported against its own tag; the rest still go.
    #[test]
    fn a_refused_message_is_reported_and_the_rest_go() {
        let Some(ns) = netns("nrf") else {
            return;
        };
        ip(&ns.0, "addr add 10.9.1.1/24 dev va");
        run_in(&ns, |_| async {
            let tx = VrrpSocket::open(Family::V4, "va", index("va")).expect("socket on va");
            let src: IpAddr = "10.9.1.1".parse().expect("literal");
            let group = multicast_group(Family::V4);
            let mut outbox = Outbox::default();
            let too_big = vec![0u8; 70_000];
            outbox
                .push(&tx, &[0x31; 8], (src, group), 0)
                .expect("queued");
            outbox.push(&tx, &too_big, (src, group), 1).expect("queued");
            outbox
                .push(&tx, &[0x31; 8], (src, group), 2)
                .expect("queued");
            let mut results = Vec::new();
            outbox.flush(&tx, |k, sent| results.push((k, sent.is_ok())));
            assert_eq!(results, [(0, true), (1, false), (2, true)]);
            let v6: IpAddr = "fe80::1".parse().expect("literal");
            let refused = outbox.push(&tx, &[0; 8], (v6, v6), 3);
            assert!(refused.is_err(), "an IPv6 message on an IPv4 socket");
        });
    }
}

//! RFC 9568 Accept_Mode off: vipd's own nftables table, `inet vipd`, with one input chain
//! that drops traffic addressed to the virtual addresses of the masters that do not own them,
//! all but neighbour discovery and VRRP (ARP is not in the `inet` family, so it passes).
//!
//! The messages are built with libnftnl (the `nftnl` crate, as nft itself builds them) and
//! sent as one transaction over a NETLINK_NETFILTER socket of our own: no `nft` process. Every
//! change replaces the whole table atomically (add, delete, add again in one batch), so a
//! reader never sees half of it, and removing it is the same batch without the second add.

use std::ffi::CStr;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nftnl::expr::{Icmpv6HeaderField, Payload, TransportHeaderField};
use nftnl::{Batch, Chain, ChainType, FinalizedBatch, Hook, MsgType, Policy, ProtoFamily, Rule};
use nftnl::{Table, nft_expr};

/// The table vipd owns (and deletes at start, after a crash, and at exit).
pub const TABLE: &CStr = c"vipd";
const CHAIN: &CStr = c"accept_mode";
/// How long the kernel may take to answer a transaction (it answers in microseconds).
const ANSWER_TIMEOUT_SECS: libc::time_t = 2;

const IPPROTO_VRRP: u8 = 112;
const IPPROTO_ICMPV6: u8 = 58;
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;

/// Make the table drop traffic to `drop` (see the module); with nothing to drop, remove it.
pub fn apply(drop: &[IpAddr]) -> io::Result<()> {
    let table = Table::new(TABLE, ProtoFamily::Inet);
    let mut batch = Batch::new();
    // Adding a table that exists is no error: so add, delete, and build it anew.
    batch.add(&table, MsgType::Add);
    batch.add(&table, MsgType::Del);
    if !drop.is_empty() {
        batch.add(&table, MsgType::Add);
        let mut chain = Chain::new(CHAIN, &table);
        chain.set_hook(Hook::In, 0);
        chain.set_type(ChainType::Filter);
        chain.set_policy(Policy::Accept);
        batch.add(&chain, MsgType::Add);
        for addr in drop {
            for rule in rules(&chain, *addr) {
                batch.add(&rule, MsgType::Add);
            }
        }
    }
    let what = if drop.is_empty() {
        "removing table inet vipd"
    } else {
        "writing table inet vipd"
    };
    send(&batch.finalize()).map_err(|e| io::Error::new(e.kind(), format!("nftables: {what}: {e}")))
}

/// IPv4: `ip daddr A meta l4proto != vrrp counter drop`. IPv6: `ip6 daddr A meta l4proto !=
/// {icmpv6, vrrp} counter drop` and `ip6 daddr A icmpv6 type != {nd-neighbor-solicit,
/// nd-neighbor-advert} counter drop`.
fn rules<'a>(chain: &'a Chain<'a>, addr: IpAddr) -> Vec<Rule<'a>> {
    let mut rule = Rule::new(chain);
    match addr {
        IpAddr::V4(a) => {
            rule.add_expr(&nft_expr!(meta nfproto));
            rule.add_expr(&nft_expr!(cmp == libc::NFPROTO_IPV4 as u8));
            rule.add_expr(&nft_expr!(payload ipv4 daddr));
            rule.add_expr(&nft_expr!(cmp == a));
            rule.add_expr(&nft_expr!(meta l4proto));
            rule.add_expr(&nft_expr!(cmp != IPPROTO_VRRP));
            rule.add_expr(&nft_expr!(counter));
            rule.add_expr(&nft_expr!(verdict drop));
            vec![rule]
        }
        IpAddr::V6(a) => {
            let to_a = |rule: &mut Rule<'_>| {
                rule.add_expr(&nft_expr!(meta nfproto));
                rule.add_expr(&nft_expr!(cmp == libc::NFPROTO_IPV6 as u8));
                rule.add_expr(&nft_expr!(payload ipv6 daddr));
                rule.add_expr(&nft_expr!(cmp == a));
            };
            to_a(&mut rule);
            rule.add_expr(&nft_expr!(meta l4proto));
            rule.add_expr(&nft_expr!(cmp != IPPROTO_ICMPV6));
            rule.add_expr(&nft_expr!(cmp != IPPROTO_VRRP));
            rule.add_expr(&nft_expr!(counter));
            rule.add_expr(&nft_expr!(verdict drop));
            let mut icmp = Rule::new(chain);
            to_a(&mut icmp);
            icmp.add_expr(&nft_expr!(meta l4proto));
            icmp.add_expr(&nft_expr!(cmp == IPPROTO_ICMPV6));
            icmp.add_expr(&Payload::Transport(TransportHeaderField::Icmpv6(
                Icmpv6HeaderField::Type,
            )));
            icmp.add_expr(&nft_expr!(cmp != ND_NEIGHBOR_SOLICIT));
            icmp.add_expr(&nft_expr!(cmp != ND_NEIGHBOR_ADVERT));
            icmp.add_expr(&nft_expr!(counter));
            icmp.add_expr(&nft_expr!(verdict drop));
            vec![rule, icmp]
        }
    }
}

/// Send the batch as one datagram and read the kernel's answer to each message: all
/// acknowledged, or the first error.
fn send(batch: &FinalizedBatch) -> io::Result<()> {
    // SAFETY: plain socket(2); the result is checked before use.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_NETFILTER,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let timeout = libc::timeval {
        tv_sec: ANSWER_TIMEOUT_SECS,
        tv_usec: 0,
    };
    // SAFETY: the option value is a live timeval of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // The whole transaction must reach the kernel in one datagram.
    let bytes: Vec<u8> = batch.iter().flatten().copied().collect();
    // SAFETY: sockaddr_nl is plain old data; zeroed is the kernel's address (pid 0).
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: the buffer and the address are live and their lengths are theirs.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            (&raw const kernel).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let expected = batch.sequence_numbers();
    let mut acked = 0;
    let mut buf = vec![0u8; 16384];
    while acked < expected.len() {
        // SAFETY: the buffer is live and writable for its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.kind() {
                io::ErrorKind::WouldBlock => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no answer from the kernel (is nf_tables available?)",
                ),
                _ => e,
            });
        }
        let mut rest = buf.get(..n as usize).unwrap_or_default();
        while let Some(answer) = next_message(&mut rest) {
            if let Some(errno) = answer.error {
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(errno.abs()));
                }
                if expected.contains(&answer.seq) {
                    acked += 1;
                }
            }
        }
    }
    Ok(())
}

/// One netlink message as far as an answer goes: its sequence number and, for
/// NLMSG_ERROR, the error (0: an acknowledgement).
struct Answer {
    seq: u32,
    error: Option<i32>,
}

/// The next message of a received datagram; `None` at its end or at a truncated header.
fn next_message(rest: &mut &[u8]) -> Option<Answer> {
    const HEADER: usize = 16;
    let header = rest.get(..HEADER)?;
    let word = |at: usize| {
        u32::from_ne_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let len = word(0) as usize;
    let kind = u16::from_ne_bytes([header[4], header[5]]);
    let seq = word(8);
    if len < HEADER {
        *rest = &[];
        return None;
    }
    let error = (kind == libc::NLMSG_ERROR as u16)
        .then(|| rest.get(HEADER..HEADER + 4))
        .flatten()
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    // Messages are padded to 4 bytes.
    let step = len.div_ceil(4) * 4;
    *rest = rest.get(step..).unwrap_or_default();
    Some(Answer { seq, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A netlink message header (and the error code of an NLMSG_ERROR) as the kernel sends it.
    fn message(kind: u16, seq: u32, error: Option<i32>, len: u32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        if let Some(e) = error {
            m.extend_from_slice(&e.to_ne_bytes());
        }
        m.resize(len.div_ceil(4) as usize * 4, 0);
        m
    }

    #[test]
    fn answers_are_read_one_by_one() {
        let error = libc::NLMSG_ERROR as u16;
        let mut datagram = message(error, 7, Some(0), 36);
        datagram.extend(message(error, 8, Some(-libc::ENOENT), 38));
        datagram.extend(message(libc::NLMSG_DONE as u16, 9, None, 16));
        let mut rest = datagram.as_slice();
        let a = next_message(&mut rest).expect("first");
        assert_eq!((a.seq, a.error), (7, Some(0)));
        let b = next_message(&mut rest).expect("second, after padding");
        assert_eq!((b.seq, b.error), (8, Some(-libc::ENOENT)));
        let c = next_message(&mut rest).expect("third");
        assert_eq!((c.seq, c.error), (9, None));
        assert!(next_message(&mut rest).is_none());
        // A truncated header or a length below the header's ends the datagram.
        assert!(next_message(&mut &datagram[..10]).is_none());
        assert!(next_message(&mut message(error, 1, None, 4).as_slice()).is_none());
    }
}

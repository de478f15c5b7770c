//! VRRP advertisement codec: encoding and *all* receive validation, without I/O.
//!
//! Everything here is a pure function of its arguments: no sockets, no clocks, and the
//! receive path does not allocate (an [`Advert`] borrows the receive buffer). The socket layer
//! hands in the bytes plus an [`RxMeta`] (addresses and TTL / hop limit it learned from the IP
//! header or the control messages) and gets back either a validated advertisement or the
//! [`DropKind`] to count.
//!
//! Wire format (RFC 9568 section 5.1 / RFC 3768 section 5.1), the 8-byte fixed header:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! v2: |   Auth Type   |   Adver Int   |          Checksum             |
//! ```
//!
//! followed by `Count` addresses (4 or 16 bytes each) and, for v2 only, 8 bytes of
//! authentication data.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::protocol::units::{Centisecs, Family, Version};

/// IP protocol number of VRRP (both versions).
pub const IPPROTO_VRRP: u8 = 112;
/// IPv4 multicast group adverts are sent to.
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 multicast group adverts are sent to.
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit on send, and the only value accepted on receive: a packet that still has
/// 255 cannot have crossed a router, which is VRRP's defence against off-link spoofing.
pub const HOP_LIMIT: u8 = 255;

/// The only VRRP message type (RFC 9568 section 5.2.2).
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// Fixed header length, both versions.
pub const HEADER_LEN: usize = 8;
/// VRRPv2 trailing authentication data (RFC 3768 section 5.3.10).
pub const V2_AUTH_LEN: usize = 8;
/// v2 auth type 0: no authentication; the data bytes are sent as zero and ignored on receive.
pub const AUTH_NONE: u8 = 0;
/// v2 auth type 1: simple text password (RFC 2338; kept by RFC 3768 for compatibility).
pub const AUTH_SIMPLE_TEXT: u8 = 1;
/// v3 Max Adver Int is the low 12 bits of its 16-bit word; the top 4 bits are reserved.
pub const V3_INTERVAL_MASK: u16 = 0x0FFF;
/// Largest interval a v3 advert can carry (40.95 s).
pub const V3_MAX_INTERVAL: Centisecs = Centisecs(V3_INTERVAL_MASK as u32);
/// Largest interval a v2 advert can carry (255 s, the field is 8 bits of whole seconds).
pub const V2_MAX_INTERVAL: Centisecs = Centisecs::from_secs(u8::MAX as u32);

/// Why a received packet was dropped. One counter per kind in the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropKind {
    /// Malformed IPv4 header from the raw socket (or receive metadata of the wrong family).
    IpHeader,
    /// TTL / hop limit other than 255.
    Ttl,
    /// Version nibble not the configured one (or not 2/3, or 2 over IPv6).
    Version,
    /// Message type other than advertisement.
    Type,
    /// Too short for its header, its address count or its v2 auth data.
    Length,
    /// Checksum mismatch.
    Checksum,
    /// No instance for this VRID on this interface and family.
    UnknownVrid,
    /// Unicast mode and the source is not a configured peer.
    NotPeer,
    /// v2 authentication type or password mismatch.
    Auth,
    /// v2 interval differs from ours, or a v3 interval of 0.
    Interval,
}

impl DropKind {
    /// Every kind, in `index()` order (so counters can be a plain array).
    pub const ALL: [DropKind; 10] = [
        DropKind::IpHeader,
        DropKind::Ttl,
        DropKind::Version,
        DropKind::Type,
        DropKind::Length,
        DropKind::Checksum,
        DropKind::UnknownVrid,
        DropKind::NotPeer,
        DropKind::Auth,
        DropKind::Interval,
    ];

    /// snake_case key used in the status JSON.
    pub fn name(self) -> &'static str {
        match self {
            DropKind::IpHeader => "ip_header",
            DropKind::Ttl => "ttl",
            DropKind::Version => "version",
            DropKind::Type => "type",
            DropKind::Length => "length",
            DropKind::Checksum => "checksum",
            DropKind::UnknownVrid => "unknown_vrid",
            DropKind::NotPeer => "not_peer",
            DropKind::Auth => "auth",
            DropKind::Interval => "interval",
        }
    }

    /// Position in [`DropKind::ALL`], for indexing a counter array.
    pub fn index(self) -> usize {
        // The declaration order is the ALL order; a unit test pins the two together.
        self as usize
    }
}

impl fmt::Display for DropKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the receive path knows about the packet besides its VRRP bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxMeta {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL from the header, or IPv6 hop limit from the IPV6_HOPLIMIT control message.
    pub hop_limit: u8,
}

/// Minimum IPv4 header (IHL = 5).
const IPV4_MIN_HEADER: usize = 20;

/// Split a datagram from a raw IPv4 socket (the kernel hands over the IPv4 header) into the
/// receive metadata and the VRRP bytes.
///
/// The header length comes from IHL (options such as Router Alert make it longer than 20), and
/// Total Length bounds the payload so that anything after it is not taken as VRRP data. The
/// protocol must be 112: the socket is opened for it, so anything else means we are reading a
/// datagram we did not ask for.
pub fn split_ipv4(datagram: &[u8]) -> Result<(RxMeta, &[u8]), DropKind> {
    let Some(
        &[
            ver_ihl,
            _tos,
            len_hi,
            len_lo,
            _id_hi,
            _id_lo,
            _frag_hi,
            _frag_lo,
            ttl,
            protocol,
            _sum_hi,
            _sum_lo,
            s0,
            s1,
            s2,
            s3,
            d0,
            d1,
            d2,
            d3,
        ],
    ) = datagram.first_chunk::<IPV4_MIN_HEADER>()
    else {
        return Err(DropKind::IpHeader);
    };
    if ver_ihl >> 4 != 4 || protocol != IPPROTO_VRRP {
        return Err(DropKind::IpHeader);
    }
    let header_len = usize::from(ver_ihl & 0x0F) * 4;
    let total_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if header_len < IPV4_MIN_HEADER || total_len < header_len {
        return Err(DropKind::IpHeader);
    }
    // `get` fails when Total Length claims more than was received (a truncated datagram).
    let payload = datagram
        .get(header_len..total_len)
        .ok_or(DropKind::IpHeader)?;
    let meta = RxMeta {
        src: IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3)),
        dst: IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3)),
        hop_limit: ttl,
    };
    Ok((meta, payload))
}

/// What the instance configured for a VRID expects (looked up by the caller's closure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect<'a> {
    pub version: Version,
    /// v3 over IPv4 only: include the IPv4 pseudo-header in the checksum (keepalived and FRR
    /// do; RFC 9568, Cisco, Juniper and Arista do not).
    pub checksum_ipv4_pseudo_header: bool,
    /// v2 simple-text password, NUL-padded to 8 bytes.
    pub auth_pass: Option<[u8; 8]>,
    /// v2: adverts with another interval are dropped (Interval). v3 ignores it (learns it).
    pub interval: Centisecs,
    /// Configured virtual addresses, in order.
    pub addresses: &'a [IpAddr],
    /// Non-empty => only adverts whose source is listed are accepted (NotPeer).
    pub unicast_peers: &'a [IpAddr],
}

/// A validated advertisement borrowing the receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advert<'a> {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// v3: Max Adver Int (reserved bits masked off); v2: Adver Int seconds * 100.
    pub interval: Centisecs,
    /// IP source of the advert (the sender's primary / link-local address: the tie-breaker).
    pub src: IpAddr,
    /// False when the address list differs from the configured one (count, order or values).
    /// RFC 9568 section 7.1 says to log and count that, and still accept the advert.
    pub addresses_match: bool,
    family: Family,
    /// Exactly `count * family.addr_len()` bytes.
    raw_addresses: &'a [u8],
}

impl<'a> Advert<'a> {
    /// The advertised addresses, in wire order.
    // `use<'a>`: the iterator borrows only the receive buffer, not `self` (edition 2024 would
    // otherwise capture the `&self` lifetime too).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + use<'a> {
        let family = self.family;
        self.raw_addresses
            .chunks_exact(family.addr_len())
            .filter_map(move |chunk| addr_from_bytes(family, chunk))
    }

    /// Number of advertised addresses.
    pub fn count(&self) -> usize {
        self.raw_addresses.len() / self.family.addr_len()
    }

    /// Address family the advert was received on.
    pub fn family(&self) -> Family {
        self.family
    }
}

/// An address of `family` from exactly `addr_len` bytes; `None` if the length is wrong.
fn addr_from_bytes(family: Family, bytes: &[u8]) -> Option<IpAddr> {
    match family {
        Family::V4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        Family::V6 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
    }
}

/// Length of a whole VRRP message with `count` addresses.
pub const fn message_len(version: Version, family: Family, count: u8) -> usize {
    let auth = match version {
        Version::V2 => V2_AUTH_LEN,
        Version::V3 => 0,
    };
    HEADER_LEN + count as usize * family.addr_len() + auth
}

/// Full receive validation of the VRRP bytes `vrrp` (IP header already removed; trailing
/// bytes such as Ethernet padding are allowed and ignored).
///
/// Checks, in this order, the first failure winning (the order is the one RFC 9568 section
/// 7.1 lists, so the counters mean the same as on other implementations):
/// 1. TTL / hop limit == 255, else `Ttl`;
/// 2. version nibble: the VRID's configured version when known, else 2 (IPv4 only) or 3,
///    else `Version`; type == 1, else `Type` (too short to read these: `Length`);
/// 3. length covers header, addresses and v2 auth data, else `Length`;
/// 4. checksum over exactly the message length, else `Checksum`;
/// 5. VRID known, else `UnknownVrid`; unicast peers configured and source not among them:
///    `NotPeer`;
/// 6. v2: auth type / password, else `Auth`; interval equal to ours, else `Interval`.
///    v3: interval 0 is invalid: `Interval`;
/// 7. address list compared with the configured one: a difference only clears
///    `addresses_match`.
///
/// `meta.src` / `meta.dst` must be of `family` (they feed the pseudo-header); if they are not,
/// the caller handed in inconsistent data and the packet is dropped as `IpHeader`.
///
/// `lookup` is called at most once, with the VRID, as soon as the VRID byte has been read:
/// the version check of step 2 already depends on the configuration.
pub fn validate<'p, 'e>(
    vrrp: &'p [u8],
    meta: &RxMeta,
    family: Family,
    lookup: impl FnOnce(u8) -> Option<Expect<'e>>,
) -> Result<Advert<'p>, DropKind> {
    if Family::of(&meta.src) != family || Family::of(&meta.dst) != family {
        return Err(DropKind::IpHeader);
    }

    // 1. TTL / hop limit.
    if meta.hop_limit != HOP_LIMIT {
        return Err(DropKind::Ttl);
    }

    // 2. Version and type.
    let Some(&[version_type, vrid]) = vrrp.first_chunk::<2>() else {
        return Err(DropKind::Length);
    };
    let expect = lookup(vrid);
    let version = match (version_type >> 4, family) {
        (2, Family::V4) => Version::V2,
        (3, _) => Version::V3,
        _ => return Err(DropKind::Version),
    };
    if expect.as_ref().is_some_and(|e| e.version != version) {
        return Err(DropKind::Version);
    }
    if version_type & 0x0F != TYPE_ADVERTISEMENT {
        return Err(DropKind::Type);
    }

    // 3. Length: the count decides how much follows; anything after that is padding.
    let Some(&[_, _, priority, count, word_hi, word_lo, _, _]) = vrrp.first_chunk::<HEADER_LEN>()
    else {
        return Err(DropKind::Length);
    };
    let msg_len = message_len(version, family, count);
    let msg = vrrp.get(..msg_len).ok_or(DropKind::Length)?;
    let addr_end = HEADER_LEN + usize::from(count) * family.addr_len();
    let raw_addresses = msg.get(HEADER_LEN..addr_end).ok_or(DropKind::Length)?;

    // 4. Checksum over exactly the message (not the padding).
    let checksum_ok = match (version, meta.src, meta.dst) {
        (Version::V2, _, _) => PseudoHeader::None.verify(msg),
        (Version::V3, IpAddr::V6(src), IpAddr::V6(dst)) => {
            PseudoHeader::V6 { src, dst }.verify(msg)
        }
        (Version::V3, IpAddr::V4(src), IpAddr::V4(dst)) => {
            let with = PseudoHeader::V4 { src, dst };
            match expect.as_ref().map(|e| e.checksum_ipv4_pseudo_header) {
                Some(true) => with.verify(msg),
                Some(false) => PseudoHeader::None.verify(msg),
                // Not ours anyway: whichever convention the sender uses, a packet that is
                // intact should be counted as an unknown VRID, not as corruption.
                None => with.verify(msg) || PseudoHeader::None.verify(msg),
            }
        }
        // Mixed families were rejected above.
        (Version::V3, _, _) => false,
    };
    if !checksum_ok {
        return Err(DropKind::Checksum);
    }

    // 5. VRID and unicast peers.
    let Some(expect) = expect else {
        return Err(DropKind::UnknownVrid);
    };
    if !expect.unicast_peers.is_empty() && !expect.unicast_peers.contains(&meta.src) {
        return Err(DropKind::NotPeer);
    }

    // 6. v2 authentication and interval; v3 interval sanity.
    let interval = match version {
        Version::V2 => {
            let auth_type = word_hi;
            let auth_data = msg.last_chunk::<V2_AUTH_LEN>().ok_or(DropKind::Length)?;
            let auth_ok = match &expect.auth_pass {
                Some(pass) => auth_type == AUTH_SIMPLE_TEXT && constant_time_eq(auth_data, pass),
                // RFC 3768 section 5.3.6.1: with no authentication the data is ignored.
                None => auth_type == AUTH_NONE,
            };
            if !auth_ok {
                return Err(DropKind::Auth);
            }
            let interval = Centisecs::from_secs(u32::from(word_lo));
            // RFC 3768 section 7.1: a v2 router must not accept a different interval (there
            // is no learning in v2, so the down timers would disagree).
            if interval != expect.interval {
                return Err(DropKind::Interval);
            }
            interval
        }
        Version::V3 => {
            let raw = u16::from_be_bytes([word_hi, word_lo]) & V3_INTERVAL_MASK;
            // A Backup would learn 0 and compute a zero down interval: take over at once, on
            // every advert. Refuse it instead.
            if raw == 0 {
                return Err(DropKind::Interval);
            }
            Centisecs(u32::from(raw))
        }
    };

    // 7. Address list: compare without allocating.
    let addresses_match = usize::from(count) == expect.addresses.len()
        && raw_addresses
            .chunks_exact(family.addr_len())
            .zip(expect.addresses)
            .all(|(bytes, want)| addr_from_bytes(family, bytes) == Some(*want));

    Ok(Advert {
        version,
        vrid,
        priority,
        interval,
        src: meta.src,
        addresses_match,
        family,
        raw_addresses,
    })
}

/// Compare without an early exit, so the time taken does not tell how many leading bytes of
/// a guessed password were right. (The v2 password travels in clear text anyway; this only
/// avoids making the agent an oracle for it.)
fn constant_time_eq(a: &[u8; 8], b: &[u8; 8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Which pseudo-header, if any, a VRRP checksum covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PseudoHeader {
    /// Plain Internet checksum over the message: v2, and v3/IPv4 the RFC 9568 way.
    None,
    /// IPv4 pseudo-header (src, dst, zero, protocol 112, length): v3/IPv4 as keepalived and
    /// FRR do it.
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
    /// IPv6 pseudo-header (RFC 8200 section 8.1: src, dst, 32-bit upper-layer length, three
    /// zero bytes, next header 112): v3/IPv6, always.
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
}

impl PseudoHeader {
    /// The pseudo-header a sender uses, given its version, setting and IP addresses.
    pub fn for_send(version: Version, ipv4_pseudo_header: bool, src: IpAddr, dst: IpAddr) -> Self {
        match (version, src, dst) {
            (Version::V3, IpAddr::V6(src), IpAddr::V6(dst)) => PseudoHeader::V6 { src, dst },
            (Version::V3, IpAddr::V4(src), IpAddr::V4(dst)) if ipv4_pseudo_header => {
                PseudoHeader::V4 { src, dst }
            }
            _ => PseudoHeader::None,
        }
    }

    /// The checksum of `msg` (whose checksum field must be zero) under this pseudo-header.
    /// Computed over a message that already holds its correct checksum, the result is 0.
    pub fn checksum(self, msg: &[u8]) -> u16 {
        // The pseudo-header length field: 16 bits for IPv4, 32 for IPv6. VRRP messages are at
        // most 8 + 255 * 16 + 8 bytes, so the casts cannot truncate a valid message.
        let len = msg.len() as u32;
        let proto = u64::from(IPPROTO_VRRP);
        let pseudo = match self {
            PseudoHeader::None => 0,
            PseudoHeader::V4 { src, dst } => {
                sum_words(&src.octets()) + sum_words(&dst.octets()) + proto + u64::from(len)
            }
            PseudoHeader::V6 { src, dst } => {
                sum_words(&src.octets())
                    + sum_words(&dst.octets())
                    + u64::from(len >> 16)
                    + u64::from(len & 0xFFFF)
                    + proto
            }
        };
        !fold(pseudo + sum_words(msg))
    }

    /// True when `msg` (checksum field included) carries the right checksum.
    pub fn verify(self, msg: &[u8]) -> bool {
        self.checksum(msg) == 0
    }
}

/// RFC 1071 Internet checksum of `data` (no pseudo-header).
pub fn internet_checksum(data: &[u8]) -> u16 {
    PseudoHeader::None.checksum(data)
}

/// Sum of big-endian 16-bit words, an odd last byte padded with zero (RFC 1071). A u64 cannot
/// overflow for any slice that fits in memory, so carries are folded once at the end.
fn sum_words(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut sum: u64 = chunks
        .by_ref()
        .map(|w| match *w {
            [hi, lo] => u64::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        })
        .sum();
    if let [last] = *chunks.remainder() {
        sum += u64::from(last) << 8;
    }
    sum
}

/// One's-complement fold of a wide sum to 16 bits.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// Fields to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdvertOut<'a> {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// v3: centiseconds (clamped to 1..=4095); v2: sent as whole seconds (clamped to 1..=255).
    pub interval: Centisecs,
    /// The configured list, in order: keepalived <= 2.3.2 drops adverts whose list differs.
    pub addresses: &'a [IpAddr],
    /// v2 only: `Some` sends auth type 1 with this password, `None` auth type 0 and zeros.
    pub auth_pass: Option<[u8; 8]>,
    /// v3 over IPv4 only: include the IPv4 pseudo-header in the checksum.
    pub checksum_ipv4_pseudo_header: bool,
}

/// Encode the VRRP message (not the IP header) into `out`, checksum included.
///
/// `out` is cleared first and reused by the caller, so once it has grown to the message size
/// the send path does not allocate. `src` / `dst` are the IP source and destination the
/// kernel will use; they select the address family and feed the pseudo-header.
///
/// Configuration is validated elsewhere; here out-of-range values are made harmless rather
/// than panicking: the interval is clamped into the field's range (never 0, which receivers
/// drop), addresses of the other family are skipped and at most 255 are sent.
pub fn encode(adv: &AdvertOut, src: IpAddr, dst: IpAddr, out: &mut Vec<u8>) {
    out.clear();
    let family = Family::of(&src);
    debug_assert_eq!(
        family,
        Family::of(&dst),
        "src and dst of different families"
    );
    debug_assert!(
        adv.version == Version::V3 || family == Family::V4,
        "VRRPv2 is IPv4 only"
    );
    debug_assert!(
        adv.addresses.iter().all(|a| Family::of(a) == family),
        "address of the wrong family in an advert"
    );
    let addresses = || {
        adv.addresses
            .iter()
            .filter(move |a| Family::of(a) == family)
            .take(usize::from(u8::MAX))
    };
    let count = addresses().count() as u8;

    let (word_hi, word_lo) = match adv.version {
        Version::V2 => {
            let auth_type = if adv.auth_pass.is_some() {
                AUTH_SIMPLE_TEXT
            } else {
                AUTH_NONE
            };
            let secs = (adv.interval.0 / 100).clamp(1, u32::from(u8::MAX)) as u8;
            (auth_type, secs)
        }
        Version::V3 => {
            // The reserved top 4 bits stay 0: the clamp keeps the value within 12 bits.
            let cs = adv.interval.0.clamp(1, V3_MAX_INTERVAL.0) as u16;
            let [hi, lo] = cs.to_be_bytes();
            (hi, lo)
        }
    };
    out.extend_from_slice(&[
        (adv.version.number() << 4) | TYPE_ADVERTISEMENT,
        adv.vrid,
        adv.priority,
        count,
        word_hi,
        word_lo,
        0, // checksum, filled in below
        0,
    ]);
    for addr in addresses() {
        match addr {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        }
    }
    if adv.version == Version::V2 {
        out.extend_from_slice(&adv.auth_pass.unwrap_or([0; V2_AUTH_LEN]));
    }

    let pseudo = PseudoHeader::for_send(adv.version, adv.checksum_ipv4_pseudo_header, src, dst);
    let sum = pseudo.checksum(out);
    if let Some(field) = out.get_mut(6..8) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const PEER4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const SRC6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const VIP4: [IpAddr; 2] = [
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 101)),
    ];
    const VIP6: [IpAddr; 2] = [
        IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x64)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x64)),
    ];
    const PASS: [u8; 8] = *b"secret\0\0";

    fn meta4() -> RxMeta {
        RxMeta {
            src: IpAddr::V4(SRC4),
            dst: IpAddr::V4(MULTICAST_V4),
            hop_limit: 255,
        }
    }

    fn meta6() -> RxMeta {
        RxMeta {
            src: IpAddr::V6(SRC6),
            dst: IpAddr::V6(MULTICAST_V6),
            hop_limit: 255,
        }
    }

    fn out_v2(pass: Option<[u8; 8]>) -> AdvertOut<'static> {
        AdvertOut {
            version: Version::V2,
            vrid: 7,
            priority: 150,
            interval: Centisecs::from_secs(1),
            addresses: &VIP4,
            auth_pass: pass,
            checksum_ipv4_pseudo_header: false,
        }
    }

    fn out_v3(addresses: &'static [IpAddr], pseudo: bool) -> AdvertOut<'static> {
        AdvertOut {
            version: Version::V3,
            vrid: 7,
            priority: 150,
            interval: Centisecs(50),
            addresses,
            auth_pass: None,
            checksum_ipv4_pseudo_header: pseudo,
        }
    }

    fn expect_of<'a>(adv: &AdvertOut<'a>) -> Expect<'a> {
        Expect {
            version: adv.version,
            checksum_ipv4_pseudo_header: adv.checksum_ipv4_pseudo_header,
            auth_pass: adv.auth_pass,
            interval: adv.interval,
            addresses: adv.addresses,
            unicast_peers: &[],
        }
    }

    fn enc(adv: &AdvertOut, meta: &RxMeta) -> Vec<u8> {
        let mut out = Vec::new();
        encode(adv, meta.src, meta.dst, &mut out);
        out
    }

    /// Recompute the checksum after a test tampered with the bytes, so that the tampering
    /// (not the checksum) is what validation trips on.
    fn fix_checksum(msg: &mut [u8], pseudo: PseudoHeader) {
        msg[6] = 0;
        msg[7] = 0;
        let sum = pseudo.checksum(msg);
        msg[6..8].copy_from_slice(&sum.to_be_bytes());
    }

    fn v4_pseudo() -> PseudoHeader {
        PseudoHeader::V4 {
            src: SRC4,
            dst: MULTICAST_V4,
        }
    }

    fn check<'p>(
        bytes: &'p [u8],
        meta: &RxMeta,
        expect: Option<Expect<'_>>,
    ) -> Result<Advert<'p>, DropKind> {
        let family = Family::of(&meta.src);
        validate(bytes, meta, family, |_| expect)
    }

    // ---- DropKind bookkeeping ----

    #[test]
    fn drop_kind_index_matches_all_and_names_are_unique() {
        for (i, kind) in DropKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert_eq!(kind.to_string(), kind.name());
        }
        let mut names: Vec<_> = DropKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropKind::ALL.len());
        assert_eq!(DropKind::UnknownVrid.name(), "unknown_vrid");
        assert_eq!(DropKind::IpHeader.name(), "ip_header");
    }

    // ---- checksum ----

    #[test]
    fn internet_checksum_rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
        // Odd length: the last byte is padded with a zero low byte.
        assert_eq!(internet_checksum(&[0x12]), !0x1200);
        assert_eq!(internet_checksum(&[]), 0xFFFF);
    }

    // ---- split_ipv4 ----

    fn ipv4_datagram(ihl: u8, payload: &[u8]) -> Vec<u8> {
        let header_len = usize::from(ihl) * 4;
        let total = (header_len + payload.len()) as u16;
        let mut d = vec![0u8; header_len];
        d[0] = 0x40 | ihl;
        d[1] = 0xc0;
        d[2..4].copy_from_slice(&total.to_be_bytes());
        d[8] = 255;
        d[9] = IPPROTO_VRRP;
        d[12..16].copy_from_slice(&SRC4.octets());
        d[16..20].copy_from_slice(&MULTICAST_V4.octets());
        // Option bytes (if any) left as End-of-Options zeros.
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn split_ipv4_plain_header() {
        let d = ipv4_datagram(5, &[1, 2, 3, 4]);
        let (meta, payload) = split_ipv4(&d).unwrap();
        assert_eq!(meta, meta4());
        assert_eq!(payload, &[1, 2, 3, 4]);
    }

    #[test]
    fn split_ipv4_reads_ihl_for_options() {
        // IHL 6: a 4-byte option (e.g. Router Alert) sits between header and payload.
        let mut d = ipv4_datagram(6, &[9, 8, 7, 6]);
        d[20..24].copy_from_slice(&[0x94, 0x04, 0x00, 0x00]);
        let (meta, payload) = split_ipv4(&d).unwrap();
        assert_eq!(meta.hop_limit, 255);
        assert_eq!(payload, &[9, 8, 7, 6]);
    }

    #[test]
    fn split_ipv4_cuts_at_total_length() {
        let mut d = ipv4_datagram(5, &[1, 2, 3, 4]);
        d.extend_from_slice(&[0xAA; 6]);
        let (_, payload) = split_ipv4(&d).unwrap();
        assert_eq!(payload, &[1, 2, 3, 4]);
    }

    #[test]
    fn split_ipv4_rejects_malformed_headers() {
        let good = ipv4_datagram(5, &[1, 2, 3, 4]);
        let mutate = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut d = good.clone();
            f(&mut d);
            split_ipv4(&d).map(|_| ())
        };
        let bad = Err(DropKind::IpHeader);
        assert_eq!(mutate(&|d| d[0] = 0x65), bad, "version 6");
        assert_eq!(mutate(&|d| d[0] = 0x44), bad, "IHL 4");
        assert_eq!(mutate(&|d| d[0] = 0x4F), bad, "IHL beyond total length");
        assert_eq!(
            mutate(&|d| d[2..4].copy_from_slice(&19u16.to_be_bytes())),
            bad
        );
        assert_eq!(
            mutate(&|d| d[2..4].copy_from_slice(&25u16.to_be_bytes())),
            bad
        );
        assert_eq!(mutate(&|d| d[9] = 17), bad, "not VRRP");
        assert_eq!(mutate(&|d| d.truncate(19)), bad, "short");
        assert_eq!(mutate(&|d| d.truncate(22)), bad, "truncated payload");
    }

    #[test]
    fn split_ipv4_never_panics_on_truncation() {
        let d = ipv4_datagram(6, &enc(&out_v2(None), &meta4()));
        for n in 0..d.len() {
            assert_eq!(split_ipv4(&d[..n]), Err(DropKind::IpHeader), "len {n}");
        }
        assert!(split_ipv4(&d).is_ok());
    }

    // ---- validate: one test per DropKind ----

    #[test]
    fn drop_meta_of_wrong_family_is_ip_header() {
        let adv = out_v3(&VIP4, true);
        let bytes = enc(&adv, &meta4());
        let r = validate(&bytes, &meta4(), Family::V6, |_| Some(expect_of(&adv)));
        assert_eq!(r, Err(DropKind::IpHeader));
    }

    #[test]
    fn drop_ttl() {
        let adv = out_v3(&VIP4, true);
        let bytes = enc(&adv, &meta4());
        let meta = RxMeta {
            hop_limit: 254,
            ..meta4()
        };
        assert_eq!(
            check(&bytes, &meta, Some(expect_of(&adv))),
            Err(DropKind::Ttl)
        );
    }

    #[test]
    fn drop_version_mismatch_with_configuration() {
        // A v2 advert for a VRID configured as v3: both are valid on IPv4, config decides.
        let adv = out_v2(None);
        let bytes = enc(&adv, &meta4());
        let expect = Expect {
            version: Version::V3,
            ..expect_of(&adv)
        };
        assert_eq!(
            check(&bytes, &meta4(), Some(expect)),
            Err(DropKind::Version)
        );
    }

    #[test]
    fn drop_version_unknown_nibble_and_v2_over_ipv6() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes[0] = 0x41;
        fix_checksum(&mut bytes, v4_pseudo());
        assert_eq!(check(&bytes, &meta4(), None), Err(DropKind::Version));

        let adv6 = out_v3(&VIP6, false);
        let mut bytes6 = enc(&adv6, &meta6());
        bytes6[0] = 0x21;
        assert_eq!(check(&bytes6, &meta6(), None), Err(DropKind::Version));
    }

    #[test]
    fn drop_type() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes[0] = 0x32;
        fix_checksum(&mut bytes, v4_pseudo());
        assert_eq!(
            check(&bytes, &meta4(), Some(expect_of(&adv))),
            Err(DropKind::Type)
        );
    }

    #[test]
    fn drop_length_count_beyond_data() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes[3] = 3; // claims 3 addresses, carries 2
        fix_checksum(&mut bytes, v4_pseudo());
        assert_eq!(
            check(&bytes, &meta4(), Some(expect_of(&adv))),
            Err(DropKind::Length)
        );
    }

    #[test]
    fn drop_length_v2_without_auth_data() {
        let adv = out_v2(None);
        let bytes = enc(&adv, &meta4());
        let cut = &bytes[..bytes.len() - V2_AUTH_LEN];
        assert_eq!(
            check(cut, &meta4(), Some(expect_of(&adv))),
            Err(DropKind::Length)
        );
    }

    #[test]
    fn drop_checksum() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes[2] ^= 0x01; // priority flipped after the checksum was computed
        assert_eq!(
            check(&bytes, &meta4(), Some(expect_of(&adv))),
            Err(DropKind::Checksum)
        );
    }

    #[test]
    fn drop_unknown_vrid() {
        let adv = out_v3(&VIP4, true);
        let bytes = enc(&adv, &meta4());
        let mut asked = None;
        let r = validate(&bytes, &meta4(), Family::V4, |vrid| {
            asked = Some(vrid);
            None
        });
        assert_eq!(r, Err(DropKind::UnknownVrid));
        assert_eq!(asked, Some(7));
    }

    #[test]
    fn drop_not_peer_and_accept_listed_peer() {
        let adv = out_v3(&VIP4, true);
        let bytes = enc(&adv, &meta4());
        let others = [IpAddr::V4(PEER4)];
        let expect = Expect {
            unicast_peers: &others,
            ..expect_of(&adv)
        };
        assert_eq!(
            check(&bytes, &meta4(), Some(expect)),
            Err(DropKind::NotPeer)
        );

        let listed = [IpAddr::V4(PEER4), IpAddr::V4(SRC4)];
        let expect = Expect {
            unicast_peers: &listed,
            ..expect_of(&adv)
        };
        assert!(check(&bytes, &meta4(), Some(expect)).is_ok());
    }

    #[test]
    fn v2_auth_accept_and_reject() {
        let with_pass = out_v2(Some(PASS));
        let bytes = enc(&with_pass, &meta4());
        assert_eq!(&bytes[4..6], &[AUTH_SIMPLE_TEXT, 1]);
        assert_eq!(&bytes[bytes.len() - 8..], &PASS);
        assert!(check(&bytes, &meta4(), Some(expect_of(&with_pass))).is_ok());

        // Wrong password.
        let expect = Expect {
            auth_pass: Some(*b"secreT\0\0"),
            ..expect_of(&with_pass)
        };
        assert_eq!(check(&bytes, &meta4(), Some(expect)), Err(DropKind::Auth));

        // We have no password, the sender uses one.
        let expect = Expect {
            auth_pass: None,
            ..expect_of(&with_pass)
        };
        assert_eq!(check(&bytes, &meta4(), Some(expect)), Err(DropKind::Auth));

        // We have a password, the sender sends auth type 0.
        let without = enc(&out_v2(None), &meta4());
        assert_eq!(&without[4..6], &[AUTH_NONE, 1]);
        assert_eq!(&without[without.len() - 8..], &[0; 8]);
        assert_eq!(
            check(&without, &meta4(), Some(expect_of(&with_pass))),
            Err(DropKind::Auth)
        );

        // Auth type 2 (IP AH, removed in RFC 3768) is refused either way.
        let mut ah = without.clone();
        ah[4] = 2;
        fix_checksum(&mut ah, PseudoHeader::None);
        assert_eq!(
            check(&ah, &meta4(), Some(expect_of(&out_v2(None)))),
            Err(DropKind::Auth)
        );
    }

    #[test]
    fn v2_no_auth_ignores_auth_data() {
        let adv = out_v2(None);
        let mut bytes = enc(&adv, &meta4());
        let n = bytes.len();
        bytes[n - 8..].copy_from_slice(b"garbage!");
        fix_checksum(&mut bytes, PseudoHeader::None);
        assert!(check(&bytes, &meta4(), Some(expect_of(&adv))).is_ok());
    }

    #[test]
    fn drop_v2_interval_mismatch() {
        let adv = out_v2(None);
        let bytes = enc(&adv, &meta4());
        let expect = Expect {
            interval: Centisecs::from_secs(2),
            ..expect_of(&adv)
        };
        assert_eq!(
            check(&bytes, &meta4(), Some(expect)),
            Err(DropKind::Interval)
        );
    }

    #[test]
    fn drop_v3_interval_zero_even_with_reserved_bits() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes[4..6].copy_from_slice(&0xF000u16.to_be_bytes());
        fix_checksum(&mut bytes, v4_pseudo());
        assert_eq!(
            check(&bytes, &meta4(), Some(expect_of(&adv))),
            Err(DropKind::Interval)
        );
    }

    // ---- order and masking ----

    #[test]
    fn ttl_wins_over_bad_checksum_and_unknown_vrid() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes[7] ^= 0xFF;
        let meta = RxMeta {
            hop_limit: 1,
            ..meta4()
        };
        assert_eq!(check(&bytes, &meta, None), Err(DropKind::Ttl));
        assert_eq!(check(&bytes, &meta4(), None), Err(DropKind::Checksum));
    }

    #[test]
    fn order_version_before_type_before_length_before_checksum() {
        let adv = out_v3(&VIP4, true);
        let expect = expect_of(&adv);
        let mut bytes = enc(&adv, &meta4());
        bytes[7] ^= 0xFF; // bad checksum throughout
        bytes[3] = 200; // and a count far beyond the data
        assert_eq!(check(&bytes, &meta4(), Some(expect)), Err(DropKind::Length));
        bytes[0] = 0x35; // and a bad type
        assert_eq!(check(&bytes, &meta4(), Some(expect)), Err(DropKind::Type));
        bytes[0] = 0x25; // and the wrong version
        assert_eq!(
            check(&bytes, &meta4(), Some(expect)),
            Err(DropKind::Version)
        );
    }

    #[test]
    fn order_checksum_before_vrid_peer_auth_interval() {
        let adv = out_v2(Some(PASS));
        let mut bytes = enc(&adv, &meta4());
        bytes[7] ^= 0xFF;
        let wrong = Expect {
            auth_pass: None,
            interval: Centisecs::from_secs(9),
            unicast_peers: &[IpAddr::V4(PEER4)],
            ..expect_of(&adv)
        };
        assert_eq!(
            check(&bytes, &meta4(), Some(wrong)),
            Err(DropKind::Checksum)
        );
        bytes[7] ^= 0xFF;
        assert_eq!(check(&bytes, &meta4(), Some(wrong)), Err(DropKind::NotPeer));
        let wrong = Expect {
            unicast_peers: &[],
            ..wrong
        };
        assert_eq!(check(&bytes, &meta4(), Some(wrong)), Err(DropKind::Auth));
    }

    #[test]
    fn v3_interval_reserved_bits_ignored_on_receive() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        assert_eq!(&bytes[4..6], &[0x00, 50]);
        bytes[4] |= 0xF0;
        fix_checksum(&mut bytes, v4_pseudo());
        let a = check(&bytes, &meta4(), Some(expect_of(&adv))).unwrap();
        assert_eq!(a.interval, Centisecs(50));
    }

    #[test]
    fn v3_learns_a_different_interval() {
        let adv = out_v3(&VIP4, true);
        let bytes = enc(&adv, &meta4());
        let expect = Expect {
            interval: Centisecs(100),
            ..expect_of(&adv)
        };
        let a = check(&bytes, &meta4(), Some(expect)).unwrap();
        assert_eq!(a.interval, Centisecs(50));
    }

    #[test]
    fn v3_ipv4_checksum_modes() {
        for sender_pseudo in [true, false] {
            let adv = out_v3(&VIP4, sender_pseudo);
            let bytes = enc(&adv, &meta4());
            for receiver_pseudo in [true, false] {
                let expect = Expect {
                    checksum_ipv4_pseudo_header: receiver_pseudo,
                    ..expect_of(&adv)
                };
                let r = check(&bytes, &meta4(), Some(expect));
                if sender_pseudo == receiver_pseudo {
                    assert!(r.is_ok(), "{sender_pseudo} {receiver_pseudo}");
                } else {
                    assert_eq!(r, Err(DropKind::Checksum));
                }
            }
            // Unknown VRID: either convention passes the checksum step.
            assert_eq!(check(&bytes, &meta4(), None), Err(DropKind::UnknownVrid));
        }
    }

    #[test]
    fn v3_ipv4_pseudo_header_depends_on_addresses() {
        // The same message sent to a unicast peer has another checksum: the destination is
        // part of the pseudo-header.
        let adv = out_v3(&VIP4, true);
        let multicast = enc(&adv, &meta4());
        let mut unicast = Vec::new();
        encode(&adv, IpAddr::V4(SRC4), IpAddr::V4(PEER4), &mut unicast);
        assert_ne!(multicast[6..8], unicast[6..8]);
        let meta = RxMeta {
            dst: IpAddr::V4(PEER4),
            ..meta4()
        };
        assert!(check(&unicast, &meta, Some(expect_of(&adv))).is_ok());
    }

    #[test]
    fn v3_ipv6_checksum_uses_pseudo_header() {
        let adv = out_v3(&VIP6, false);
        let bytes = enc(&adv, &meta6());
        assert!(
            PseudoHeader::V6 {
                src: SRC6,
                dst: MULTICAST_V6
            }
            .verify(&bytes)
        );
        assert!(!PseudoHeader::None.verify(&bytes));
        let other_src = RxMeta {
            src: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2)),
            ..meta6()
        };
        assert_eq!(
            check(&bytes, &other_src, Some(expect_of(&adv))),
            Err(DropKind::Checksum)
        );
    }

    // ---- addresses ----

    #[test]
    fn address_mismatch_is_accepted_and_flagged() {
        let adv = out_v3(&VIP4, true);
        let bytes = enc(&adv, &meta4());
        let reversed = [VIP4[1], VIP4[0]];
        let one = [VIP4[0]];
        let three = [VIP4[0], VIP4[1], IpAddr::V4(PEER4)];
        let other = [VIP4[0], IpAddr::V4(PEER4)];
        for configured in [&reversed[..], &one, &three, &other, &VIP6] {
            let expect = Expect {
                addresses: configured,
                ..expect_of(&adv)
            };
            let a = check(&bytes, &meta4(), Some(expect)).unwrap();
            assert!(!a.addresses_match, "{configured:?}");
            assert_eq!(a.addresses().collect::<Vec<_>>(), VIP4);
        }
        let a = check(&bytes, &meta4(), Some(expect_of(&adv))).unwrap();
        assert!(a.addresses_match);
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        let adv = out_v3(&VIP4, true);
        let mut bytes = enc(&adv, &meta4());
        bytes.extend_from_slice(&[0xEE; 18]);
        let a = check(&bytes, &meta4(), Some(expect_of(&adv))).unwrap();
        assert_eq!(a.count(), 2);
        assert!(a.addresses_match);
    }

    #[test]
    fn zero_addresses_is_valid() {
        let adv = out_v3(&[], true);
        let bytes = enc(&adv, &meta4());
        assert_eq!(bytes.len(), HEADER_LEN);
        let a = check(&bytes, &meta4(), Some(expect_of(&adv))).unwrap();
        assert_eq!(a.count(), 0);
        assert!(a.addresses_match);
    }

    // ---- robustness ----

    #[test]
    fn truncation_at_every_length_never_panics() {
        let v2 = out_v2(Some(PASS));
        let v3 = out_v3(&VIP4, true);
        let v6 = out_v3(&VIP6, false);
        for (adv, meta) in [(v2, meta4()), (v3, meta4()), (v6, meta6())] {
            let full = enc(&adv, &meta);
            let family = Family::of(&meta.src);
            for n in 0..full.len() {
                let r = validate(&full[..n], &meta, family, |_| Some(expect_of(&adv)));
                assert_eq!(r, Err(DropKind::Length), "len {n}");
                let r = validate(&full[..n], &meta, family, |_| None);
                assert_eq!(r, Err(DropKind::Length), "len {n}");
            }
            assert!(validate(&full, &meta, family, |_| Some(expect_of(&adv))).is_ok());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small xorshift generator: deterministic, no dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let adv = out_v3(&VIP4, true);
        for _ in 0..2000 {
            let len = (next() % 80) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(b) = buf.first_mut() {
                // Steer half the cases past the version check to reach the later steps.
                if next() % 2 == 0 {
                    *b = 0x31;
                }
            }
            for meta in [meta4(), meta6()] {
                let family = Family::of(&meta.src);
                let _ = validate(&buf, &meta, family, |_| Some(expect_of(&adv)));
                let _ = validate(&buf, &meta, family, |_| None);
            }
            let _ = split_ipv4(&buf);
        }
    }

    // ---- encode ----

    fn round_trip(adv: &AdvertOut, meta: &RxMeta) {
        let bytes = enc(adv, meta);
        assert_eq!(
            bytes.len(),
            message_len(
                adv.version,
                Family::of(&meta.src),
                adv.addresses.len() as u8
            )
        );
        let family = Family::of(&meta.src);
        let a = validate(&bytes, meta, family, |vrid| {
            assert_eq!(vrid, adv.vrid);
            Some(expect_of(adv))
        })
        .unwrap();
        assert_eq!(a.version, adv.version);
        assert_eq!(a.vrid, adv.vrid);
        assert_eq!(a.priority, adv.priority);
        assert_eq!(a.interval, adv.interval);
        assert_eq!(a.src, meta.src);
        assert_eq!(a.family(), family);
        assert!(a.addresses_match);
        assert_eq!(a.count(), adv.addresses.len());
        assert!(a.addresses().eq(adv.addresses.iter().copied()));
    }

    #[test]
    fn round_trip_v2() {
        round_trip(&out_v2(None), &meta4());
        round_trip(&out_v2(Some(PASS)), &meta4());
    }

    #[test]
    fn round_trip_v3_ipv4_both_checksum_modes() {
        round_trip(&out_v3(&VIP4, true), &meta4());
        round_trip(&out_v3(&VIP4, false), &meta4());
    }

    #[test]
    fn round_trip_v3_ipv6() {
        round_trip(&out_v3(&VIP6, false), &meta6());
        // The IPv4 pseudo-header setting means nothing over IPv6.
        round_trip(&out_v3(&VIP6, true), &meta6());
    }

    #[test]
    fn round_trip_priority_zero_and_owner() {
        for priority in [0, 255] {
            round_trip(
                &AdvertOut {
                    priority,
                    ..out_v3(&VIP4, true)
                },
                &meta4(),
            );
        }
    }

    #[test]
    fn encode_clears_and_reuses_the_buffer() {
        let mut out = vec![0xAB; 100];
        encode(
            &out_v3(&VIP4, true),
            IpAddr::V4(SRC4),
            IpAddr::V4(MULTICAST_V4),
            &mut out,
        );
        assert_eq!(out.len(), 16);
        assert_eq!(out[0], 0x31);
        let cap = out.capacity();
        encode(
            &out_v3(&VIP4, true),
            IpAddr::V4(SRC4),
            IpAddr::V4(MULTICAST_V4),
            &mut out,
        );
        assert_eq!(out.capacity(), cap);
    }

    #[test]
    fn encode_keeps_fields_in_range() {
        // v3: 4096 cs would spill into the reserved bits; 0 would be dropped by receivers.
        let big = AdvertOut {
            interval: Centisecs(4096),
            ..out_v3(&VIP4, true)
        };
        let bytes = enc(&big, &meta4());
        assert_eq!(&bytes[4..6], &[0x0F, 0xFF]);
        let zero = AdvertOut {
            interval: Centisecs(0),
            ..out_v3(&VIP4, true)
        };
        assert_eq!(&enc(&zero, &meta4())[4..6], &[0x00, 0x01]);
        // v2: whole seconds, clamped to the 8-bit field.
        let long = AdvertOut {
            interval: Centisecs::from_secs(300),
            ..out_v2(None)
        };
        assert_eq!(enc(&long, &meta4())[5], 255);
    }
}

//! Entry points shared by the cargo-fuzz targets (fuzz/fuzz_targets/*.rs) and by the normal
//! test run (tests/properties.rs replays fuzz/corpus/* and fuzz/regressions/* through them).
//!
//! Depends on `vipd` and std only, so both crates can include it with `#[path]`.
//!
//! Besides "never panics", every packet entry point checks `vipd::protocol::packet` against an
//! independent reference model of the receive rules (RFC 9568 7.1 / RFC 3768 7.1 as listed
//! in shared/vrrp-notes.md and the `validate` doc comment): same `DropKind`, same fields.
//!
//! Input layouts (the seed corpora are built to match them, see fuzz/README.md):
//! * `packet_ipv4`: `[flagsA, vridA, flagsB, vridB, ctl] ++ IPv4 datagram`
//! * `packet_ipv6`: `[flagsA, vridA, flagsB, vridB, ctl, hop_limit, sel] ++ [src16 dst16 if
//!   sel bit 4] ++ VRRP body`
//! * `roundtrip`: see [`run_roundtrip`].
//! * `config`: the file's text (invalid UTF-8 is converted lossily).
//! * `import_keepalived`: up to four keepalived files separated by a line `%%` (see
//!   [`IMPORT_FILES`]), the first one imported.
//!
//! `flags` of a configured VRID (A and B; A wins if both have the same VRID):
//! bit 0 version 2 (else 3), bit 1 IPv4 pseudo-header checksum, bit 2 auth_pass "s3cret",
//! bit 3 unicast peers configured, bit 4 the peers include the packet's source,
//! bits 5-6 interval (1 s, 2 s, 255 s, 50 cs), bit 7 second address list.
//! `ctl`: bit 0 recompute the VRRP checksum before validating (so the fuzzer gets past the
//! checksum step), bit 1 which IPv4 convention to use for that when the VRID is unknown.
#![allow(dead_code)]

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use vipd::config::{self, Config};
use vipd::import::{self, Limits, MemFiles, NoteKind, Options};
use vipd::protocol::packet::{
    self, Advert, AdvertOut, DropKind, Expect, HEADER_LEN, PseudoHeader, RxMeta, encode,
    split_ipv4, validate,
};
use vipd::protocol::units::{Centisecs, Family, Version};

pub const PASS: [u8; 8] = *b"s3cret\0\0";
pub const PREFIX_V4: usize = 5;
pub const PREFIX_V6: usize = 7;

const V4_LIST_1: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::new(10, 99, 0, 63))];
const V4_LIST_2: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, 60)),
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, 61)),
];
const V6_LIST_1: [IpAddr; 2] = [
    IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x36)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0x36)),
];
const V6_LIST_2: [IpAddr; 0] = [];
const OTHER_PEER_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2));
const OTHER_PEER_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2));

pub const SRC6_CHOICES: [Ipv6Addr; 4] = [
    // keepalived's link-local in tests/data/keepalived-2.2.7-adverts.pcap
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0x8cfb, 0x1bff, 0xfec9, 0xce0b),
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
    Ipv6Addr::UNSPECIFIED,
];
pub const DST6_CHOICES: [Ipv6Addr; 4] = [
    packet::MULTICAST_V6,
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2),
    Ipv6Addr::new(
        0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    ),
];

// ------------------------------------------------------------------------------------------
// The configuration the lookup closure answers with.

#[derive(Clone, Debug)]
pub struct Slot {
    pub vrid: u8,
    pub version: Version,
    pub pseudo: bool,
    pub auth_pass: Option<[u8; 8]>,
    pub interval: Centisecs,
    pub addresses: Vec<IpAddr>,
    pub peers: Vec<IpAddr>,
}

impl Slot {
    pub fn from_flags(flags: u8, vrid: u8, family: Family, src: IpAddr) -> Slot {
        let bit = |n: u8| flags & (1 << n) != 0;
        let mut peers = Vec::new();
        if bit(3) {
            peers.push(match family {
                Family::V4 => OTHER_PEER_V4,
                Family::V6 => OTHER_PEER_V6,
            });
            if bit(4) {
                peers.push(src);
            }
        }
        Slot {
            vrid,
            version: if bit(0) { Version::V2 } else { Version::V3 },
            pseudo: bit(1),
            auth_pass: bit(2).then_some(PASS),
            interval: [
                Centisecs(100),
                Centisecs(200),
                Centisecs(25500),
                Centisecs(50),
            ][usize::from((flags >> 5) & 3)],
            addresses: match (family, bit(7)) {
                (Family::V4, false) => V4_LIST_1.to_vec(),
                (Family::V4, true) => V4_LIST_2.to_vec(),
                (Family::V6, false) => V6_LIST_1.to_vec(),
                (Family::V6, true) => V6_LIST_2.to_vec(),
            },
            peers,
        }
    }

    pub fn expect(&self) -> Expect<'_> {
        Expect {
            version: self.version,
            checksum_ipv4_pseudo_header: self.pseudo,
            auth_pass: self.auth_pass,
            interval: self.interval,
            addresses: &self.addresses,
            unicast_peers: &self.peers,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Cfg {
    pub slots: Vec<Slot>,
}

impl Cfg {
    /// From `[flagsA, vridA, flagsB, vridB]`.
    pub fn from_prefix(p: &[u8], family: Family, src: IpAddr) -> Cfg {
        let byte = |i: usize| p.get(i).copied().unwrap_or(0);
        Cfg {
            slots: vec![
                Slot::from_flags(byte(0), byte(1), family, src),
                Slot::from_flags(byte(2), byte(3), family, src),
            ],
        }
    }

    pub fn slot(&self, vrid: u8) -> Option<&Slot> {
        self.slots.iter().find(|s| s.vrid == vrid)
    }
}

// ------------------------------------------------------------------------------------------
// Reference model, written independently of src/packet.rs.

/// What the reference model says a valid advert carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefAdvert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    pub interval: Centisecs,
    pub src: IpAddr,
    pub addresses: Vec<IpAddr>,
    pub addresses_match: bool,
}

/// RFC 1071 sum over the concatenation of `parts`, as one byte stream.
fn ref_ones_complement(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    let mut sum: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hi = u32::from(bytes[i]) << 8;
        let lo = if i + 1 < bytes.len() {
            u32::from(bytes[i + 1])
        } else {
            0
        };
        sum += hi | lo;
        // Fold as we go: keeps the accumulator small.
        sum = (sum & 0xffff) + (sum >> 16);
        i += 2;
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum as u16
}

/// True when `msg` sums to all-ones under the given pseudo-header bytes.
fn ref_checksum_ok(pseudo: &[u8], msg: &[u8]) -> bool {
    ref_ones_complement(&[pseudo, msg]) == 0xffff
}

fn ref_pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.push(0);
    p.push(112);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p
}

fn ref_pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&(len as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 112]);
    p
}

/// The reference receive check: the same contract as `packet::validate`, with the
/// configuration for the advert's VRID already looked up.
pub fn ref_validate(
    vrrp: &[u8],
    meta: &RxMeta,
    family: Family,
    expect: Option<&Expect<'_>>,
) -> Result<RefAdvert, DropKind> {
    let fam = |a: &IpAddr| if a.is_ipv4() { Family::V4 } else { Family::V6 };
    if fam(&meta.src) != family || fam(&meta.dst) != family {
        return Err(DropKind::IpHeader);
    }
    if meta.hop_limit != 255 {
        return Err(DropKind::Ttl);
    }
    if vrrp.len() < 2 {
        return Err(DropKind::Length);
    }
    let version = match vrrp[0] >> 4 {
        2 if family == Family::V4 => Version::V2,
        3 => Version::V3,
        _ => return Err(DropKind::Version),
    };
    if let Some(e) = expect {
        if e.version != version {
            return Err(DropKind::Version);
        }
    }
    if vrrp[0] & 0x0f != 1 {
        return Err(DropKind::Type);
    }
    if vrrp.len() < 8 {
        return Err(DropKind::Length);
    }
    let count = usize::from(vrrp[3]);
    let alen = if family == Family::V4 { 4 } else { 16 };
    let auth_len = if version == Version::V2 { 8 } else { 0 };
    let need = 8 + count * alen + auth_len;
    if vrrp.len() < need {
        return Err(DropKind::Length);
    }
    let msg = &vrrp[..need];
    let ok = match (version, meta.src, meta.dst) {
        (Version::V2, _, _) => ref_checksum_ok(&[], msg),
        (Version::V3, IpAddr::V6(s), IpAddr::V6(d)) => {
            ref_checksum_ok(&ref_pseudo_v6(s, d, need), msg)
        }
        (Version::V3, IpAddr::V4(s), IpAddr::V4(d)) => {
            let with = ref_checksum_ok(&ref_pseudo_v4(s, d, need), msg);
            let without = ref_checksum_ok(&[], msg);
            match expect.map(|e| e.checksum_ipv4_pseudo_header) {
                Some(true) => with,
                Some(false) => without,
                None => with || without,
            }
        }
        _ => unreachable!("families checked above"),
    };
    if !ok {
        return Err(DropKind::Checksum);
    }
    let Some(e) = expect else {
        return Err(DropKind::UnknownVrid);
    };
    if !e.unicast_peers.is_empty() && !e.unicast_peers.contains(&meta.src) {
        return Err(DropKind::NotPeer);
    }
    let interval = if version == Version::V2 {
        let data = &msg[need - 8..];
        let auth_ok = match e.auth_pass {
            None => vrrp[4] == 0,
            Some(pass) => vrrp[4] == 1 && data == &pass[..],
        };
        if !auth_ok {
            return Err(DropKind::Auth);
        }
        let iv = Centisecs(u32::from(vrrp[5]) * 100);
        if iv != e.interval {
            return Err(DropKind::Interval);
        }
        iv
    } else {
        let iv = (u32::from(vrrp[4] & 0x0f) << 8) | u32::from(vrrp[5]);
        if iv == 0 {
            return Err(DropKind::Interval);
        }
        Centisecs(iv)
    };
    let addresses: Vec<IpAddr> = (0..count)
        .map(|i| {
            let b = &msg[8 + i * alen..8 + (i + 1) * alen];
            if alen == 4 {
                IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            } else {
                let mut o = [0u8; 16];
                o.copy_from_slice(b);
                IpAddr::V6(Ipv6Addr::from(o))
            }
        })
        .collect();
    let addresses_match = addresses.as_slice() == e.addresses;
    Ok(RefAdvert {
        version,
        vrid: vrrp[1],
        priority: vrrp[2],
        interval,
        src: meta.src,
        addresses,
        addresses_match,
    })
}

/// Reference for `split_ipv4`: (meta, payload start, payload end).
pub fn ref_split_ipv4(d: &[u8]) -> Result<(RxMeta, usize, usize), DropKind> {
    if d.len() < 20 || d[0] >> 4 != 4 || d[9] != 112 {
        return Err(DropKind::IpHeader);
    }
    let hl = usize::from(d[0] & 0x0f) * 4;
    let total = usize::from(d[2]) << 8 | usize::from(d[3]);
    if hl < 20 || total < hl || total > d.len() {
        return Err(DropKind::IpHeader);
    }
    let meta = RxMeta {
        src: IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15])),
        dst: IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19])),
        hop_limit: d[8],
    };
    Ok((meta, hl, total))
}

// ------------------------------------------------------------------------------------------
// Checking `validate` against the reference.

/// `validate` with `expect` as the answer for every VRID, checked against the reference and
/// the invariants of an accepted advert. Returns the result for further checks.
pub fn check_validate<'p>(
    vrrp: &'p [u8],
    meta: &RxMeta,
    family: Family,
    cfg: &Cfg,
) -> Result<Advert<'p>, DropKind> {
    let calls = Cell::new(0u32);
    let asked = Cell::new(None);
    let got = validate(vrrp, meta, family, |vrid| {
        calls.set(calls.get() + 1);
        asked.set(Some(vrid));
        cfg.slot(vrid).map(Slot::expect)
    });
    assert!(calls.get() <= 1, "lookup called {} times", calls.get());
    if let Some(vrid) = asked.get() {
        assert_eq!(Some(&vrid), vrrp.get(1), "lookup asked for another VRID");
    }
    let expect = vrrp.get(1).and_then(|v| cfg.slot(*v)).map(Slot::expect);
    let want = ref_validate(vrrp, meta, family, expect.as_ref());
    compare(&got, &want, vrrp, meta);
    if let (Ok(adv), Some(e)) = (&got, &expect) {
        check_accepted(adv, e, vrrp, meta, family);
    }
    got
}

fn compare(
    got: &Result<Advert<'_>, DropKind>,
    want: &Result<RefAdvert, DropKind>,
    vrrp: &[u8],
    meta: &RxMeta,
) {
    match (got, want) {
        (Err(g), Err(w)) => assert_eq!(
            g, w,
            "drop kind differs from the reference; vrrp={vrrp:02x?} meta={meta:?}"
        ),
        (Ok(a), Ok(r)) => {
            let addrs: Vec<IpAddr> = a.addresses().collect();
            assert_eq!(
                (
                    a.version,
                    a.vrid,
                    a.priority,
                    a.interval,
                    a.src,
                    &addrs,
                    a.addresses_match
                ),
                (
                    r.version,
                    r.vrid,
                    r.priority,
                    r.interval,
                    r.src,
                    &r.addresses,
                    r.addresses_match
                ),
                "accepted advert differs from the reference; vrrp={vrrp:02x?} meta={meta:?}"
            );
            assert_eq!(a.count(), r.addresses.len());
        }
        (g, w) => panic!(
            "validate gave {:?}, the reference {:?}; vrrp={vrrp:02x?} meta={meta:?}",
            g.as_ref().map(|_| "Ok"),
            w.as_ref().map(|_| "Ok")
        ),
    }
}

/// Invariants of an accepted advert: re-encoding its fields gives the same message except in
/// the places the receiver does not interpret (checksum field, whose 0x0000 and 0xffff are the
/// same one's-complement value; v3 reserved bits; v2 auth data when auth is off), and the
/// padding after the message changes nothing.
fn check_accepted(adv: &Advert<'_>, e: &Expect<'_>, vrrp: &[u8], meta: &RxMeta, family: Family) {
    assert_eq!(meta.hop_limit, 255);
    assert_eq!(adv.family(), family);
    let addrs: Vec<IpAddr> = adv.addresses().collect();
    let out = AdvertOut {
        version: adv.version,
        vrid: adv.vrid,
        priority: adv.priority,
        interval: adv.interval,
        addresses: &addrs,
        auth_pass: e.auth_pass,
        checksum_ipv4_pseudo_header: e.checksum_ipv4_pseudo_header,
    };
    let mut canon = Vec::new();
    encode(&out, meta.src, meta.dst, &mut canon);
    assert_eq!(
        canon.len(),
        packet::message_len(adv.version, family, adv.count() as u8)
    );
    let msg = &vrrp[..canon.len()];
    for (i, (&c, &m)) in canon.iter().zip(msg).enumerate() {
        let ignorable = match i {
            6 | 7 => true,
            4 => adv.version == Version::V3 && c & 0x0f == m & 0x0f,
            _ => adv.version == Version::V2 && e.auth_pass.is_none() && i >= canon.len() - 8,
        };
        assert!(
            c == m || ignorable,
            "accepted message differs from its re-encoding at byte {i}: {msg:02x?} vs {canon:02x?}"
        );
    }
    // The re-encoding validates to the same advert.
    let again = validate(&canon, meta, family, |_| Some(*e)).expect("re-encoded advert validates");
    assert_eq!(
        (
            again.version,
            again.vrid,
            again.priority,
            again.interval,
            again.addresses_match
        ),
        (
            adv.version,
            adv.vrid,
            adv.priority,
            adv.interval,
            adv.addresses_match
        )
    );
    // Padding is ignored.
    let trimmed = validate(msg, meta, family, |_| Some(*e)).expect("trimmed advert validates");
    assert_eq!(trimmed, *adv);
}

/// Recompute the VRRP checksum of the message at the front of `vrrp`, if it is long enough.
pub fn fix_checksum(vrrp: &mut [u8], meta: &RxMeta, cfg: &Cfg, v4_pseudo_if_unknown: bool) {
    if vrrp.len() < HEADER_LEN {
        return;
    }
    let family = if meta.src.is_ipv4() {
        Family::V4
    } else {
        Family::V6
    };
    let v2 = vrrp[0] >> 4 == 2;
    let need = HEADER_LEN + usize::from(vrrp[3]) * family.addr_len() + if v2 { 8 } else { 0 };
    if need > vrrp.len() {
        return;
    }
    let pseudo_v4 = cfg.slot(vrrp[1]).map_or(v4_pseudo_if_unknown, |s| s.pseudo);
    let ph = PseudoHeader::for_send(
        if v2 { Version::V2 } else { Version::V3 },
        pseudo_v4,
        meta.src,
        meta.dst,
    );
    let msg = &mut vrrp[..need];
    msg[6] = 0;
    msg[7] = 0;
    let sum = ph.checksum(msg);
    msg[6..8].copy_from_slice(&sum.to_be_bytes());
}

// ------------------------------------------------------------------------------------------
// Fuzz entry points.

/// `[flagsA, vridA, flagsB, vridB, ctl] ++ IPv4 datagram`.
pub fn run_ipv4(data: &[u8]) {
    // The whole input as a datagram too: split_ipv4 alone must agree with its reference.
    check_split(data);
    let Some((prefix, rest)) = data.split_at_checked(PREFIX_V4) else {
        return;
    };
    let ctl = prefix[4];
    let mut dg = rest.to_vec();
    if ctl & 1 != 0 {
        if let Ok((meta, payload)) = split_ipv4(&dg) {
            let start = payload.as_ptr() as usize - dg.as_ptr() as usize;
            let end = start + payload.len();
            let cfg = Cfg::from_prefix(prefix, Family::V4, meta.src);
            fix_checksum(&mut dg[start..end], &meta, &cfg, ctl & 2 != 0);
        }
    }
    let Some((meta, payload)) = check_split(&dg) else {
        return;
    };
    let cfg = Cfg::from_prefix(prefix, Family::V4, meta.src);
    let _ = check_validate(payload, &meta, Family::V4, &cfg);
    // Metadata of the other family than asked for is always IpHeader, before any lookup.
    let r = validate(payload, &meta, Family::V6, |_| {
        panic!("lookup on a family mismatch")
    });
    assert_eq!(r, Err(DropKind::IpHeader));
}

fn check_split(dg: &[u8]) -> Option<(RxMeta, &[u8])> {
    let got = split_ipv4(dg);
    let want = ref_split_ipv4(dg);
    match (&got, want) {
        (Ok((m, p)), Ok((rm, s, e))) => {
            assert_eq!(*m, rm, "split_ipv4 meta; datagram={dg:02x?}");
            assert_eq!(*p, &dg[s..e], "split_ipv4 payload; datagram={dg:02x?}");
        }
        (Err(g), Err(w)) => assert_eq!(*g, w),
        _ => panic!("split_ipv4 gave {got:?}, the reference {want:?}; datagram={dg:02x?}"),
    }
    got.ok()
}

/// Receive metadata and body of an IPv6 input: `[.. 5 config bytes .., hop_limit, sel]`, then
/// (sel bit 4) 32 bytes of raw src and dst, then the VRRP body. Without bit 4, sel bits 0-1
/// pick the source from [`SRC6_CHOICES`] and bits 2-3 the destination from [`DST6_CHOICES`].
pub fn ipv6_meta(data: &[u8]) -> Option<(RxMeta, &[u8])> {
    let (prefix, rest) = data.split_at_checked(PREFIX_V6)?;
    let hop_limit = prefix[5];
    let sel = prefix[6];
    let (src, dst, body) = if sel & 0x10 != 0 {
        let (addrs, body) = rest.split_at_checked(32)?;
        let mut s = [0u8; 16];
        let mut d = [0u8; 16];
        s.copy_from_slice(&addrs[..16]);
        d.copy_from_slice(&addrs[16..]);
        (Ipv6Addr::from(s), Ipv6Addr::from(d), body)
    } else {
        (
            SRC6_CHOICES[usize::from(sel & 3)],
            DST6_CHOICES[usize::from((sel >> 2) & 3)],
            rest,
        )
    };
    let meta = RxMeta {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        hop_limit,
    };
    Some((meta, body))
}

pub fn run_ipv6(data: &[u8]) {
    let Some((meta, body)) = ipv6_meta(data) else {
        // Too short for the metadata: the bytes as a body with the usual metadata.
        let meta = RxMeta {
            src: IpAddr::V6(SRC6_CHOICES[0]),
            dst: IpAddr::V6(packet::MULTICAST_V6),
            hop_limit: 255,
        };
        let _ = check_validate(
            data,
            &meta,
            Family::V6,
            &Cfg::from_prefix(&[], Family::V6, meta.src),
        );
        return;
    };
    let ctl = data[4];
    let cfg = Cfg::from_prefix(&data[..4], Family::V6, meta.src);
    let mut body = body.to_vec();
    if ctl & 1 != 0 {
        fix_checksum(&mut body, &meta, &cfg, false);
    }
    let _ = check_validate(&body, &meta, Family::V6, &cfg);
    let r = validate(&body, &meta, Family::V4, |_| {
        panic!("lookup on a family mismatch")
    });
    assert_eq!(r, Err(DropKind::IpHeader));
    // An IPv4 meta with the same body: IpHeader on the V6 side, valid questions on V4 side.
    let meta4 = RxMeta {
        src: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1)),
        dst: IpAddr::V4(packet::MULTICAST_V4),
        hop_limit: meta.hop_limit,
    };
    let r = validate(&body, &meta4, Family::V6, |_| {
        panic!("lookup on a family mismatch")
    });
    assert_eq!(r, Err(DropKind::IpHeader));
}

// ------------------------------------------------------------------------------------------
// Roundtrip: structured fields -> encode -> validate.

/// Reads bytes, then zeros once the input runs out.
pub struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, at: 0 }
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    pub fn exhausted(&self) -> bool {
        self.at >= self.data.len()
    }
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.u8())
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }
}

/// The fields of one roundtrip case.
#[derive(Clone, Debug)]
pub struct Case {
    pub out_version: Version,
    pub family: Family,
    pub vrid: u8,
    pub priority: u8,
    pub interval: Centisecs,
    pub auth_pass: Option<[u8; 8]>,
    pub pseudo: bool,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub addresses: Vec<IpAddr>,
    pub peers: bool,
    /// Where to cut for the truncation check (as a fraction of 256 of the length).
    pub cut: u8,
}

/// Layout: `mode, vrid, priority, interval (u16 BE, or u32 BE with mode bit 5), count,
/// pass[8], src (4/16), dst (4/16, mode bit 4; else the multicast group), cut, addresses
/// (4/16 each; once the input runs out, generated from the index)`.
/// mode bits 0-1: 0 = v2/IPv4, 1 = v3/IPv4, 2 and 3 = v3/IPv6; bit 2 auth (v2); bit 3 IPv4
/// pseudo-header; bit 4 unicast dst; bit 5 out-of-range interval allowed (encode clamps);
/// bit 6 unicast peers configured (the source among them).
pub fn decode_case(data: &[u8]) -> Case {
    let mut b = Bytes::new(data);
    let mode = b.u8();
    let (out_version, family) = match mode & 3 {
        0 => (Version::V2, Family::V4),
        1 => (Version::V3, Family::V4),
        _ => (Version::V3, Family::V6),
    };
    let vrid = b.u8();
    let priority = b.u8();
    let interval = if mode & 0x20 != 0 {
        Centisecs(b.u32())
    } else {
        let raw = u32::from(b.u16());
        match out_version {
            Version::V2 => Centisecs::from_secs(raw % 255 + 1),
            Version::V3 => Centisecs(raw % 4095 + 1),
        }
    };
    let count = b.u8();
    let pass: [u8; 8] = b.array();
    let auth_pass = (out_version == Version::V2 && mode & 4 != 0).then_some(pass);
    let addr = |b: &mut Bytes<'_>, i: usize| -> IpAddr {
        let fresh = b.exhausted();
        match family {
            Family::V4 => {
                let mut o: [u8; 4] = b.array();
                if fresh {
                    o = [10, 1, (i >> 8) as u8, i as u8];
                }
                IpAddr::V4(o.into())
            }
            Family::V6 => {
                let mut o: [u8; 16] = b.array();
                if fresh {
                    o = [0; 16];
                    o[0] = 0xfd;
                    o[14] = (i >> 8) as u8;
                    o[15] = i as u8;
                }
                IpAddr::V6(o.into())
            }
        }
    };
    let src = addr(&mut b, 0xffff);
    let dst = if mode & 0x10 != 0 {
        addr(&mut b, 0xfffe)
    } else {
        match family {
            Family::V4 => IpAddr::V4(packet::MULTICAST_V4),
            Family::V6 => IpAddr::V6(packet::MULTICAST_V6),
        }
    };
    let cut = b.u8();
    let addresses = (0..usize::from(count)).map(|i| addr(&mut b, i)).collect();
    Case {
        out_version,
        family,
        vrid,
        priority,
        interval,
        auth_pass,
        pseudo: mode & 8 != 0,
        src,
        dst,
        addresses,
        peers: mode & 0x40 != 0,
        cut,
    }
}

/// The interval a receiver sees after encode's clamping.
pub fn wire_interval(version: Version, interval: Centisecs) -> Centisecs {
    match version {
        Version::V2 => Centisecs::from_secs((interval.0 / 100).clamp(1, 255)),
        Version::V3 => Centisecs(interval.0.clamp(1, 4095)),
    }
}

pub fn run_roundtrip(data: &[u8]) {
    check_case(&decode_case(data));
}

/// The VRRP message `c` describes, as the agent would send it.
pub fn encode_case(c: &Case) -> Vec<u8> {
    let out = AdvertOut {
        version: c.out_version,
        vrid: c.vrid,
        priority: c.priority,
        interval: c.interval,
        addresses: &c.addresses,
        auth_pass: c.auth_pass,
        checksum_ipv4_pseudo_header: c.pseudo,
    };
    let mut bytes = Vec::new();
    encode(&out, c.src, c.dst, &mut bytes);
    bytes
}

/// encode then validate is the identity on the fields; plus the neighbours of that: the
/// other checksum convention, an unknown VRID, a wrong hop limit, truncation and padding.
pub fn check_case(c: &Case) {
    let bytes = encode_case(c);
    assert_eq!(
        bytes.len(),
        packet::message_len(c.out_version, c.family, c.addresses.len() as u8)
    );
    let meta = RxMeta {
        src: c.src,
        dst: c.dst,
        hop_limit: 255,
    };
    let interval = wire_interval(c.out_version, c.interval);
    let slot = Slot {
        vrid: c.vrid,
        version: c.out_version,
        pseudo: c.pseudo,
        auth_pass: c.auth_pass,
        interval,
        addresses: c.addresses.clone(),
        peers: if c.peers {
            vec![OTHER_PEER_V4, c.src, OTHER_PEER_V6]
        } else {
            Vec::new()
        },
    };
    let cfg = Cfg {
        slots: vec![slot.clone()],
    };
    let adv = check_validate(&bytes, &meta, c.family, &cfg)
        .unwrap_or_else(|k| panic!("encode->validate rejected {c:?} as {k:?}: {bytes:02x?}"));
    assert_eq!(adv.version, c.out_version);
    assert_eq!(adv.vrid, c.vrid);
    assert_eq!(adv.priority, c.priority);
    assert_eq!(adv.interval, interval);
    assert_eq!(adv.src, c.src);
    assert_eq!(adv.family(), c.family);
    assert!(adv.addresses_match);
    assert!(adv.addresses().eq(c.addresses.iter().copied()));

    // Unknown VRID: whichever IPv4 convention, the checksum step passes.
    let r = validate(&bytes, &meta, c.family, |_| None);
    assert_eq!(r.map(|_| ()), Err(DropKind::UnknownVrid));
    // Hop limit other than 255.
    let low = RxMeta {
        hop_limit: 254,
        ..meta
    };
    assert_eq!(
        validate(&bytes, &low, c.family, |_| Some(slot.expect())).map(|_| ()),
        Err(DropKind::Ttl)
    );
    // The other IPv4 convention fails unless the two checksums happen to coincide.
    if c.out_version == Version::V3 && c.family == Family::V4 {
        let other = Slot {
            pseudo: !c.pseudo,
            ..slot.clone()
        };
        let coincide = ref_checksum_ok(&[], &bytes)
            && ref_checksum_ok(&ref_pseudo_v4(ip4(c.src), ip4(c.dst), bytes.len()), &bytes);
        let r = validate(&bytes, &meta, c.family, |_| Some(other.expect()));
        if coincide {
            assert!(r.is_ok());
        } else {
            assert_eq!(r.map(|_| ()), Err(DropKind::Checksum));
        }
    }
    // A truncation anywhere is a Length drop; padding changes nothing.
    let cut = bytes.len() * usize::from(c.cut) / 256;
    for n in [cut, bytes.len() - 1, 0, 1, HEADER_LEN - 1, HEADER_LEN] {
        if n < bytes.len() {
            let r = validate(&bytes[..n], &meta, c.family, |_| Some(slot.expect()));
            assert_eq!(r.map(|_| ()), Err(DropKind::Length), "cut at {n}");
        }
    }
    let mut padded = bytes.clone();
    padded.extend_from_slice(&[c.cut; 19]);
    let p = validate(&padded, &meta, c.family, |_| Some(slot.expect())).expect("padding accepted");
    assert_eq!(
        (p.vrid, p.priority, p.interval, p.count()),
        (adv.vrid, adv.priority, adv.interval, adv.count())
    );
}

fn ip4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => unreachable!(),
    }
}

// ------------------------------------------------------------------------------------------
// Config.

pub fn run_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_config(&text);
}

pub fn check_config(text: &str) {
    let result = config::parse(text, Path::new("/fuzz/vipd.toml"));
    match &result {
        Ok(c) => check_config_ok(c),
        Err(errors) => {
            assert!(!errors.is_empty(), "Err with no error");
            let lines: Vec<&str> = text.split('\n').collect();
            for e in errors {
                let shown = e.to_string();
                assert!(shown.starts_with("/fuzz/vipd.toml"), "{shown}");
                if let Some(line) = e.line {
                    assert!(
                        line >= 1 && line <= lines.len() + 1,
                        "line {line} of {}: {shown}",
                        lines.len()
                    );
                    if let Some(col) = e.column {
                        let width = lines.get(line - 1).map_or(0, |l| l.chars().count());
                        assert!(
                            col >= 1 && col <= width + 2,
                            "column {col} of {width}: {shown}"
                        );
                    }
                } else {
                    assert!(e.column.is_none(), "a column without a line: {shown}");
                }
            }
        }
    }
}

/// What a successfully parsed configuration guarantees (src/config.rs docs and A_* texts).
fn check_config_ok(c: &Config) {
    assert!(!c.instances.is_empty());
    assert!(!c.global.router_id.is_empty());
    assert!(c.global.control_socket.is_absolute());
    let mut names = std::collections::HashSet::new();
    let mut slots = std::collections::HashSet::new();
    for i in &c.instances {
        let n = i.name.chars().count();
        assert!((1..=64).contains(&n), "name {:?}", i.name);
        assert!(
            i.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch)),
            "name {:?}",
            i.name
        );
        assert!(names.insert(i.name.clone()), "duplicate name {:?}", i.name);
        assert!(
            (1..=15).contains(&i.interface.len()),
            "interface {:?}",
            i.interface
        );
        assert!(
            !i.interface.contains(['/', ':']) && !i.interface.chars().any(char::is_whitespace),
            "interface {:?}",
            i.interface
        );
        assert!(i.interface != "." && i.interface != "..");
        assert!(
            slots.insert((i.interface.clone(), i.vrid, i.family)),
            "duplicate vrid"
        );
        assert!(i.vrid >= 1);
        assert!(i.priority >= 1);
        assert!((1..=255).contains(&i.virtual_addresses.len()));
        let mut seen = std::collections::HashSet::new();
        for va in &i.virtual_addresses {
            assert_eq!(va.family(), i.family);
            assert!(va.prefix_len <= if i.family == Family::V4 { 32 } else { 128 });
            assert!(seen.insert(va.addr), "duplicate address {va}");
            let back: config::VirtualAddress = va.to_string().parse().expect("Display parses");
            assert_eq!(back, *va);
        }
        let mut seen = std::collections::HashSet::new();
        for p in &i.unicast_peers {
            assert_eq!(Family::of(p), i.family);
            assert!(seen.insert(*p), "duplicate peer {p}");
        }
        match i.version {
            Version::V2 => {
                assert_eq!(i.family, Family::V4);
                assert!(
                    i.advert_interval.0 % 100 == 0 && (100..=25500).contains(&i.advert_interval.0)
                );
                assert!(!i.checksum_ipv4_pseudo_header);
            }
            Version::V3 => {
                assert!((1..=4095).contains(&i.advert_interval.0));
                assert!(i.auth_pass.is_none());
                if i.family == Family::V6 {
                    assert!(i.checksum_ipv4_pseudo_header);
                }
            }
        }
        // The configured values encode into an advert that validates against themselves.
        let addrs: Vec<IpAddr> = i.virtual_addresses.iter().map(|v| v.addr).collect();
        let (src, dst) = match i.family {
            Family::V4 => (
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                IpAddr::V4(packet::MULTICAST_V4),
            ),
            Family::V6 => (
                IpAddr::V6(SRC6_CHOICES[0]),
                IpAddr::V6(packet::MULTICAST_V6),
            ),
        };
        let case = Case {
            out_version: i.version,
            family: i.family,
            vrid: i.vrid,
            priority: i.priority,
            interval: i.advert_interval,
            auth_pass: i.auth_pass,
            pseudo: i.checksum_ipv4_pseudo_header,
            src,
            dst,
            addresses: addrs,
            peers: false,
            cut: 0,
        };
        check_case(&case);
        assert_eq!(
            wire_interval(i.version, i.advert_interval),
            i.advert_interval
        );
    }
    let _ = c.summary();
}

// ------------------------------------------------------------------------------------------
// import_keepalived: keepalived files in, a vipd configuration (or problems with places) out.

/// Where the parts of an `import_keepalived` input go: the first is imported; the others can
/// be reached with `include conf.d/*.conf` or `include ../other.conf` from conf.d.
pub const IMPORT_FILES: [&str; 4] = [
    "/etc/keepalived/keepalived.conf",
    "/etc/keepalived/conf.d/a.conf",
    "/etc/keepalived/conf.d/b.conf",
    "/etc/keepalived/other.conf",
];

/// Splits `data` at lines `%%` into the files of [`IMPORT_FILES`] and imports the first.
pub fn run_import(data: &[u8]) {
    let (files, lines) = import_files(data);
    check_import(&files, &lines);
}

/// The files of an `import_keepalived` input, and each one's line count.
pub fn import_files(data: &[u8]) -> (MemFiles, Vec<(&'static str, usize)>) {
    let mut files = MemFiles::new();
    let mut lines = Vec::new();
    let mut rest = data;
    for name in IMPORT_FILES {
        let (part, next) = match find(rest, b"\n%%\n") {
            Some(at) => (&rest[..at + 1], &rest[at + 4..]),
            None => (rest, &rest[rest.len()..]),
        };
        files.add(name, part.to_vec());
        lines.push((name, part.split(|b| *b == b'\n').count()));
        rest = next;
        if rest.is_empty() {
            break;
        }
    }
    (files, lines)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The import of [`IMPORT_FILES`]`[0]` never panics; a file it produces loads with vipd's
/// loader (into the same configuration) and satisfies the loader's invariants; a failure has
/// a problem; every place names a file that was given, at a line it has (`lines`: each
/// file's line count).
pub fn check_import(files: &MemFiles, lines: &[(&str, usize)]) {
    // Smaller limits than the command's, so that a fuzzer spends its time on meaning.
    let options = Options {
        config_id: Some("lb1".to_owned()),
        limits: Limits {
            file_bytes: 64 << 10,
            total_bytes: 256 << 10,
            files: 64,
            statements: 20_000,
            expanded_lines: 20_000,
            substitutions: 2_000,
            ..Limits::default()
        },
        output_name: Some("/fuzz/imported.toml".into()),
    };
    let check_place = |place: &Option<import::Place>, what: &str| {
        let Some(p) = place else { return };
        let known = lines.iter().find(|(name, _)| Path::new(name) == p.file);
        let (_, count) =
            known.unwrap_or_else(|| panic!("{what}: unknown file {}", p.file.display()));
        assert!(
            p.line >= 1 && p.line <= *count,
            "{what}: line {} of {count}",
            p.line
        );
    };
    match import::import(Path::new(IMPORT_FILES[0]), files, &options) {
        Ok(imported) => {
            let again = config::parse(&imported.toml, Path::new("/fuzz/imported.toml"))
                .unwrap_or_else(|e| {
                    panic!("produced a file vipd refuses: {e:?}\n{}", imported.toml)
                });
            assert_eq!(again, imported.config, "the file and the result differ");
            check_config_ok(&imported.config);
            for n in &imported.notes {
                check_place(&n.place, &n.to_string());
            }
            let not_carried = imported
                .notes
                .iter()
                .filter(|n| n.kind == NoteKind::NotCarried)
                .count();
            let comments = imported
                .toml
                .lines()
                .filter(|l| l.starts_with("# not carried: "))
                .count();
            assert!(
                comments >= not_carried,
                "{comments} comments for {not_carried} notes"
            );
        }
        Err(failed) => {
            assert!(!failed.problems.is_empty(), "a failure without a problem");
            for p in &failed.problems {
                check_place(&p.place, &p.to_string());
            }
            for n in &failed.notes {
                check_place(&n.place, &n.to_string());
            }
        }
    }
}

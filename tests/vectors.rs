//! Decode and encode vectors: frames keepalived 2.2.7 put on the wire
//! (tests/data/keepalived-2.2.7-adverts.pcap, described in shared/vectors/README.md).
//!
//! Frames 1, 3 and 5 are VRRP adverts: each is validated with the fields the README lists and
//! then re-encoded from those fields, which must give back keepalived's bytes exactly
//! (checksum included). Frames 2, 4 and 6 are takeover announcements, rebuilt whole by
//! `vipd::protocol::announce` and compared byte-for-byte.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vipd::protocol::announce::{gratuitous_arp, unsolicited_na};
use vipd::protocol::packet::{
    AdvertOut, DropKind, Expect, MULTICAST_V4, MULTICAST_V6, RxMeta, encode, split_ipv4, validate,
};
use vipd::protocol::units::{Centisecs, Family, Version};

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/keepalived-2.2.7-adverts.pcap"
);

/// The sender's interface (README).
const MAC: [u8; 6] = [0x8e, 0xfb, 0x1b, 0xc9, 0xce, 0x0b];
const SRC4: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const SRC6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x8cfb, 0x1bff, 0xfec9, 0xce0b);

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const LINKTYPE_ETHERNET: u32 = 1;

fn u16_be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The Ethernet frames of a little-endian capture file.
///
/// The README calls it classic pcap, but the file is actually **pcapng** (written by editcap
/// 4.0.17), so both formats are read: pcapng (Section Header, Interface Description and
/// Enhanced Packet blocks) and classic pcap (24-byte file header, 16-byte record headers).
fn read_frames(file: &[u8]) -> Vec<Vec<u8>> {
    match u32_le(file, 0) {
        0x0A0D_0D0A => read_pcapng(file),
        // Microsecond and nanosecond classic pcap, little-endian.
        0xA1B2_C3D4 | 0xA1B2_3C4D => read_classic_pcap(file),
        magic => panic!("not a little-endian pcap or pcapng file (magic {magic:#010x})"),
    }
}

fn read_pcapng(file: &[u8]) -> Vec<Vec<u8>> {
    const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    const INTERFACE_DESCRIPTION: u32 = 1;
    const ENHANCED_PACKET: u32 = 6;
    let mut frames = Vec::new();
    let mut at = 0;
    while at < file.len() {
        let block_type = u32_le(file, at);
        let block_len = u32_le(file, at + 4) as usize;
        assert!(block_len >= 12 && block_len % 4 == 0, "bad block length");
        // Every block repeats its length at its end.
        assert_eq!(u32_le(file, at + block_len - 4) as usize, block_len);
        let body = &file[at + 8..at + block_len - 4];
        match block_type {
            SECTION_HEADER => {
                assert_eq!(u32_le(body, 0), 0x1A2B_3C4D, "only little-endian pcapng");
            }
            INTERFACE_DESCRIPTION => {
                assert_eq!(
                    u32::from(u16::from_le_bytes([body[0], body[1]])),
                    LINKTYPE_ETHERNET
                );
            }
            ENHANCED_PACKET => {
                // interface id, timestamp high, timestamp low, captured length, original length.
                let captured = u32_le(body, 12) as usize;
                let original = u32_le(body, 16) as usize;
                assert_eq!(captured, original, "frame truncated by the capture");
                frames.push(body[20..20 + captured].to_vec());
            }
            _ => {} // statistics, name resolution, ...: not needed
        }
        at += block_len;
    }
    frames
}

fn read_classic_pcap(file: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(u32_le(file, 20), LINKTYPE_ETHERNET);
    let mut frames = Vec::new();
    let mut at = 24;
    while at < file.len() {
        let captured = u32_le(file, at + 8) as usize;
        let original = u32_le(file, at + 12) as usize;
        assert_eq!(captured, original, "frame truncated by the capture");
        frames.push(file[at + 16..at + 16 + captured].to_vec());
        at += 16 + captured;
    }
    frames
}

fn frames() -> Vec<Vec<u8>> {
    let file = std::fs::read(CAPTURE).expect("capture file is readable");
    let frames = read_frames(&file);
    assert_eq!(frames.len(), 6, "the capture holds six frames");
    frames
}

/// The numbered frame (1-based, as in the README and tshark).
fn frame(n: usize) -> Vec<u8> {
    frames().swap_remove(n - 1)
}

/// Ethernet + IPv4 (via the codec's own `split_ipv4`): (TOS, meta, VRRP bytes).
fn ipv4_advert(frame: &[u8]) -> (u8, RxMeta, &[u8]) {
    assert_eq!(
        &frame[0..6],
        &[0x01, 0x00, 0x5e, 0x00, 0x00, 0x12],
        "224.0.0.18's MAC"
    );
    assert_eq!(&frame[6..12], &MAC);
    assert_eq!(u16_be(frame, 12), ETHERTYPE_IPV4);
    let ip = &frame[14..];
    let (meta, vrrp) = split_ipv4(ip).expect("valid IPv4 header");
    (ip[1], meta, vrrp)
}

/// Ethernet + IPv6, parsed here (the agent gets these fields from the socket): (meta, VRRP).
fn ipv6_advert(frame: &[u8]) -> (RxMeta, &[u8]) {
    assert_eq!(
        &frame[0..6],
        &[0x33, 0x33, 0x00, 0x00, 0x00, 0x12],
        "ff02::12's MAC"
    );
    assert_eq!(u16_be(frame, 12), ETHERTYPE_IPV6);
    let ip = &frame[14..];
    assert_eq!(ip[0] >> 4, 6);
    let payload_len = usize::from(u16_be(ip, 4));
    assert_eq!(ip[6], 112, "next header VRRP");
    let addr = |at: usize| -> Ipv6Addr {
        let bytes: [u8; 16] = ip[at..at + 16].try_into().unwrap();
        bytes.into()
    };
    let meta = RxMeta {
        src: IpAddr::V6(addr(8)),
        dst: IpAddr::V6(addr(24)),
        hop_limit: ip[7],
    };
    (meta, &ip[40..40 + payload_len])
}

fn expect<'a>(out: &AdvertOut<'a>) -> Expect<'a> {
    Expect {
        version: out.version,
        checksum_ipv4_pseudo_header: out.checksum_ipv4_pseudo_header,
        auth_pass: out.auth_pass,
        interval: out.interval,
        addresses: out.addresses,
        unicast_peers: &[],
    }
}

fn reencode(out: &AdvertOut, meta: &RxMeta) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode(out, meta.src, meta.dst, &mut bytes);
    bytes
}

#[test]
fn capture_holds_six_ethernet_frames() {
    let lens: Vec<usize> = frames().iter().map(Vec::len).collect();
    // No frame is padded to 60 bytes: captured on the sending side of a veth/bridge.
    assert_eq!(lens, [46, 42, 58, 42, 94, 86]);
}

#[test]
fn frame1_vrrpv3_ipv4_with_pseudo_header_checksum() {
    let f = frame(1);
    let (tos, meta, vrrp) = ipv4_advert(&f);
    assert_eq!(tos, 0xc0);
    assert_eq!(meta.hop_limit, 255);
    assert_eq!(meta.src, IpAddr::V4(SRC4));
    assert_eq!(meta.dst, IpAddr::V4(MULTICAST_V4));
    assert_eq!(u16_be(vrrp, 6), 0x6b16);

    let addresses = [IpAddr::V4(Ipv4Addr::new(10, 99, 0, 63))];
    let out = AdvertOut {
        version: Version::V3,
        vrid: 33,
        priority: 110,
        interval: Centisecs(50),
        addresses: &addresses,
        auth_pass: None,
        checksum_ipv4_pseudo_header: true,
    };
    let adv = validate(vrrp, &meta, Family::V4, |vrid| {
        assert_eq!(vrid, 33);
        Some(expect(&out))
    })
    .expect("keepalived's v3/IPv4 advert validates");
    assert_eq!(adv.version, Version::V3);
    assert_eq!(adv.vrid, 33);
    assert_eq!(adv.priority, 110);
    assert_eq!(adv.interval, Centisecs(50));
    assert_eq!(adv.src, IpAddr::V4(SRC4));
    assert_eq!(adv.count(), 1);
    assert!(adv.addresses().eq(addresses));
    assert!(adv.addresses_match);

    // keepalived includes the IPv4 pseudo-header: the RFC 9568 (plain) setting rejects it...
    let plain = Expect {
        checksum_ipv4_pseudo_header: false,
        ..expect(&out)
    };
    assert_eq!(
        validate(vrrp, &meta, Family::V4, |_| Some(plain)).map(|_| ()),
        Err(DropKind::Checksum)
    );
    // ...and an unknown VRID gets past the checksum whichever convention the sender used.
    assert_eq!(
        validate(vrrp, &meta, Family::V4, |_| None).map(|_| ()),
        Err(DropKind::UnknownVrid)
    );

    assert_eq!(reencode(&out, &meta), vrrp);
}

#[test]
fn frame3_vrrpv2_simple_text_auth() {
    let f = frame(3);
    let (tos, meta, vrrp) = ipv4_advert(&f);
    assert_eq!(tos, 0xc0);
    assert_eq!(meta.hop_limit, 255);
    assert_eq!(meta.src, IpAddr::V4(SRC4));
    assert_eq!(meta.dst, IpAddr::V4(MULTICAST_V4));
    assert_eq!(u16_be(vrrp, 6), 0x1497);
    assert_eq!(vrrp[4], 1, "auth type simple text");

    let addresses = [
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 60)),
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 61)),
    ];
    let out = AdvertOut {
        version: Version::V2,
        vrid: 12,
        priority: 120,
        interval: Centisecs::from_secs(1),
        addresses: &addresses,
        auth_pass: Some(*b"s3cret\0\0"),
        checksum_ipv4_pseudo_header: false,
    };
    let adv = validate(vrrp, &meta, Family::V4, |vrid| {
        assert_eq!(vrid, 12);
        Some(expect(&out))
    })
    .expect("keepalived's v2 advert validates");
    assert_eq!(adv.version, Version::V2);
    assert_eq!(adv.vrid, 12);
    assert_eq!(adv.priority, 120);
    assert_eq!(adv.interval, Centisecs(100));
    assert_eq!(adv.src, IpAddr::V4(SRC4));
    assert_eq!(adv.count(), 2);
    assert!(adv.addresses().eq(addresses));
    assert!(adv.addresses_match);

    let wrong_pass = Expect {
        auth_pass: Some(*b"s3cre\0\0\0"),
        ..expect(&out)
    };
    assert_eq!(
        validate(vrrp, &meta, Family::V4, |_| Some(wrong_pass)).map(|_| ()),
        Err(DropKind::Auth)
    );

    assert_eq!(reencode(&out, &meta), vrrp);
}

#[test]
fn frame5_vrrpv3_ipv6() {
    let f = frame(5);
    let (meta, vrrp) = ipv6_advert(&f);
    assert_eq!(meta.hop_limit, 255);
    assert_eq!(meta.src, IpAddr::V6(SRC6));
    assert_eq!(meta.dst, IpAddr::V6(MULTICAST_V6));
    assert_eq!(u16_be(vrrp, 6), 0xf9ef);

    let addresses = [
        IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x36)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0x36)),
    ];
    let out = AdvertOut {
        version: Version::V3,
        vrid: 36,
        priority: 100,
        interval: Centisecs(100),
        addresses: &addresses,
        auth_pass: None,
        checksum_ipv4_pseudo_header: true,
    };
    let adv = validate(vrrp, &meta, Family::V6, |vrid| {
        assert_eq!(vrid, 36);
        Some(expect(&out))
    })
    .expect("keepalived's v3/IPv6 advert validates");
    assert_eq!(adv.version, Version::V3);
    assert_eq!(adv.vrid, 36);
    assert_eq!(adv.priority, 100);
    assert_eq!(adv.interval, Centisecs(100));
    assert_eq!(adv.src, IpAddr::V6(SRC6));
    assert_eq!(adv.count(), 2);
    assert!(adv.addresses().eq(addresses));
    assert!(adv.addresses_match);

    assert_eq!(reencode(&out, &meta), vrrp);
}

#[test]
fn frames2_and_4_gratuitous_arp() {
    let all = frames();
    // Compared whole: keepalived's frames are 42 bytes, not padded to 60 (see above).
    assert_eq!(gratuitous_arp(MAC, Ipv4Addr::new(10, 99, 0, 63)), all[1]);
    assert_eq!(gratuitous_arp(MAC, Ipv4Addr::new(10, 99, 0, 60)), all[3]);
}

#[test]
fn frame6_unsolicited_neighbor_advertisement() {
    let vip = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0x36);
    let f = frame(6);
    // keepalived sends the NA *from the virtual address itself*, not from the interface's
    // link-local address (bytes 22..38 of the frame), so the source is a parameter.
    let ip_src: [u8; 16] = f[22..38].try_into().unwrap();
    assert_eq!(Ipv6Addr::from(ip_src), vip);
    // Compared whole, ICMPv6 checksum (0xe22f, over the pseudo-header) included.
    assert_eq!(u16_be(&f, 56), 0xe22f);
    assert_eq!(unsolicited_na(MAC, vip, vip, false), f);
}

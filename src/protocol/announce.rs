//! Frames that announce a takeover: gratuitous ARP (IPv4) and unsolicited Neighbor
//! Advertisement (IPv6). Pure builders: the caller sends the bytes on a packet socket.
//!
//! Both layouts are pinned byte-for-byte against keepalived 2.2.7's frames in
//! `tests/vectors.rs`, so switches and hosts see exactly what they already accept from it.
//! The frames are not padded to the 60-byte Ethernet minimum: the captured keepalived
//! frames are not either (on a real NIC the driver or hardware pads short frames).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::MutablePacket;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
use pnet_packet::ethernet::{EtherType, EtherTypes, MutableEthernetPacket};
use pnet_packet::icmpv6::ndp::{
    MutableNeighborAdvertPacket, NdpOption, NdpOptionTypes, NeighborAdvertFlags,
};
use pnet_packet::icmpv6::{self, Icmpv6Code, Icmpv6Packet, Icmpv6Types};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv6::MutableIpv6Packet;

use crate::protocol::packet::{HOP_LIMIT, IPPROTO_VRRP, internet_checksum};

const ETHERNET_HEADER_LEN: usize = 14;
const ARP_IPV4_LEN: usize = 28;
const IPV6_HEADER_LEN: usize = 40;
const IPV4_HEADER_LEN: usize = 20;
/// RFC 2474 class selector 6 (network control), what routers mark VRRP with.
const TOS_NETWORK_CONTROL: u8 = 0xc0;
/// ICMPv6 header (4) + flags/reserved (4) + target address (16).
const NA_LEN: usize = 24;
/// Target link-layer address option: type, length (in units of 8 bytes), 6-byte MAC.
const TLLA_OPTION_LEN: usize = 8;

/// Length of a gratuitous ARP frame.
pub const ARP_FRAME_LEN: usize = ETHERNET_HEADER_LEN + ARP_IPV4_LEN;
/// Length of an unsolicited Neighbor Advertisement frame.
pub const NA_FRAME_LEN: usize = ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NA_LEN + TLLA_OPTION_LEN;

const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// Ethernet multicast address of ff02::1 (RFC 2464 section 7: 33:33 + the low 32 bits).
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];
/// All-nodes multicast: every host on the link updates its neighbor cache entry.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// RFC 4861 section 7.1.2: receivers drop NDP messages whose hop limit is not 255.
const NDP_HOP_LIMIT: u8 = 255;

// The `expect`s below are on buffers this module sizes itself from the constants above; they
// never see received bytes, and a unit test builds every frame, so they cannot fire in use.

/// Write the Ethernet header into `frame` and return its payload for the next layer.
fn ethernet<'a>(
    frame: &'a mut [u8],
    dst: [u8; 6],
    src: [u8; 6],
    ethertype: EtherType,
) -> MutableEthernetPacket<'a> {
    let mut eth = MutableEthernetPacket::new(frame).expect("frame holds an Ethernet header");
    eth.set_destination(dst.into());
    eth.set_source(src.into());
    eth.set_ethertype(ethertype);
    eth
}

/// Gratuitous ARP request announcing `vip` at `mac`, broadcast.
///
/// An ARP *request* (not a reply) with sender IP = target IP = the virtual address: every host
/// that has the address cached updates the entry (RFC 5227 section 3 recommends requests, as
/// some stacks ignore unsolicited replies). The target MAC field is ff:ff:ff:ff:ff:ff, which is
/// what keepalived puts there (RFC 5227 would use zeros; receivers ignore the field in a
/// request, so matching keepalived costs nothing).
pub fn gratuitous_arp(mac: [u8; 6], vip: Ipv4Addr) -> Vec<u8> {
    let mut frame = vec![0u8; ARP_FRAME_LEN];
    let mut eth = ethernet(&mut frame, BROADCAST_MAC, mac, EtherTypes::Arp);
    let mut arp = MutableArpPacket::new(eth.payload_mut()).expect("frame holds an ARP body");
    arp.set_hardware_type(ArpHardwareTypes::Ethernet);
    arp.set_protocol_type(EtherTypes::Ipv4);
    arp.set_hw_addr_len(6);
    arp.set_proto_addr_len(4);
    arp.set_operation(ArpOperations::Request);
    arp.set_sender_hw_addr(mac.into());
    arp.set_sender_proto_addr(vip);
    arp.set_target_hw_addr(BROADCAST_MAC.into());
    arp.set_target_proto_addr(vip);
    frame
}

/// Unsolicited Neighbor Advertisement for `vip` at `mac`, sent to all nodes (ff02::1).
///
/// RFC 4861 section 7.2.6: Solicited = 0, Override = 1 (replace the cached link-layer address
/// of the previous Master), Router = `router`, and a target link-layer address option carrying
/// `mac`. Hop limit 255 or receivers drop it.
///
/// `src` is the IPv6 source address. RFC 4861 allows any address of the sending interface;
/// keepalived uses the virtual address itself (see vector 6), pass `vip` to match it, or the
/// interface's link-local address.
pub fn unsolicited_na(mac: [u8; 6], src: Ipv6Addr, vip: Ipv6Addr, router: bool) -> Vec<u8> {
    let mut frame = vec![0u8; NA_FRAME_LEN];
    let mut eth = ethernet(&mut frame, ALL_NODES_MAC, mac, EtherTypes::Ipv6);

    let mut ip = MutableIpv6Packet::new(eth.payload_mut()).expect("frame holds an IPv6 header");
    ip.set_version(6);
    ip.set_traffic_class(0);
    ip.set_flow_label(0);
    ip.set_payload_length((NA_LEN + TLLA_OPTION_LEN) as u16);
    ip.set_next_header(IpNextHeaderProtocols::Icmpv6);
    ip.set_hop_limit(NDP_HOP_LIMIT);
    ip.set_source(src);
    ip.set_destination(ALL_NODES);

    let icmp = ip.payload_mut();
    {
        let mut na = MutableNeighborAdvertPacket::new(&mut *icmp).expect("frame holds an NA");
        na.set_icmpv6_type(Icmpv6Types::NeighborAdvert);
        na.set_icmpv6_code(Icmpv6Code(0));
        let mut flags = NeighborAdvertFlags::Override;
        if router {
            flags |= NeighborAdvertFlags::Router;
        }
        na.set_flags(flags);
        na.set_target_addr(vip);
        na.set_options(&[NdpOption {
            option_type: NdpOptionTypes::TargetLLAddr,
            length: 1, // units of 8 bytes: type + length + 6-byte MAC
            data: mac.to_vec(),
        }]);
    }
    // The checksum covers the IPv6 pseudo-header, so it is computed once addresses and body
    // are in place (the checksum field is still zero here).
    let checksum = {
        let view = Icmpv6Packet::new(icmp).expect("frame holds an ICMPv6 message");
        icmpv6::checksum(&view, &src, &ALL_NODES)
    };
    let mut na = MutableNeighborAdvertPacket::new(icmp).expect("frame holds an NA");
    na.set_checksum(checksum);
    frame
}

/// An advert as a whole Ethernet frame from `mac` (the virtual MAC) to the VRRP group of
/// `dst`'s family, written into `frame` (cleared first, so a reused buffer allocates
/// nothing once warm): what a raw IP socket would send, with the source MAC chosen. IPv4:
/// TOS 0xc0, TTL 255, DF, checksummed; IPv6: hop limit 255. `false` (and nothing written)
/// when `dst` is not multicast or the families differ: unicast needs the neighbour table.
pub fn advert_frame(
    frame: &mut Vec<u8>,
    mac: [u8; 6],
    src: IpAddr,
    dst: IpAddr,
    payload: &[u8],
) -> bool {
    frame.clear();
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) if dst.is_multicast() => {
            let o = dst.octets();
            frame.extend_from_slice(&[0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]);
            frame.extend_from_slice(&mac);
            frame.extend_from_slice(&[0x08, 0x00]);
            let total = (IPV4_HEADER_LEN + payload.len()) as u16;
            let start = frame.len();
            frame.extend_from_slice(&[0x45, TOS_NETWORK_CONTROL]);
            frame.extend_from_slice(&total.to_be_bytes());
            // Identification 0, Don't Fragment, TTL 255, protocol 112, checksum later.
            frame.extend_from_slice(&[0, 0, 0x40, 0, HOP_LIMIT, IPPROTO_VRRP, 0, 0]);
            frame.extend_from_slice(&src.octets());
            frame.extend_from_slice(&dst.octets());
            let checksum = internet_checksum(&frame[start..]);
            frame[start + 10..start + 12].copy_from_slice(&checksum.to_be_bytes());
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) if dst.is_multicast() => {
            let o = dst.octets();
            frame.extend_from_slice(&[0x33, 0x33, o[12], o[13], o[14], o[15]]);
            frame.extend_from_slice(&mac);
            frame.extend_from_slice(&[0x86, 0xdd]);
            frame.extend_from_slice(&[0x60, 0, 0, 0]);
            frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            frame.extend_from_slice(&[IPPROTO_VRRP, HOP_LIMIT]);
            frame.extend_from_slice(&src.octets());
            frame.extend_from_slice(&dst.octets());
        }
        _ => return false,
    }
    frame.extend_from_slice(payload);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::Packet;
    use pnet_packet::arp::ArpPacket;
    use pnet_packet::ethernet::EthernetPacket;
    use pnet_packet::icmpv6::ndp::NeighborAdvertPacket;
    use pnet_packet::ipv6::Ipv6Packet;

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[test]
    fn gratuitous_arp_layout() {
        let vip = Ipv4Addr::new(192, 0, 2, 7);
        let frame = gratuitous_arp(MAC, vip);
        assert_eq!(frame.len(), ARP_FRAME_LEN);
        let eth = EthernetPacket::new(&frame).unwrap();
        assert_eq!(eth.get_destination().octets(), BROADCAST_MAC);
        assert_eq!(eth.get_source().octets(), MAC);
        assert_eq!(eth.get_ethertype(), EtherTypes::Arp);
        let arp = ArpPacket::new(eth.payload()).unwrap();
        assert_eq!(arp.get_operation(), ArpOperations::Request);
        assert_eq!(arp.get_sender_hw_addr().octets(), MAC);
        assert_eq!(arp.get_target_hw_addr().octets(), BROADCAST_MAC);
        assert_eq!(arp.get_sender_proto_addr(), vip);
        assert_eq!(arp.get_target_proto_addr(), vip);
        // Hardware 1, protocol 0x0800, lengths 6 and 4, op 1.
        assert_eq!(&frame[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
    }

    #[test]
    fn unsolicited_na_layout_and_checksum() {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let vip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
        let frame = unsolicited_na(MAC, src, vip, false);
        assert_eq!(frame.len(), NA_FRAME_LEN);
        let eth = EthernetPacket::new(&frame).unwrap();
        assert_eq!(eth.get_destination().octets(), ALL_NODES_MAC);
        assert_eq!(eth.get_ethertype(), EtherTypes::Ipv6);
        let ip = Ipv6Packet::new(eth.payload()).unwrap();
        assert_eq!(ip.get_hop_limit(), 255);
        assert_eq!(ip.get_next_header(), IpNextHeaderProtocols::Icmpv6);
        assert_eq!(ip.get_payload_length(), 32);
        assert_eq!(ip.get_source(), src);
        assert_eq!(ip.get_destination(), ALL_NODES);
        let na = NeighborAdvertPacket::new(ip.payload()).unwrap();
        assert_eq!(na.get_icmpv6_type(), Icmpv6Types::NeighborAdvert);
        assert_eq!(na.get_flags(), NeighborAdvertFlags::Override);
        assert_eq!(na.get_target_addr(), vip);
        // Option: type 2, length 1, the MAC.
        assert_eq!(
            &ip.payload()[24..],
            &[2, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        );
        let icmp = Icmpv6Packet::new(ip.payload()).unwrap();
        assert_eq!(
            icmpv6::checksum(&icmp, &src, &ALL_NODES),
            icmp.get_checksum()
        );
        assert_ne!(icmp.get_checksum(), 0);
    }

    #[test]
    fn advert_frames_from_the_virtual_mac() {
        use pnet_packet::ipv4::{Ipv4Packet, checksum};
        let vmac = [0, 0, 0x5e, 0, 1, 51];
        let payload = [0x31, 51, 100, 1, 0, 10, 0, 0, 10, 0, 0, 50];
        let mut frame = Vec::new();
        let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let dst = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
        assert!(advert_frame(&mut frame, vmac, src, dst, &payload));
        let eth = EthernetPacket::new(&frame).unwrap();
        assert_eq!(eth.get_destination().octets(), [1, 0, 0x5e, 0, 0, 18]);
        assert_eq!(eth.get_source().octets(), vmac);
        assert_eq!(eth.get_ethertype(), EtherTypes::Ipv4);
        let ip = Ipv4Packet::new(eth.payload()).unwrap();
        assert_eq!((ip.get_ttl(), ip.get_dscp() << 2), (255, 0xc0));
        assert_eq!(ip.get_next_level_protocol().0, 112);
        assert_eq!(ip.get_checksum(), checksum(&ip));
        assert_eq!(ip.get_total_length() as usize, 20 + payload.len());
        assert_eq!(ip.payload(), payload);

        let src = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2));
        let dst = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));
        assert!(advert_frame(&mut frame, vmac, src, dst, &payload));
        let eth = EthernetPacket::new(&frame).unwrap();
        assert_eq!(eth.get_destination().octets(), [0x33, 0x33, 0, 0, 0, 0x12]);
        let ip = Ipv6Packet::new(eth.payload()).unwrap();
        assert_eq!((ip.get_hop_limit(), ip.get_next_header().0), (255, 112));
        assert_eq!(ip.get_payload_length() as usize, payload.len());
        assert_eq!(ip.payload(), payload);

        let unicast = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!(!advert_frame(&mut frame, vmac, v4, unicast, &payload));
        assert!(frame.is_empty());
    }

    #[test]
    fn unsolicited_na_router_flag() {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let vip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
        let frame = unsolicited_na(MAC, src, vip, true);
        let flags = frame[ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + 4];
        assert_eq!(flags, 0xA0, "R=1 S=0 O=1");
        let ip = Ipv6Packet::new(&frame[ETHERNET_HEADER_LEN..]).unwrap();
        let icmp = Icmpv6Packet::new(ip.payload()).unwrap();
        assert_eq!(
            icmpv6::checksum(&icmp, &src, &ALL_NODES),
            icmp.get_checksum()
        );
    }
}

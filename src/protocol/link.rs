//! What an interface looks like, as the I/O layer reports it to the core: pure data.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One address configured on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IFA_F_SECONDARY (IPv4: not the primary address of its subnet).
    pub secondary: bool,
    /// IFA_F_TENTATIVE (IPv6 duplicate address detection not finished yet).
    pub tentative: bool,
    /// Carries vipd's address tag (`agent::netlink::ADDRESS_PROTOCOL`): a vipd added it,
    /// this run or a crashed one.
    pub by_vipd: bool,
}

/// Snapshot of one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfState {
    pub index: u32,
    pub name: String,
    /// Administratively up and able to pass traffic (carrier and operational state).
    pub up: bool,
    /// Hardware address, when it is a 6-byte (Ethernet-like) one.
    pub mac: Option<[u8; 6]>,
    pub addrs: Vec<IfAddr>,
}

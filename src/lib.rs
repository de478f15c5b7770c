//! vipd: a VRRP virtual-IP failover agent.
pub mod units;

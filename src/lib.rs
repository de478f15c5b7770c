//! vipd: a VRRP virtual-IP failover agent.
//!
//! The protocol core is sans-IO: [`packet`] (codec and receive validation) and [`fsm`] (the
//! election state machine) take bytes, events and the current time and return actions.
//! [`announce`] lays out takeover frames. The I/O layer ([`agent`], [`receive`],
//! [`network`], [`netlink`], [`control`]) is thin and drives them.
pub mod agent;
pub mod announce;
pub mod config;
pub mod control;
pub mod fsm;
pub mod lock;
pub mod netlink;
pub mod network;
pub mod packet;
pub mod procs;
pub mod receive;
pub mod runner;
pub mod throttle;
pub mod units;

//! vipd: a VRRP virtual-IP failover agent.
//!
//! The protocol core is sans-IO: [`packet`] (codec and receive validation) and [`fsm`] (the
//! election state machine) take bytes, events and the current time and return actions. The
//! I/O layer drives them.
pub mod fsm;
pub mod units;

//! vipd: a VRRP virtual-IP failover agent.
//!
//! Three layers, one folder each:
//! - [`protocol`]: the sans-IO core. The packet codec and receive validation, the election
//!   state machine, takeover frame layouts, protocol time. No sockets, clocks, processes or
//!   tokio (a test guards this): inputs with the current time in, outputs out.
//! - [`config`]: the configuration file, parsed and validated with positions.
//! - [`cli`]: the command-line definition (the man page and completions come from it too).
//! - [`import`]: `vipd import-keepalived`, a keepalived configuration's VRRP side turned into
//!   vipd's; pure code apart from reading the files.
//! - [`agent`]: the I/O shell. One tokio event loop that drives the core: raw sockets,
//!   netlink, timers, signals, the control socket.
pub mod agent;
pub mod cli;
pub mod config;
pub mod import;
pub mod plan;
pub mod protocol;

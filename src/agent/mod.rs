//! The I/O shell: one single-threaded tokio event loop ([`event_loop`]) that drives the
//! protocol core, and the modules it carries out the core's actions with.
pub mod addresses;
pub mod checks;
pub mod control;
pub mod event_loop;
pub mod events;
pub mod lock;
pub mod logging;
pub mod metrics;
pub mod metrics_server;
pub mod netlink;
pub mod network;
pub mod nft;
pub mod notify;
pub mod procs;
pub mod receive;
pub mod runner;
pub mod sched;
pub mod sd_notify;
pub mod signals;
pub mod timer;

#[cfg(test)]
mod testns;

pub use event_loop::run;

//! The sans-IO protocol core: pure code that takes bytes, events and the current time and
//! returns actions. Nothing here may touch a socket, a clock, a process, the file system or
//! tokio (`tests/layout.rs` checks the imports).
pub mod announce;
pub mod fsm;
pub mod link;
pub mod node;
pub mod packet;
pub mod throttle;
pub mod track;
pub mod units;

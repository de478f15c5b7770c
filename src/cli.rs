//! The command-line definition, apart from what each command does (`main.rs`), so that the
//! man page and shell completions are generated from the same source.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::agent::logging;
use crate::config;

#[derive(Parser)]
#[command(name = "vipd", version, about = "VRRP virtual-IP failover agent")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the agent in the foreground until SIGTERM/SIGINT; logs go to stderr.
    Run {
        /// The configuration file.
        #[arg(short, long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Log filter: error, warn (or warning), info, debug, trace or off, or tracing
        /// directives such as vipd=debug,info; overrides RUST_LOG. Default: info.
        #[arg(long, value_name = "LEVEL", value_parser = logging::normalize)]
        log_level: Option<String>,
    },
    /// Validate a configuration file without running anything.
    Check {
        /// The configuration file.
        #[arg(short, long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Ask a running agent for the state of its instances.
    Status {
        /// The agent's control socket (global.control_socket).
        #[arg(long, value_name = "PATH", default_value = config::DEFAULT_CONTROL_SOCKET)]
        socket: PathBuf,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Follow a running agent's events (state changes, priorities, tracks) as they happen.
    ///
    /// One line per event until the agent stops (exit 0) or Ctrl-C.
    Events {
        /// The agent's control socket (global.control_socket).
        #[arg(long, value_name = "PATH", default_value = config::DEFAULT_CONTROL_SOCKET)]
        socket: PathBuf,
        /// Print each event as the agent sends it: one JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

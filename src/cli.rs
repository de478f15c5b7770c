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
        #[arg(short, long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Log filter: error, warn (or warning), info, debug, trace or off, or tracing
        /// directives such as vipd=debug,info; overrides RUST_LOG. Default: info.
        #[arg(long, value_parser = logging::normalize)]
        log_level: Option<String>,
    },
    /// Validate a configuration file without running anything.
    Check {
        #[arg(short, long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Ask a running agent for the state of its instances.
    Status {
        #[arg(long, default_value = config::DEFAULT_CONTROL_SOCKET)]
        socket: PathBuf,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Convert a keepalived configuration (its VRRP side) into a vipd configuration.
    ///
    /// Follows includes, `@name` lines and `$NAME` definitions as keepalived does. Prints the
    /// TOML (or writes it to --output); everything it cannot carry over is listed on stderr
    /// and as `# not carried:` comments, with the keepalived file and line. Exit 0 when a
    /// file was produced, 1 when the input cannot be read or parsed, or nothing can be
    /// carried.
    ImportKeepalived {
        /// The keepalived configuration, e.g. /etc/keepalived/keepalived.conf.
        file: PathBuf,
        /// Write the vipd configuration here instead of stdout (a new file gets mode 0600:
        /// it may hold a password).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The config id `@name` lines are compared with, as keepalived's -i. Default: this
        /// host's name up to its first dot, as keepalived's.
        #[arg(long, value_name = "NAME")]
        config_id: Option<String>,
    },
    /// Follow a running agent's events (state changes, priorities, tracks) as they happen.
    ///
    /// One line per event until the agent stops (exit 0) or Ctrl-C.
    Events {
        #[arg(long, default_value = config::DEFAULT_CONTROL_SOCKET)]
        socket: PathBuf,
        /// Print each event as the agent sends it: one JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

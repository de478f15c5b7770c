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
    /// Validate configuration files without running anything.
    ///
    /// Each file on its own; with one file per host (`-c a.toml -c b.toml`), also what the
    /// hosts must agree on: for each VRID and family on an interface name, the version,
    /// interval, addresses, password and checksum mode (errors), a single owner (error),
    /// distinct priorities and unicast peers that name each other (warnings).
    Check {
        /// A configuration file; repeat for several hosts.
        #[arg(short, long = "config", value_name = "FILE", default_value = config::DEFAULT_PATH, action = clap::ArgAction::Append)]
        config: Vec<PathBuf>,
    },
    /// Show what would happen: run the hosts' files (one per host) through vipd's own state
    /// machines in virtual time.
    ///
    /// For each virtual router: who becomes master, who takes over as hosts fail one by
    /// one (and how long after the failed master's last advert), and whether the first
    /// master takes over again when it returns. Hosts are named by their router_id (the file
    /// name when two are equal). Ties of priority go to the host given later.
    Plan {
        /// A host's configuration file; repeat for each host.
        #[arg(short, long = "config", value_name = "FILE", required = true, action = clap::ArgAction::Append)]
        config: Vec<PathBuf>,
        /// Only this host fails (by name): what every router does, then on its return.
        #[arg(long, value_name = "HOST")]
        fail: Option<String>,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
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
    /// Have a running agent re-read its configuration file and apply the difference.
    ///
    /// The whole file is checked first: on any error nothing changes (exit 1, every error
    /// printed). Instances whose settings did not change are not touched; the others are
    /// changed in place, added or removed. Prints what was kept, changed, added and removed.
    /// Needs root (or the agent's own user). The same happens on SIGHUP.
    Reload {
        /// The agent's control socket (global.control_socket).
        #[arg(long, value_name = "PATH", default_value = config::DEFAULT_CONTROL_SOCKET)]
        socket: PathBuf,
        /// Print the outcome as JSON.
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
        /// The agent's control socket (global.control_socket).
        #[arg(long, value_name = "PATH", default_value = config::DEFAULT_CONTROL_SOCKET)]
        socket: PathBuf,
        /// Print each event as the agent sends it: one JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

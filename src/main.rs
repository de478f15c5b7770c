//! The `vipd` command line: `run`, `check`, `status`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use vipd::agent::{self, control};
use vipd::config;

#[derive(Parser)]
#[command(name = "vipd", version, about = "VRRP virtual-IP failover agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent in the foreground until SIGTERM/SIGINT; logs go to stderr.
    Run {
        #[arg(short, long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Log filter (error, warn, info, debug, trace, or a tracing directive);
        /// overrides RUST_LOG. Default: info.
        #[arg(long)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, log_level } => run(&config, log_level.as_deref()),
        Command::Check { config } => check(&config),
        Command::Status { socket, json } => status(&socket, json),
    }
}

fn load(path: &Path) -> Option<config::Config> {
    match config::load(path) {
        Ok(c) => Some(c),
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "{}: {} error(s); configuration not valid",
                path.display(),
                errors.len()
            );
            None
        }
    }
}

fn check(path: &Path) -> ExitCode {
    let Some(cfg) = load(path) else {
        return ExitCode::from(1);
    };
    println!("{}: valid: {}", path.display(), cfg.summary());
    ExitCode::SUCCESS
}

fn init_logging(level: Option<&str>) {
    let filter = match level {
        Some(l) => EnvFilter::new(l),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn run(path: &Path, level: Option<&str>) -> ExitCode {
    let Some(cfg) = load(path) else {
        return ExitCode::from(1);
    };
    init_logging(level);
    let result = runtime()
        .map_err(|e| format!("cannot start the runtime: {e}"))
        .and_then(|rt| rt.block_on(agent::run(cfg, path)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(1)
        }
    }
}

fn status(socket: &Path, json: bool) -> ExitCode {
    let result = runtime()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(control::query(socket)));
    match result {
        Ok(status) if json => match serde_json::to_string_pretty(&status) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot print the report: {e}");
                ExitCode::from(1)
            }
        },
        Ok(status) => {
            print!("{}", control::render_text(&status));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

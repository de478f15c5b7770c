//! The `vipd` command line: `run`, `check`, `status`, `reload`, `events`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use vipd::agent::{self, control, events, logging, runner};
use vipd::cli::{Cli, Command};
use vipd::config::{self, fleet};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, log_level } => run(&config, log_level.as_deref()),
        Command::Check { config } => check(&config),
        Command::Plan { config, fail, json } => plan(&config, fail.as_deref(), json),
        Command::Status { socket, json } => status(&socket, json),
        Command::Events { socket, json } => follow_events(&socket, json),
        Command::Reload { socket, json } => reload(&socket, json),
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

fn check(paths: &[PathBuf]) -> ExitCode {
    let configs: Vec<Option<config::Config>> = paths.iter().map(|p| check_one(p)).collect();
    if configs.iter().any(Option::is_none) {
        return ExitCode::from(1);
    }
    if paths.len() < 2 {
        return ExitCode::SUCCESS;
    }
    let hosts: Vec<fleet::HostFile> = paths
        .iter()
        .zip(configs.into_iter().flatten())
        .map(|(path, config)| fleet::HostFile {
            lines: std::fs::read_to_string(path)
                .map(|text| fleet::instance_lines(&text))
                .unwrap_or_default(),
            path: path.clone(),
            config,
        })
        .collect();
    let findings = fleet::check(&hosts);
    for f in &findings {
        eprintln!("{f}");
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == fleet::Severity::Error)
        .count();
    println!(
        "{} hosts: {errors} error(s), {} warning(s) between them",
        hosts.len(),
        findings.len() - errors
    );
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plan(paths: &[PathBuf], fail: Option<&str>, json: bool) -> ExitCode {
    let configs: Vec<Option<config::Config>> = paths.iter().map(|p| load(p)).collect();
    if configs.iter().any(Option::is_none) {
        return ExitCode::from(1);
    }
    let configs: Vec<config::Config> = configs.into_iter().flatten().collect();
    let ids: Vec<&str> = configs
        .iter()
        .map(|c| c.global.router_id.as_str())
        .collect();
    let hosts: Vec<vipd::plan::Host> = paths
        .iter()
        .zip(configs.iter())
        .map(|(path, config)| {
            let id = config.global.router_id.as_str();
            let unique = ids.iter().filter(|&&x| x == id).count() == 1;
            let name = if unique {
                id.to_owned()
            } else {
                path.file_stem().map_or_else(
                    || path.display().to_string(),
                    |s| s.to_string_lossy().into(),
                )
            };
            vipd::plan::Host {
                name,
                config: config.clone(),
            }
        })
        .collect();
    let text = match fail {
        Some(host) => match vipd::plan::fail_host(&hosts, host) {
            Some(p) if json => serde_json::to_string_pretty(&p).map_err(|e| e.to_string()),
            Some(p) => Ok(vipd::plan::render_failure(&p)),
            None => {
                let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                eprintln!(
                    "--fail {host}: no such host; the hosts are {}",
                    names.join(", ")
                );
                return ExitCode::from(2);
            }
        },
        None => {
            let plans = vipd::plan::plan(&hosts);
            if json {
                serde_json::to_string_pretty(&plans).map_err(|e| e.to_string())
            } else {
                Ok(vipd::plan::render(&hosts, &plans))
            }
        }
    };
    match text {
        Ok(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot print the plan: {e}");
            ExitCode::from(1)
        }
    }
}

/// One file on its own: valid, and the commands it names exist here.
fn check_one(path: &Path) -> Option<config::Config> {
    let cfg = load(path)?;
    println!("{}: valid: {}", path.display(), cfg.summary());
    // Warnings only: the file may be checked on another host than the one it runs on,
    // where `vipd run` refuses these commands.
    let tracks = cfg
        .track_scripts
        .iter()
        .map(|s| (format!("track_script `{}`", s.name), &s.command));
    let instances = cfg.instances.iter().flat_map(|i| {
        (i.notify.commands())
            .map(move |(key, argv)| (format!("instance `{}`: {key}", i.name), argv))
    });
    let groups = cfg.sync_groups.iter().flat_map(|g| {
        (g.notify.commands())
            .map(move |(key, argv)| (format!("sync_group `{}`: {key}", g.name), argv))
    });
    for (what, argv) in tracks.chain(instances).chain(groups) {
        if let Err(e) = runner::resolve(argv) {
            eprintln!(
                "{}: warning: {what}: {e}; `vipd run` refuses it on this host",
                path.display()
            );
        }
    }
    Some(cfg)
}

fn init_logging(level: Option<&str>) -> Result<(), ExitCode> {
    let filter = match level {
        Some(l) => l.to_owned(),
        None => {
            let value = std::env::var_os("RUST_LOG");
            match logging::from_env_value(value.as_deref()) {
                Ok(f) => f,
                Err(e) => {
                    let value = value.unwrap_or_default();
                    eprintln!(
                        "error: invalid value '{}' for RUST_LOG: {e}",
                        value.to_string_lossy()
                    );
                    return Err(ExitCode::from(2));
                }
            }
        }
    };
    if let Err(e) = logging::init(&filter) {
        // Not fatal: the agent does its job without logs.
        eprintln!("{e}");
    }
    Ok(())
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn run(path: &Path, level: Option<&str>) -> ExitCode {
    if let Err(code) = init_logging(level) {
        return code;
    }
    let Some(cfg) = load(path) else {
        return ExitCode::from(1);
    };
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

fn reload(socket: &Path, json: bool) -> ExitCode {
    let result = runtime()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(control::reload(socket)));
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if json {
        match serde_json::to_string_pretty(&outcome) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("cannot print the outcome: {e}"),
        }
    } else if outcome.applied {
        print!("{}", control::render_reload(&outcome));
    } else {
        eprint!("{}", control::render_reload(&outcome));
    }
    if outcome.applied {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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

/// Exit 0 when the agent ends the stream (it stops), 1 when it cannot be reached or refuses
/// or cuts off this subscriber.
fn follow_events(socket: &Path, json: bool) -> ExitCode {
    let result = runtime()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(events::follow(socket, json)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

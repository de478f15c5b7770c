//! The `vipd` command line: `run`, `check`, `plan`, `status`, `reload`, `events`,
//! `import-keepalived`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use vipd::agent::{self, control, events, logging, runner};
use vipd::cli::{Cli, Command};
use vipd::config::{self, fleet};
use vipd::import::{self, RealFiles};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, log_level } => run(&config, log_level.as_deref()),
        Command::Check { config } => check(&config),
        Command::Plan { config, fail, json } => plan(&config, fail.as_deref(), json),
        Command::Status { socket, json } => status(&socket, json),
        Command::Events { socket, json } => follow_events(&socket, json),
        Command::Reload { socket, json } => reload(&socket, json),
        Command::ImportKeepalived {
            file,
            output,
            config_id,
        } => import_keepalived(&file, output.as_deref(), config_id),
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

/// keepalived's default config id: the host name up to its first dot.
fn host_config_id() -> Option<String> {
    let name = config::host_name()?;
    let short = name.split('.').next().unwrap_or_default();
    (!short.is_empty()).then(|| short.to_owned())
}

/// Exit 0 with the file written (stdout or `output`), 1 when nothing could be produced.
fn import_keepalived(file: &Path, output: Option<&Path>, config_id: Option<String>) -> ExitCode {
    let options = import::Options {
        config_id: config_id.or_else(host_config_id),
        output_name: output.map(Path::to_path_buf),
        ..import::Options::default()
    };
    let result = import::import(file, &RealFiles, &options);
    let notes = match &result {
        Ok(imported) => &imported.notes,
        Err(failed) => &failed.notes,
    };
    for n in notes {
        eprintln!("{n}");
    }
    let imported = match result {
        Ok(imported) => imported,
        Err(failed) => {
            for p in &failed.problems {
                eprintln!("{p}");
            }
            eprintln!("{}: nothing written", file.display());
            return ExitCode::from(1);
        }
    };
    if let Some(path) = output.filter(|p| is_one_of(p, &imported.sources)) {
        eprintln!(
            "{}: is one of the keepalived files read; nothing written",
            path.display()
        );
        return ExitCode::from(1);
    }
    let written = match output {
        None => {
            print!("{}", imported.toml);
            Ok(())
        }
        Some(path) => write_new(path, &imported.toml),
    };
    if let Err(e) = written {
        eprintln!(
            "{}: cannot write: {e}",
            output.map_or("stdout".into(), |p| p.display().to_string())
        );
        return ExitCode::from(1);
    }
    let not_carried = notes_of(&imported.notes, import::NoteKind::NotCarried);
    let remarks = notes_of(&imported.notes, import::NoteKind::Note);
    eprintln!(
        "{}: imported {}{}; {not_carried} not carried, {remarks} note(s)",
        file.display(),
        import_summary(&imported.config),
        output.map_or(String::new(), |p| format!("; written to {}", p.display())),
    );
    ExitCode::SUCCESS
}

/// `2 instances (web, db), 1 track script (chk)`: counts, and at most five names of each.
fn import_summary(c: &config::Config) -> String {
    let part = |n: usize, what: &str, names: Vec<&str>| {
        let shown: Vec<&str> = names.iter().take(5).copied().collect();
        let more = names.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let plural = if n == 1 { "" } else { "s" };
        format!("{n} {what}{plural} ({}{more})", shown.join(", "))
    };
    let mut parts = vec![part(
        c.instances.len(),
        "instance",
        c.instances.iter().map(|i| i.name.as_str()).collect(),
    )];
    for (n, what, names) in [
        (
            c.track_scripts.len(),
            "track script",
            c.track_scripts
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            c.track_files.len(),
            "track file",
            c.track_files.iter().map(|t| t.name.as_str()).collect(),
        ),
        (
            c.sync_groups.len(),
            "sync group",
            c.sync_groups.iter().map(|g| g.name.as_str()).collect(),
        ),
    ] {
        if n > 0 {
            parts.push(part(n, what, names));
        }
    }
    parts.join(", ")
}

fn notes_of(notes: &[import::Note], kind: import::NoteKind) -> usize {
    notes.iter().filter(|n| n.kind == kind).count()
}

/// Whether `path` is the same file as one of `files`.
fn is_one_of(path: &Path, files: &[std::path::PathBuf]) -> bool {
    let Ok(path) = std::fs::canonicalize(path) else {
        return false;
    };
    files
        .iter()
        .any(|f| std::fs::canonicalize(f).is_ok_and(|f| f == path))
}

/// Writes `text` to `path`; a file that does not exist yet is created with mode 0600.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

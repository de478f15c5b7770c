//! Carries out the checks the node asks for ([`crate::protocol::node::Output::Check`]):
//! scripts run through the runner (no shell, no capabilities, killed with their process
//! group at the timeout), track files read (bounded), processes looked up in /proc. Each
//! check runs off the event loop and answers through a channel, so nothing here can delay
//! an advert.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::agent::procs;
use crate::agent::runner::{self, Command, Identity, Outcome, Report};
use crate::config::{Config, TrackTarget};
use crate::protocol::node::{self, TrackId};
use crate::protocol::track::CheckResult;

/// A track file is a number: more than this many bytes is not one.
const MAX_FILE_BYTES: u64 = 64;

/// What one tracker checks, resolved at start.
enum Check {
    Script {
        name: String,
        command: Arc<Command>,
        timeout: Duration,
    },
    File {
        path: PathBuf,
    },
    Process {
        name: String,
    },
    /// Interfaces are the node's own business (netlink reports them).
    None,
}

/// A finished check, for the event loop.
pub struct Done {
    pub track: TrackId,
    pub result: CheckResult,
}

pub struct Checks {
    checks: Vec<Check>,
    identity: Arc<Identity>,
    done: mpsc::UnboundedSender<Done>,
    /// The last check of each tracker could not start: said once, not every interval.
    not_started: Vec<bool>,
}

impl Checks {
    /// Resolve every command now: a command that does not exist, is not executable or can
    /// be changed by someone other than root or its owner stops `vipd run` here, and so
    /// does a process that cannot run commands without its capabilities. `order` lists the
    /// tracked objects in the node's order (`node::tracked_objects`).
    pub fn new(
        config: &Config,
        order: &[TrackTarget],
        identity: Arc<Identity>,
        done: mpsc::UnboundedSender<Done>,
    ) -> Result<Checks, String> {
        let mut checks = Vec::new();
        for target in order {
            checks.push(match target {
                TrackTarget::Script(name) => {
                    let script = config
                        .track_scripts
                        .iter()
                        .find(|s| &s.name == name)
                        .ok_or_else(|| format!("track_script `{name}` is not defined"))?;
                    let command = runner::resolve(&script.command)
                        .and_then(|c| c.usable_by(&identity).map(|()| c))
                        .map_err(|e| format!("track_script `{name}`: {e}"))?;
                    Check::Script {
                        name: name.clone(),
                        command: Arc::new(command),
                        timeout: script.timeout,
                    }
                }
                TrackTarget::File(name) => {
                    let file = config
                        .track_files
                        .iter()
                        .find(|f| &f.name == name)
                        .ok_or_else(|| format!("track_file `{name}` is not defined"))?;
                    Check::File {
                        path: file.path.clone(),
                    }
                }
                TrackTarget::Process(name) => Check::Process { name: name.clone() },
                TrackTarget::Interface(_) => Check::None,
            });
        }
        if checks.iter().any(|c| matches!(c, Check::Script { .. })) {
            runner::can_drop_privileges(&identity)?;
        }
        Ok(Checks {
            not_started: vec![false; checks.len()],
            checks,
            identity,
            done,
        })
    }

    /// The same for another configuration (a reload), answering on the same channel.
    pub fn rebuild(
        &self,
        config: &Config,
        order: &[TrackTarget],
        identity: Arc<Identity>,
    ) -> Result<Checks, String> {
        Checks::new(config, order, identity, self.done.clone())
    }

    /// Move each check to its tracker's slot in the node (`slots`: by position in `order`).
    pub fn place(&mut self, slots: &[TrackId]) {
        let checks = std::mem::take(&mut self.checks);
        self.checks = node::place(checks, slots, || Check::None);
        self.not_started = vec![false; self.checks.len()];
    }

    /// Start the check of `track`; its result arrives through the channel.
    pub fn start(&mut self, track: TrackId) {
        let Some(check) = self.checks.get(track) else {
            return;
        };
        let done = self.done.clone();
        match check {
            Check::Script {
                name,
                command,
                timeout,
            } => {
                let (name, command, timeout) = (name.clone(), command.clone(), *timeout);
                let identity = self.identity.clone();
                tokio::spawn(async move {
                    let report = runner::run(&command, &identity, &[], &[], timeout).await;
                    log_report(&name, &report);
                    let result = script_result(&report);
                    let _ = done.send(Done { track, result });
                });
            }
            Check::File { path } => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    let result = read_track_file(&path);
                    let _ = done.send(Done { track, result });
                });
            }
            Check::Process { name } => {
                let name = name.clone();
                tokio::task::spawn_blocking(move || {
                    let running = procs::running(std::slice::from_ref(&name));
                    let result = if running.contains(&name) {
                        CheckResult::Passed
                    } else {
                        CheckResult::Failed {
                            reason: format!("no process named {name}"),
                        }
                    };
                    let _ = done.send(Done { track, result });
                });
            }
            Check::None => {}
        }
    }

    /// A tracker that cannot run is logged when it starts failing that way, not every time.
    pub fn note(&mut self, done: &Done, name: &str) {
        let Some(flag) = self.not_started.get_mut(done.track) else {
            return;
        };
        let now = matches!(&done.result, CheckResult::Failed { reason } if reason.starts_with(NOT_STARTED));
        if now && !*flag {
            tracing::warn!(track = %name, result = ?done.result, "check cannot run; it counts as failed until it can");
        }
        *flag = now;
    }
}

/// How a check that never ran is worded, so [`Checks::note`] can tell it apart.
const NOT_STARTED: &str = "could not start";

fn script_result(report: &Report) -> CheckResult {
    let reason = match &report.outcome {
        Outcome::Exited(0) => return CheckResult::Passed,
        Outcome::Exited(code) => format!("exit status {code}"),
        Outcome::Signalled(signal) => format!("killed by signal {signal}"),
        Outcome::TimedOut => format!("timed out after {:?}; killed", report.duration),
        Outcome::NotStarted(why) => format!("{NOT_STARTED}: {why}"),
    };
    CheckResult::Failed { reason }
}

fn log_report(name: &str, report: &Report) {
    tracing::debug!(track = %name, outcome = ?report.outcome, duration = ?report.duration,
        output = %report.output, "check ran");
}

/// A track file holds an integer; a missing or empty file is 0. Read without blocking (a
/// FIFO must not hang the reader) and at most a few bytes.
fn read_track_file(path: &std::path::Path) -> CheckResult {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return CheckResult::Value { value: 0 };
        }
        Err(e) => {
            return CheckResult::Failed {
                reason: format!("cannot read {}: {e}", path.display()),
            };
        }
    };
    let mut text = String::new();
    if let Err(e) = (&mut file).take(MAX_FILE_BYTES).read_to_string(&mut text) {
        return CheckResult::Failed {
            reason: format!("cannot read {}: {e}", path.display()),
        };
    }
    parse_track_value(&text).map_or_else(
        |reason| CheckResult::Failed { reason },
        |value| CheckResult::Value { value },
    )
}

fn parse_track_value(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| format!("`{text}` is not an integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_values() {
        assert_eq!(parse_track_value(""), Ok(0));
        assert_eq!(parse_track_value(" 12\n"), Ok(12));
        assert_eq!(parse_track_value("-3"), Ok(-3));
        assert!(parse_track_value("1.5").is_err());
        assert!(parse_track_value("x").is_err());
    }

    #[test]
    fn track_files_read_missing_empty_and_bounded() {
        let dir = std::env::temp_dir().join(format!("vipd-checks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("value");
        assert_eq!(read_track_file(&file), CheckResult::Value { value: 0 });
        std::fs::write(&file, "").expect("write");
        assert_eq!(read_track_file(&file), CheckResult::Value { value: 0 });
        std::fs::write(&file, "7\n").expect("write");
        assert_eq!(read_track_file(&file), CheckResult::Value { value: 7 });
        std::fs::write(&file, "9".repeat(1000)).expect("write");
        assert!(matches!(read_track_file(&file), CheckResult::Failed { .. }));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Reload (`vipd reload`, SIGHUP): read and check the whole new file first, and resolve
//! every command it names and the control socket it asks for; on any problem nothing
//! changes. Then the node applies it as a difference by instance name (see
//! `protocol::node::reload`), and this side follows the node's slots: records, sockets,
//! checks, notify commands, the control socket.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio::task::JoinHandle;

use super::Agent;
use crate::agent::checks::Checks;
use crate::agent::control::{self, ReloadOutcome, Requests};
use crate::agent::events::EventHub;
use crate::agent::lock::{self, Locks};
use crate::agent::metrics_server::{self, MetricsServer};
use crate::agent::notify::Notifier;
use crate::agent::runner;
use crate::config::{self, Config, Global};
use crate::protocol::node::{self, Event, Input, InstanceChange, InstanceReload, ReloadSummary};

/// The control socket and the metrics server as served now, and the locks that make this
/// agent the only one.
pub(super) struct Control {
    locks: Locks,
    requests: Requests,
    hub: EventHub,
    path: PathBuf,
    task: Option<JoinHandle<()>>,
    metrics: Option<MetricsServer>,
}

impl Control {
    pub(super) fn new(
        locks: Locks,
        requests: Requests,
        hub: EventHub,
        metrics: Option<MetricsServer>,
    ) -> Control {
        Control {
            locks,
            requests,
            hub,
            path: PathBuf::new(),
            task: None,
            metrics,
        }
    }

    /// `http://127.0.0.1:9650/metrics`, or `off`.
    pub(super) fn metrics_url(&self) -> String {
        self.metrics.as_ref().map_or("off".to_owned(), |m| {
            format!("http://{}{}", m.address(), metrics_server::PATH)
        })
    }

    pub(super) async fn stop_metrics(&mut self) {
        if let Some(metrics) = self.metrics.take() {
            metrics.stop().await;
        }
    }

    /// Serve metrics at `wanted` (`None`: not at all); the old server goes once the new one
    /// listens. Checked by [`Control::metrics_available`] first.
    async fn move_metrics(&mut self, wanted: Option<SocketAddr>) -> Result<(), String> {
        let current = self.metrics.take();
        let (server, result) = metrics_server::reconfigure(
            current,
            wanted,
            &self.requests.status,
            metrics_server::Limits::DEFAULT,
        )
        .await;
        self.metrics = server;
        result
    }

    /// Whether `wanted` can be served: bound for a moment, unless it is where the server is
    /// now or only our own server holds its port (the move then stops it first).
    fn metrics_available(&self, wanted: Option<SocketAddr>) -> Result<(), String> {
        let Some(address) = wanted else {
            return Ok(());
        };
        let current = self.metrics.as_ref().map(MetricsServer::address);
        if current == Some(address) || current.is_some_and(|c| c.port() == address.port()) {
            return Ok(());
        }
        metrics_server::bind(address).map(drop)
    }

    pub(super) fn hub(&self) -> &EventHub {
        &self.hub
    }

    /// Serve `listener`, bound at `path`, instead of the socket served so far (whose file
    /// goes). Clients already accepted on the old one are still answered.
    pub(super) fn serve(&mut self, listener: UnixListener, path: &Path) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if !self.path.as_os_str().is_empty() && self.path != path {
            let _ = std::fs::remove_file(&self.path);
        }
        self.path = path.to_owned();
        self.task = Some(control::serve(
            listener,
            self.requests.clone(),
            self.hub.clone(),
        ));
    }
}

/// What a reload puts in place when the node answers with its slots.
pub(super) enum Pending {
    Waiting(Box<Prepared>),
    /// Applied: each instance's fate, as the agent counts it.
    Applied(Vec<InstanceReload>),
}

/// Everything of the new configuration that could fail, done before anything changes.
pub(super) struct Prepared {
    config: Config,
    checks: Checks,
    notifier: Notifier,
    /// A new control socket: its lock and its listener.
    socket: Option<(File, UnixListener)>,
}

impl Agent {
    /// Reload from `path`, and say so to systemd, the log and the caller.
    pub(super) async fn reload(&mut self, path: &Path, via: &str) -> ReloadOutcome {
        self.tell_systemd(&format!("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
        let outcome = self.try_reload(path).await;
        if outcome.applied {
            tracing::info!(%via, config = %outcome.config, summary = %outcome.counts(), "reload applied");
        } else {
            for e in &outcome.errors {
                tracing::error!(%via, "{e}");
            }
            tracing::warn!(%via, config = %outcome.config, errors = outcome.errors.len(),
                "reload refused: the running configuration is unchanged");
        }
        self.tell_systemd("READY=1");
        self.tell_systemd(&self.status_line());
        outcome
    }

    async fn try_reload(&mut self, path: &Path) -> ReloadOutcome {
        let mut outcome = ReloadOutcome {
            config: path.display().to_string(),
            ..ReloadOutcome::default()
        };
        let prepared = match config::load(path) {
            Ok(config) => match self.check_vmac_names(&config).await {
                Ok(()) => self.prepare(config),
                Err(errors) => Err(errors.lines().map(str::to_owned).collect()),
            },
            Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
        };
        let mut prepared = match prepared {
            Ok(p) => p,
            Err(errors) => {
                outcome.errors = errors;
                return outcome;
            }
        };
        outcome.global = global_changes(&self.config.global, &prepared.config.global);
        let spec = node::Spec::from(&prepared.config);
        let new_socket = prepared.socket.take();
        let global = prepared.config.global.clone();
        let group_changed = global.control_group != self.config.global.control_group;
        let metrics_changed = global.metrics_listen != self.config.global.metrics_listen;
        self.pending = Some(Pending::Waiting(Box::new(prepared)));
        // New interfaces are read (and their sockets opened) before the node needs them,
        // so a new instance joins its election at once rather than after a FAULT.
        for name in spec.interfaces() {
            if !self.interfaces.contains_key(&name) {
                self.interfaces.insert(name.clone(), None);
                match self.netlink.interface(&name).await {
                    Ok(state) => self.apply(&name, state).await,
                    Err(e) => {
                        tracing::warn!(interface = %name, error = %e, "cannot read interface")
                    }
                }
            }
        }
        let now = self.now();
        self.node.handle(now, Input::Reload { spec });
        self.drain().await;
        let watched = self.node.watched_interfaces();
        self.interfaces.retain(|name, _| watched.contains(name));
        match new_socket {
            Some((lock, listener)) => {
                self.control.locks.replace_socket(lock);
                self.control.serve(listener, &global.control_socket);
            }
            // Same socket, another group: only its group and mode change.
            None if group_changed => {
                if let Err(e) =
                    control::grant(&global.control_socket, global.control_group.as_deref())
                {
                    tracing::error!(error = %e, "cannot change who may use the control socket");
                }
            }
            None => {}
        }
        if metrics_changed && let Err(e) = self.control.move_metrics(global.metrics_listen).await {
            tracing::error!(error = %e, "metrics: the new global.metrics_listen is not served");
            outcome.errors.push(e);
        }
        if let Some(Pending::Applied(instances)) = self.pending.take() {
            outcome.instances = instances;
        }
        outcome.applied = true;
        outcome
    }

    /// Check and resolve what the new configuration needs beyond the file itself: its
    /// commands (under its script user) and its control socket. Every problem is reported.
    fn prepare(&self, config: Config) -> Result<Prepared, Vec<String>> {
        let mut errors = Vec::new();
        let identity = runner::identity(config.global.script_user.as_deref())
            .map(Arc::new)
            .map_err(|e| errors.push(e))
            .ok();
        let (checks, notifier) = match identity {
            Some(identity) => {
                let order = node::tracked_objects(&config);
                let checks = self.checks.rebuild(&config, &order, identity.clone());
                let notifier = self.notifier.rebuild(&config, identity);
                (
                    checks.map_err(|e| errors.push(e)).ok(),
                    notifier.map_err(|e| errors.push(e)).ok(),
                )
            }
            None => (None, None),
        };
        if config.global.metrics_listen != self.config.global.metrics_listen
            && let Err(e) = self.control.metrics_available(config.global.metrics_listen)
        {
            errors.push(e);
        }
        let path = &config.global.control_socket;
        let socket = if *path != self.config.global.control_socket {
            lock::lock_socket(path)
                .and_then(|lock| {
                    control::bind(path, config.global.control_group.as_deref())
                        .map(|listener| (lock, listener))
                })
                .map_err(|e| errors.push(e))
                .ok()
        } else {
            None
        };
        match (checks, notifier) {
            (Some(checks), Some(notifier)) if errors.is_empty() => Ok(Prepared {
                config,
                checks,
                notifier,
                socket,
            }),
            _ => {
                if socket.is_some() {
                    // Bound for nothing: the file must not outlive the refusal.
                    let _ = std::fs::remove_file(path);
                }
                Err(errors)
            }
        }
    }

    /// The node applied the reload and says where everything lives now: follow it. Called
    /// from `drain`, after the removed instances' last outputs and before the new ones'.
    pub(super) fn on_reloaded(&mut self, summary: ReloadSummary) {
        let Some(Pending::Waiting(prepared)) = self.pending.take() else {
            return;
        };
        let Prepared {
            config,
            mut checks,
            notifier,
            ..
        } = *prepared;
        let mut instances = summary.instances;
        for change in &mut instances {
            // Settings only the agent uses (authentication, peers, notify commands) do not
            // reach the node: compare the whole instance configuration.
            if change.change == InstanceChange::Kept {
                let old = self.config.instances.iter().find(|i| i.name == change.name);
                let new = config.instances.iter().find(|i| i.name == change.name);
                if old != new {
                    change.change = InstanceChange::Changed;
                }
            }
        }
        self.config = config;
        self.place(&summary.slots);
        checks.place(&summary.slots.tracks);
        self.checks = checks;
        self.notifier.adopt(notifier, &summary.slots);
        self.log_event(Event::Reload {
            instances: instances.clone(),
        });
        self.pending = Some(Pending::Applied(instances));
    }
}

/// The global settings that differ, as `key: old -> new`.
fn global_changes(old: &Global, new: &Global) -> Vec<String> {
    let mut changes = Vec::new();
    let mut note = |key: &str, a: String, b: String| {
        if a != b {
            changes.push(format!("{key}: {a} -> {b}"));
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
    note("router_id", old.router_id.clone(), new.router_id.clone());
    note(
        "control_socket",
        old.control_socket.display().to_string(),
        new.control_socket.display().to_string(),
    );
    note(
        "control_group",
        opt(&old.control_group),
        opt(&new.control_group),
    );
    note("script_user", opt(&old.script_user), opt(&new.script_user));
    let addr = |a: &Option<SocketAddr>| a.map_or("(none)".to_owned(), |a| a.to_string());
    note(
        "metrics_listen",
        addr(&old.metrics_listen),
        addr(&new.metrics_listen),
    );
    note(
        "notify_timeout",
        format!("{:?}", old.notify_timeout),
        format!("{:?}", new.notify_timeout),
    );
    changes
}

/// CLOCK_MONOTONIC in microseconds, as systemd wants it with `RELOADING=1`.
fn monotonic_usec() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).map_or(0, |t| {
        (t.tv_sec() as u64) * 1_000_000 + (t.tv_nsec() as u64) / 1_000
    })
}

//! Notify commands: what an operator runs when an instance or a sync group changes state
//! (keepalived's notify, notify_master, ...). Each instance and each group has its own
//! queue: its commands run one at a time, in the order of the changes, never two at once
//! and never lost while the queue has room; none ever delays the protocol (they run beside
//! the event loop). A command still running at `notify_timeout` is killed with its process
//! group.
//!
//! The queue holds at most [`QUEUE_LIMIT`] changes waiting. When a burst overflows it, the
//! oldest waiting change is dropped and counted: the newest state is what a script must
//! see last.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::agent::runner::{self, Command, Identity, Outcome};
use crate::config::{Config, Notify};
use crate::protocol::fsm::{Reason, State};
use crate::protocol::node::{self, Slots, Target};

/// Changes waiting per instance or group, besides the one running.
pub const QUEUE_LIMIT: usize = 16;

/// One state change to tell a target's commands about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub from: State,
    pub to: State,
    pub reason: Reason,
    pub priority: u8,
}

/// The commands of one instance or group, resolved at start.
struct Commands {
    kind: &'static str,
    name: String,
    /// `VIPD_VIRTUAL_ADDRESSES`: `addr/prefix`, space separated.
    addresses: String,
    any: Option<Arc<Command>>,
    master: Option<Arc<Command>>,
    backup: Option<Arc<Command>>,
    fault: Option<Arc<Command>>,
    stop: Option<Arc<Command>>,
}

impl Commands {
    fn resolve(
        kind: &'static str,
        name: &str,
        addresses: String,
        notify: &Notify,
        identity: &Identity,
    ) -> Result<Commands, String> {
        let one = |argv: &Option<Vec<String>>, key: &str| {
            argv.as_ref()
                .map(|argv| {
                    runner::resolve(argv)
                        .and_then(|c| c.usable_by(identity).map(|()| Arc::new(c)))
                        .map_err(|e| format!("{kind} `{name}`: {key}: {e}"))
                })
                .transpose()
        };
        Ok(Commands {
            kind,
            name: name.to_owned(),
            addresses,
            any: one(&notify.any, "notify")?,
            master: one(&notify.master, "notify_master")?,
            backup: one(&notify.backup, "notify_backup")?,
            fault: one(&notify.fault, "notify_fault")?,
            stop: one(&notify.stop, "notify_stop")?,
        })
    }

    fn is_empty(&self) -> bool {
        [
            &self.any,
            &self.master,
            &self.backup,
            &self.fault,
            &self.stop,
        ]
        .iter()
        .all(|c| c.is_none())
    }

    /// What runs for `change`, in order: the per-state command, then `notify` with
    /// keepalived's positional arguments.
    fn for_change(&self, change: &StateChange) -> Vec<(Arc<Command>, Vec<String>)> {
        let per_state = match change.to {
            State::Master => &self.master,
            State::Backup => &self.backup,
            State::Fault => &self.fault,
            State::Init => &self.stop,
        };
        let mut runs: Vec<(Arc<Command>, Vec<String>)> = Vec::new();
        if let Some(c) = per_state {
            runs.push((c.clone(), Vec::new()));
        }
        if let Some(c) = &self.any {
            let kind = if self.kind == "group" {
                "GROUP"
            } else {
                "INSTANCE"
            };
            let args = vec![
                kind.to_owned(),
                self.name.clone(),
                keepalived_state(change.to).to_owned(),
                change.priority.to_string(),
            ];
            runs.push((c.clone(), args));
        }
        runs
    }

    fn env(&self, change: &StateChange) -> Vec<(String, String)> {
        [
            ("VIPD_KIND", self.kind.to_owned()),
            ("VIPD_NAME", self.name.clone()),
            ("VIPD_STATE", state_word(change.to).to_owned()),
            // Coming from init is the start, not a stop.
            ("VIPD_FROM", change.from.name().to_owned()),
            ("VIPD_REASON", change.reason.name().to_owned()),
            ("VIPD_PRIORITY", change.priority.to_string()),
            ("VIPD_VIRTUAL_ADDRESSES", self.addresses.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// keepalived's word for a state, as its notify scripts expect it.
fn keepalived_state(state: State) -> &'static str {
    match state {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        State::Init => "STOP",
    }
}

/// The state as status JSON spells it; the instance leaving (init after running) is `stop`.
fn state_word(state: State) -> &'static str {
    match state {
        State::Init => "stop",
        other => other.name(),
    }
}

/// One target's changes: the ordering and overflow rules, apart from running anything.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<StateChange>,
    running: bool,
    dropped: u64,
}

impl Queue {
    /// Take in a change; the change to start now, if any.
    fn push(&mut self, change: StateChange) -> Option<StateChange> {
        if self.waiting.len() >= QUEUE_LIMIT {
            self.waiting.pop_front();
            self.dropped += 1;
        }
        self.waiting.push_back(change);
        self.next()
    }

    /// The running change finished; the next one to start, if any.
    fn finished(&mut self) -> Option<StateChange> {
        self.running = false;
        self.next()
    }

    fn next(&mut self) -> Option<StateChange> {
        if self.running {
            return None;
        }
        let change = self.waiting.pop_front()?;
        self.running = true;
        Some(change)
    }
}

/// Put `item` at `index`, growing `v` with `None`s as needed.
fn set<T>(v: &mut Vec<Option<T>>, index: usize, item: Option<T>) {
    if v.len() <= index {
        v.resize_with(index + 1, || None);
    }
    v[index] = item;
}

/// A target's commands finished one change.
pub struct Finished(pub Target);

pub struct Notifier {
    /// By the node's instance and group ids (`None`: no such slot, or a retired one).
    instances: Vec<Option<Commands>>,
    groups: Vec<Option<Commands>>,
    queues: HashMap<Target, Queue>,
    identity: Arc<Identity>,
    timeout: Duration,
    finished: mpsc::UnboundedSender<Finished>,
}

impl Notifier {
    /// Resolve every notify command now: one that does not exist, is not executable or
    /// could be changed by others stops `vipd run` here.
    pub fn new(
        config: &Config,
        identity: Arc<Identity>,
        finished: mpsc::UnboundedSender<Finished>,
    ) -> Result<Notifier, String> {
        let addresses = |names: &[&str]| {
            config
                .instances
                .iter()
                .filter(|i| names.contains(&i.name.as_str()))
                .flat_map(|i| i.virtual_addresses.iter().map(|v| v.to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let instances = config
            .instances
            .iter()
            .map(|i| {
                let addrs = addresses(&[i.name.as_str()]);
                Commands::resolve("instance", &i.name, addrs, &i.notify, &identity).map(Some)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let groups = config
            .sync_groups
            .iter()
            .map(|g| {
                let members: Vec<&str> = g.instances.iter().map(String::as_str).collect();
                Commands::resolve("group", &g.name, addresses(&members), &g.notify, &identity)
                    .map(Some)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let notifier = Notifier {
            instances,
            groups,
            queues: Default::default(),
            identity,
            timeout: config.global.notify_timeout,
            finished,
        };
        if !notifier.all().all(Commands::is_empty) {
            runner::can_drop_privileges(&notifier.identity)?;
        }
        Ok(notifier)
    }

    fn all(&self) -> impl Iterator<Item = &Commands> {
        self.instances.iter().chain(&self.groups).flatten()
    }

    fn commands(&self, target: Target) -> Option<&Commands> {
        match target {
            Target::Instance(i) => self.instances.get(i)?.as_ref(),
            Target::Group(g) => self.groups.get(g)?.as_ref(),
        }
    }

    /// The same for another configuration (a reload), reporting on the same channel.
    pub fn rebuild(&self, config: &Config, identity: Arc<Identity>) -> Result<Notifier, String> {
        Notifier::new(config, identity, self.finished.clone())
    }

    /// Take over `fresh`'s commands, moved to the node's slots, keeping the queues: what
    /// waits runs with the new commands, in order. A retired slot keeps its old commands
    /// while changes of its own still wait (its STOP notification).
    pub fn adopt(&mut self, fresh: Notifier, slots: &Slots) {
        let mut instances = node::place(fresh.instances, &slots.instances, || None);
        let mut groups = node::place(fresh.groups, &slots.groups, || None);
        let old_instances = std::mem::take(&mut self.instances);
        let old_groups = std::mem::take(&mut self.groups);
        let keep = |queues: &HashMap<Target, Queue>, target: Target| {
            queues
                .get(&target)
                .is_some_and(|q| q.running || !q.waiting.is_empty())
        };
        for (i, old) in old_instances.into_iter().enumerate() {
            if !slots.instances.contains(&i) && keep(&self.queues, Target::Instance(i)) {
                set(&mut instances, i, old);
            }
        }
        for (g, old) in old_groups.into_iter().enumerate() {
            if !slots.groups.contains(&g) && keep(&self.queues, Target::Group(g)) {
                set(&mut groups, g, old);
            }
        }
        self.instances = instances;
        self.groups = groups;
        self.identity = fresh.identity;
        self.timeout = fresh.timeout;
    }

    /// Queue a change for `target`; it runs now if nothing of the target's is running.
    pub fn push(&mut self, target: Target, change: StateChange) {
        if self.commands(target).is_none_or(Commands::is_empty) {
            return;
        }
        let queue = self.queues.entry(target).or_default();
        let dropped = queue.dropped;
        let start = queue.push(change);
        if queue.dropped > dropped {
            tracing::warn!(
                ?target,
                dropped = queue.dropped,
                "notify queue full: the oldest waiting change is dropped"
            );
        }
        if let Some(change) = start {
            self.run(target, change);
        }
    }

    /// The target's last change finished: the next one runs.
    pub fn finished(&mut self, target: Target) {
        let next = self.queues.get_mut(&target).and_then(Queue::finished);
        if let Some(change) = next {
            self.run(target, change);
        }
    }

    /// Whether commands are running or waiting (at shutdown: the STOP notifications).
    pub fn busy(&self) -> bool {
        self.queues
            .values()
            .any(|q| q.running || !q.waiting.is_empty())
    }

    /// (waiting, dropped) of a target, for status.
    pub fn queue_stats(&self, target: Target) -> (usize, u64) {
        self.queues
            .get(&target)
            .map_or((0, 0), |q| (q.waiting.len(), q.dropped))
    }

    fn run(&self, target: Target, change: StateChange) {
        let Some(commands) = self.commands(target) else {
            // Gone with a reload: the queue moves on.
            let _ = self.finished.send(Finished(target));
            return;
        };
        let runs = commands.for_change(&change);
        let env = commands.env(&change);
        let (kind, name) = (commands.kind, commands.name.clone());
        let identity = self.identity.clone();
        let timeout = self.timeout;
        let finished = self.finished.clone();
        tokio::spawn(async move {
            for (command, args) in runs {
                let report = runner::run(&command, &identity, &args, &env, timeout).await;
                let state = state_word(change.to);
                match &report.outcome {
                    Outcome::Exited(0) => {
                        tracing::info!(%kind, %name, %state, command = %command, duration = ?report.duration, "notify ran")
                    }
                    outcome => {
                        tracing::warn!(%kind, %name, %state, command = %command, duration = ?report.duration, ?outcome, output = %report.output, "notify failed")
                    }
                }
                tracing::debug!(%name, output = %report.output, "notify output");
            }
            let _ = finished.send(Finished(target));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn change(to: State) -> StateChange {
        StateChange {
            from: State::Backup,
            to,
            reason: Reason::MasterDownTimer,
            priority: 100,
        }
    }

    #[test]
    fn one_at_a_time_in_order() {
        let mut q = Queue::default();
        assert_eq!(q.push(change(State::Master)), Some(change(State::Master)));
        assert_eq!(q.push(change(State::Backup)), None, "one is running");
        assert_eq!(q.push(change(State::Fault)), None);
        assert_eq!(q.finished(), Some(change(State::Backup)));
        assert_eq!(q.finished(), Some(change(State::Fault)));
        assert_eq!(q.finished(), None);
        assert_eq!(q.push(change(State::Init)), Some(change(State::Init)));
        assert_eq!(q.dropped, 0);
    }

    #[test]
    fn a_burst_past_the_limit_drops_the_oldest_waiting_and_keeps_the_newest() {
        let mut q = Queue::default();
        assert!(q.push(change(State::Master)).is_some());
        for n in 0..QUEUE_LIMIT + 3 {
            let mut c = change(State::Backup);
            c.priority = n as u8;
            assert_eq!(q.push(c), None);
        }
        assert_eq!(q.dropped, 3);
        assert_eq!(q.waiting.len(), QUEUE_LIMIT);
        let mut seen = Vec::new();
        while let Some(c) = q.finished() {
            seen.push(c.priority);
        }
        let want: Vec<u8> = (3..QUEUE_LIMIT as u8 + 3).collect();
        assert_eq!(
            seen, want,
            "in order, the oldest three dropped, the newest kept"
        );
    }

    #[test]
    fn keepalived_words_and_status_words() {
        assert_eq!(keepalived_state(State::Init), "STOP");
        assert_eq!(keepalived_state(State::Master), "MASTER");
        assert_eq!(state_word(State::Init), "stop");
        assert_eq!(state_word(State::Fault), "fault");
    }

    /// A notify command that never exits is killed at notify_timeout, and the next change of
    /// the same instance still runs (as root here, like the CI).
    #[test]
    fn a_hanging_command_is_killed_and_the_next_change_runs() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: runs commands as a dropped-privilege root child");
            return;
        }
        let text = r#"
[global]
router_id = "t"
notify_timeout = "200ms"

[[instance]]
name = "web"
interface = "eth0"
vrid = 51
virtual_addresses = ["10.0.0.50/24"]
notify = ["/bin/sh", "-c", "sleep 100"]
"#;
        let config = crate::config::parse(text, Path::new("t.toml")).expect("valid");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let identity = Arc::new(runner::identity(None).expect("identity"));
            let (tx, mut rx) = mpsc::unbounded_channel();
            let mut notifier = Notifier::new(&config, identity, tx).expect("notifier");
            let target = Target::Instance(0);
            let start = tokio::time::Instant::now();
            notifier.push(target, change(State::Master));
            notifier.push(target, change(State::Backup));
            for n in 1..=2 {
                let done = tokio::time::timeout(Duration::from_secs(3), rx.recv()).await;
                assert!(
                    matches!(done, Ok(Some(Finished(t))) if t == target),
                    "run {n}"
                );
                notifier.finished(target);
            }
            assert!(!notifier.busy());
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(400),
                "two runs of 200 ms: {took:?}"
            );
            assert!(
                took < Duration::from_secs(2),
                "killed at the timeout: {took:?}"
            );
        });
    }
}

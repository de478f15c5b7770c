//! The control socket: a Unix stream socket where `vipd status` asks the running agent for
//! its state (request line `status`: one JSON document out, connection closed), `vipd
//! events` subscribes to its event stream (request line `events`: see [`events`]) and
//! `vipd reload` has it re-read its configuration (request line `reload`).
//!
//! Who may do what: whoever can connect (root, and the members of `global.control_group`)
//! may read status and events; `reload` changes what the agent does, so it is for root and
//! the agent's own user only, checked with the peer's credentials.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::agent::events::{self, EventHub, EventStats};
use crate::protocol::node::{GroupReport, InstanceChange, InstanceReload, TrackReport};
use crate::protocol::throttle::Throttle;
use crate::protocol::track::{CheckResult, Kind};

/// The report `vipd status --json` prints. Field names are part of the interface contract.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub router_id: String,
    pub instances: Vec<InstanceStatus>,
    /// Receive-path drops, per socket (interface and family), by kind.
    pub receive: Vec<ReceiveStatus>,
    /// Every tracked object and its verdict.
    #[serde(default)]
    pub tracks: Vec<TrackReport>,
    #[serde(default)]
    pub sync_groups: Vec<GroupReport>,
    /// The event stream (`vipd events`): subscribers, events published, subscribers cut off.
    #[serde(default)]
    pub events: EventStats,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct InstanceStatus {
    pub name: String,
    pub state: String,
    pub priority: u8,
    pub effective_priority: u8,
    pub vrid: u8,
    pub version: u8,
    pub interface: String,
    pub family: String,
    pub master_address: Option<String>,
    pub virtual_addresses: Vec<String>,
    pub advert_interval_ms: u64,
    pub master_advert_interval_ms: u64,
    pub adverts_received: u64,
    pub adverts_sent: u64,
    pub send_errors: u64,
    /// The last send error while adverts are failing; absent once they go out again.
    pub send_error: Option<String>,
    /// Adverts for this VRID from one of this host's own addresses that vipd did not send:
    /// another VRRP agent (keepalived?) runs the same VRID on this host.
    pub local_source_adverts: u64,
    /// Adverts from another master heard while master (split brains healing).
    #[serde(default)]
    pub master_conflicts: u64,
    /// Changes waiting for this instance's notify commands, and those dropped from a full
    /// queue (the oldest waiting go first).
    #[serde(default)]
    pub notify_waiting: usize,
    #[serde(default)]
    pub notify_dropped: u64,
    /// Why the instance is in FAULT: `interface`, `track:NAME`, `sync_group:NAME`.
    #[serde(default)]
    pub fault_causes: Vec<String>,
    #[serde(default)]
    pub sync_group: Option<String>,
    pub address_list_mismatches: u64,
    pub transitions: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReceiveStatus {
    pub interface: String,
    pub family: String,
    pub received: u64,
    pub drops: BTreeMap<String, u64>,
}

/// A status request travelling from the socket task to the agent's event loop.
pub type StatusRequest = oneshot::Sender<Status>;
/// A reload request, the same way.
pub type ReloadRequest = oneshot::Sender<ReloadOutcome>;

/// Where the socket tasks send what only the event loop can answer.
#[derive(Clone)]
pub struct Requests {
    pub status: mpsc::Sender<StatusRequest>,
    pub reload: mpsc::Sender<ReloadRequest>,
}

/// What `vipd reload` gets back (and SIGHUP logs).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReloadOutcome {
    /// The configuration file read.
    pub config: String,
    /// Whether the new configuration runs now. When not, nothing changed.
    pub applied: bool,
    /// Every problem found; the new configuration is applied only when there is none.
    pub errors: Vec<String>,
    pub instances: Vec<InstanceReload>,
    /// Global settings that changed (control socket, script user, ...).
    pub global: Vec<String>,
}

impl ReloadOutcome {
    pub fn count(&self, change: InstanceChange) -> usize {
        self.instances.iter().filter(|i| i.change == change).count()
    }

    /// `kept 2, changed 1, replaced 0, added 1, removed 1`.
    pub fn counts(&self) -> String {
        [
            ("kept", InstanceChange::Kept),
            ("changed", InstanceChange::Changed),
            ("replaced", InstanceChange::Replaced),
            ("added", InstanceChange::Added),
            ("removed", InstanceChange::Removed),
        ]
        .iter()
        .map(|(word, change)| format!("{word} {}", self.count(*change)))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The text `vipd reload` prints.
pub fn render_reload(outcome: &ReloadOutcome) -> String {
    let mut out = String::new();
    if !outcome.applied {
        for e in &outcome.errors {
            out.push_str(&format!("{e}\n"));
        }
        out.push_str(&format!(
            "{}: {} error(s); not reloaded: the running configuration is unchanged\n",
            outcome.config,
            outcome.errors.len()
        ));
        return out;
    }
    out.push_str(&format!(
        "reloaded {}: {}\n",
        outcome.config,
        outcome.counts()
    ));
    for i in &outcome.instances {
        let word = serde_json::to_value(i.change)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!("  {word:<9}{}\n", i.name));
    }
    for g in &outcome.global {
        out.push_str(&format!("  global   {g}\n"));
    }
    out
}

/// Clients served at once; more are accepted and closed at once, so idle or hostile
/// clients can never use up the agent's descriptors. An event subscriber holds a place only
/// until its request line is read (subscribers have their own limit).
const MAX_CLIENTS: usize = 32;
/// A client has this long to send its request and read the answer (an event subscriber:
/// to send its request).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
/// A reload's answer may take longer: the agent adds and removes addresses first.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a repeating control-socket problem is logged.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// Pause after a failed accept (descriptor exhaustion), doubling up to the maximum, so a
/// persistent failure cannot spin the loop.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What an accept loop (the control socket's, the metrics server's) does when accept fails,
/// as it does while descriptors run out: pause, doubling from 10 ms up to 1 s, and say so at
/// most every 10 s.
pub(crate) struct AcceptBackoff {
    pause: Duration,
    log: Throttle,
}

impl AcceptBackoff {
    pub(crate) fn new() -> AcceptBackoff {
        AcceptBackoff {
            pause: ACCEPT_BACKOFF_MIN,
            log: Throttle::new(WARN_EVERY),
        }
    }

    pub(crate) fn succeeded(&mut self) {
        self.pause = ACCEPT_BACKOFF_MIN;
    }

    /// `what`'s accept failed at `now`: how long to pause before the next.
    pub(crate) fn failed(&mut self, now: Duration, what: &str, e: &io::Error) -> Duration {
        let pause = self.pause;
        if let Some(held) = self.log.pass(now) {
            tracing::warn!(error = %e, retry_in = ?pause, suppressed = held, "{what} accept failed");
        }
        self.pause = (pause * 2).min(ACCEPT_BACKOFF_MAX);
        pause
    }
}

/// Bind the control socket. Only a stale socket (one nobody answers on) is replaced; any
/// other file at the path is an error, and so is a socket another process answers on.
/// Called before the agent touches anything, so a bad path stops it before the election.
/// The socket is for root alone (mode 0600), or for root and `group` (0660).
pub fn bind(path: &Path, group: Option<&str>) -> Result<UnixListener, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{}: {what}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create its directory", &e))?;
    }
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail("cannot inspect the path", &e)),
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(format!(
                "{}: exists and is not a socket; vipd will not replace it (remove it or set \
                 global.control_socket to another path)",
                path.display()
            ));
        }
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(format!(
                    "{}: another process answers on this socket; give each agent its own \
                     global.control_socket",
                    path.display()
                ));
            }
            // Nobody listens: a crashed run left it.
            Err(_) => std::fs::remove_file(path)
                .map_err(|e| fail("cannot remove the stale socket", &e))?,
        },
    }
    let gid = group
        .map(group_id)
        .transpose()
        .map_err(|e| fail("global.control_group", &e))?;
    let listener =
        UnixListener::bind(path).map_err(|e| fail("cannot bind the control socket", &e))?;
    set_access(path, gid)?;
    Ok(listener)
}

/// Who may connect: root alone (mode 0600), or root and the group `group` (0660).
pub fn grant(path: &Path, group: Option<&str>) -> Result<(), String> {
    let gid = group
        .map(group_id)
        .transpose()
        .map_err(|e| format!("{}: global.control_group: {e}", path.display()))?;
    set_access(path, gid)
}

fn set_access(path: &Path, gid: Option<u32>) -> Result<(), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{}: {what}: {e}", path.display());
    let mode = if gid.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| fail("cannot set the socket's permissions", &e))?;
    if let Some(gid) = gid {
        std::os::unix::fs::chown(path, None, Some(gid))
            .map_err(|e| fail("cannot give the socket to global.control_group", &e))?;
    }
    Ok(())
}

/// The id of the group called `name`.
fn group_id(name: &str) -> Result<u32, String> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        Ok(None) => Err(format!("no group called `{name}` on this host")),
        Err(e) => Err(format!("cannot look up group `{name}`: {e}")),
    }
}

/// Serve requests on a bound control socket: `status` and `reload` by asking the event loop
/// through `requests`, `events` by subscribing to `hub`. Aborting the task stops accepting;
/// clients already accepted are still answered.
pub fn serve(listener: UnixListener, requests: Requests, hub: EventHub) -> JoinHandle<()> {
    tokio::spawn(accept_loop(listener, requests, hub))
}

async fn accept_loop(listener: UnixListener, requests: Requests, hub: EventHub) {
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    let epoch = Instant::now();
    let mut refused = Throttle::new(WARN_EVERY);
    let mut backoff = AcceptBackoff::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff.succeeded();
                stream
            }
            Err(e) => {
                let pause = backoff.failed(epoch.elapsed(), "control socket", &e);
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if let Some(held) = refused.pass(epoch.elapsed()) {
                tracing::warn!(
                    limit = MAX_CLIENTS,
                    suppressed = held,
                    "too many control clients at once; closing new connections"
                );
            }
            continue;
        };
        let requests = requests.clone();
        let hub = hub.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + CLIENT_TIMEOUT;
            let mut stream = stream;
            let request = match tokio::time::timeout_at(deadline, read_request(&mut stream)).await {
                Ok(Ok(request)) => request,
                Ok(Err(e)) => return tracing::debug!(error = %e, "control connection failed"),
                Err(_) => return tracing::debug!("control client too slow; closed"),
            };
            if request == "events" {
                // A subscriber stays as long as it reads: it gives its place back once
                // subscribed (subscribers have their own limit).
                return events::serve_subscriber(stream, hub, slot).await;
            }
            let deadline = if request == "reload" {
                tokio::time::Instant::now() + RELOAD_TIMEOUT
            } else {
                deadline
            };
            match tokio::time::timeout_at(deadline, answer(stream, &request, requests)).await {
                Ok(Err(e)) => tracing::debug!(error = %e, "control connection failed"),
                Err(_) => tracing::debug!("control client too slow; closed"),
                Ok(Ok(())) => {}
            }
        });
    }
}

/// The request line, trimmed.
async fn read_request(stream: &mut UnixStream) -> io::Result<String> {
    let mut line = String::new();
    // Bounded: a client cannot make us buffer more than a short command.
    BufReader::new(stream.take(256))
        .read_line(&mut line)
        .await?;
    Ok(line.trim().to_owned())
}

async fn answer(mut stream: UnixStream, request: &str, requests: Requests) -> io::Result<()> {
    let reply = match request {
        "status" => serde_json::to_string(&ask(&requests.status).await?),
        "reload" => match may_reload(&stream) {
            Ok(()) => serde_json::to_string(&ask(&requests.reload).await?),
            Err(refusal) => Ok(serde_json::json!({ "error": refusal }).to_string()),
        },
        other => Ok(serde_json::json!({
            "error": format!("unknown command {other:?}; allowed: status, events, reload")
        })
        .to_string()),
    }
    .map_err(io::Error::other)?;
    stream.write_all(reply.as_bytes()).await?;
    stream.write_all(b"\n").await?;
    stream.shutdown().await
}

/// Hand a request to the event loop and wait for its answer: the one way `vipd status`,
/// `vipd reload` and the metrics reach the agent's state. An error once the loop has
/// stopped answering (the agent is shutting down).
pub async fn ask<T>(to: &mpsc::Sender<oneshot::Sender<T>>) -> io::Result<T> {
    let gone = |_| io::Error::other("agent is shutting down");
    let (tx, rx) = oneshot::channel();
    to.send(tx).await.map_err(gone)?;
    rx.await
        .map_err(|_| io::Error::other("agent is shutting down"))
}

/// Only root and the agent's own user may reload; the group that may read status may not.
fn may_reload(stream: &UnixStream) -> Result<(), String> {
    let uid = stream
        .peer_cred()
        .map_err(|e| format!("cannot read the client's credentials: {e}"))?
        .uid();
    let own = nix::unistd::geteuid().as_raw();
    if uid == 0 || uid == own {
        return Ok(());
    }
    Err(format!(
        "reload is for root (or the agent's own user); uid {uid} may read status and events only"
    ))
}

/// How long `vipd status` waits for the agent's answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Client side: ask the agent at `path` for its status.
pub async fn query(path: &Path) -> Result<Status, String> {
    let reply = request(path, "status", QUERY_TIMEOUT).await?;
    serde_json::from_str(&reply)
        .map_err(|e| format!("{}: unexpected reply from the agent: {e}", path.display()))
}

/// Client side: have the agent at `path` reload its configuration.
pub async fn reload(path: &Path) -> Result<ReloadOutcome, String> {
    let reply = request(path, "reload", RELOAD_TIMEOUT).await?;
    if let Ok(refused) = serde_json::from_str::<Refusal>(&reply) {
        return Err(format!("{}: {}", path.display(), refused.error));
    }
    serde_json::from_str(&reply)
        .map_err(|e| format!("{}: unexpected reply from the agent: {e}", path.display()))
}

/// Send one request line and read the whole answer, within `timeout`.
async fn request(path: &Path, line: &str, timeout: Duration) -> Result<String, String> {
    tokio::time::timeout(timeout, exchange(path, line))
        .await
        .map_err(|_| {
            format!(
                "{}: no answer from the agent within {timeout:?}",
                path.display()
            )
        })?
        .map_err(|e| format!("{}: {e}{}", path.display(), access_hint(&e)))
}

/// What the agent answers to a request it will not carry out.
#[derive(Deserialize)]
struct Refusal {
    error: String,
}

async fn exchange(path: &Path, request: &str) -> io::Result<String> {
    let mut stream = UnixStream::connect(path)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to the agent: {e}")))?;
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(b"\n").await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    Ok(reply)
}

/// What to do about a refused connection.
pub(crate) fn access_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            " (run it as root, or as a member of the group named by global.control_group)"
        }
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            " (is vipd running? the socket is global.control_socket in its configuration)"
        }
        _ => "",
    }
}

/// The human-readable report: the router, then a table with one row per instance, then
/// any problem that needs an operator.
pub fn render_text(status: &Status) -> String {
    let header = [
        "INSTANCE",
        "STATE",
        "PRIORITY",
        "VRID",
        "INTERFACE",
        "MASTER",
        "VIRTUAL ADDRESSES",
    ];
    let rows: Vec<[String; 7]> = status
        .instances
        .iter()
        .map(|i| {
            [
                i.name.clone(),
                i.state.clone(),
                priority_text(i),
                i.vrid.to_string(),
                i.interface.clone(),
                master_text(i),
                i.virtual_addresses.join(" "),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = format!(
        "router {}: {} instance(s)\n",
        status.router_id,
        status.instances.len()
    );
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    for i in &status.instances {
        if let Some(e) = &i.send_error {
            out.push_str(&format!(
                "! {}: adverts cannot be sent ({e}); a backup will take over\n",
                i.name
            ));
        }
        if i.local_source_adverts > 0 {
            out.push_str(&format!(
                "! {}: {} advert(s) for VRID {} came from this host's own address: another VRRP \
                 agent runs here\n",
                i.name, i.local_source_adverts, i.vrid
            ));
        }
        if !i.fault_causes.is_empty() {
            out.push_str(&format!(
                "! {}: fault: {}\n",
                i.name,
                i.fault_causes.join(", ")
            ));
        }
    }
    for t in &status.tracks {
        out.push_str(&track_line(t));
    }
    for g in &status.sync_groups {
        out.push_str(&format!(
            "sync group {}: {} ({})\n",
            g.name,
            g.state,
            g.members.join(", ")
        ));
    }
    out
}

/// `track haproxy (script): failed, 3 in a row; last: failed (exit status 1)`.
fn track_line(t: &TrackReport) -> String {
    let v = &t.verdict;
    let verdict = if v.healthy { "healthy" } else { "failed" };
    let value = if t.kind == Kind::File {
        format!(", value {}", v.value)
    } else {
        String::new()
    };
    let last = match &v.last {
        None => "not checked yet".to_owned(),
        Some(CheckResult::Passed) => "passed".to_owned(),
        Some(CheckResult::Failed { reason }) => format!("failed ({reason})"),
        Some(CheckResult::Value { value }) => format!("read {value}"),
    };
    format!(
        "track {} ({}): {verdict}{value}, {} in a row; last: {last}\n",
        t.name,
        t.kind.name(),
        v.consecutive
    )
}

/// `150`, or `90 (configured 150)` while tracking changes it.
fn priority_text(i: &InstanceStatus) -> String {
    if i.effective_priority == i.priority {
        i.priority.to_string()
    } else {
        format!("{} (configured {})", i.effective_priority, i.priority)
    }
}

fn master_text(i: &InstanceStatus) -> String {
    match (i.state.as_str(), &i.master_address) {
        ("master", _) => "this host".to_owned(),
        (_, Some(addr)) => addr.clone(),
        (_, None) => "-".to_owned(),
    }
}

pub fn default_socket() -> PathBuf {
    PathBuf::from(crate::config::DEFAULT_CONTROL_SOCKET)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vipd-control-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_regular_file_at_the_socket_path_survives_and_is_an_error() {
        let dir = temp_dir("file");
        let path = dir.join("vipd.sock");
        std::fs::write(&path, "precious").expect("write");
        let err = runtime().block_on(async { bind(&path, None).map(|_| ()) });
        let err = err.expect_err("a regular file must not be replaced");
        assert!(err.contains("is not a socket"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).expect("still there"),
            "precious"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_path_under_a_regular_file_is_an_error() {
        let dir = temp_dir("under");
        std::fs::write(dir.join("file"), "").expect("write");
        let path = dir.join("file").join("vipd.sock");
        let err = runtime().block_on(async { bind(&path, None).map(|_| ()) });
        assert!(err.is_err(), "binding under a regular file must fail");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
        let dir = temp_dir("stale");
        let path = dir.join("vipd.sock");
        // A socket nobody listens on any more: what a crashed run leaves.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
        runtime().block_on(async {
            let live = bind(&path, None).expect("a stale socket is replaced");
            let err = bind(&path, None)
                .map(|_| ())
                .expect_err("a live socket is kept");
            assert!(err.contains("another process answers"), "{err}");
            drop(live);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Status goes to `status`; reloads go nowhere (answered "shutting down").
    fn requests(status: mpsc::Sender<StatusRequest>) -> Requests {
        Requests {
            status,
            reload: mpsc::channel(1).0,
        }
    }

    #[test]
    fn idle_clients_beyond_the_limit_are_closed_and_status_still_answers() {
        let dir = temp_dir("idle");
        let path = dir.join("vipd.sock");
        runtime().block_on(async {
            let (tx, mut rx) = mpsc::channel::<StatusRequest>(4);
            serve(
                bind(&path, None).expect("bind"),
                requests(tx),
                EventHub::new(),
            );
            tokio::spawn(async move {
                while let Some(reply) = rx.recv().await {
                    let _ = reply.send(Status::default());
                }
            });
            let mut idle = Vec::new();
            for _ in 0..MAX_CLIENTS * 3 {
                idle.push(UnixStream::connect(&path).await.expect("connect"));
            }
            // The idle ones hold every slot until they time out; then status answers.
            let answered = tokio::time::timeout(CLIENT_TIMEOUT * 3, async {
                loop {
                    if query(&path).await.is_ok() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
            .await;
            assert!(answered.is_ok(), "status never answered after idle clients");
            drop(idle);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    // ----- the event stream ---------------------------------------------------------------

    use crate::agent::events::{MAX_SUBSCRIBERS, QUEUE_LINES};

    #[derive(Serialize)]
    struct Tick {
        event: &'static str,
        n: u64,
    }

    fn tick(n: u64) -> Tick {
        Tick { event: "tick", n }
    }

    /// A control socket in `dir` served with `hub` and an event loop that answers status.
    fn serve_test(dir: &Path, hub: &EventHub) -> PathBuf {
        let path = dir.join("vipd.sock");
        let (tx, mut rx) = mpsc::channel::<StatusRequest>(4);
        serve(bind(&path, None).expect("bind"), requests(tx), hub.clone());
        let hub = hub.clone();
        tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                let _ = reply.send(Status {
                    events: hub.stats(),
                    ..Status::default()
                });
            }
        });
        path
    }

    async fn subscribe(path: &Path) -> BufReader<UnixStream> {
        let mut stream = UnixStream::connect(path).await.expect("connect");
        stream.write_all(b"events\n").await.expect("request");
        BufReader::new(stream)
    }

    /// As many subscribers as the agent takes, each counted by the hub.
    async fn fill_subscribers(path: &Path, hub: &EventHub) -> Vec<BufReader<UnixStream>> {
        let mut held = Vec::new();
        for _ in 0..MAX_SUBSCRIBERS {
            held.push(subscribe(path).await);
        }
        subscribers(hub, MAX_SUBSCRIBERS as u64).await;
        held
    }

    /// Wait (bounded) until the hub counts `n` subscribers.
    async fn subscribers(hub: &EventHub, n: u64) {
        let counted = tokio::time::timeout(Duration::from_secs(5), async {
            while hub.stats().subscribers != n {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await;
        assert!(
            counted.is_ok(),
            "expected {n} subscribers, have {}",
            hub.stats().subscribers
        );
    }

    /// The next line, or None at the end of the stream; bounded in time.
    async fn next_line(reader: &mut BufReader<UnixStream>) -> Option<String> {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line))
            .await
            .expect("a line or the end of the stream in time")
            .expect("read");
        (n > 0).then_some(line)
    }

    fn tick_number(line: &str) -> u64 {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(v["event"], "tick", "{line}");
        v["n"].as_u64().expect("n")
    }

    /// `2026-12-01T10:00:00.123Z`
    fn is_rfc3339_millis(t: &str) -> bool {
        let b = t.as_bytes();
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
        b.len() == 24
            && digits.iter().all(|&i| b[i].is_ascii_digit())
            && [
                (4, b'-'),
                (7, b'-'),
                (10, b'T'),
                (13, b':'),
                (16, b':'),
                (19, b'.'),
                (23, b'Z'),
            ]
            .iter()
            .all(|&(i, c)| b[i] == c)
    }

    #[test]
    fn every_subscriber_gets_every_event_in_order_with_the_time_first() {
        let dir = temp_dir("fanout");
        runtime().block_on(async {
            let hub = EventHub::new();
            let path = serve_test(&dir, &hub);
            let mut readers = Vec::new();
            for _ in 0..3 {
                readers.push(subscribe(&path).await);
            }
            // One only listens: it is done sending (nc -N), and still gets the stream.
            readers[2].get_mut().shutdown().await.expect("half close");
            subscribers(&hub, 3).await;
            let before = crate::agent::events::rfc3339_millis(std::time::SystemTime::now());
            for n in 0..500 {
                hub.publish(&tick(n));
                if n % 100 == 99 {
                    tokio::task::yield_now().await;
                }
            }
            let after = crate::agent::events::rfc3339_millis(std::time::SystemTime::now());
            for reader in &mut readers {
                for n in 0..500 {
                    let line = next_line(reader).await.expect("a line, not the end");
                    let time = line
                        .strip_prefix("{\"time\":\"")
                        .and_then(|rest| rest.get(..24))
                        .expect("the time first");
                    assert!(is_rfc3339_millis(time), "{line}");
                    assert!(before.as_str() <= time && time <= after.as_str(), "{line}");
                    assert_eq!(tick_number(&line), n);
                }
            }
            let stats = hub.stats();
            assert_eq!((stats.subscribers, stats.published), (3, 500));
            assert_eq!(stats.dropped_subscribers, 0);
            // Status reports the same counters.
            assert_eq!(query(&path).await.expect("status").events, hub.stats());
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_subscriber_that_never_reads_is_cut_off_and_the_others_keep_up() {
        let dir = temp_dir("stalled");
        runtime().block_on(async {
            let hub = EventHub::new();
            let path = serve_test(&dir, &hub);
            let mut stalled = subscribe(&path).await;
            let mut reader = subscribe(&path).await;
            subscribers(&hub, 2).await;
            let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
            tokio::spawn(async move {
                while let Some(line) = next_line(&mut reader).await {
                    let _ = seen_tx.send(tick_number(&line));
                }
            });
            // Publish in bursts the reader can keep up with, until the stalled one overflows.
            let mut published = 0;
            while hub.stats().dropped_subscribers == 0 {
                assert!(published < 50 * QUEUE_LINES as u64, "never cut off");
                for _ in 0..50 {
                    hub.publish(&tick(published));
                    published += 1;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert!(published > QUEUE_LINES as u64, "cut off after {published}");
            for _ in 0..100 {
                hub.publish(&tick(published));
                published += 1;
            }
            for n in 0..published {
                let got = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv()).await;
                assert_eq!(got.expect("in time"), Some(n));
            }
            let stats = hub.stats();
            assert_eq!((stats.subscribers, stats.dropped_subscribers), (1, 1));
            assert_eq!(stats.published, published);
            // The stalled one finds what the kernel held, perhaps the reason, then the end.
            let mut n = 0;
            while let Some(line) = next_line(&mut stalled).await {
                if line.contains("\"error\"") {
                    assert!(line.starts_with("{\"time\":\""), "{line}");
                    assert!(line.contains("did not keep up"), "{line}");
                    assert!(
                        next_line(&mut stalled).await.is_none(),
                        "lines after the error"
                    );
                    break;
                }
                assert_eq!(tick_number(&line), n);
                n += 1;
            }
            assert!(
                n < published - QUEUE_LINES as u64,
                "{n} of {published} lines"
            );
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn subscribers_beyond_the_limit_are_refused_until_one_leaves() {
        let dir = temp_dir("limit");
        runtime().block_on(async {
            let hub = EventHub::new();
            let path = serve_test(&dir, &hub);
            let mut held = fill_subscribers(&path, &hub).await;
            let mut refused = subscribe(&path).await;
            let line = next_line(&mut refused).await.expect("an error line");
            assert!(line.contains("too many event subscribers"), "{line}");
            assert!(
                next_line(&mut refused).await.is_none(),
                "closed after the error"
            );
            let err = crate::agent::events::follow(&path, true)
                .await
                .expect_err("vipd events is refused too");
            assert!(err.contains("too many event subscribers"), "{err}");
            // A subscriber that goes away frees its place at once, events or not.
            drop(held.pop());
            subscribers(&hub, MAX_SUBSCRIBERS as u64 - 1).await;
            let mut late = subscribe(&path).await;
            subscribers(&hub, MAX_SUBSCRIBERS as u64).await;
            hub.publish(&tick(7));
            assert_eq!(tick_number(&next_line(&mut late).await.expect("a line")), 7);
            assert_eq!(hub.stats().dropped_subscribers, 0);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn status_answers_beside_full_subscribers_and_a_thousand_hostile_clients() {
        let dir = temp_dir("hostile");
        runtime().block_on(async {
            let hub = EventHub::new();
            let path = serve_test(&dir, &hub);
            let mut held = fill_subscribers(&path, &hub).await;
            // Idle, garbage, unterminated and surplus subscription requests.
            let mut hostile = Vec::new();
            for i in 0..1000 {
                let Ok(mut c) = UnixStream::connect(&path).await else {
                    continue;
                };
                let junk: &[u8] = match i % 4 {
                    0 => b"",
                    1 => b"garbage\n",
                    2 => &[b'x'; 300],
                    _ => b"events\n",
                };
                let _ = c.write_all(junk).await;
                hostile.push(c);
                if i % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            let started = Instant::now();
            let answered = tokio::time::timeout(CLIENT_TIMEOUT * 3, async {
                loop {
                    if let Ok(status) = query(&path).await {
                        return status;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await
            .expect("status answers within a few client timeouts");
            assert_eq!(answered.events.subscribers, MAX_SUBSCRIBERS as u64);
            assert!(started.elapsed() < CLIENT_TIMEOUT * 3);
            hub.publish(&tick(1));
            for reader in &mut held {
                assert_eq!(tick_number(&next_line(reader).await.expect("a line")), 1);
            }
            drop(hostile);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn closing_the_hub_flushes_then_ends_every_stream() {
        let dir = temp_dir("close");
        runtime().block_on(async {
            let hub = EventHub::new();
            let path = serve_test(&dir, &hub);
            let mut a = subscribe(&path).await;
            subscribers(&hub, 1).await;
            for n in 0..10 {
                hub.publish(&tick(n));
            }
            // `vipd events` joins after those (it would print them) and sees the end.
            let follower = tokio::spawn({
                let path = path.clone();
                async move { crate::agent::events::follow(&path, true).await }
            });
            subscribers(&hub, 2).await;
            let started = Instant::now();
            hub.close(Duration::from_secs(2)).await;
            assert!(started.elapsed() < Duration::from_secs(1), "close waited");
            for n in 0..10 {
                assert_eq!(tick_number(&next_line(&mut a).await.expect("a line")), n);
            }
            assert!(next_line(&mut a).await.is_none(), "the stream ends");
            let ended = tokio::time::timeout(Duration::from_secs(5), follower).await;
            assert_eq!(ended.expect("in time").expect("joined"), Ok(()));
            let mut late = subscribe(&path).await;
            let line = next_line(&mut late).await.expect("an error line");
            assert!(line.contains("shutting down"), "{line}");
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn vipd_events_turned_away_by_a_full_control_socket_is_an_error_not_an_end() {
        let dir = temp_dir("turned");
        runtime().block_on(async {
            let hub = EventHub::new();
            let path = serve_test(&dir, &hub);
            let mut idle = Vec::new();
            for _ in 0..MAX_CLIENTS {
                idle.push(UnixStream::connect(&path).await.expect("connect"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Closed unread: the client sees a reset, not the end of a stream.
            let err = crate::agent::events::follow(&path, true)
                .await
                .expect_err("turned away");
            assert!(err.contains("event stream broke"), "{err}");
            drop(idle);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn vipd_events_without_an_agent_says_how_to_reach_one() {
        let dir = temp_dir("noagent");
        let err = runtime()
            .block_on(crate::agent::events::follow(&dir.join("none.sock"), false))
            .expect_err("nothing to connect to");
        assert!(err.contains("is vipd running?"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn text_report_names_the_router_and_explains_priorities() {
        let instance = |name: &str, state: &str, effective, master: Option<&str>| InstanceStatus {
            name: name.into(),
            state: state.into(),
            priority: 150,
            effective_priority: effective,
            vrid: 51,
            interface: "eth0".into(),
            master_address: master.map(str::to_owned),
            virtual_addresses: vec!["10.0.0.50/24".into()],
            ..InstanceStatus::default()
        };
        let mut failing = instance("db", "master", 150, Some("10.0.0.1"));
        failing.send_error = Some("Operation not permitted (os error 1)".into());
        let status = Status {
            router_id: "lb1".into(),
            instances: vec![instance("web", "backup", 90, Some("10.0.0.2")), failing],
            ..Status::default()
        };
        let text = render_text(&status);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "router lb1: 2 instance(s)");
        assert!(lines[1].starts_with("INSTANCE  STATE"), "{text}");
        assert!(
            lines[2].contains("90 (configured 150)") && lines[2].contains("10.0.0.2"),
            "{text}"
        );
        assert!(
            lines[3].contains("this host") && !lines[3].contains("10.0.0.1"),
            "{text}"
        );
        assert!(lines[4].contains("db: adverts cannot be sent"), "{text}");
    }
}

//! Runs operators' commands (track scripts, notify commands) without handing them the agent's
//! privileges, and without letting them stall the agent.
//!
//! At start, [`resolve`] finds and vets each command's program and [`identity`] resolves
//! who commands run as; [`can_drop_privileges`] tells whether this process is able to start
//! them with no capabilities at all, so `vipd run` can refuse to start instead of running
//! checks with CAP_NET_ADMIN. [`run`] then starts one command and reports how it ended.
//!
//! A started command holds no capability in any set (effective, permitted, inheritable,
//! ambient), has `no_new_privs` set (so neither setuid binaries nor file capabilities give
//! any back), and, when this process may, an empty bounding set too. It gets exactly the
//! environment it is given plus the fixed [`PATH`], `/dev/null` as stdin, `/` as working
//! directory, default signal dispositions and no descriptor beyond 0, 1 and 2. It leads a new
//! session, so that at the timeout its whole process group is killed.

use std::ffi::CString;
use std::fmt;
use std::fs::{self, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Component, Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use libc::{c_int, gid_t, uid_t};
use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, User};
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::process::Child;
use tokio::time::Instant;

/// The only PATH commands see, and where a bare program name is looked up at start.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How much of a command's output (stdout and stderr together) a report keeps.
pub const OUTPUT_LIMIT: usize = 4096;
/// How long output is still read after the command exited, for what its last writes left in
/// the pipe. Past it, a background process it left holding the pipe is no longer listened to.
const DRAIN_GRACE: Duration = Duration::from_millis(100);
/// How long to wait for a killed command to be reaped before reporting anyway (a process in
/// uninterruptible sleep dies only when its I/O ends; tokio reaps it then).
const REAP_BOUND: Duration = Duration::from_secs(1);
/// As the kernel's own limit on symbolic links followed in one lookup.
const MAX_SYMLINKS: usize = 40;

/// A command checked and resolved at start: an absolute program path and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    program: PathBuf,
    /// `argv[0]` as configured (`pgrep` stays `pgrep`), as a shell would pass it: multi-call
    /// binaries choose what to be by it.
    arg0: String,
    args: Vec<String>,
    owner: uid_t,
    /// The owner's name and uid, looked up at start: the check in [`run`] must not wait on
    /// a user database.
    owner_label: String,
    group: gid_t,
    mode: u32,
}

impl Command {
    /// The program that is executed (the configured path, or where the bare name was found).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The configured arguments after the program.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Whether commands running as `identity` may run this file: it must be owned by root or
    /// by that user (otherwise its owner could run code as someone else, root included), and
    /// the mode must let that user execute it. [`run`] checks this too; call it at start for
    /// an early error.
    pub fn usable_by(&self, identity: &Identity) -> Result<(), String> {
        if self.owner != 0 && self.owner != identity.uid {
            return Err(format!(
                "{}: owned by {}, but commands run as {identity}; the file must belong to root \
                 or to that user",
                self.program.display(),
                self.owner_label
            ));
        }
        if !self.executable_by(identity) {
            return Err(format!(
                "{}: mode {:04o} does not let {identity} execute it",
                self.program.display(),
                self.mode & 0o7777
            ));
        }
        Ok(())
    }

    /// The kernel's rule: the owner's bits for the owner, else the group's for a member,
    /// else the others'; root needs any execute bit.
    fn executable_by(&self, identity: &Identity) -> bool {
        let bits = if identity.uid == 0 {
            0o111
        } else if identity.uid == self.owner {
            0o100
        } else if identity.gid == self.group || identity.groups.contains(&self.group) {
            0o010
        } else {
            0o001
        };
        self.mode & bits != 0
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program.display())?;
        for arg in &self.args {
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                write!(f, " {arg:?}")?;
            } else {
                write!(f, " {arg}")?;
            }
        }
        Ok(())
    }
}

/// Resolve `argv[0]` (looked up in the fixed [`PATH`] when it has no `/`) and vet it: it
/// exists, is a regular file with an execute bit, and neither it nor any directory on its
/// path (symbolic links followed, each link's directory included) is owned by anyone but
/// root or the file's owner, or writable by others or by a group other than root's — as
/// keepalived's `enable_script_security`. The error names the path and the problem.
pub fn resolve(argv: &[String]) -> Result<Command, String> {
    let Some((first, args)) = argv.split_first() else {
        return Err("the command is empty: give at least the program".to_owned());
    };
    let program = locate(first)?;
    let file = vet(&program)?;
    Ok(Command {
        program,
        arg0: first.clone(),
        args: args.to_vec(),
        owner: file.uid(),
        owner_label: user_label(file.uid()),
        group: file.gid(),
        mode: file.mode(),
    })
}

fn locate(name: &str) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("the program name is empty".to_owned());
    }
    if name.contains('/') {
        let path = Path::new(name);
        if !path.is_absolute() {
            return Err(format!(
                "{name}: give an absolute path, or a bare name to look up in {PATH}"
            ));
        }
        return Ok(path.to_path_buf());
    }
    // As execvp: the first executable regular file on the PATH wins.
    PATH.split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| {
            fs::metadata(candidate).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
        })
        .ok_or_else(|| format!("{name}: no executable file of that name in {PATH}"))
}

/// The file's metadata once it and every directory leading to it passed.
fn vet(program: &Path) -> Result<Metadata, String> {
    let place = |problem: String| format!("{}: {problem}", program.display());
    let walked = walk(program).map_err(place)?;
    let Some((_, file)) = walked.last() else {
        return Err(place("cannot be examined".to_owned()));
    };
    if !file.is_file() {
        return Err(place("not a regular file".to_owned()));
    }
    if file.mode() & 0o111 == 0 {
        return Err(place(format!(
            "not executable (mode {:04o})",
            file.mode() & 0o7777
        )));
    }
    for (path, meta) in &walked {
        writers_ok(path, meta, file.uid()).map_err(place)?;
    }
    Ok(file.clone())
}

/// Every directory the lookup of `program` passes through, and the file itself last, as
/// the kernel would walk them: symbolic links are followed one at a time, so the directory
/// holding each link is examined too (whoever may write there may re-point the link).
fn walk(program: &Path) -> Result<Vec<(PathBuf, Metadata)>, String> {
    let root = PathBuf::from("/");
    let root_meta = fs::metadata(&root).map_err(|e| format!("/: {e}"))?;
    let mut walked = vec![(root.clone(), root_meta)];
    let mut here = root;
    let mut pending = parts_reversed(program);
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == Path::new("..") {
            here.pop();
            continue;
        }
        let next = here.join(&part);
        let meta = fs::symlink_metadata(&next).map_err(|e| format!("{}: {e}", next.display()))?;
        if !meta.file_type().is_symlink() {
            walked.push((next.clone(), meta));
            here = next;
            continue;
        }
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(format!("{}: too many symbolic links", next.display()));
        }
        let target = fs::read_link(&next).map_err(|e| format!("{}: {e}", next.display()))?;
        if target.is_absolute() {
            here = PathBuf::from("/");
        }
        pending.extend(parts_reversed(&target));
    }
    Ok(walked)
}

/// The names and `..`s of a path, last first (a stack to pop); the root and `.` dropped.
fn parts_reversed(path: &Path) -> Vec<PathBuf> {
    let mut parts: Vec<PathBuf> = path
        .components()
        .filter_map(|part| match part {
            Component::Normal(name) => Some(PathBuf::from(name)),
            Component::ParentDir => Some(PathBuf::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.reverse();
    parts
}

/// Only root and the command file's owner may be able to change what gets executed.
fn writers_ok(path: &Path, meta: &Metadata, file_owner: uid_t) -> Result<(), String> {
    let mode = meta.mode() & 0o7777;
    if meta.uid() != 0 && meta.uid() != file_owner {
        return Err(format!(
            "{} is owned by {}, neither root nor the command file's owner",
            path.display(),
            user_label(meta.uid())
        ));
    }
    if mode & 0o002 != 0 {
        return Err(format!(
            "{} is writable by everyone (mode {mode:04o})",
            path.display()
        ));
    }
    if mode & 0o020 != 0 && meta.gid() != 0 {
        return Err(format!(
            "{} is writable by group {} (mode {mode:04o})",
            path.display(),
            meta.gid()
        ));
    }
    Ok(())
}

fn user_label(uid: uid_t) -> String {
    match User::from_uid(uid.into()) {
        Ok(Some(user)) => format!("{} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// Who commands run as: `script_user`, or the agent's own user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The configured `script_user`; `None` for the agent's own user.
    user: Option<String>,
    uid: uid_t,
    gid: gid_t,
    groups: Vec<gid_t>,
    /// Whether the child must change its ids (false when the agent already is that user).
    switch: bool,
    /// Whether commands would hold uid 0 as their real, effective or saved uid: then only
    /// an empty bounding set keeps a later exec from handing capabilities back.
    root: bool,
}

impl Identity {
    /// The uid commands run with.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The primary gid commands run with.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// The configured `script_user`, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(name) => write!(f, "script_user {name} (uid {})", self.uid),
            None => write!(f, "vipd's own user (uid {})", self.uid),
        }
    }
}

/// Who commands run as: `script_user` (looked up now: uid, primary gid, supplementary
/// groups) or, without one, the agent's own user and groups.
pub fn identity(script_user: Option<&str>) -> Result<Identity, String> {
    match script_user {
        Some(name) => user_identity(name),
        None => own_identity(),
    }
}

fn own_identity() -> Result<Identity, String> {
    let uids = nix::unistd::getresuid().map_err(|e| format!("cannot read vipd's uids: {e}"))?;
    let groups = nix::unistd::getgroups()
        .map_err(|e| format!("cannot read vipd's groups: {e}"))?
        .into_iter()
        .map(|gid| gid.as_raw())
        .collect();
    Ok(Identity {
        user: None,
        uid: uids.effective.as_raw(),
        gid: nix::unistd::getegid().as_raw(),
        groups,
        switch: false,
        root: [uids.real, uids.effective, uids.saved]
            .iter()
            .any(|uid| uid.is_root()),
    })
}

fn user_identity(name: &str) -> Result<Identity, String> {
    let context = |problem: String| format!("script_user {name:?}: {problem}");
    let user = User::from_name(name)
        .map_err(|e| context(format!("cannot look it up: {e}")))?
        .ok_or_else(|| context("no such user".to_owned()))?;
    let c_name = CString::new(name).map_err(|_| context("contains a NUL byte".to_owned()))?;
    let groups = nix::unistd::getgrouplist(&c_name, user.gid)
        .map_err(|e| context(format!("cannot list its groups: {e}")))?
        .into_iter()
        .map(|gid| gid.as_raw())
        .collect();
    let (uid, gid) = (user.uid.as_raw(), user.gid.as_raw());
    Ok(Identity {
        user: Some(name.to_owned()),
        uid,
        gid,
        groups,
        switch: !already_running_as(uid, gid),
        root: uid == 0,
    })
}

/// The agent already is that user (real, effective and saved ids): nothing to switch, and
/// no CAP_SETUID needed.
fn already_running_as(uid: uid_t, gid: gid_t) -> bool {
    let (Ok(uids), Ok(gids)) = (nix::unistd::getresuid(), nix::unistd::getresgid()) else {
        return false;
    };
    [uids.real, uids.effective, uids.saved]
        .iter()
        .all(|id| id.as_raw() == uid)
        && [gids.real, gids.effective, gids.saved]
            .iter()
            .all(|id| id.as_raw() == gid)
}

/// Whether this process can start commands that hold no capability at all, as `identity`:
/// always when they run as a non-root user this process already is; switching users needs
/// CAP_SETUID and CAP_SETGID; commands that keep uid 0 need CAP_SETPCAP to empty their
/// bounding set. The error says what to grant.
pub fn can_drop_privileges(identity: &Identity) -> Result<(), String> {
    let effective =
        caps::effective().map_err(|e| format!("cannot read vipd's capabilities: {e}"))?;
    let may_switch = caps::has(effective, caps::SETUID) && caps::has(effective, caps::SETGID);
    if identity.switch && !may_switch {
        return Err(format!(
            "commands are to run as {identity}, but vipd lacks CAP_SETUID and CAP_SETGID to \
             switch to that user: grant both (CapabilityBoundingSet=, and AmbientCapabilities= \
             when vipd runs as a non-root User=), or run vipd as that user"
        ));
    }
    if !identity.root || caps::has(effective, caps::SETPCAP) || caps::bounding_is_empty() {
        return Ok(());
    }
    Err(format!(
        "commands would run as root ({identity}), and vipd lacks CAP_SETPCAP to empty their \
         capability bounding set: set global.script_user to an unprivileged user, or grant \
         CAP_SETPCAP (CapabilityBoundingSet=, and AmbientCapabilities= when vipd runs as a \
         non-root User=)"
    ))
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this status (0 = success).
    Exited(i32),
    /// It was killed by this signal (not by vipd).
    Signalled(i32),
    /// It was still running at the timeout: its process group was killed.
    TimedOut,
    /// It could not be started (the reason says why), or, rarely, it could not be waited
    /// for after it was started (its process group is then killed).
    NotStarted(String),
}

/// What one run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub outcome: Outcome,
    /// From just before the start until the command ended or was killed (the short read of
    /// its last output afterwards not counted).
    pub duration: Duration,
    /// stdout and stderr together in the order written; at most [`OUTPUT_LIMIT`] bytes kept,
    /// decoded lossily, then a line saying how much there was when there was more.
    pub output: String,
}

/// Run `cmd` once as `identity`, with `extra_args` after the configured arguments and an
/// environment of exactly `env` plus the fixed [`PATH`] (which wins over a PATH in `env`).
///
/// At `timeout` the command's process group is killed (SIGKILL) and reaped: `TimedOut`.
/// When the command exits by itself, what it started in the background is left alone, and
/// its output is read for at most 100 ms more, so a daemon holding the pipe cannot
/// hang the run (start daemons with their own output redirected: once the run is over, a
/// write to the inherited pipe fails with EPIPE/SIGPIPE). If the future is dropped before
/// the command ended, the process group is killed.
///
/// Never blocks the thread beyond the fork and exec, and never panics.
pub async fn run(
    cmd: &Command,
    identity: &Identity,
    extra_args: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Report {
    let started = Instant::now();
    let deadline = started
        .checked_add(timeout)
        .unwrap_or_else(|| started + Duration::from_secs(365 * 86_400));
    let spawned = cmd
        .usable_by(identity)
        .and_then(|()| can_drop_privileges(identity))
        .and_then(|()| spawn(cmd, identity, extra_args, env));
    match spawned {
        Ok((child, output)) => supervise(child, output, started, deadline).await,
        Err(reason) => Report {
            outcome: Outcome::NotStarted(reason),
            duration: started.elapsed(),
            output: String::new(),
        },
    }
}

fn spawn(
    cmd: &Command,
    identity: &Identity,
    extra_args: &[String],
    env: &[(String, String)],
) -> Result<(Child, pipe::Receiver), String> {
    let plan = ChildPlan::new(identity)?;
    let (read, write) = output_pipe().map_err(|e| format!("cannot make the output pipe: {e}"))?;
    let mut command = tokio::process::Command::new(&cmd.program);
    command
        .arg0(&cmd.arg0)
        .args(&cmd.args)
        .args(extra_args)
        .env_clear()
        .envs(env.iter().map(|(name, value)| (name, value)))
        .env("PATH", PATH)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::from(write.0))
        .stderr(Stdio::from(write.1))
        .kill_on_drop(false);
    // SAFETY: `enter` runs between fork and exec and makes only async-signal-safe calls, on
    // data prepared before the fork; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || plan.enter());
    }
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {} as {identity}: {e}", cmd.program.display()))?;
    // Dropping the command closes our copies of the write end, so that the reader sees the
    // end of the output once the command's side is closed.
    drop(command);
    Ok((child, read))
}

/// One pipe for stdout and stderr both (as `2>&1`: one capture, in the order written).
fn output_pipe() -> io::Result<(pipe::Receiver, (OwnedFd, OwnedFd))> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let write_again = write.try_clone()?;
    let reader = pipe::Receiver::from_owned_fd(read)?;
    Ok((reader, (write, write_again)))
}

async fn supervise(
    mut child: Child,
    mut output: pipe::Receiver,
    started: Instant,
    deadline: Instant,
) -> Report {
    let mut group = GroupGuard::new(child.id());
    let mut capture = Capture::default();
    let mut open = true;
    let mut buf = [0u8; 8192];
    let ended = loop {
        tokio::select! {
            status = child.wait() => break Some(status),
            read = output.read(&mut buf), if open => match read {
                Ok(0) | Err(_) => open = false,
                Ok(n) => capture.push(&buf[..n]),
            },
            () = tokio::time::sleep_until(deadline) => break None,
        }
    };
    let duration = started.elapsed();
    let outcome = match ended {
        Some(Ok(status)) => {
            group.disarm();
            if open {
                let until = deadline.min(Instant::now() + DRAIN_GRACE);
                drain_until(&mut output, &mut capture, until).await;
            }
            outcome_of(status)
        }
        Some(Err(e)) => {
            group.kill();
            Outcome::NotStarted(format!("started, but could not be waited for: {e}"))
        }
        None => {
            group.kill();
            let _ = tokio::time::timeout(REAP_BOUND, child.wait()).await;
            drain_ready(&output, &mut capture);
            Outcome::TimedOut
        }
    };
    Report {
        outcome,
        duration,
        output: capture.finish(),
    }
}

fn outcome_of(status: ExitStatus) -> Outcome {
    match (status.code(), status.signal()) {
        (Some(code), _) => Outcome::Exited(code),
        (None, Some(signal)) => Outcome::Signalled(signal),
        (None, None) => Outcome::NotStarted(format!("ended with an unknown status: {status}")),
    }
}

async fn drain_until(output: &mut pipe::Receiver, capture: &mut Capture, until: Instant) {
    let mut buf = [0u8; 8192];
    let read_all = async {
        while let Ok(n @ 1..) = output.read(&mut buf).await {
            capture.push(&buf[..n]);
        }
    };
    let _ = tokio::time::timeout_at(until, read_all).await;
}

/// What is already in the pipe, without waiting: after a kill, its writers are gone (or,
/// if one escaped into its own session, no longer awaited).
fn drain_ready(output: &pipe::Receiver, capture: &mut Capture) {
    let mut buf = [0u8; 8192];
    // Bounded: an escaped writer could keep the pipe full forever.
    for _ in 0..64 {
        match output.try_read(&mut buf) {
            Ok(n @ 1..) => capture.push(&buf[..n]),
            _ => return,
        }
    }
}

/// Kills the command's process group when the run ends early (timeout, wait error, or the
/// run's future dropped), unless disarmed once the command exited by itself.
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn new(pid: Option<u32>) -> GroupGuard {
        // The child leads its own session, so its pid is its group's id. Never 0 or 1:
        // killpg would reach this process's own group, or every process.
        let pgid = pid
            .and_then(|pid| i32::try_from(pid).ok())
            .filter(|&pid| pid > 1);
        GroupGuard(pgid.map(Pid::from_raw))
    }

    fn disarm(&mut self) {
        self.0 = None;
    }

    fn kill(&mut self) {
        if let Some(pgid) = self.0.take() {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first [`OUTPUT_LIMIT`] bytes of the output, and how many there were in all; the rest
/// is read and dropped so that the command never blocks on a full pipe.
#[derive(Default)]
struct Capture {
    kept: Vec<u8>,
    total: usize,
}

impl Capture {
    fn push(&mut self, bytes: &[u8]) {
        self.total = self.total.saturating_add(bytes.len());
        let room = OUTPUT_LIMIT.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(self) -> String {
        if self.total <= self.kept.len() {
            return String::from_utf8_lossy(&self.kept).into_owned();
        }
        let kept = whole_characters(&self.kept);
        format!(
            "{}\n(truncated: {} bytes in all, the first {} kept)",
            String::from_utf8_lossy(kept),
            self.total,
            kept.len()
        )
    }
}

/// Without a multi-byte character cut in two by the limit.
fn whole_characters(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
        _ => bytes,
    }
}

/// Everything the child does between fork and exec, decided before the fork.
struct ChildPlan {
    /// The ids to take, when switching users.
    ids: Option<Ids>,
    /// Drop capabilities 0..=this from the bounding set (when this process holds
    /// CAP_SETPCAP, which that needs).
    bounding_last: Option<c_int>,
    /// Descriptors below this are marked close-on-exec if close_range is unavailable.
    fd_limit: c_int,
}

struct Ids {
    uid: uid_t,
    gid: gid_t,
    groups: Vec<gid_t>,
}

impl ChildPlan {
    fn new(identity: &Identity) -> Result<ChildPlan, String> {
        let effective =
            caps::effective().map_err(|e| format!("cannot read vipd's capabilities: {e}"))?;
        Ok(ChildPlan {
            ids: identity.switch.then(|| Ids {
                uid: identity.uid,
                gid: identity.gid,
                groups: identity.groups.clone(),
            }),
            bounding_last: caps::has(effective, caps::SETPCAP).then(caps::last_cap),
            fd_limit: fd_limit(),
        })
    }

    /// In the child, between fork and exec. The bounding set goes first (CAP_SETPCAP is
    /// still effective then), the uid change before the sets are emptied (it needs
    /// CAP_SETUID), and `no_new_privs` keeps exec from granting anything back.
    fn enter(&self) -> io::Result<()> {
        // SAFETY: setsid has no memory effects.
        check(unsafe { libc::setsid() })?;
        default_signals();
        if let Some(last) = self.bounding_last {
            caps::drop_bounding(last)?;
        }
        caps::clear_ambient()?;
        if let Some(ids) = &self.ids {
            ids.take()?;
        }
        caps::clear_sets()?;
        // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
        check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) })?;
        close_inherited(self.fd_limit);
        Ok(())
    }
}

impl Ids {
    fn take(&self) -> io::Result<()> {
        // SAFETY: `groups` outlives the call and holds `len` gids.
        check(unsafe { libc::setgroups(self.groups.len(), self.groups.as_ptr()) })?;
        // SAFETY: integer arguments only.
        check(unsafe { libc::setresgid(self.gid, self.gid, self.gid) })?;
        // SAFETY: integer arguments only.
        check(unsafe { libc::setresuid(self.uid, self.uid, self.uid) })
    }
}

fn check(rc: c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// exec resets handled signals but keeps ignored ones ignored: whatever the agent ignores,
/// its commands must not.
fn default_signals() {
    // SAFETY: an all-zero sigaction is a valid value; sa_handler is set to SIG_DFL below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    for signal in 1..=64 {
        // SAFETY: sigaction is async-signal-safe; invalid or fixed signals are refused
        // harmlessly (EINVAL).
        unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) };
    }
}

/// Mark every descriptor from 3 on close-on-exec rather than closing it: the standard
/// library reports a failed exec through a close-on-exec pipe of its own, which closing
/// would turn into a false success.
fn close_inherited(fd_limit: c_int) {
    // SAFETY: close_range takes integer arguments only.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return;
    }
    // Kernels before 5.11: one descriptor at a time.
    for fd in 3..fd_limit {
        // SAFETY: fcntl on a descriptor number; a closed one gives EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

/// The soft RLIMIT_NOFILE (no descriptor of ours can be above it), bounded for the
/// one-at-a-time fallback.
fn fd_limit() -> c_int {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into `limit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 65_536;
    }
    c_int::try_from(limit.rlim_cur.min(1 << 20)).unwrap_or(1 << 20)
}

/// Linux capabilities through the raw system calls (capget/capset, prctl).
mod caps {
    use std::io;
    use std::sync::OnceLock;

    use libc::{c_int, c_ulong};

    pub const SETGID: u32 = 6;
    pub const SETUID: u32 = 7;
    pub const SETPCAP: u32 = 8;

    /// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
    const VERSION_3: u32 = 0x2008_0522;

    #[repr(C)]
    struct Header {
        version: u32,
        pid: c_int,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    /// This process's effective set, as a bit mask.
    pub fn effective() -> io::Result<u64> {
        let mut header = Header {
            version: VERSION_3,
            pid: 0,
        };
        let mut data = [Data::default(); 2];
        // SAFETY: for version 3 the kernel writes two Data, the size of `data`.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_capget,
                &mut header as *mut Header,
                data.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(u64::from(data[0].effective) | (u64::from(data[1].effective) << 32))
    }

    pub fn has(set: u64, cap: u32) -> bool {
        set & (1u64 << cap) != 0
    }

    /// The highest capability this kernel knows, asked of the kernel itself (PR_CAPBSET_READ
    /// refuses a number past it) rather than of /proc, which may be absent or masked.
    pub fn last_cap() -> c_int {
        static LAST: OnceLock<c_int> = OnceLock::new();
        *LAST.get_or_init(|| {
            (0..64)
                .find(|&cap| read_bounding(cap).is_none())
                .map_or(63, |past| past - 1)
        })
    }

    fn read_bounding(cap: c_int) -> Option<bool> {
        // SAFETY: integer arguments only.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as c_ulong, 0, 0, 0) };
        (rc >= 0).then_some(rc == 1)
    }

    pub fn bounding_is_empty() -> bool {
        (0..=last_cap()).all(|cap| read_bounding(cap) == Some(false))
    }

    /// In the child: needs CAP_SETPCAP.
    pub fn drop_bounding(last: c_int) -> io::Result<()> {
        for cap in 0..=last {
            // SAFETY: integer arguments only.
            let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as c_ulong, 0, 0, 0) };
            super::check(rc)?;
        }
        Ok(())
    }

    /// In the child. Kernels before 4.3 have no ambient set (EINVAL): nothing to clear.
    pub fn clear_ambient() -> io::Result<()> {
        // SAFETY: integer arguments only.
        let rc = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as c_ulong,
                0,
                0,
                0,
            )
        };
        match super::check(rc) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
            other => other,
        }
    }

    /// In the child: effective, permitted and inheritable all emptied (always allowed).
    pub fn clear_sets() -> io::Result<()> {
        let mut header = Header {
            version: VERSION_3,
            pid: 0,
        };
        let data = [Data::default(); 2];
        // SAFETY: for version 3 the kernel reads two Data, the size of `data`.
        let rc =
            unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn argv(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    fn command(list: &[&str]) -> Command {
        resolve(&argv(list)).expect("resolves")
    }

    fn own() -> Identity {
        identity(None).expect("own identity")
    }

    fn is_root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    async fn run_own(list: &[&str], timeout: Duration) -> Report {
        run(&command(list), &own(), &[], &[], timeout).await
    }

    /// A directory that passes the path checks (under /run, root's): only as root.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Option<Scratch> {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            if !is_root() {
                eprintln!("skipped: needs root");
                return None;
            }
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = PathBuf::from(format!("/run/vipd-runner-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::DirBuilder::new()
                .mode(0o755)
                .create(&dir)
                .expect("scratch dir");
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
            Some(Scratch(dir))
        }

        fn file(&self, name: &str, text: &str, mode: u32) -> String {
            let path = self.0.join(name);
            fs::write(&path, text).expect("write");
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            path.to_string_lossy().into_owned()
        }

        fn dir(&self, name: &str, mode: u32) -> PathBuf {
            let path = self.0.join(name);
            fs::create_dir(&path).expect("mkdir");
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Members of the group that are still alive (zombies waiting for a reaper are dead).
    fn live_members(pgid: i32) -> Vec<i32> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
                let after = &stat[stat.rfind(')')? + 2..];
                let fields: Vec<&str> = after.split_whitespace().collect();
                let alive = *fields.first()? != "Z";
                (alive && fields.get(2)?.parse::<i32>().ok()? == pgid).then_some(pid)
            })
            .collect()
    }

    /// kill(-pgid, 0) fails with ESRCH once the group is gone; zombies left for a reaper
    /// that is slow to come still count as gone.
    async fn assert_group_gone(pgid: i32) {
        for _ in 0..100 {
            let gone = killpg(Pid::from_raw(pgid), None) == Err(nix::errno::Errno::ESRCH);
            if gone || live_members(pgid).is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("group {pgid} survives: {:?}", live_members(pgid));
    }

    fn status_line<'a>(output: &'a str, key: &str) -> &'a str {
        output
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {output}"))
            .trim()
    }

    fn assert_no_capabilities(output: &str) {
        for set in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
            assert_eq!(
                status_line(output, set),
                "0000000000000000",
                "{set} in {output}"
            );
        }
        assert_eq!(status_line(output, "NoNewPrivs:"), "1", "{output}");
        // Emptied whenever this process may (CAP_SETPCAP); otherwise run() only starts
        // commands as a non-root user, whom no_new_privs keeps from regaining anything.
        let may_empty = caps::has(caps::effective().expect("capget"), caps::SETPCAP);
        if may_empty {
            assert_eq!(
                status_line(output, "CapBnd:"),
                "0000000000000000",
                "{output}"
            );
        }
    }

    const STATUS: &[&str] = &[
        "grep",
        "-E",
        "^(Cap|Uid|Gid|Groups|NoNewPrivs)",
        "/proc/self/status",
    ];

    #[tokio::test]
    async fn a_command_holds_no_capability() {
        let identity = own();
        if let Err(refused) = can_drop_privileges(&identity) {
            let report = run(
                &command(STATUS),
                &identity,
                &[],
                &[],
                Duration::from_secs(10),
            )
            .await;
            assert_eq!(report.outcome, Outcome::NotStarted(refused));
            return;
        }
        let report = run(
            &command(STATUS),
            &identity,
            &[],
            &[],
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(report.outcome, Outcome::Exited(0), "{report:?}");
        assert_no_capabilities(&report.output);
        let uid = identity.uid().to_string();
        let uids: Vec<&str> = status_line(&report.output, "Uid:")
            .split_whitespace()
            .collect();
        assert_eq!(uids, [uid.as_str(); 4], "{}", report.output);
    }

    #[tokio::test]
    async fn script_user_nobody_runs_as_nobody_without_capabilities() {
        if !is_root() {
            return eprintln!("skipped: needs root");
        }
        let nobody = identity(Some("nobody")).expect("nobody exists");
        assert_eq!(nobody.uid(), 65534);
        assert_eq!(can_drop_privileges(&nobody), Ok(()));
        let report = run(&command(STATUS), &nobody, &[], &[], Duration::from_secs(10)).await;
        assert_eq!(report.outcome, Outcome::Exited(0), "{report:?}");
        assert_no_capabilities(&report.output);
        let uids: Vec<&str> = status_line(&report.output, "Uid:")
            .split_whitespace()
            .collect();
        assert_eq!(uids, ["65534"; 4], "{}", report.output);
        let gid = nobody.gid().to_string();
        let gids: Vec<&str> = status_line(&report.output, "Gid:")
            .split_whitespace()
            .collect();
        assert_eq!(gids, [gid.as_str(); 4], "{}", report.output);
        let groups = status_line(&report.output, "Groups:");
        assert!(!groups.split_whitespace().any(|g| g == "0"), "{groups}");
    }

    #[tokio::test]
    async fn environment_is_exactly_what_was_given_plus_path() {
        let env = vec![
            ("VIPD_NAME".to_owned(), "web".to_owned()),
            ("PATH".to_owned(), "/tmp/evil".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ];
        let report = run(
            &command(&["env"]),
            &own(),
            &[],
            &env,
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(report.outcome, Outcome::Exited(0), "{report:?}");
        let mut lines: Vec<&str> = report.output.lines().collect();
        lines.sort_unstable();
        let path = format!("PATH={PATH}");
        assert_eq!(lines, ["EMPTY=", path.as_str(), "VIPD_NAME=web"]);
    }

    #[tokio::test]
    async fn stdin_is_dev_null_and_no_descriptor_is_inherited() {
        // Not close-on-exec: std would hand it to the child.
        let leaked = nix::fcntl::open("/dev/null", OFlag::O_RDONLY, nix::sys::stat::Mode::empty())
            .expect("open /dev/null");
        let report = run_own(
            &["sh", "-c", "readlink /proc/$$/fd/0; ls /proc/$$/fd; pwd"],
            Duration::from_secs(10),
        )
        .await;
        drop(leaked);
        assert_eq!(report.outcome, Outcome::Exited(0), "{report:?}");
        let lines: Vec<&str> = report.output.lines().collect();
        assert_eq!(
            lines,
            ["/dev/null", "0", "1", "2", "/"],
            "{}",
            report.output
        );
    }

    #[tokio::test]
    async fn extra_arguments_follow_the_configured_ones() {
        let cmd = command(&["sh", "-c", "echo \"$0|$*\"", "zero", "a"]);
        let extra = argv(&["b c", "d"]);
        let report = run(&cmd, &own(), &extra, &[], Duration::from_secs(10)).await;
        assert_eq!(report.output, "zero|a b c d\n", "{report:?}");
    }

    #[tokio::test]
    async fn argv0_is_passed_as_configured() {
        let report = run_own(&["sh", "-c", "echo $0"], Duration::from_secs(10)).await;
        assert_eq!(report.output, "sh\n", "{report:?}");
    }

    #[tokio::test]
    async fn exit_codes_and_signals_are_reported() {
        let report = run_own(&["sh", "-c", "exit 3"], Duration::from_secs(10)).await;
        assert_eq!(report.outcome, Outcome::Exited(3));
        let report = run_own(&["true"], Duration::from_secs(10)).await;
        assert_eq!(report.outcome, Outcome::Exited(0));
        let report = run_own(&["sh", "-c", "kill -TERM $$"], Duration::from_secs(10)).await;
        assert_eq!(report.outcome, Outcome::Signalled(libc::SIGTERM));
    }

    fn first_line_pid(output: &str) -> i32 {
        output
            .lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .unwrap_or_else(|| panic!("no pid in {output:?}"))
    }

    #[tokio::test]
    async fn at_the_timeout_the_whole_group_is_killed() {
        let timeout = Duration::from_secs(1);
        let report = run_own(&["sh", "-c", "echo $$; sleep 100 & sleep 100"], timeout).await;
        assert_eq!(report.outcome, Outcome::TimedOut, "{report:?}");
        assert!(report.duration >= timeout, "{report:?}");
        assert!(report.duration < Duration::from_secs(3), "{report:?}");
        assert_group_gone(first_line_pid(&report.output)).await;
    }

    #[tokio::test]
    async fn a_dropped_run_kills_its_group() {
        let pid_file = std::env::temp_dir().join(format!("vipd-runner-{}", std::process::id()));
        let _ = fs::remove_file(&pid_file);
        let script = format!(
            "sleep 100 & echo $$ > {}; exec sleep 100",
            pid_file.display()
        );
        let (cmd, identity) = (command(&["sh", "-c", &script]), own());
        let mut running = Box::pin(run(&cmd, &identity, &[], &[], Duration::from_secs(100)));
        let pid = loop {
            tokio::select! {
                report = &mut running => panic!("ended: {report:?}"),
                () = tokio::time::sleep(Duration::from_millis(20)) => {
                    match fs::read_to_string(&pid_file) {
                        Ok(pid) if pid.ends_with('\n') => break pid,
                        _ => continue,
                    }
                }
            }
        };
        drop(running);
        let _ = fs::remove_file(&pid_file);
        assert_group_gone(first_line_pid(&pid)).await;
    }

    #[tokio::test]
    async fn a_flood_of_output_is_bounded() {
        let report = run_own(&["head", "-c", "10M", "/dev/zero"], Duration::from_secs(20)).await;
        assert_eq!(report.outcome, Outcome::Exited(0), "{:?}", report.outcome);
        assert!(report.output.len() < OUTPUT_LIMIT + 100);
        assert!(
            report
                .output
                .ends_with("(truncated: 10485760 bytes in all, the first 4096 kept)"),
            "{:?}",
            &report.output[OUTPUT_LIMIT - 10..]
        );
        let report = run_own(&["yes"], Duration::from_secs(1)).await;
        assert_eq!(report.outcome, Outcome::TimedOut);
        assert!(
            report.duration < Duration::from_secs(3),
            "{:?}",
            report.duration
        );
        assert!(report.output.starts_with("y\ny\n"));
        assert!(report.output.len() < OUTPUT_LIMIT + 100);
    }

    #[tokio::test]
    async fn a_daemon_holding_the_pipe_does_not_hang_the_run() {
        let started = std::time::Instant::now();
        let report = run_own(
            &["sh", "-c", "echo $$; sleep 30 & echo started"],
            Duration::from_secs(20),
        )
        .await;
        let elapsed = started.elapsed();
        let pgid = first_line_pid(&report.output);
        let survivors = live_members(pgid);
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        assert_eq!(report.outcome, Outcome::Exited(0), "{report:?}");
        assert!(report.output.ends_with("started\n"), "{report:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        // On a normal exit what the command left running is left alone.
        assert!(!survivors.is_empty());
    }

    #[tokio::test]
    async fn an_exec_failure_is_not_started() {
        let Some(scratch) = Scratch::new() else {
            return;
        };
        let script = scratch.file("bad-interpreter", "#!/nonexistent/interpreter\n", 0o755);
        let report = run_own(&[&script], Duration::from_secs(10)).await;
        match report.outcome {
            Outcome::NotStarted(reason) => assert!(reason.contains(&script), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn resolve_finds_bare_names_on_the_fixed_path() {
        let cmd = command(&["true", "x"]);
        assert!(
            PATH.split(':')
                .any(|dir| cmd.program() == Path::new(dir).join("true"))
        );
        assert_eq!(cmd.args(), ["x"]);
        assert_eq!(cmd.arg0, "true");
        let error = resolve(&argv(&["vipd-no-such-command"])).unwrap_err();
        assert!(
            error.contains("vipd-no-such-command") && error.contains(PATH),
            "{error}"
        );
    }

    #[test]
    fn resolve_rejects_what_cannot_be_run() {
        let cases = [
            (vec![], "empty"),
            (argv(&[""]), "empty"),
            (argv(&["bin/true"]), "absolute"),
            (argv(&["/nonexistent/vipd-test"]), "/nonexistent"),
            (argv(&["/etc"]), "not a regular file"),
            (argv(&["/etc/passwd"]), "not executable"),
        ];
        for (argv, expected) in cases {
            let error = resolve(&argv).unwrap_err();
            assert!(error.contains(expected), "{argv:?}: {error}");
        }
    }

    #[test]
    fn resolve_rejects_files_others_may_change() {
        let Some(scratch) = Scratch::new() else {
            return;
        };
        let good = scratch.file("good", "#!/bin/sh\n", 0o755);
        assert!(resolve(&argv(&[&good])).is_ok());
        let open = scratch.file("open", "#!/bin/sh\n", 0o757);
        let error = resolve(&argv(&[&open])).unwrap_err();
        assert!(error.contains("writable by everyone"), "{error}");
        let grouped = scratch.file("grouped", "#!/bin/sh\n", 0o775);
        nix::unistd::chown(
            grouped.as_str(),
            None,
            Some(nix::unistd::Gid::from_raw(65534)),
        )
        .expect("chgrp");
        let error = resolve(&argv(&[&grouped])).unwrap_err();
        assert!(error.contains("writable by group 65534"), "{error}");
        let shared = scratch.dir("shared", 0o777);
        let inside = shared.join("check");
        fs::write(&inside, "#!/bin/sh\n").expect("write");
        fs::set_permissions(&inside, fs::Permissions::from_mode(0o755)).expect("chmod");
        let error = resolve(&argv(&[&inside.to_string_lossy()])).unwrap_err();
        assert!(error.contains(&format!("{} is writable by everyone", shared.display())));
    }

    #[test]
    fn resolve_examines_the_directories_of_symbolic_links() {
        let Some(scratch) = Scratch::new() else {
            return;
        };
        let shared = scratch.dir("shared", 0o777);
        let link = scratch.0.join("link");
        std::os::unix::fs::symlink(shared.join("hop"), &link).expect("symlink");
        std::os::unix::fs::symlink("/bin/true", shared.join("hop")).expect("symlink");
        let error = resolve(&argv(&[&link.to_string_lossy()])).unwrap_err();
        assert!(error.contains("writable by everyone"), "{error}");
        let direct = scratch.0.join("direct");
        std::os::unix::fs::symlink("../../bin/true", &direct).expect("symlink");
        let cmd = resolve(&argv(&[&direct.to_string_lossy()])).expect("secure link");
        assert_eq!(cmd.program(), direct);
    }

    #[test]
    fn a_file_of_another_user_is_not_run_as_root() {
        let Some(scratch) = Scratch::new() else {
            return;
        };
        let theirs = scratch.file("theirs", "#!/bin/sh\n", 0o755);
        nix::unistd::chown(
            theirs.as_str(),
            Some(nix::unistd::Uid::from_raw(65534)),
            None,
        )
        .expect("chown");
        let cmd = resolve(&argv(&[&theirs])).expect("its directories are root's");
        let error = cmd.usable_by(&own()).unwrap_err();
        assert!(error.contains("nobody (uid 65534)"), "{error}");
        assert_eq!(
            cmd.usable_by(&identity(Some("nobody")).expect("nobody")),
            Ok(())
        );
        let private = scratch.file("private", "#!/bin/sh\n", 0o700);
        let cmd = resolve(&argv(&[&private])).expect("root's");
        let error = cmd
            .usable_by(&identity(Some("nobody")).expect("nobody"))
            .unwrap_err();
        assert!(error.contains("does not let"), "{error}");
    }

    #[test]
    fn identities() {
        let own = own();
        assert_eq!(own.uid(), nix::unistd::geteuid().as_raw());
        assert_eq!(own.user(), None);
        assert!(own.to_string().contains("own user"));
        let error = identity(Some("vipd-no-such-user")).unwrap_err();
        assert!(error.contains("no such user"), "{error}");
        let effective = caps::effective().expect("capget");
        let verdict = can_drop_privileges(&own);
        if !own.root || caps::has(effective, caps::SETPCAP) {
            assert_eq!(verdict, Ok(()));
        } else if !caps::bounding_is_empty() {
            assert!(verdict.unwrap_err().contains("CAP_SETPCAP"));
        }
        let nobody = identity(Some("nobody")).expect("nobody");
        let may_switch = caps::has(effective, caps::SETUID) && caps::has(effective, caps::SETGID);
        if nobody.switch && !may_switch {
            let error = can_drop_privileges(&nobody).unwrap_err();
            assert!(error.contains("CAP_SETUID and CAP_SETGID"), "{error}");
        } else {
            assert_eq!(can_drop_privileges(&nobody), Ok(()));
        }
    }

    #[test]
    fn capture_keeps_the_head_and_whole_characters() {
        let mut capture = Capture::default();
        capture.push(b"hello\n");
        assert_eq!(capture.finish(), "hello\n");
        let mut capture = Capture::default();
        capture.push(&[b'a'; OUTPUT_LIMIT - 1]);
        capture.push("é and more".as_bytes());
        let text = capture.finish();
        assert!(text.starts_with(&"a".repeat(OUTPUT_LIMIT - 1)));
        assert!(text.ends_with("\n(truncated: 4106 bytes in all, the first 4095 kept)"));
        assert!(!text.contains('\u{FFFD}'), "{text}");
    }

    #[test]
    fn last_cap_is_the_kernels() {
        let from_proc = fs::read_to_string("/proc/sys/kernel/cap_last_cap").expect("proc");
        assert_eq!(caps::last_cap().to_string(), from_proc.trim());
    }
}

//! One agent per configuration and per control socket. A second `vipd run` with the same
//! file or socket would take the live master's addresses for leftovers, steal its control
//! socket and become a second master; it is refused before it touches anything.
//!
//! The locks are `flock`s, which the kernel drops when the holder dies however it dies, so
//! a crash never leaves a stale lock behind. The refusal names the holder's pid, read from
//! `/proc/locks`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Held for the agent's lifetime; dropping it releases the locks.
#[derive(Debug)]
pub struct Locks {
    _config: File,
    socket: File,
}

/// The lock file beside a control socket (the socket itself cannot be locked before it is
/// bound, and binding is what must not happen twice).
pub fn socket_lock_path(socket: &Path) -> PathBuf {
    let mut name = socket.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Lock the configuration file and the control socket's lock file, or say who holds them.
pub fn acquire(config: &Path, socket: &Path) -> Result<Locks, String> {
    let config_file = File::open(config)
        .map_err(|e| format!("{}: cannot open for locking: {e}", config.display()))?;
    lock(&config_file).map_err(|holder| {
        format!(
            "{}: another vipd{} is already running with this configuration; stop it first",
            config.display(),
            holder
        )
    })?;
    Ok(Locks {
        _config: config_file,
        socket: lock_socket(socket)?,
    })
}

impl Locks {
    /// A reload moved the control socket: hold the new one's lock (from [`lock_socket`])
    /// and let the old one go.
    pub fn replace_socket(&mut self, lock: File) {
        self.socket = lock;
    }
}

/// Lock a control socket's lock file, or say who holds it.
pub fn lock_socket(socket: &Path) -> Result<File, String> {
    let lock_path = socket_lock_path(socket);
    let socket_file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| format!("{}: cannot create the lock file: {e}", lock_path.display()))?;
    lock(&socket_file).map_err(|holder| {
        format!(
            "{}: another vipd{} already serves this control socket; give each agent its own \
             global.control_socket",
            socket.display(),
            holder
        )
    })?;
    Ok(socket_file)
}

/// Take an exclusive lock without waiting; on refusal, `" (pid N)"` naming the holder when
/// it can be found, else an empty string.
fn lock(file: &File) -> Result<(), String> {
    // SAFETY: flock on a descriptor this function borrows; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
        // A file system without flock support (some network file systems): no guard,
        // but no reason to refuse to run either.
        tracing::warn!(error = %err, "cannot take the single-agent lock; continuing without it");
        return Ok(());
    }
    let holder = file
        .metadata()
        .ok()
        .and_then(|m| std::fs::read_to_string("/proc/locks").ok().map(|t| (m, t)))
        .and_then(|(m, text)| holder_pid(&text, m.dev(), m.ino()));
    Err(holder.map_or_else(String::new, |pid| format!(" (pid {pid})")))
}

/// The pid holding a lock on the file with this device and inode, from `/proc/locks`
/// (`1: FLOCK  ADVISORY  WRITE 2245 fd:01:1367 0 EOF`; `->` marks waiters).
fn holder_pid(proc_locks: &str, dev: u64, ino: u64) -> Option<u32> {
    let want = format!("{:02x}:{:02x}:{ino}", libc::major(dev), libc::minor(dev));
    proc_locks
        .lines()
        .filter(|line| !line.contains("->"))
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = fields.iter().position(|f| *f == want)?;
            fields.get(at.checked_sub(1)?)?.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_holder_in_proc_locks() {
        let dev = libc::makedev(0xfd, 1);
        let text = "1: POSIX  ADVISORY  WRITE 77 00:1b:99 0 EOF\n\
                    2: FLOCK  ADVISORY  WRITE 2245 fd:01:1367 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 3000 fd:01:1367 0 EOF\n";
        assert_eq!(holder_pid(text, dev, 1367), Some(2245));
        assert_eq!(holder_pid(text, dev, 1368), None);
    }

    #[test]
    fn a_second_lock_is_refused_and_names_this_process() {
        let dir = std::env::temp_dir().join(format!("vipd-lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = dir.join("vipd.toml");
        std::fs::write(&config, "").expect("config file");
        let socket = dir.join("vipd.sock");
        let first = acquire(&config, &socket).expect("first lock");
        let err = acquire(&config, &socket).expect_err("second lock must be refused");
        assert!(err.contains("already running"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        // Another configuration on the same socket is refused too.
        let other = dir.join("other.toml");
        std::fs::write(&other, "").expect("other config");
        let err = acquire(&other, &socket).expect_err("same socket must be refused");
        assert!(err.contains("control socket"), "{err}");
        drop(first);
        acquire(&config, &socket).expect("lock again once released");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

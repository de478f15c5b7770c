//! The native process check behind `track = [{ process = "NAME" }]`: one scan of `/proc`,
//! nothing spawned, so a check costs a few reads of procfs instead of a fork and an exec.
//!
//! A name of up to 15 bytes is compared with the kernel's command name (`comm`, which the
//! kernel cuts to 15 bytes: what `pgrep -x` and `ps -o comm` show). A longer name cannot
//! match a `comm`, so it is compared with the file name of `argv[0]` instead.
//!
//! The scan reads `/proc/PID/stat` rather than `/proc/PID/comm`: the same name, and the state
//! in the same read, so a zombie (state `Z`, already dead, not yet reaped) is not counted as
//! running. Processes that exit during the scan are skipped. Every read is bounded.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

/// The longest name the kernel keeps in `comm` (TASK_COMM_LEN less its terminating NUL).
const COMM_MAX: usize = 15;
/// `/proc/PID/stat` is one line well under this.
const STAT_LIMIT: u64 = 4096;
/// Enough for `argv[0]` of any sane program; a longer one is compared as cut.
const CMDLINE_LIMIT: u64 = 4096;

/// The configured names that have at least one live process now.
///
/// Returned as a set of the names as given (a name listed twice is in the set once); a name
/// is running when `running(names).contains(name)`. An unreadable `/proc` gives the empty
/// set: every process counts as not running, which the caller reports as failing.
///
/// Synchronous: procfs reads do not wait on devices, but the scan is proportional to the
/// number of processes on the host, so a caller with a tight timing budget and a host with
/// tens of thousands of processes can move it to `spawn_blocking`.
pub fn running(names: &[String]) -> HashSet<String> {
    let mut found = HashSet::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    let need_cmdline = wanted.iter().any(|name| name.len() > COMM_MAX);
    for entry in entries.flatten() {
        if found.len() == wanted.len() {
            break;
        }
        let Some(process) = Process::read(&entry.path(), need_cmdline) else {
            continue;
        };
        for name in &wanted {
            if !found.contains(*name) && process.is_named(name) {
                found.insert((*name).to_owned());
            }
        }
    }
    found
}

/// What the scan needs of one process.
struct Process {
    comm: Vec<u8>,
    /// The file name of `argv[0]`; read only when a configured name is too long for `comm`.
    program: Option<Vec<u8>>,
}

impl Process {
    /// `None` for what is not a live process: a non-numeric entry, a zombie, a process that
    /// exited before it could be read.
    fn read(dir: &Path, need_cmdline: bool) -> Option<Process> {
        let is_pid = dir
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()));
        if !is_pid {
            return None;
        }
        let stat = read_bounded(&dir.join("stat"), STAT_LIMIT)?;
        let (comm, state) = parse_stat(&stat)?;
        if matches!(state, b'Z' | b'X' | b'x') {
            return None;
        }
        let program = if need_cmdline {
            read_bounded(&dir.join("cmdline"), CMDLINE_LIMIT).map(|line| argv0_file_name(&line))
        } else {
            None
        };
        Some(Process {
            comm: comm.to_vec(),
            program,
        })
    }

    fn is_named(&self, name: &str) -> bool {
        if name.len() <= COMM_MAX {
            self.comm == name.as_bytes()
        } else {
            self.program.as_deref() == Some(name.as_bytes())
        }
    }
}

/// The command name and the state letter from `PID (COMM) S ...`. The name may itself hold
/// spaces and parentheses, so it ends at the last `)`.
fn parse_stat(stat: &[u8]) -> Option<(&[u8], u8)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat.get(open + 1..close)?;
    let state = *stat.get(close + 2)?;
    Some((comm, state))
}

/// The file name of the first NUL-separated argument (`/usr/sbin/haproxy` → `haproxy`).
fn argv0_file_name(cmdline: &[u8]) -> Vec<u8> {
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let start = argv0
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |slash| slash + 1);
    argv0[start..].to_vec()
}

fn read_bounded(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)
        .ok()?
        .take(limit)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn finds_this_test_process_by_its_comm() {
        let comm = fs::read_to_string("/proc/self/comm").expect("own comm");
        let comm = comm.trim_end_matches('\n').to_owned();
        let found = running(std::slice::from_ref(&comm));
        assert!(found.contains(&comm), "{comm:?} not found");
    }

    /// Scans until the wanted names show up: spawn returns once the child has let go of
    /// the parent's memory, a moment before the kernel sets its new comm and argv.
    fn scan_until_found(wanted: &[String], expected: usize) -> HashSet<String> {
        let mut found = running(wanted);
        for _ in 0..200 {
            if found.len() >= expected {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            found = running(wanted);
        }
        found
    }

    #[test]
    fn finds_a_spawned_sleep_and_not_a_missing_name() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let found = scan_until_found(&names(&["sleep", "vipd-no-such-process"]), 1);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains("sleep"), "{found:?}");
        assert!(!found.contains("vipd-no-such-process"), "{found:?}");
    }

    #[test]
    fn a_long_name_matches_the_file_name_of_argv0() {
        // The kernel cuts comm to 15 bytes; the long name is seen in argv[0].
        let long = "vipd-procs-test-long-name";
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .arg0(format!("/some/dir/{long}"))
            .spawn()
            .expect("spawn sleep");
        let found = scan_until_found(&names(&[long, "vipd-procs-test-long-other"]), 1);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(long), "{found:?}");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_zombie_is_not_running() {
        let child = std::process::Command::new("true").spawn().expect("spawn");
        let dir = Path::new("/proc").join(child.id().to_string());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // Not reaped yet: wait until the kernel shows it dead.
        while Process::read(&dir, false).is_some() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(Process::read(&dir, false).is_none());
        let mut child = child;
        let _ = child.wait();
    }

    #[test]
    fn stat_with_parentheses_and_spaces_in_the_name() {
        let stat = b"123 (a) b (c)) S 1 123 123 0 -1";
        assert_eq!(parse_stat(stat), Some((&b"a) b (c)"[..], b'S')));
        assert_eq!(parse_stat(b"123 (x"), None);
        assert_eq!(argv0_file_name(b"/usr/sbin/haproxy\0-f\0x"), b"haproxy");
        assert_eq!(argv0_file_name(b"haproxy"), b"haproxy");
        assert_eq!(argv0_file_name(b""), b"");
    }
}

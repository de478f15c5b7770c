//! The `vipd` binary's command line: log filters and where logs go.
//!
//! The runs that get past the log filter use a configuration that cannot start: its interface
//! does not exist and its control socket's directory is a regular file. The agent then exits 1
//! without touching any interface, as root (the control socket cannot be bound) or not (the
//! raw sockets cannot be opened), so these tests are safe on a developer's machine and in CI.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ALLOWED: &str = "allowed: error, warn (or warning), info, debug, trace or off";

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("vipd-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A valid configuration with which the agent stops at start-up (see the module comment).
    fn config(&self) -> PathBuf {
        std::fs::write(self.path("not-a-dir"), "").expect("write a file");
        let text = format!(
            "[global]\nrouter_id = \"t\"\ncontrol_socket = \"{}\"\n\n[[instance]]\n\
             name = \"web\"\ninterface = \"vipd-none0\"\nvrid = 51\n\
             virtual_addresses = [\"10.99.0.50/24\"]\n",
            self.path("not-a-dir/vipd.sock").display()
        );
        let path = self.path("vipd.toml");
        std::fs::write(&path, text).expect("write the configuration");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

/// Runs vipd with stderr going to `stderr` (a regular file, as it is for a service whose
/// stderr is not a terminal), at most 30 s.
fn vipd_to(stderr: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipd"));
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(stderr).expect("create the stderr file"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start vipd");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for vipd") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vipd {args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.code(),
        stderr: std::fs::read_to_string(stderr).expect("read stderr"),
    }
}

fn vipd(scratch: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    vipd_to(&scratch.path("stderr.txt"), args, env)
}

#[test]
fn an_unknown_log_level_is_a_usage_error() {
    let s = Scratch::new("bogus");
    let config = s.config();
    let config = config.to_str().expect("UTF-8 path");
    for level in ["bogus", "warnings", "vipd", "vipd=loud", ""] {
        let out = vipd(&s, &["run", "-c", config, "--log-level", level], &[]);
        assert_eq!(out.code, Some(2), "--log-level {level:?}: {}", out.stderr);
        assert!(out.stderr.contains("--log-level"), "{}", out.stderr);
        assert!(out.stderr.contains(ALLOWED), "{}", out.stderr);
        // Refused before anything else: no log line, no configuration or start-up error.
        assert!(!out.stderr.contains(" ERROR "), "{}", out.stderr);
        assert!(!out.stderr.contains("vipd.toml"), "{}", out.stderr);
    }
    // The configuration itself is fine.
    let out = vipd(&s, &["check", "-c", config], &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn an_invalid_rust_log_is_a_usage_error() {
    let s = Scratch::new("rust-log");
    let config = s.config();
    let config = config.to_str().expect("UTF-8 path");
    for value in ["bogus", "warnings", "vipd=loud"] {
        let out = vipd(&s, &["run", "-c", config], &[("RUST_LOG", value)]);
        assert_eq!(out.code, Some(2), "RUST_LOG={value:?}: {}", out.stderr);
        assert!(out.stderr.contains("RUST_LOG"), "{}", out.stderr);
        assert!(out.stderr.contains(ALLOWED), "{}", out.stderr);
    }
}

#[test]
fn accepted_log_filters_get_past_the_check() {
    let s = Scratch::new("accepted");
    let config = s.config();
    let config = config.to_str().expect("UTF-8 path");
    // (--log-level, RUST_LOG)
    let runs = [
        (Some("warning"), None),
        (Some("WARN"), None),
        (Some("vipd=debug,info"), None),
        (None, Some("Warning")),
        (None, Some("")),
        // --log-level wins over RUST_LOG, which is then not looked at.
        (Some("info"), Some("bogus")),
    ];
    for (level, rust_log) in runs {
        let mut args = vec!["run", "-c", config];
        args.extend(level.iter().flat_map(|l| ["--log-level", l]));
        let env: Vec<_> = rust_log.iter().map(|v| ("RUST_LOG", *v)).collect();
        let out = vipd(&s, &args, &env);
        // Exit 1: the agent got as far as starting, and could not (see the module comment).
        assert_eq!(out.code, Some(1), "{args:?} {env:?}: {}", out.stderr);
        assert!(!out.stderr.contains("allowed:"), "{}", out.stderr);
        assert!(out.stderr.contains(" ERROR "), "{}", out.stderr);
    }
}

#[test]
fn logs_to_stderr_without_colour_when_stderr_is_not_a_terminal() {
    let s = Scratch::new("stderr");
    let config = s.config();
    let config = config.to_str().expect("UTF-8 path");
    // JOURNAL_STREAM that names another file (a child of a service whose stderr was redirected).
    for env in [&[][..], &[("JOURNAL_STREAM", "1:1")][..]] {
        let out = vipd(&s, &["run", "-c", config], env);
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(out.stderr.contains(" ERROR "), "{}", out.stderr);
        assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
        assert!(!out.stderr.contains("journal"), "{}", out.stderr);
    }
}

#[test]
fn lines_carry_syslog_priorities_when_stderr_is_the_journal() {
    let s = Scratch::new("journal");
    let config = s.config();
    let config = config.to_str().expect("UTF-8 path");
    let stderr = s.path("stderr.txt");
    File::create(&stderr).expect("create the stderr file");
    let meta = std::fs::metadata(&stderr).expect("stat the stderr file");
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let out = vipd_to(
        &stderr,
        &["run", "-c", config],
        &[("JOURNAL_STREAM", &stream)],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let first = out.stderr.lines().next().unwrap_or_default();
    // `<3>` is syslog's "error"; journald reads it as the entry's priority and adds the
    // timestamp itself, so the line starts with the level, not a time.
    assert!(first.starts_with("<3>ERROR "), "{}", out.stderr);
}

/// `vipd check` with one file per host compares them: an interval that differs between the
/// two routers of a VRID is an error naming both files and lines; a tie only a warning.
#[test]
fn check_compares_the_files_of_several_hosts() {
    let dir = Scratch::new("fleet");
    let write = |name: &str, prio: u8, interval: &str| {
        let path = dir.path(name);
        let text = format!(
            "[[instance]]\nname = \"web\"\ninterface = \"eth0\"\nvrid = 51\npriority = {prio}\n\
             advert_interval = \"{interval}\"\nvirtual_addresses = [\"10.0.0.50/24\"]\n"
        );
        std::fs::write(&path, text).expect("write a host's file");
        path.display().to_string()
    };
    let (a, b) = (write("a.toml", 150, "100ms"), write("b.toml", 100, "200ms"));
    let out = Command::new(env!("CARGO_BIN_EXE_vipd"))
        .args(["check", "-c", &a, "-c", &b])
        .output()
        .expect("run vipd check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {a}:1 and {b}:1: vrid 51 ipv4 on eth0: advert_interval differs"
        )),
        "{stderr}"
    );
    let c = write("c.toml", 150, "100ms");
    let out = Command::new(env!("CARGO_BIN_EXE_vipd"))
        .args(["check", "-c", &a, "-c", &c])
        .output()
        .expect("run vipd check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a tie is only a warning: {stderr}"
    );
    assert!(
        stderr.contains("warning:") && stderr.contains("equal priority 150"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 hosts: 0 error(s), 1 warning(s)"),
        "{stdout}"
    );
}

/// `vipd plan` with two hosts: the master, the takeover after its last advert, the return;
/// `--fail` of an unknown host is a usage error naming the hosts.
#[test]
fn plan_shows_master_takeover_and_return() {
    let dir = Scratch::new("plan");
    let write = |name: &str, prio: u8| {
        let path = dir.path(&format!("{name}.toml"));
        let text = format!(
            "[global]\nrouter_id = \"{name}\"\n\n[[instance]]\nname = \"web\"\n\
             interface = \"eth0\"\nvrid = 51\npriority = {prio}\nadvert_interval = \"100ms\"\n\
             virtual_addresses = [\"10.0.0.50/24\"]\n"
        );
        std::fs::write(&path, text).expect("write a host's file");
        path.display().to_string()
    };
    let (a, b) = (write("lb1", 150), write("lb2", 100));
    let out = Command::new(env!("CARGO_BIN_EXE_vipd"))
        .args(["plan", "-c", &a, "-c", &b])
        .output()
        .expect("run vipd plan");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for line in [
        "  master: lb1",
        "  if lb1 fails: lb2 takes over 361 ms after its last advert",
        "  if lb2 fails too: nobody is left",
        "  when lb1 returns: it takes over again",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vipd"))
        .args(["plan", "-c", &a, "-c", &b, "--fail", "lb3", "--json"])
        .output()
        .expect("run vipd plan --fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the hosts are lb1, lb2"), "{stderr}");
}

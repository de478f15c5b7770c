//! For tests that need the kernel: a throw-away network namespace with a veth pair, and a
//! thread that runs async code inside it.

use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::process::Command;

/// Deletes the test namespace (and with it the veth pair) even on panic.
pub struct Netns(pub String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// `ip -n NS ARGS`, panicking with ip's stderr on failure.
pub fn ip(ns: &str, args: &str) {
    let out = Command::new("ip")
        .args(["-n", ns])
        .args(args.split_whitespace())
        .output()
        .expect("running ip");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ip -n {ns} {args}: {stderr}");
}

/// A fresh namespace with a veth pair va <-> vb, both up; `None` (with the
/// reason printed) when the environment cannot run these tests.
pub fn netns(tag: &str) -> Option<Netns> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping namespace test: needs root");
        return None;
    }
    let name = format!("vipdt{}{tag}", std::process::id());
    let _ = Command::new("ip").args(["netns", "del", &name]).output();
    match Command::new("ip").args(["netns", "add", &name]).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            eprintln!("skipping namespace test: `ip netns add` failed: {stderr}");
            return None;
        }
        Err(e) => {
            eprintln!("skipping namespace test: cannot run `ip`: {e}");
            return None;
        }
    }
    let ns = Netns(name);
    ip(&ns.0, "link add va type veth peer name vb");
    ip(&ns.0, "link set va address 02:00:5e:10:00:01");
    ip(&ns.0, "link set va up");
    ip(&ns.0, "link set vb up");
    Some(ns)
}

/// Runs `body` on a thread that entered the namespace, with its own
/// current-thread runtime (setns is per thread, and netlink sockets bind
/// to the netns of the thread that creates them).
pub fn run_in<F, Fut>(ns: &Netns, body: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let name = ns.0.clone();
    let thread = std::thread::spawn(move || {
        let path = format!("/run/netns/{name}");
        let file = std::fs::File::open(&path).expect("opening the netns file");
        // SAFETY: a valid namespace fd; only this thread's netns changes.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", io::Error::last_os_error());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building a runtime");
        runtime.block_on(body(name));
    });
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// A second namespace holding `vb` (up), so that what `va` sends arrives from another host:
/// a namespace drops datagrams that arrive from one of its own addresses.
pub fn move_peer(ns: &Netns) -> Netns {
    let peer = Netns(format!("{}p", ns.0));
    let _ = Command::new("ip").args(["netns", "del", &peer.0]).output();
    let out = Command::new("ip")
        .args(["netns", "add", &peer.0])
        .output()
        .expect("running ip");
    assert!(out.status.success(), "ip netns add {}", peer.0);
    ip(&ns.0, &format!("link set vb netns {}", peer.0));
    ip(&peer.0, "link set vb up");
    peer
}

/// `f`, run on a thread that entered namespace `ns` (sockets belong to the namespace of the
/// thread that opens them), inside `runtime` so that it may register with its reactor.
pub fn opened_in<T: Send>(
    ns: &Netns,
    runtime: &tokio::runtime::Handle,
    f: impl FnOnce() -> T + Send,
) -> T {
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| {
            let path = format!("/run/netns/{}", ns.0);
            let file = std::fs::File::open(&path).expect("opening the netns file");
            // SAFETY: a valid namespace fd; only this thread's netns changes.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", io::Error::last_os_error());
            let _entered = runtime.enter();
            f()
        });
        match thread.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

//! systemd's notification protocol (sd_notify(3)) without libsystemd: one datagram per
//! message to the Unix socket named by `NOTIFY_SOCKET` (a path, or `@name` for an abstract
//! socket). `READY=1` once every instance has joined its election, `STATUS=` as states
//! change, `WATCHDOG=1` from the event loop itself when `WATCHDOG_USEC` asks for it (so a
//! stuck loop gets the agent restarted), `STOPPING=1` at shutdown.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

pub struct Notifier {
    socket: UnixDatagram,
    target: SocketAddr,
}

impl Notifier {
    /// From the environment; `None` when not started by systemd with `Type=notify`.
    pub fn from_env() -> Option<Notifier> {
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let path = path.to_str()?;
        let target = match path.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes()).ok()?,
            None => SocketAddr::from_pathname(path).ok()?,
        };
        let socket = UnixDatagram::unbound().ok()?;
        // Never block the event loop on systemd: a lost message is better than a stall.
        socket.set_nonblocking(true).ok()?;
        Some(Notifier { socket, target })
    }

    pub fn send(&self, message: &str) {
        if let Err(e) = self.socket.send_to_addr(message.as_bytes(), &self.target) {
            tracing::debug!(error = %e, message, "sd_notify message not sent");
        }
    }
}

/// How often to ping the watchdog: half the period systemd gave (`WATCHDOG_USEC`), when it
/// is meant for this process (`WATCHDOG_PID`, if set, is our pid).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// `STATUS=` text: `2 master, 1 backup, 0 fault`.
pub fn status_line(master: usize, backup: usize, fault: usize) -> String {
    format!("STATUS={master} master, {backup} backup, {fault} fault")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_a_socket() {
        let dir = std::env::temp_dir().join(format!("vipd-sdnotify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("notify.sock");
        let server = UnixDatagram::bind(&path).expect("bind");
        let notifier = Notifier {
            socket: UnixDatagram::unbound().expect("socket"),
            target: SocketAddr::from_pathname(&path).expect("address"),
        };
        notifier.send("READY=1");
        notifier.send(&status_line(2, 1, 0));
        let mut buf = [0u8; 128];
        let n = server.recv(&mut buf).expect("first");
        assert_eq!(&buf[..n], b"READY=1");
        let n = server.recv(&mut buf).expect("second");
        assert_eq!(&buf[..n], b"STATUS=2 master, 1 backup, 0 fault");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

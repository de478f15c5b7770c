//! The node's next deadline, with sub-millisecond precision. tokio's timers round every
//! deadline up to their next 1 ms tick, which erases the fraction of a millisecond that
//! separates two backups' master-down timers at 10 ms adverts (and adds about a millisecond
//! to every takeover). A timerfd armed at an absolute CLOCK_MONOTONIC time, read through
//! tokio's reactor, fires within the kernel's timer slack (50 µs by default) of it instead.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

/// Read CLOCK_MONOTONIC, the clock of `Instant` and of the timerfd.
fn monotonic() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map_or(Duration::ZERO, Duration::from)
}

/// tokio's reactor wants `AsRawFd`, which nix's `TimerFd` does not implement.
struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

pub struct Deadline {
    fd: AsyncFd<Fd>,
    /// CLOCK_MONOTONIC at the agent's epoch: a deadline `d` after the epoch is `base + d`.
    base: Duration,
    armed: Option<Duration>,
}

impl Deadline {
    /// A disarmed timer whose deadlines count from `epoch` (the agent's `now()` origin).
    pub fn new(epoch: Instant) -> io::Result<Deadline> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: the timerfd is owned by the AsyncFd from here on and is never closed or
        // replaced while registered; `Fd::as_raw_fd` always returns that descriptor.
        let fd = unsafe { AsyncFd::register(Fd(fd)) }.map_err(io::Error::from)?;
        Ok(Deadline {
            fd,
            base: monotonic().saturating_sub(epoch.elapsed()),
            armed: None,
        })
    }

    /// Fire at `at` after the epoch, or earlier; never, with `None`. A timer armed earlier
    /// than `at` stays so: it fires early, finds nothing due, and is set again then. A
    /// backup's master-down deadline moves with every advert, and re-arming each time
    /// would cost a system call per advert; this costs one per deadline that really passes.
    pub fn set(&mut self, at: Option<Duration>) -> io::Result<()> {
        let Some(at) = at else {
            return Ok(());
        };
        if self.armed.is_some_and(|armed| armed <= at) {
            return Ok(());
        }
        self.armed = Some(at);
        // A zero timespec would disarm it: a deadline at the epoch is 1 ns later.
        self.fd.get_ref().0.set(
            Expiration::OneShot(TimeSpec::from_duration(
                (self.base + at).max(Duration::from_nanos(1)),
            )),
            TimerSetTimeFlags::TFD_TIMER_ABSTIME,
        )?;
        Ok(())
    }

    /// Until the armed deadline passes (for ever while disarmed).
    pub async fn wait(&mut self) {
        loop {
            let Ok(mut ready) = self.fd.readable().await else {
                return std::future::pending().await;
            };
            let mut expirations = [0u8; 8];
            match nix::unistd::read(self.fd.get_ref().0.as_fd(), &mut expirations) {
                Ok(_) => {
                    self.armed = None;
                    return;
                }
                Err(nix::errno::Errno::EAGAIN) => ready.clear_ready(),
                // Nothing else is expected of a timerfd; do not spin on it.
                Err(_) => return std::future::pending().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Correctness only (never before the deadline it was armed at, an earlier deadline
    /// kept); how late it fires is measured by the
    /// benchmark, not asserted here.
    #[test]
    fn fires_at_its_deadline_never_before_and_keeps_the_earlier_one() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let epoch = Instant::now();
            let mut timer = Deadline::new(epoch).expect("timerfd");
            for n in 1..=20u64 {
                let at = epoch.elapsed() + Duration::from_micros(1_300 + n * 10);
                timer.set(Some(at)).expect("arm");
                timer.wait().await;
                let now = epoch.elapsed();
                assert!(now >= at, "fired {:?} early", at - now);
            }
            // A deadline already past fires at once.
            timer.set(Some(Duration::ZERO)).expect("arm in the past");
            tokio::time::timeout(Duration::from_secs(5), timer.wait())
                .await
                .expect("a past deadline fires");
            timer.set(None).expect("nothing to arm");
            let waited = tokio::time::timeout(Duration::from_millis(20), timer.wait()).await;
            assert!(waited.is_err(), "a timer with no deadline fired");
            // A later deadline does not put off an earlier one: it fires at the earlier.
            let early = epoch.elapsed() + Duration::from_millis(5);
            timer.set(Some(early)).expect("arm");
            timer
                .set(Some(early + Duration::from_secs(60)))
                .expect("kept");
            tokio::time::timeout(Duration::from_secs(5), timer.wait())
                .await
                .expect("the earlier deadline fires");
            assert!(epoch.elapsed() >= early);
        });
    }
}

//! A scheduling hint. The agent's work comes in short bursts that must start on time: a
//! backup's master-down timer at 10 ms adverts is 0.78 ms ahead of a lower backup's, and a
//! wake-up that waits for another task's time slice loses that race. Since Linux 6.12 a
//! normal (not real-time) task may ask for a shorter slice, which lets it preempt sooner
//! when it wakes, without a real-time policy or more CPU. Older kernels ignore the request.

/// The slice asked for: the kernel's smallest (0.1 ms).
const SLICE_NS: u64 = 100_000;
/// SCHED_FLAG_RESET_ON_FORK: the commands the agent runs get the default scheduling back.
const RESET_ON_FORK: u64 = 0x01;

/// `struct sched_attr` as of Linux 4.13 (SCHED_ATTR_SIZE_VER1).
#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

/// Ask for short slices for the calling thread (the agent's only one), keeping its policy
/// and nice value. Best effort: the caller only logs a failure.
pub fn prefer_short_slices() -> std::io::Result<()> {
    // SAFETY: getpriority has no memory effects; -1 can be a valid nice value, so errno
    // is cleared first and checked after.
    let nice = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    };
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: libc::SCHED_OTHER as u32,
        flags: RESET_ON_FORK,
        nice,
        priority: 0,
        runtime: SLICE_NS,
        deadline: 0,
        period: 0,
        util_min: 0,
        util_max: 0,
    };
    // SAFETY: `attr` is a live, correctly sized sched_attr for the duration of the call; the
    // kernel only reads it.
    let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &raw const attr, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slice the scheduler reports for `sched` (a /proc/.../sched file), if it does.
    fn slice_of(sched: &str) -> Option<u64> {
        let line = sched.lines().find(|l| l.starts_with("se.slice"))?;
        line.split(':').nth(1)?.trim().parse().ok()
    }

    /// Linux 6.12 or later: the kernels that honour a normal task's slice request.
    fn honours_slices() -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut parts = release
            .trim()
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().ok());
        matches!((parts.next().flatten(), parts.next().flatten()), (Some(major), Some(minor)) if (major, minor) >= (6, 12))
    }

    #[test]
    fn the_agent_gets_short_slices_and_its_commands_do_not() {
        if !honours_slices() {
            eprintln!("skipping: this kernel does not take a normal task's slice request");
            return;
        }
        // A thread of its own: the hint is per thread and must not leak into the harness.
        std::thread::spawn(|| {
            prefer_short_slices().expect("sched_setattr");
            let own = std::fs::read_to_string("/proc/thread-self/sched").expect("own sched");
            assert_eq!(slice_of(&own), Some(SLICE_NS), "{own}");
            let child = std::process::Command::new("cat")
                .arg("/proc/self/sched")
                .output()
                .expect("running cat");
            let theirs = String::from_utf8_lossy(&child.stdout);
            let slice = slice_of(&theirs).expect("the child's slice");
            assert_ne!(
                slice, SLICE_NS,
                "a command inherited the agent's slice: {theirs}"
            );
        })
        .join()
        .expect("the test thread");
    }
}

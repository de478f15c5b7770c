//! Rate limits for log lines that a fault can repeat thousands of times a second (send
//! errors, accept errors, hostile peers). Pure: the caller passes the time in.

use std::time::Duration;

/// Lets an occurrence through at most once per `every` and counts the ones it held back, so
/// the line that does get through can say how many it stands for.
#[derive(Clone, Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Duration>,
    held: u64,
}

impl Throttle {
    pub const fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            last: None,
            held: 0,
        }
    }

    /// `Some(n)` when this occurrence may be logged, `n` being how many were held back since
    /// the last one that was; `None` when it is to be dropped (and counted).
    pub fn pass(&mut self, now: Duration) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.saturating_sub(last) < self.every)
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }

    /// Forget the history: the next occurrence is logged at once (a fault that ended).
    pub fn reset(&mut self) {
        self.last = None;
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_once_per_period_and_counts_the_rest() {
        let ms = Duration::from_millis;
        let mut t = Throttle::new(ms(1000));
        assert_eq!(t.pass(ms(0)), Some(0));
        assert_eq!(t.pass(ms(1)), None);
        assert_eq!(t.pass(ms(999)), None);
        assert_eq!(t.pass(ms(1000)), Some(2));
        assert_eq!(t.pass(ms(1500)), None);
        t.reset();
        assert_eq!(t.pass(ms(1501)), Some(0));
    }
}

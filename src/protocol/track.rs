//! Tracked objects (health checks): how results move a tracker between healthy and failed,
//! and how trackers move an instance's priority or put it in FAULT. Pure rules; the node
//! holds the trackers and the agent runs the checks.

use serde::{Deserialize, Serialize};

/// The priority range weights may move a non-owner within: 0 is the release signal and 255
/// the address owner, neither of which tracking may produce.
const MIN_EFFECTIVE: i64 = 1;
const MAX_EFFECTIVE: i64 = 254;
const OWNER: u8 = 255;

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CheckResult {
    /// A script exited 0; a process is running.
    Passed,
    /// A script exited non-zero, was killed at its timeout or could not start; a process is
    /// not running; a file could not be read or parsed. `reason` says which.
    Failed { reason: String },
    /// A track file's number (a missing or empty file reads as 0).
    Value { value: i64 },
}

/// What kind of object a tracker watches, which decides how its weight applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Script,
    File,
    Interface,
    Process,
}

impl Kind {
    /// As status, logs and metrics name it (the serialized name).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Script => "script",
            Kind::File => "file",
            Kind::Interface => "interface",
            Kind::Process => "process",
        }
    }
}

/// A tracker's verdict and history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub healthy: bool,
    /// Consecutive results of the current kind (successes while they count up to `rise`,
    /// failures while they count up to `fall`, or beyond).
    pub consecutive: u32,
    /// A track file's value; 0 for other kinds.
    pub value: i64,
    /// The last result, for status.
    pub last: Option<CheckResult>,
}

impl Verdict {
    /// A tracker starts healthy, as keepalived's do: a host must not lose an election at
    /// start because its first check has not run yet.
    pub fn new() -> Verdict {
        Verdict {
            healthy: true,
            consecutive: 0,
            value: 0,
            last: None,
        }
    }

    /// Take in one result with `rise` consecutive successes needed to turn healthy and
    /// `fall` consecutive failures to turn failed. Returns whether `healthy` changed.
    pub fn apply(&mut self, result: CheckResult, rise: u32, fall: u32) -> bool {
        let before = self.healthy;
        let passed = match &result {
            CheckResult::Passed => true,
            CheckResult::Failed { .. } => false,
            // A file has no history: its number is its state, and 0 is the neutral one.
            CheckResult::Value { value } => {
                self.value = *value;
                self.healthy = *value == 0;
                self.consecutive = 1;
                self.last = Some(result);
                return before != self.healthy;
            }
        };
        let continues = passed == self.last_passed();
        self.consecutive = if continues {
            self.consecutive.saturating_add(1)
        } else {
            1
        };
        if passed && !self.healthy && self.consecutive >= rise {
            self.healthy = true;
        } else if !passed && self.healthy && self.consecutive >= fall {
            self.healthy = false;
            self.value = 0;
        }
        self.last = Some(result);
        before != self.healthy
    }

    fn last_passed(&self) -> bool {
        matches!(self.last, Some(CheckResult::Passed))
    }

    /// What this tracker adds to the priority with `weight`: a file adds weight x value; the
    /// others add a negative weight while failed and a positive one while healthy.
    pub fn contribution(&self, kind: Kind, weight: i32) -> i64 {
        let weight = i64::from(weight);
        match kind {
            Kind::File => weight.saturating_mul(self.value),
            _ if weight < 0 && !self.healthy => weight,
            _ if weight > 0 && self.healthy => weight,
            _ => 0,
        }
    }

    /// Weight 0 means the instance cannot serve while this fails: FAULT.
    pub fn faults(&self, weight: i32) -> bool {
        weight == 0 && !self.healthy
    }
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict::new()
    }
}

/// The configured priority moved by the trackers' contributions, within 1..=254; an address
/// owner (255) keeps 255 whatever the weights say.
pub fn effective_priority(configured: u8, contributions: impl Iterator<Item = i64>) -> u8 {
    if configured == OWNER {
        return OWNER;
    }
    let total = contributions.fold(i64::from(configured), i64::saturating_add);
    // In range after the clamp, so the conversion cannot fail.
    u8::try_from(total.clamp(MIN_EFFECTIVE, MAX_EFFECTIVE)).unwrap_or(OWNER - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> CheckResult {
        CheckResult::Failed {
            reason: "exit 1".into(),
        }
    }

    /// (rise, fall, results as P/F, healthy after each).
    #[test]
    fn rise_and_fall_as_a_table() {
        let rows: &[(u32, u32, &str, &str)] = &[
            (1, 1, "FPFP", "fhfh"),
            (1, 3, "FFFP", "hhfh"),
            (2, 3, "FFFPPF", "hhffhh"),
            (2, 1, "FPFPP", "ffffh"),
            (3, 2, "FFPPFPPP", "hffffffh"),
            (3, 2, "FFPPPP", "hfffhh"),
        ];
        for &(rise, fall, results, want) in rows {
            let mut v = Verdict::new();
            let want: Vec<char> = want.chars().collect();
            for (n, r) in results.chars().enumerate() {
                let result = if r == 'P' {
                    CheckResult::Passed
                } else {
                    failed()
                };
                v.apply(result, rise, fall);
                let got = if v.healthy { 'h' } else { 'f' };
                assert_eq!(
                    got,
                    want[n],
                    "rise {rise} fall {fall}: after {} results of {results}",
                    n + 1
                );
            }
        }
    }

    #[test]
    fn apply_reports_changes_only() {
        let mut v = Verdict::new();
        assert!(!v.apply(CheckResult::Passed, 1, 2));
        assert!(!v.apply(failed(), 1, 2));
        assert!(v.apply(failed(), 1, 2));
        assert!(!v.apply(failed(), 1, 2));
        assert_eq!(v.consecutive, 3);
        assert!(v.apply(CheckResult::Passed, 1, 2));
    }

    #[test]
    fn weights_by_kind() {
        let mut v = Verdict::new();
        assert_eq!(v.contribution(Kind::Script, -60), 0);
        assert_eq!(v.contribution(Kind::Script, 20), 20);
        assert!(!v.faults(0));
        v.apply(failed(), 1, 1);
        assert_eq!(v.contribution(Kind::Script, -60), -60);
        assert_eq!(v.contribution(Kind::Process, 20), 0);
        assert!(v.faults(0) && !v.faults(-1));
        let mut file = Verdict::new();
        file.apply(CheckResult::Value { value: 7 }, 1, 1);
        assert_eq!(file.contribution(Kind::File, -2), -14);
        assert!(!file.healthy && file.faults(0));
        file.apply(CheckResult::Value { value: 0 }, 1, 1);
        assert!(file.healthy && file.contribution(Kind::File, -2) == 0);
        file.apply(CheckResult::Value { value: i64::MAX }, 1, 1);
        assert_eq!(file.contribution(Kind::File, -253), i64::MIN, "saturates");
    }

    #[test]
    fn effective_priority_clamps_and_spares_the_owner() {
        assert_eq!(effective_priority(100, [-60, 20].into_iter()), 60);
        assert_eq!(effective_priority(100, [-200].into_iter()), 1);
        assert_eq!(effective_priority(200, [100].into_iter()), 254);
        assert_eq!(effective_priority(255, [-100].into_iter()), 255);
        assert_eq!(effective_priority(254, [i64::MIN].into_iter()), 1);
        assert_eq!(effective_priority(1, [i64::MAX].into_iter()), 254);
        assert_eq!(effective_priority(150, std::iter::empty()), 150);
    }
}

//! Values as keepalived writes them (numbers, seconds, booleans) and names as vipd wants them.

use std::collections::{HashMap, HashSet};

use crate::config::MAX_NAME_LEN;

/// Seconds as keepalived reads them (`1`, `0.5`, `2.71828`), in microseconds (keepalived's
/// timer resolution), rounded to the nearest microsecond.
pub(super) fn micros(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut part: u64 = 0;
    let f = frac.as_bytes();
    for i in 0..6 {
        part = part * 10 + f.get(i).map_or(0, |d| u64::from(d - b'0'));
    }
    if f.get(6).is_some_and(|d| *d >= b'5') {
        part += 1;
    }
    whole.checked_mul(1_000_000)?.checked_add(part)
}

/// An integer with an optional sign.
pub(super) fn integer(s: &str) -> Option<i64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// keepalived's `<BOOL>`; a keyword without a value means true.
pub(super) fn boolean(s: Option<&str>) -> Option<bool> {
    match s {
        None => Some(true),
        Some("on" | "true" | "yes") => Some(true),
        Some("off" | "false" | "no") => Some(false),
        Some(_) => None,
    }
}

/// A duration for vipd: `"2s"`, `"1500ms"`.
pub(in crate::import) fn duration(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Microseconds as keepalived would write them, for messages: `0.5 s`, `3 s`.
pub(super) fn seconds_text(us: u64) -> String {
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    if frac == 0 {
        format!("{whole} s")
    } else {
        let f = format!("{frac:06}");
        format!("{whole}.{} s", f.trim_end_matches('0'))
    }
}

/// Microseconds to whole `unit`s, rounded half up.
pub(super) fn round_to(us: u64, unit: u64) -> u64 {
    us.saturating_add(unit / 2) / unit
}

/// The names given out to one kind of vipd table, so that each is valid and unique.
#[derive(Default)]
pub(super) struct Names {
    taken: HashSet<String>,
    /// The next suffix to try for each name, so that many names that clean up the same do
    /// not each try every suffix.
    next: HashMap<String, usize>,
}

impl Names {
    /// A valid, unused vipd name for keepalived's `name`: characters outside
    /// `[A-Za-z0-9_.-]` become `_`, at most 64 characters, `-2`, `-3`... when taken. The
    /// second value says whether it differs from `name`.
    pub(super) fn claim(&mut self, name: &str) -> (String, bool) {
        let mut base: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .take(MAX_NAME_LEN)
            .collect();
        if base.is_empty() {
            base.push_str("unnamed");
        }
        let mut candidate = base.clone();
        let n = self.next.entry(base.clone()).or_insert(2);
        while self.taken.contains(&candidate) {
            let suffix = format!("-{n}");
            let keep = MAX_NAME_LEN.saturating_sub(suffix.len());
            let head: String = base.chars().take(keep).collect();
            candidate = format!("{head}{suffix}");
            *n += 1;
        }
        self.taken.insert(candidate.clone());
        let changed = candidate != name;
        (candidate, changed)
    }
}

/// A user name as vipd's `script_user` takes it (the portable characters, 1 to 32, not
/// starting with `-`).
pub(super) fn account_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// An interface name as Linux (and vipd) takes it.
pub(super) fn interface_ok(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > crate::config::MAX_IFNAME_LEN {
        return Err(format!(
            "`{name}` is not 1 to {} bytes long",
            crate::config::MAX_IFNAME_LEN
        ));
    }
    if name == "." || name == ".." || name.contains(['/', ':']) {
        return Err(format!("`{name}` is not a valid Linux interface name"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{name:?} is not a valid Linux interface name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds() {
        assert_eq!(micros("1"), Some(1_000_000));
        assert_eq!(micros("0.5"), Some(500_000));
        assert_eq!(micros(".25"), Some(250_000));
        assert_eq!(micros("2.7182818"), Some(2_718_282));
        assert_eq!(micros("1."), Some(1_000_000));
        assert_eq!(micros(""), None);
        assert_eq!(micros("."), None);
        assert_eq!(micros("-1"), None);
        assert_eq!(micros("1e3"), None);
        assert_eq!(micros("99999999999999999999"), None);
        assert_eq!(seconds_text(500_000), "0.5 s");
        assert_eq!(seconds_text(3_000_000), "3 s");
        assert_eq!(duration(1500), "1500ms");
        assert_eq!(duration(2000), "2s");
    }

    #[test]
    fn names() {
        let mut n = Names::default();
        assert_eq!(n.claim("VI_1"), ("VI_1".to_owned(), false));
        assert_eq!(n.claim("VI_1"), ("VI_1-2".to_owned(), true));
        assert_eq!(n.claim("web vip"), ("web_vip".to_owned(), true));
        assert_eq!(n.claim(""), ("unnamed".to_owned(), true));
        let long = "x".repeat(100);
        assert_eq!(n.claim(&long).0.len(), 64);
        assert_eq!(n.claim(&long).0.len(), 64);
    }
}

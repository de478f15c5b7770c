//! Checks of values that several tables share: names, interface names, durations, and the
//! argv of a command (a track script's or a notify command's).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use toml::Spanned;

use super::errors::Sink;
use super::{MAX_IFNAME_LEN, MAX_NAME_LEN, parse_duration};
use crate::protocol::units::Family;

/// What a duration looks like, for type errors and unparsable durations.
pub(super) const A_DURATION: &str =
    "a whole number with a unit ms, s or m, e.g. \"100ms\", \"1s\", \"2m\"";
/// An element of an argv.
pub(super) const A_ARG: &str = "a string without NUL bytes";
const A_PROGRAM: &str = "an absolute path, or a bare name (no '/', no whitespace) looked up in \
                         /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
pub(super) const A_INTERFACE: &str = "a Linux interface name: 1 to 15 bytes without '/', ':' or \
                                      whitespace, not \".\" or \"..\" (it need not exist yet)";

/// What a duration key accepts.
pub(super) struct DurationRule {
    pub(super) min: Duration,
    pub(super) max: Duration,
    /// The duration must be a whole number of steps.
    pub(super) step: Duration,
    pub(super) allowed: &'static str,
}

/// The duration `text` (at key path `key`) if it follows `rule`; otherwise the problem is
/// reported at the value.
pub(super) fn duration(
    text: &Spanned<String>,
    key: &str,
    rule: &DurationRule,
    sink: &mut Sink<'_>,
) -> Option<Duration> {
    sink.verify(text, key, rule.allowed, |t| {
        let d = parse_duration(t).map_err(|e| format!("\"{t}\" is not a duration: {e}"))?;
        if d < rule.min || d > rule.max {
            return Err(format!("\"{t}\" is out of range"));
        }
        if d.as_nanos() % rule.step.as_nanos().max(1) != 0 {
            return Err(format!(
                "\"{t}\" is not a multiple of {}ms",
                rule.step.as_millis()
            ));
        }
        Ok(d)
    })
}

/// For prose; `Family`'s own `Display` is the lower-case form used in logs and JSON.
pub(super) fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

pub(super) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "contains {c:?}, which is not allowed (names appear in logs and JSON)"
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "is {} characters long, more than {MAX_NAME_LEN}",
            name.len()
        ));
    }
    Ok(())
}

/// The rules of the Linux kernel's `dev_valid_name()`.
pub(super) fn check_interface(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.len() > MAX_IFNAME_LEN {
        return Err(format!(
            "`{name}` is {} bytes long; Linux interface names have at most {MAX_IFNAME_LEN} \
             (IFNAMSIZ 16 with the terminating NUL)",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a valid interface name"));
    }
    if name.contains('/') {
        return Err(format!(
            "`{name}` contains '/', which Linux does not allow in interface names"
        ));
    }
    if name.contains(':') {
        return Err(format!(
            "`{name}` contains ':', which Linux does not allow in interface names (`eth0:1` \
             is an address label, not an interface)"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{name:?} contains whitespace or a control character, which Linux does not \
             allow in interface names"
        ));
    }
    Ok(())
}

/// Names that must be unique in a list of tables: the first use of each, to point a second at.
pub(super) struct UniqueNames {
    /// The key of the list: `instance`.
    list: &'static str,
    /// The index and line of the first table with each name.
    first: HashMap<String, (usize, usize)>,
}

impl UniqueNames {
    pub(super) fn new(list: &'static str) -> UniqueNames {
        UniqueNames {
            list,
            first: HashMap::new(),
        }
    }

    /// Reports `name`, the name of table `i`, if an earlier table has it.
    pub(super) fn check(
        &mut self,
        i: usize,
        name: &Spanned<String>,
        allowed: &str,
        sink: &mut Sink<'_>,
    ) {
        let line = sink.line_of(&name.span());
        match self.first.entry(name.get_ref().clone()) {
            Entry::Occupied(first) => {
                let (j, first_line) = *first.get();
                let list = self.list;
                sink.push(
                    Some(name.span()),
                    format!("{list}[{i}].name"),
                    format!(
                        "`{}` is already the name of {list}[{j}] (line {first_line})",
                        name.get_ref()
                    ),
                    allowed,
                );
            }
            Entry::Vacant(slot) => {
                slot.insert((i, line));
            }
        }
    }
}

/// The argv of a command (at key path `key`; `allowed`: what the list may be). Commands never
/// go through a shell, so each argument is its own element, and the program must be found the
/// same way whatever the agent's working directory.
pub(super) fn argv(
    list: Spanned<Vec<Spanned<String>>>,
    key: &str,
    allowed: &str,
    sink: &mut Sink<'_>,
) -> Option<Vec<String>> {
    if list.get_ref().is_empty() {
        let problem = "the list is empty: its first element is the program to run";
        sink.push(Some(list.span()), key, problem, allowed);
        return None;
    }
    let before = sink.error_count();
    for (j, arg) in list.get_ref().iter().enumerate() {
        let key = format!("{key}[{j}]");
        if arg.get_ref().contains('\0') {
            let problem = "contains a NUL byte, which no program argument can hold";
            sink.push(Some(arg.span()), key, problem, A_ARG);
        } else if j == 0 {
            sink.verify(arg, key, A_PROGRAM, |p| program(p));
        }
    }
    let argv = list.into_inner().into_iter().map(Spanned::into_inner);
    (sink.error_count() == before).then(|| argv.collect())
}

fn program(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("the program is empty".to_owned());
    }
    if p.contains('/') && !p.starts_with('/') {
        return Err(format!(
            "`{p}` is a relative path, which would depend on the agent's working directory"
        ));
    }
    if !p.contains('/') && p.contains(char::is_whitespace) {
        let words: Vec<&str> = p.split_whitespace().collect();
        return Err(format!(
            "`{p}` contains whitespace, like a shell command line; commands run without a \
             shell, so give each argument its own element: {words:?}"
        ));
    }
    Ok(())
}

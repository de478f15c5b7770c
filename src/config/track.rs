//! Health tracking: the `[[track_script]]` and `[[track_file]]` tables, and the `track` list of
//! an instance that refers to them (or to an interface or a process).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::checks::{
    A_INTERFACE, DurationRule, UniqueNames, argv, check_interface, check_name, duration,
};
use super::errors::Sink;
use super::schema::{Known, Named, RawList, RawTable, TRACK_FILE, TRACK_SCRIPT, Table};
use super::{
    CHECK_STEP, DEFAULT_CHECK_INTERVAL, MAX_CHECK_INTERVAL, MAX_PROCESS_NAME_LEN, MAX_RISE_FALL,
    MAX_TRACK_WEIGHT, TrackFile, TrackRef, TrackScript, TrackTarget,
};

pub(super) const A_TRACK_SCRIPTS: &str = "one or more [[track_script]] tables";
pub(super) const A_TRACK_FILES: &str = "one or more [[track_file]] tables";
pub(super) const A_SCRIPT_NAME: &str =
    "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among [[track_script]] tables";
pub(super) const A_FILE_NAME: &str =
    "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among [[track_file]] tables";
pub(super) const A_COMMAND: &str = "a list: the program and its arguments, e.g. \
                                    [\"/usr/bin/pgrep\", \"-x\", \"haproxy\"], run without a \
                                    shell; the program is an absolute path, or a bare name \
                                    looked up in /usr/local/sbin:/usr/local/bin:/usr/sbin:\
                                    /usr/bin:/sbin:/bin";
pub(super) const A_TRACK_INTERVAL: &str =
    "a duration from \"10ms\" to \"60m\" in steps of 10ms, e.g. \"1s\"; default \"1s\"";
pub(super) const A_TIMEOUT: &str =
    "a duration from \"10ms\" up to the interval, in steps of 10ms; default: the interval";
pub(super) const A_RISE: &str = "an integer 1..=1000: successes in a row before the check \
                                 counts as healthy; default 1";
pub(super) const A_FALL: &str = "an integer 1..=1000: failures in a row before the check counts \
                                 as failed; default 1";
pub(super) const A_FILE_PATH: &str = "an absolute path without NUL bytes, e.g. \
                                      \"/etc/vipd/maintenance\"; the file need not exist (missing \
                                      or empty counts as 0)";
pub(super) const A_TRACKS: &str = "a list of entries such as { script = \"haproxy\", weight = \
                                   -60 }, { file = \"maintenance\" }, { interface = \"eth1\" } \
                                   or { process = \"haproxy\" }";
pub(super) const A_TRACK_ENTRY: &str = "a table with exactly one of `script`, `file`, \
                                        `interface` or `process`, and optionally `weight`, e.g. \
                                        { script = \"haproxy\", weight = -60 }";
pub(super) const A_SCRIPT_REF: &str = "the name of a [[track_script]] table";
pub(super) const A_FILE_REF: &str = "the name of a [[track_file]] table";
pub(super) const A_PROCESS: &str = "a process name as in /proc/PID/comm (as `ps -o comm` shows \
                                    it): 1 to 15 bytes without '/' or control characters, \
                                    matched exactly";
pub(super) const A_WEIGHT: &str = "an integer -253..=253; default 0: FAULT while it fails. \
                                   Below 0: added to the priority while it fails; above 0: \
                                   added while it is healthy; for a file: times the file's \
                                   integer";
const A_TRACK_ONCE: &str = "each script, file, interface or process at most once per instance";

const INTERVAL: DurationRule = DurationRule {
    min: CHECK_STEP,
    max: MAX_CHECK_INTERVAL,
    step: CHECK_STEP,
    allowed: A_TRACK_INTERVAL,
};
/// The upper limit that matters is the interval, checked on its own.
const TIMEOUT: DurationRule = DurationRule {
    allowed: A_TIMEOUT,
    ..INTERVAL
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrackScript {
    name: Option<Spanned<String>>,
    command: Option<Spanned<Vec<Spanned<String>>>>,
    interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    rise: Option<Spanned<i64>>,
    fall: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrackFile {
    name: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
}

/// One entry of an instance's `track` list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrackRef {
    script: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    interface: Option<Spanned<String>>,
    process: Option<Spanned<String>>,
    weight: Option<Spanned<i64>>,
}

impl Named for RawTrackScript {
    fn name(&self) -> Option<&Spanned<String>> {
        self.name.as_ref()
    }
}

impl Named for RawTrackFile {
    fn name(&self) -> Option<&Spanned<String>> {
        self.name.as_ref()
    }
}

/// What `track` entries may refer to by name.
pub(super) struct Trackers {
    pub(super) scripts: Known,
    pub(super) files: Known,
}

/// The `[[track_script]]` tables that are valid (the others are reported).
pub(super) fn validate_track_scripts(
    list: Option<RawList<RawTrackScript>>,
    sink: &mut Sink<'_>,
) -> Vec<TrackScript> {
    let mut names = UniqueNames::new(TRACK_SCRIPT);
    let tables = list.into_iter().flat_map(Spanned::into_inner).enumerate();
    // An element that is not a table has been reported already.
    let tables = tables.filter_map(|(i, raw)| Some((i, raw?)));
    tables
        .filter_map(|(i, raw)| track_script(i, raw, &mut names, sink))
        .collect()
}

fn track_script(
    i: usize,
    raw: RawTable<RawTrackScript>,
    names: &mut UniqueNames,
    sink: &mut Sink<'_>,
) -> Option<TrackScript> {
    let (r, t) = raw.open(format!("{TRACK_SCRIPT}[{i}]"));
    let before = sink.error_count();
    let name = tracker_name(r.name, i, &t, A_SCRIPT_NAME, names, sink);
    let command = t
        .required(r.command, "command", A_COMMAND, sink)
        .and_then(|list| argv(list, &t.key("command"), A_COMMAND, sink));
    let interval = match &r.interval {
        Some(text) => duration(text, &t.key("interval"), &INTERVAL, sink),
        None if t.is_broken("interval") => None,
        None => Some(DEFAULT_CHECK_INTERVAL),
    };
    let timeout = match &r.timeout {
        Some(text) => timeout(text, interval, &t, sink),
        None => interval,
    };
    let rise = count(r.rise, "rise", A_RISE, &t, sink);
    let fall = count(r.fall, "fall", A_FALL, &t, sink);
    if sink.error_count() != before || !t.broken.is_empty() {
        return None;
    }
    Some(TrackScript {
        name: name?,
        command: command?,
        interval: interval?,
        timeout: timeout?,
        rise: rise?,
        fall: fall?,
    })
}

/// The `name` of table `i` of a list of trackers: valid and unique among them.
fn tracker_name(
    name: Option<Spanned<String>>,
    i: usize,
    t: &Table,
    allowed: &str,
    names: &mut UniqueNames,
    sink: &mut Sink<'_>,
) -> Option<String> {
    let name = t.required(name, "name", allowed, sink)?;
    sink.verify(&name, t.key("name"), allowed, |n| check_name(n))?;
    names.check(i, &name, allowed, sink);
    Some(name.into_inner())
}

/// A check still running at the next interval would have to overlap the next one, or delay
/// it; the timeout ends it first instead.
fn timeout(
    text: &Spanned<String>,
    interval: Option<Duration>,
    t: &Table,
    sink: &mut Sink<'_>,
) -> Option<Duration> {
    let key = t.key("timeout");
    let timeout = duration(text, &key, &TIMEOUT, sink)?;
    match interval {
        Some(interval) if timeout > interval => {
            let problem = format!(
                "\"{}\" is longer than the interval ({}ms): a check is never run twice at once, \
                 so it must end (or be killed) before the next one is due",
                text.get_ref(),
                interval.as_millis()
            );
            sink.push(Some(text.span()), key, problem, A_TIMEOUT);
            None
        }
        _ => Some(timeout),
    }
}

/// `rise` or `fall`: default 1.
fn count(
    raw: Option<Spanned<i64>>,
    field: &str,
    allowed: &str,
    t: &Table,
    sink: &mut Sink<'_>,
) -> Option<u32> {
    let Some(n) = raw else {
        return Some(1);
    };
    sink.verify(&n, t.key(field), allowed, |n| match u32::try_from(*n) {
        Ok(n) if (1..=MAX_RISE_FALL).contains(&n) => Ok(n),
        Ok(0) => Err("0 is out of range: it takes at least one result to change".to_owned()),
        _ => Err(format!("{n} is out of range")),
    })
}

/// The `[[track_file]]` tables that are valid (the others are reported).
pub(super) fn validate_track_files(
    list: Option<RawList<RawTrackFile>>,
    sink: &mut Sink<'_>,
) -> Vec<TrackFile> {
    let mut names = UniqueNames::new(TRACK_FILE);
    let tables = list.into_iter().flat_map(Spanned::into_inner).enumerate();
    let tables = tables.filter_map(|(i, raw)| Some((i, raw?)));
    tables
        .filter_map(|(i, raw)| track_file(i, raw, &mut names, sink))
        .collect()
}

fn track_file(
    i: usize,
    raw: RawTable<RawTrackFile>,
    names: &mut UniqueNames,
    sink: &mut Sink<'_>,
) -> Option<TrackFile> {
    let (r, t) = raw.open(format!("{TRACK_FILE}[{i}]"));
    let before = sink.error_count();
    let name = tracker_name(r.name, i, &t, A_FILE_NAME, names, sink);
    let path = t
        .required(r.path, "path", A_FILE_PATH, sink)
        .and_then(|p| sink.verify(&p, t.key("path"), A_FILE_PATH, |p| file_path(p)));
    if sink.error_count() != before || !t.broken.is_empty() {
        return None;
    }
    Some(TrackFile {
        name: name?,
        path: path?,
    })
}

fn file_path(p: &str) -> Result<PathBuf, String> {
    if p.contains('\0') {
        return Err("contains a NUL byte, which no path can hold".to_owned());
    }
    if !Path::new(p).is_absolute() {
        return Err(format!("`{p}` is not an absolute path"));
    }
    Ok(PathBuf::from(p))
}

/// An instance's `track` list (at key path `key`); `None` when an entry is wrong (reported).
pub(super) fn track_list(
    list: RawList<RawTrackRef>,
    key: &str,
    trackers: &Trackers,
    sink: &mut Sink<'_>,
) -> Option<Vec<TrackRef>> {
    let before = sink.error_count();
    // The entry that first tracks each object.
    let mut first: HashMap<TrackTarget, usize> = HashMap::new();
    let mut entries = Vec::new();
    let tables = list.into_inner().into_iter().enumerate();
    // An element that is not a table has been reported already.
    for (j, raw) in tables.filter_map(|(j, raw)| Some((j, raw?))) {
        let (r, t) = raw.open(format!("{key}[{j}]"));
        let Some((target_key, target)) = target(r.targets(), &t, trackers, sink) else {
            continue;
        };
        let weight = weight(r.weight, &t, sink);
        match first.entry(target.get_ref().clone()) {
            Entry::Occupied(k) => {
                let problem = format!(
                    "{} is already tracked by track[{}]",
                    describe(target.get_ref()),
                    k.get()
                );
                sink.push(Some(target.span()), target_key, problem, A_TRACK_ONCE);
            }
            Entry::Vacant(slot) => {
                slot.insert(j);
            }
        }
        if let Some(weight) = weight {
            let target = target.into_inner();
            entries.push(TrackRef { target, weight });
        }
    }
    (sink.error_count() == before).then_some(entries)
}

/// `script `haproxy``, for the errors.
fn describe(target: &TrackTarget) -> String {
    let (kind, name) = match target {
        TrackTarget::Script(n) => ("script", n),
        TrackTarget::File(n) => ("file", n),
        TrackTarget::Interface(n) => ("interface", n),
        TrackTarget::Process(n) => ("process", n),
    };
    format!("{kind} `{name}`")
}

/// One of the keys naming what an entry tracks.
struct Given {
    key: &'static str,
    value: Spanned<String>,
}

impl RawTrackRef {
    /// The keys naming what to track, in the order of the struct.
    fn targets(&self) -> Vec<Given> {
        [
            ("script", &self.script),
            ("file", &self.file),
            ("interface", &self.interface),
            ("process", &self.process),
        ]
        .into_iter()
        .filter_map(|(key, value)| {
            Some(Given {
                key,
                value: value.clone()?,
            })
        })
        .collect()
    }
}

/// What an entry tracks, with the key path of the key naming it; exactly one key must.
fn target(
    given: Vec<Given>,
    t: &Table,
    trackers: &Trackers,
    sink: &mut Sink<'_>,
) -> Option<(String, Spanned<TrackTarget>)> {
    match given.as_slice() {
        [] => {
            // A key dropped for its type was reported as such.
            let broken = ["script", "file", "interface", "process"];
            if !broken.iter().any(|k| t.is_broken(k)) {
                let problem = "names nothing to track";
                sink.push(Some(t.span.clone()), t.path.clone(), problem, A_TRACK_ENTRY);
            }
            None
        }
        [one] => {
            let key = t.key(one.key);
            let target = one_target(one, &key, trackers, sink)?;
            Some((key, Spanned::new(one.value.span(), target)))
        }
        [first, second, ..] => {
            let problem = format!(
                "`{}` and `{}` in one entry: an entry tracks one thing",
                first.key, second.key
            );
            sink.push(
                Some(second.value.span()),
                t.key(second.key),
                problem,
                A_TRACK_ENTRY,
            );
            None
        }
    }
}

fn one_target(
    given: &Given,
    key: &str,
    trackers: &Trackers,
    sink: &mut Sink<'_>,
) -> Option<TrackTarget> {
    let name = given.value.get_ref();
    let defined = |known: &Known, table: &str, sink: &mut Sink<'_>| {
        if known.lacks(name) {
            let problem = format!("no {table} table is named `{name}`");
            let allowed = known.allowed(&format!("a {table} table"));
            sink.push(Some(given.value.span()), key, problem, &allowed);
            return None;
        }
        Some(name.clone())
    };
    match given.key {
        "script" => defined(&trackers.scripts, "[[track_script]]", sink).map(TrackTarget::Script),
        "file" => defined(&trackers.files, "[[track_file]]", sink).map(TrackTarget::File),
        "interface" => sink
            .verify(&given.value, key, A_INTERFACE, |n| check_interface(n))
            .map(|()| TrackTarget::Interface(name.clone())),
        _ => sink
            .verify(&given.value, key, A_PROCESS, |n| check_process(n))
            .map(|()| TrackTarget::Process(name.clone())),
    }
}

/// A name as the kernel keeps it in `/proc/PID/comm`: the program's file name, cut to 15
/// bytes. A longer name could never match, so the error offers the 15 bytes that would.
fn check_process(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.contains('/') {
        return Err(format!(
            "`{name}` contains '/': a process name is the program's file name, without its \
             directory"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{name:?} contains a control character"));
    }
    if name.len() > MAX_PROCESS_NAME_LEN {
        let mut cut = MAX_PROCESS_NAME_LEN;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(format!(
            "`{name}` is {} bytes long; Linux keeps only the first {MAX_PROCESS_NAME_LEN} bytes \
             of a process name (/proc/PID/comm), so write `{}`",
            name.len(),
            name.get(..cut).unwrap_or_default()
        ));
    }
    Ok(())
}

/// The weight: default 0. At most 253 either way, so that one weight can take any priority
/// of 1..=254 to any other.
fn weight(raw: Option<Spanned<i64>>, t: &Table, sink: &mut Sink<'_>) -> Option<i32> {
    let Some(w) = raw else {
        return Some(0);
    };
    sink.verify(&w, t.key("weight"), A_WEIGHT, |w| {
        i32::try_from(*w)
            .ok()
            .filter(|w| w.abs() <= MAX_TRACK_WEIGHT)
            .ok_or_else(|| format!("{w} is out of range"))
    })
}

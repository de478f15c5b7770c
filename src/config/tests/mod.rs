//! Tests of the configuration parser, one file per table or concern. Most go through
//! [`parse`] with a small file and check the one error expected: its key, line, column and
//! problem, and that it says what is allowed.

mod addresses;
mod duration;
mod errors;
mod files;
mod global;
mod instance;
mod keepalived;
mod notify;
mod schema;
mod sync_group;
mod track;
mod vmac;

pub(super) use super::checks::{A_ARG, A_DURATION, A_INTERFACE};
pub(super) use super::errors::MAX_LISTED_ERRORS;
pub(super) use super::instance::{
    A_INSTANCES, A_INTERVAL_V2, A_INTERVAL_V3, A_PREEMPT_DELAY, A_VERSION, A_VIP, A_VRID,
};
pub(super) use super::keepalived::KEEPALIVED_NAMES;
pub(super) use super::notify::{A_NOTIFY, A_NOTIFY_TIMEOUT, Split, split_line};
pub(super) use super::schema::Scope;
pub(super) use super::track::{
    A_PROCESS, A_SCRIPT_REF, A_TRACK_ENTRY, A_TRACK_INTERVAL, A_TRACKS, A_WEIGHT,
};
pub(super) use super::*;
pub(super) use std::net::{Ipv4Addr, Ipv6Addr};

const FILE: &str = "t.toml";

/// A valid table of each kind, of 3 lines, for the base instance `inst(&[])` (which they
/// follow at lines 6 to 8, so that a key appended to them is on line 9).
const SCRIPT_TABLE: &str = "[[track_script]]\nname = \"chk\"\ncommand = [\"/bin/true\"]\n";
const FILE_TABLE: &str = "[[track_file]]\nname = \"maint\"\npath = \"/etc/vipd/maint\"\n";
const GROUP_TABLE: &str = "[[sync_group]]\nname = \"edge\"\ninstances = [\"web\"]\n";

/// Keys of the base instance, one per line starting at line 2 (line 1 is `[[instance]]`).
const BASE: [(&str, &str); 4] = [
    ("name", "\"web\""),
    ("interface", "\"eth0\""),
    ("vrid", "51"),
    ("virtual_addresses", "[\"10.0.0.5/24\"]"),
];

/// One instance: `BASE` with the keys in `set` replaced (in place) or appended (lines 6..).
fn inst(set: &[(&str, &str)]) -> String {
    let mut lines: Vec<(String, String)> = BASE
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in set {
        match lines.iter_mut().find(|(key, _)| key == k) {
            Some(line) => line.1 = v.to_string(),
            None => lines.push((k.to_string(), v.to_string())),
        }
    }
    let mut text = String::from("[[instance]]\n");
    for (k, v) in lines {
        text.push_str(&format!("{k} = {v}\n"));
    }
    text
}

fn ok(text: &str) -> Config {
    match parse(text, Path::new(FILE)) {
        Ok(config) => config,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

fn errs(text: &str) -> Vec<ConfigError> {
    match parse(text, Path::new(FILE)) {
        Ok(config) => panic!("accepted invalid config: {config:#?}"),
        Err(errors) => errors,
    }
}

fn one(text: &str) -> ConfigError {
    let mut errors = errs(text);
    assert_eq!(errors.len(), 1, "expected exactly one error: {errors:#?}");
    errors.remove(0)
}

#[track_caller]
fn check(e: &ConfigError, key: &str, line: usize, column: usize, fragment: &str) {
    assert_eq!(e.key, key, "{e}");
    assert_eq!((e.line, e.column), (Some(line), Some(column)), "{e}");
    assert!(e.problem.contains(fragment), "{e:?} lacks {fragment:?}");
    assert!(
        !e.allowed.is_empty(),
        "{e}: says nothing about what is allowed"
    );
    assert_eq!(e.file, Path::new(FILE));
}

/// The error with key `key`.
#[track_caller]
fn by_key<'e>(errors: &'e [ConfigError], key: &str) -> &'e ConfigError {
    match errors.iter().find(|e| e.key == key) {
        Some(e) => e,
        None => panic!("no error for {key}: {errors:#?}"),
    }
}

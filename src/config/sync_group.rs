//! The `[[sync_group]]` tables: instances that change state together.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde::Deserialize;
use toml::Spanned;

use super::SyncGroup;
use super::checks::{UniqueNames, check_name};
use super::errors::Sink;
use super::notify::{RawArgv, RawNotify, notify};
use super::schema::{Known, RawList, RawTable, SYNC_GROUP, Table};

pub(super) const A_GROUPS: &str = "one or more [[sync_group]] tables";
pub(super) const A_GROUP_NAME: &str =
    "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among [[sync_group]] tables";
pub(super) const A_GROUP_MEMBERS: &str = "a list of 1 or more instance names, e.g. \
                                          [\"outside\", \"inside\"]; each instance in at most \
                                          one group";
pub(super) const A_GROUP_MEMBER: &str = "the name of an [[instance]] of this file, listed once, \
                                         and in no other [[sync_group]]";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSyncGroup {
    name: Option<Spanned<String>>,
    instances: Option<Spanned<Vec<Spanned<String>>>>,
    notify: Option<Spanned<RawArgv>>,
    notify_master: Option<Spanned<RawArgv>>,
    notify_backup: Option<Spanned<RawArgv>>,
    notify_fault: Option<Spanned<RawArgv>>,
    notify_stop: Option<Spanned<RawArgv>>,
}

/// The group each instance is in: its index, its name (if valid) and the line of the entry.
type Membership = HashMap<String, (usize, Option<String>, usize)>;

/// The `[[sync_group]]` tables that are valid (the others are reported). `instances`: the
/// instance names of the file, as written.
pub(super) fn validate_sync_groups(
    list: Option<RawList<RawSyncGroup>>,
    instances: &Known,
    sink: &mut Sink<'_>,
) -> Vec<SyncGroup> {
    let mut names = UniqueNames::new(SYNC_GROUP);
    let mut membership = Membership::new();
    let tables = list.into_iter().flat_map(Spanned::into_inner).enumerate();
    // An element that is not a table has been reported already.
    let tables = tables.filter_map(|(i, raw)| Some((i, raw?)));
    tables
        .filter_map(|(i, raw)| sync_group(i, raw, instances, &mut names, &mut membership, sink))
        .collect()
}

fn sync_group(
    i: usize,
    raw: RawTable<RawSyncGroup>,
    instances: &Known,
    names: &mut UniqueNames,
    membership: &mut Membership,
    sink: &mut Sink<'_>,
) -> Option<SyncGroup> {
    let (r, t) = raw.open(format!("{SYNC_GROUP}[{i}]"));
    let before = sink.error_count();
    let name = t
        .required(r.name, "name", A_GROUP_NAME, sink)
        .and_then(|n| {
            sink.verify(&n, t.key("name"), A_GROUP_NAME, |n| check_name(n))?;
            names.check(i, &n, A_GROUP_NAME, sink);
            Some(n.into_inner())
        });
    let group = Group {
        index: i,
        name: name.clone(),
    };
    let members = t
        .required(r.instances, "instances", A_GROUP_MEMBERS, sink)
        .map(|list| members(list, &t, &group, instances, membership, sink));
    let raw_notify = RawNotify {
        any: r.notify,
        master: r.notify_master,
        backup: r.notify_backup,
        fault: r.notify_fault,
        stop: r.notify_stop,
    };
    let notify = notify(raw_notify, &t, sink);
    if sink.error_count() != before || !t.broken.is_empty() {
        return None;
    }
    Some(SyncGroup {
        name: name?,
        instances: members?,
        notify: notify?,
    })
}

/// The group whose members are being checked, to name it in the errors of another.
struct Group {
    index: usize,
    name: Option<String>,
}

/// The `instances` list of group `group`.
fn members(
    list: Spanned<Vec<Spanned<String>>>,
    t: &Table,
    group: &Group,
    instances: &Known,
    membership: &mut Membership,
    sink: &mut Sink<'_>,
) -> Vec<String> {
    let key = t.key("instances");
    if list.get_ref().is_empty() {
        let problem = "the list is empty: a group needs at least one instance";
        sink.push(Some(list.span()), key, problem, A_GROUP_MEMBERS);
        return Vec::new();
    }
    let mut listed: HashMap<&str, usize> = HashMap::new();
    let mut members = Vec::new();
    for (j, member) in list.get_ref().iter().enumerate() {
        let name = member.get_ref().as_str();
        let key = format!("{key}[{j}]");
        if instances.lacks(name) {
            let problem = format!("no [[instance]] is named `{name}`");
            sink.push(
                Some(member.span()),
                key,
                problem,
                &instances.allowed("an [[instance]] table"),
            );
        } else if let Some(first) = listed.get(name) {
            let problem = format!("`{name}` is already listed as instances[{first}]");
            sink.push(Some(member.span()), key, problem, A_GROUP_MEMBER);
        } else {
            listed.insert(name, j);
            in_one_group(member, &key, group, membership, sink);
            members.push(name.to_owned());
        }
    }
    members
}

/// Reports `member` if an earlier group has it: it cannot follow two groups at once.
fn in_one_group(
    member: &Spanned<String>,
    key: &str,
    group: &Group,
    membership: &mut Membership,
    sink: &mut Sink<'_>,
) {
    let line = sink.line_of(&member.span());
    match membership.entry(member.get_ref().clone()) {
        Entry::Occupied(first) => {
            let (k, first_name, first_line) = first.get();
            let first_name = first_name
                .as_ref()
                .map_or_else(String::new, |n| format!(" `{n}`"));
            let this = group
                .name
                .as_ref()
                .map_or_else(String::new, |n| format!(" `{n}`"));
            let problem = format!(
                "instance `{}` is already in {SYNC_GROUP}[{k}]{first_name} (line {first_line}); \
                 it cannot also follow {SYNC_GROUP}[{}]{this}",
                member.get_ref(),
                group.index
            );
            sink.push(Some(member.span()), key, problem, A_GROUP_MEMBER);
        }
        Entry::Vacant(slot) => {
            slot.insert((group.index, group.name.clone(), line));
        }
    }
}

//! `vrrp_sync_group`: vipd's `[[sync_group]]`. The group's own `track_*` lists go to each
//! member instance's `track` list (vipd tracks per instance).

use std::collections::{HashMap, HashSet};

use super::super::tree::Node;
use super::super::words::printable;
use super::super::{Origin, RawNote};
use super::global::Globals;
use super::instance::notify;
use super::track::{Entry, GroupRule, entries, list_kind};
use super::values::Names;
use super::{Carried, Doc, GroupOut, Head, NoteSink, block, no_block, quote};

/// A sync group as read, before its members are known to be carried.
pub(super) struct GroupDef<'n> {
    node: &'n Node,
    name: String,
    tracking_weight: bool,
    pub(super) tracks: Vec<Entry>,
    members: Vec<(String, Origin)>,
    notify: Vec<&'n Node>,
    notes: Vec<RawNote>,
}

/// The groups, and which group each instance (by keepalived name) is in.
pub(super) struct Membership<'n> {
    groups: Vec<GroupDef<'n>>,
    of: HashMap<String, usize>,
}

impl Membership<'_> {
    /// The group of instance `name`, as tracking sees it, and the group's track entries.
    pub(super) fn of(&self, name: &str) -> Option<(GroupRule<'_>, &[Entry])> {
        let g = self.groups.get(*self.of.get(name)?)?;
        Some((
            GroupRule {
                name: &g.name,
                tracking_weight: g.tracking_weight,
            },
            &g.tracks,
        ))
    }
}

pub(super) fn membership<'n>(nodes: &[&'n Node], top: &mut Vec<RawNote>) -> Membership<'n> {
    let mut m = Membership {
        groups: Vec::new(),
        of: HashMap::new(),
    };
    let mut group_names = HashSet::new();
    for node in nodes {
        let Some(name) = node.arg(1) else {
            top.not_carried(node.origin, format!("{}: no name given", quote(node)));
            continue;
        };
        if !group_names.insert(name.to_owned()) {
            top.not_carried(
                node.origin,
                format!(
                    "{}: a second sync group named `{}`; keepalived uses the first",
                    quote(node),
                    printable(name, 40)
                ),
            );
            continue;
        }
        let Some(body) = block(node, top) else {
            continue;
        };
        let mut g = GroupDef {
            node,
            name: name.to_owned(),
            tracking_weight: false,
            tracks: Vec::new(),
            members: Vec::new(),
            notify: Vec::new(),
            notes: Vec::new(),
        };
        let mut listed = false;
        for s in body {
            if let Some(kind) = list_kind(s.keyword()) {
                let mut e = entries(s, kind, true, &mut g.notes);
                g.tracks.append(&mut e);
                continue;
            }
            if s.keyword() == "group" {
                let Some(list) = block(s, &mut g.notes) else {
                    continue;
                };
                if listed {
                    g.notes
                        .not_carried(s.origin, "a second `group` list; keepalived uses the first");
                    continue;
                }
                listed = true;
                for member in list {
                    for word in &member.words {
                        g.members.push((word.clone(), member.origin));
                    }
                }
                continue;
            }
            if !no_block(s, &mut g.notes) {
                continue;
            }
            match s.keyword() {
                k if super::NOTIFY_KEYS.contains(&k) => g.notify.push(s),
                "sync_group_tracking_weight" => g.tracking_weight = true,
                "global_tracking" => {
                    g.tracking_weight = true;
                    g.notes.note(
                        s.origin,
                        "global_tracking is keepalived's old name for \
                         sync_group_tracking_weight: members keep their tracking weights",
                    );
                }
                "smtp_alert" => g.notes.not_carried(
                    s.origin,
                    "smtp_alert: vipd sends no mail; a notify command can",
                ),
                "notify_deleted" => g.notes.not_carried(
                    s.origin,
                    format!(
                        "{}: vipd has no DELETED state; notify_stop runs when the agent stops",
                        quote(s)
                    ),
                ),
                "notify_priority_changes" => g.notes.not_carried(
                    s.origin,
                    "notify_priority_changes: vipd has no notify FIFO; `vipd events` streams \
                     priority changes",
                ),
                _ => g.notes.not_carried(
                    s.origin,
                    format!(
                        "{}: not a vrrp_sync_group keyword the importer knows",
                        quote(s)
                    ),
                ),
            }
        }
        let index = m.groups.len();
        let mut members = Vec::new();
        let mut listed_once = HashSet::new();
        for (member, origin) in std::mem::take(&mut g.members) {
            if let Some(&other) = m.of.get(&member) {
                let other_name = m.groups.get(other).map_or("", |o| o.name.as_str());
                g.notes.not_carried(
                    origin,
                    format!(
                        "member `{}` is already in sync group `{}`; an instance follows one \
                         group",
                        printable(&member, 40),
                        printable(other_name, 40)
                    ),
                );
                continue;
            }
            if !listed_once.insert(member.clone()) {
                continue;
            }
            m.of.insert(member.clone(), index);
            members.push((member, origin));
        }
        g.members = members;
        m.groups.push(g);
    }
    m
}

pub(super) fn convert_all(
    membership: Membership<'_>,
    carried: &Carried,
    known: &HashSet<String>,
    globals: &Globals,
    doc: &mut Doc,
) {
    let mut names = Names::default();
    for g in membership.groups {
        let mut head = Head::new(g.node);
        head.notes = g.notes;
        let mut instances = Vec::new();
        for (member, origin) in &g.members {
            match carried.get(member) {
                Some(vipd) => instances.push(vipd.clone()),
                None if known.contains(member) => head.notes.not_carried(
                    *origin,
                    format!(
                        "member `{}`: the instance is not carried",
                        printable(member, 40)
                    ),
                ),
                None => head.notes.not_carried(
                    *origin,
                    format!(
                        "member `{}`: no vrrp_instance has this name",
                        printable(member, 40)
                    ),
                ),
            }
        }
        if instances.is_empty() {
            doc.top.append(&mut head.notes);
            doc.top.not_carried(
                g.node.origin,
                format!("{}: none of its members is carried", quote(g.node)),
            );
            continue;
        }
        let notify = notify(&g.notify, globals, &mut head.notes);
        let (name, renamed) = names.claim(&g.name);
        if renamed {
            head.notes.note(
                g.node.origin,
                format!(
                    "sync group `{}` is named `{name}`: vipd names are 1 to 64 characters from \
                     A-Z a-z 0-9 _ . -",
                    printable(&g.name, 40)
                ),
            );
        }
        doc.groups.push(GroupOut {
            head,
            name,
            instances,
            notify,
        });
    }
}

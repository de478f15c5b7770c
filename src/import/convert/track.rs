//! What instances track: the `vrrp_script`, `track_file` and `vrrp_track_process`
//! definitions, the `track_*` lists of instances and sync groups, and their resolution into
//! vipd's `[[track_script]]`, `[[track_file]]` and `track` entries.

use std::collections::HashMap;

use super::super::tree::Node;
use super::super::words::printable;
use super::super::{Origin, RawNote};
use super::command::command;
use super::global::Globals;
use super::values::{Names, duration, integer, interface_ok, micros, round_to, seconds_text};
use super::{Doc, FileOut, Head, NoteSink, ScriptOut, TrackOut, block, no_block, quote};
use crate::config::{MAX_CHECK_INTERVAL, MAX_PROCESS_NAME_LEN, MAX_RISE_FALL, MAX_TRACK_WEIGHT};

/// A tracker definition: the index of its table in the output (`None` when it could not be
/// carried, with the line that says why), its default weight and direction.
struct Def {
    out: Option<usize>,
    origin: Origin,
    weight: i64,
    reverse: bool,
}

/// A `vrrp_track_process`: the process name vipd matches, when it can.
struct ProcessDef {
    comm: Option<String>,
    origin: Origin,
    weight: i64,
    reverse: bool,
}

/// Every tracker definition, by keepalived name, and the tables they make.
pub(super) struct Trackers {
    scripts: HashMap<String, Def>,
    script_outs: Vec<(ScriptOut, bool)>,
    files: HashMap<String, Def>,
    file_outs: Vec<(FileOut, bool)>,
    processes: HashMap<String, ProcessDef>,
}

pub(super) fn definitions(
    scripts: &[&Node],
    files: &[&Node],
    processes: &[&Node],
    globals: &Globals,
    top: &mut Vec<RawNote>,
) -> Trackers {
    let mut t = Trackers {
        scripts: HashMap::new(),
        script_outs: Vec::new(),
        files: HashMap::new(),
        file_outs: Vec::new(),
        processes: HashMap::new(),
    };
    let mut script_names = Names::default();
    for node in scripts {
        let Some(name) = defined_name(node, top, t.scripts.contains_key(node.arg(1).unwrap_or("")))
        else {
            continue;
        };
        let def = script(
            node,
            &name,
            globals,
            &mut script_names,
            &mut t.script_outs,
            top,
        );
        t.scripts.insert(name, def);
    }
    let mut file_names = Names::default();
    for node in files {
        let Some(name) = defined_name(node, top, t.files.contains_key(node.arg(1).unwrap_or("")))
        else {
            continue;
        };
        let def = file(node, &name, &mut file_names, &mut t.file_outs, top);
        t.files.insert(name, def);
    }
    for node in processes {
        let taken = t.processes.contains_key(node.arg(1).unwrap_or(""));
        let Some(name) = defined_name(node, top, taken) else {
            continue;
        };
        let def = process(node, top);
        t.processes.insert(name, def);
    }
    t
}

/// The keepalived name a definition gives, unless it has none or repeats one.
fn defined_name(node: &Node, top: &mut Vec<RawNote>, taken: bool) -> Option<String> {
    let Some(name) = node.arg(1) else {
        top.not_carried(node.origin, format!("{}: no name given", quote(node)));
        return None;
    };
    if taken {
        top.not_carried(
            node.origin,
            format!(
                "{}: a second definition of `{}`; keepalived uses the first",
                quote(node),
                printable(name, 40)
            ),
        );
        return None;
    }
    Some(name.to_owned())
}

fn script(
    node: &Node,
    name: &str,
    globals: &Globals,
    names: &mut Names,
    outs: &mut Vec<(ScriptOut, bool)>,
    top: &mut Vec<RawNote>,
) -> Def {
    let mut head = Head::new(node);
    let mut def = Def {
        out: None,
        origin: node.origin,
        weight: 0,
        reverse: false,
    };
    let Some(body) = block(node, top) else {
        return def;
    };
    let notes = &mut head.notes;
    let mut argv = None;
    let mut broken = false;
    let mut interval_us: u64 = 1_000_000;
    let mut timeout_us = None;
    let (mut rise, mut fall) = (1u32, 1u32);
    for s in body {
        if !no_block(s, notes) {
            continue;
        }
        let arg = s.arg(1);
        match s.keyword() {
            "script" => match command(s) {
                Ok(c) => {
                    for r in c.remarks {
                        notes.note(s.origin, r);
                    }
                    if !c.after.is_empty() {
                        notes.not_carried(
                            s.origin,
                            format!(
                                "the words after the command (`{}`): keepalived 2.2 ignores \
                                 them too; put the whole command in quotes to pass them",
                                printable(&c.after.join(" "), 40)
                            ),
                        );
                    }
                    argv = Some(c.argv);
                }
                Err(e) => {
                    notes.not_carried(s.origin, format!("{}: {e}", quote(s)));
                    broken = true;
                }
            },
            "interval" => match arg.and_then(micros) {
                Some(us) if us > 0 => interval_us = us,
                _ => notes.not_carried(
                    s.origin,
                    format!("{}: not a number of seconds above 0", quote(s)),
                ),
            },
            "timeout" => match arg.and_then(micros) {
                Some(us) if us > 0 => timeout_us = Some(us),
                _ => notes.not_carried(
                    s.origin,
                    format!("{}: not a number of seconds above 0", quote(s)),
                ),
            },
            "weight" => match arg.and_then(integer) {
                Some(w) if (-253..=253).contains(&w) => {
                    def.weight = w;
                    match s.arg(2) {
                        None => {}
                        Some("reverse") => def.reverse = true,
                        Some(other) => notes.not_carried(
                            s.origin,
                            format!("{}: unknown option `{other}`", quote(s)),
                        ),
                    }
                }
                _ => notes.not_carried(
                    s.origin,
                    format!("{}: the weight is an integer -253..253", quote(s)),
                ),
            },
            "rise" | "fall" => {
                let slot = if s.keyword() == "rise" {
                    &mut rise
                } else {
                    &mut fall
                };
                match arg.and_then(integer) {
                    Some(n) if n >= 1 && n <= i64::from(MAX_RISE_FALL) => *slot = n as u32,
                    Some(n) if n > i64::from(MAX_RISE_FALL) => {
                        *slot = MAX_RISE_FALL;
                        notes.note(
                            s.origin,
                            format!(
                                "{}: vipd counts at most {MAX_RISE_FALL} results in a row; \
                                 written as {MAX_RISE_FALL}",
                                quote(s)
                            ),
                        );
                    }
                    _ => notes
                        .not_carried(s.origin, format!("{}: not a count of 1 or more", quote(s))),
                }
            }
            "user" => user(s, globals, notes),
            "init_fail" => notes.not_carried(
                s.origin,
                "init_fail: vipd's trackers start healthy, as keepalived's do without it",
            ),
            _ => notes.not_carried(
                s.origin,
                format!("{}: not a vrrp_script keyword the importer knows", quote(s)),
            ),
        }
    }
    let Some(argv) = argv.filter(|_| !broken) else {
        if !broken {
            head.notes.not_carried(
                node.origin,
                format!("{}: no `script` is given", quote(node)),
            );
        }
        top.extend(head.notes);
        top.not_carried(
            node.origin,
            format!(
                "vrrp_script {}: no command vipd can run, so instances that track it lose \
                 that tracking",
                printable(name, 40)
            ),
        );
        return def;
    };
    let max_ms = MAX_CHECK_INTERVAL.as_millis() as u64;
    let mut interval_ms = round_to(interval_us, 10_000).max(1) * 10;
    if interval_ms > max_ms {
        interval_ms = max_ms;
    }
    if interval_ms * 1000 != interval_us {
        head.notes.note(
            node.origin,
            format!(
                "interval {}: vipd counts check intervals in steps of 10 ms up to 60 minutes; \
                 written as {}",
                seconds_text(interval_us),
                duration(interval_ms)
            ),
        );
    }
    let timeout_ms = timeout_us.and_then(|us| {
        let ms = (round_to(us, 10_000).max(1) * 10).min(max_ms);
        if ms > interval_ms {
            head.notes.note(
                node.origin,
                format!(
                    "timeout {} is longer than the interval: vipd ends a check when the next \
                     one is due, so the timeout is the interval ({})",
                    seconds_text(us),
                    duration(interval_ms)
                ),
            );
            None
        } else {
            Some(ms)
        }
    });
    let (vipd_name, renamed) = names.claim(name);
    if renamed {
        head.notes.note(
            node.origin,
            format!(
                "vrrp_script `{}` is named `{vipd_name}`: vipd names are 1 to 64 characters \
                 from A-Z a-z 0-9 _ . -",
                printable(name, 40)
            ),
        );
    }
    def.out = Some(outs.len());
    outs.push((
        ScriptOut {
            head,
            name: vipd_name,
            command: argv,
            interval_ms,
            timeout_ms,
            rise,
            fall,
        },
        false,
    ));
    def
}

/// A per-command user: vipd has one user for all commands.
pub(super) fn user(s: &Node, globals: &Globals, notes: &mut Vec<RawNote>) {
    let Some(user) = s.arg(1) else {
        notes.not_carried(s.origin, format!("{}: no user given", quote(s)));
        return;
    };
    if globals.script_user.as_deref() != Some(user) || s.arg(2).is_some() {
        notes.not_carried(
            s.origin,
            format!(
                "{}: vipd runs every command as global.script_user ({})",
                quote(s),
                globals
                    .script_user
                    .as_deref()
                    .map_or("not set: the agent's user".to_owned(), |u| format!("`{u}`"))
            ),
        );
    }
}

fn file(
    node: &Node,
    name: &str,
    names: &mut Names,
    outs: &mut Vec<(FileOut, bool)>,
    top: &mut Vec<RawNote>,
) -> Def {
    let mut head = Head::new(node);
    let mut def = Def {
        out: None,
        origin: node.origin,
        weight: 1,
        reverse: false,
    };
    if node.keyword() == "vrrp_track_file" {
        head.notes.note(
            node.origin,
            "vrrp_track_file is keepalived's old name for track_file",
        );
    }
    let Some(body) = block(node, top) else {
        return def;
    };
    let notes = &mut head.notes;
    let mut path = None;
    for s in body {
        if !no_block(s, notes) {
            continue;
        }
        match s.keyword() {
            "file" => match s.arg(1) {
                Some(p) if p.starts_with('/') => path = Some(p.to_owned()),
                Some(p) => notes.not_carried(
                    s.origin,
                    format!(
                        "{}: `{}` is not an absolute path",
                        quote(s),
                        printable(p, 60)
                    ),
                ),
                None => notes.not_carried(s.origin, format!("{}: no file given", quote(s))),
            },
            "weight" => match s.arg(1).and_then(integer) {
                Some(w) => {
                    def.weight = w;
                    match s.arg(2) {
                        None => {}
                        Some("reverse") => def.reverse = true,
                        Some(other) => notes.not_carried(
                            s.origin,
                            format!("{}: unknown option `{other}`", quote(s)),
                        ),
                    }
                }
                None => {
                    notes.not_carried(s.origin, format!("{}: the weight is an integer", quote(s)))
                }
            },
            "init_file" => notes.not_carried(
                s.origin,
                "init_file: vipd neither creates nor writes the file; a missing or empty file \
                 counts as 0",
            ),
            _ => notes.not_carried(
                s.origin,
                format!("{}: not a track_file keyword the importer knows", quote(s)),
            ),
        }
    }
    let Some(path) = path else {
        top.extend(head.notes);
        top.not_carried(
            node.origin,
            format!(
                "track_file {}: no absolute `file` path, so instances that track it lose that \
                 tracking",
                printable(name, 40)
            ),
        );
        return def;
    };
    let (vipd_name, renamed) = names.claim(name);
    if renamed {
        head.notes.note(
            node.origin,
            format!(
                "track_file `{}` is named `{vipd_name}`: vipd names are 1 to 64 characters \
                 from A-Z a-z 0-9 _ . -",
                printable(name, 40)
            ),
        );
    }
    def.out = Some(outs.len());
    outs.push((
        FileOut {
            head,
            name: vipd_name,
            path,
        },
        false,
    ));
    def
}

fn process(node: &Node, top: &mut Vec<RawNote>) -> ProcessDef {
    let mut def = ProcessDef {
        comm: None,
        origin: node.origin,
        weight: 0,
        reverse: false,
    };
    let Some(body) = block(node, top) else {
        return def;
    };
    let mut comm = None;
    let mut why_not: Option<String> = None;
    for s in body {
        if !no_block(s, top) {
            continue;
        }
        match s.keyword() {
            "process" => match s.arg(1) {
                Some(_) if s.args().len() > 1 => {
                    why_not = Some(
                        "it matches command-line parameters; vipd matches the process name \
                         only"
                            .to_owned(),
                    );
                }
                Some(p) => comm = Some(p.to_owned()),
                None => why_not = Some("no process is given".to_owned()),
            },
            "full_command" | "param_match" => {
                why_not = Some(format!(
                    "{}: vipd matches the process name (as in /proc/PID/comm), not the command \
                     line",
                    quote(s)
                ));
            }
            "quorum" if s.arg(1) == Some("1") => {}
            "quorum" | "quorum_max" => {
                why_not = Some(format!(
                    "{}: vipd counts the process as up while one or more has the name",
                    quote(s)
                ));
            }
            "weight" => match s.arg(1).and_then(integer) {
                Some(w) => {
                    def.weight = w;
                    match s.arg(2) {
                        None => {}
                        Some("reverse") => def.reverse = true,
                        Some(other) => top.not_carried(
                            s.origin,
                            format!("{}: unknown option `{other}`", quote(s)),
                        ),
                    }
                }
                None => {
                    top.not_carried(s.origin, format!("{}: the weight is an integer", quote(s)))
                }
            },
            "delay" | "fork_delay" | "terminate_delay" => top.not_carried(
                s.origin,
                format!(
                    "{}: vipd looks at /proc every second, without delays",
                    quote(s)
                ),
            ),
            _ => top.not_carried(
                s.origin,
                format!(
                    "{}: not a vrrp_track_process keyword the importer knows",
                    quote(s)
                ),
            ),
        }
    }
    if let (None, Some(c)) = (&why_not, &comm) {
        if c.contains('/') {
            why_not = Some(format!(
                "`{}` is a path; keepalived and vipd compare the process name (as in \
                 /proc/PID/comm)",
                printable(c, 40)
            ));
        } else if c.len() > MAX_PROCESS_NAME_LEN || c.chars().any(char::is_control) {
            why_not = Some(format!(
                "`{}` is not a process name of 1 to {MAX_PROCESS_NAME_LEN} bytes (Linux keeps \
                 only that much in /proc/PID/comm)",
                printable(c, 40)
            ));
        }
    }
    match why_not {
        Some(why) => top.not_carried(
            node.origin,
            format!(
                "{}: {why}; instances that track it lose that tracking",
                quote(node)
            ),
        ),
        None if comm.is_none() => top.not_carried(
            node.origin,
            format!("{}: no `process` is given", quote(node)),
        ),
        None => def.comm = comm,
    }
    def
}

/// What a `track_*` list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Script,
    File,
    Process,
    Interface,
}

/// One entry of a `track_*` list, as written.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    kind: Kind,
    name: String,
    weight: Option<i64>,
    /// `reverse` or `noreverse`, when given.
    reverse: Option<bool>,
    pub(super) origin: Origin,
    /// From a sync group's list rather than the instance's own.
    pub(super) from_group: bool,
}

/// The kind of list a keyword opens, if it is one.
pub(super) fn list_kind(keyword: &str) -> Option<Kind> {
    Some(match keyword {
        "track_script" => Kind::Script,
        "track_file" => Kind::File,
        "track_process" => Kind::Process,
        "track_interface" => Kind::Interface,
        _ => return None,
    })
}

/// The entries of the `track_*` block of `node`.
pub(super) fn entries(
    node: &Node,
    kind: Kind,
    from_group: bool,
    notes: &mut Vec<RawNote>,
) -> Vec<Entry> {
    let Some(body) = block(node, notes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in body {
        if !no_block(s, notes) {
            continue;
        }
        let mut e = Entry {
            kind,
            name: s.keyword().to_owned(),
            weight: None,
            reverse: None,
            origin: s.origin,
            from_group,
        };
        let rest = s.args();
        match rest {
            [] => {}
            [w, value, more @ ..] if w == "weight" => {
                let Some(weight) = integer(value) else {
                    notes.not_carried(s.origin, format!("{}: the weight is an integer", quote(s)));
                    continue;
                };
                e.weight = Some(weight);
                match more {
                    [] => {}
                    [r] if r == "reverse" => e.reverse = Some(true),
                    [r] if r == "noreverse" || r == "no_reverse" => e.reverse = Some(false),
                    _ => notes.not_carried(
                        s.origin,
                        format!(
                            "{}: `{}` is not an option the importer knows",
                            quote(s),
                            printable(&more.join(" "), 30)
                        ),
                    ),
                }
            }
            _ => notes.not_carried(
                s.origin,
                format!(
                    "{}: `{}` is not an option the importer knows",
                    quote(s),
                    printable(&rest.join(" "), 30)
                ),
            ),
        }
        out.push(e);
    }
    out
}

/// The sync group an instance is in, as far as tracking goes.
pub(super) struct GroupRule<'a> {
    pub(super) name: &'a str,
    /// `sync_group_tracking_weight` (or the old `global_tracking`).
    pub(super) tracking_weight: bool,
}

impl Trackers {
    /// The vipd entry for `e` in an instance (in `group`, if any); notes say what is left
    /// behind or changed.
    pub(super) fn resolve(
        &mut self,
        e: &Entry,
        group: Option<&GroupRule<'_>>,
        notes: &mut Vec<RawNote>,
    ) -> Option<TrackOut> {
        let what = printable(&e.name, 40);
        // keepalived's members of a sync group ignore their own weights (unless the group
        // has sync_group_tracking_weight): a weighted script is dropped, a weighted file or
        // interface runs with weight 0, a process keeps its weight (keepalived 2.2.7).
        let member_rule = group.filter(|g| !g.tracking_weight && !e.from_group);
        let (kind, name, weight, reverse) = match e.kind {
            Kind::Script => {
                let Some(def) = self.scripts.get(&e.name) else {
                    notes.not_carried(
                        e.origin,
                        format!("track_script `{what}`: no vrrp_script has this name"),
                    );
                    return None;
                };
                let Some(i) = def.out else {
                    notes.not_carried(
                        e.origin,
                        format!(
                            "track_script `{what}`: the vrrp_script (line {}) is not carried",
                            def.origin.line
                        ),
                    );
                    return None;
                };
                let weight = e.weight.unwrap_or(def.weight);
                if let Some(g) = member_rule
                    && weight != 0
                {
                    notes.not_carried(
                        e.origin,
                        format!(
                            "track_script `{what}` (weight {weight}): keepalived ignores a \
                             weighted script tracked by a member of sync group `{}`; add \
                             sync_group_tracking_weight to the group, or track it with weight \
                             0 or from the group",
                            printable(g.name, 40)
                        ),
                    );
                    return None;
                }
                (
                    "script",
                    self.script_outs.get(i)?.0.name.clone(),
                    weight,
                    e.reverse.unwrap_or(def.reverse),
                )
            }
            Kind::File => {
                let Some(def) = self.files.get(&e.name) else {
                    notes.not_carried(
                        e.origin,
                        format!("track_file `{what}`: no track_file has this name"),
                    );
                    return None;
                };
                let Some(i) = def.out else {
                    notes.not_carried(
                        e.origin,
                        format!(
                            "track_file `{what}`: the track_file (line {}) is not carried",
                            def.origin.line
                        ),
                    );
                    return None;
                };
                let mut weight = e.weight.unwrap_or(def.weight);
                if let Some(g) = member_rule
                    && weight != 0
                {
                    notes.note(
                        e.origin,
                        format!(
                            "track_file `{what}`: weight {weight} becomes 0, as keepalived \
                             runs it on a member of sync group `{}` (no \
                             sync_group_tracking_weight)",
                            printable(g.name, 40)
                        ),
                    );
                    weight = 0;
                }
                (
                    "file",
                    self.file_outs.get(i)?.0.name.clone(),
                    weight,
                    e.reverse.unwrap_or(def.reverse),
                )
            }
            Kind::Process => {
                let Some(def) = self.processes.get(&e.name) else {
                    notes.not_carried(
                        e.origin,
                        format!("track_process `{what}`: no vrrp_track_process has this name"),
                    );
                    return None;
                };
                let Some(comm) = def.comm.clone() else {
                    notes.not_carried(
                        e.origin,
                        format!(
                            "track_process `{what}`: the vrrp_track_process (line {}) is not \
                             carried",
                            def.origin.line
                        ),
                    );
                    return None;
                };
                let weight = e.weight.unwrap_or(def.weight);
                ("process", comm, weight, e.reverse.unwrap_or(def.reverse))
            }
            Kind::Interface => {
                if let Err(why) = interface_ok(&e.name) {
                    notes.not_carried(e.origin, format!("track_interface: {why}"));
                    return None;
                }
                let mut weight = e.weight.unwrap_or(0);
                if let Some(g) = member_rule
                    && weight != 0
                {
                    notes.note(
                        e.origin,
                        format!(
                            "track_interface `{what}`: weight {weight} becomes 0, as \
                             keepalived runs it on a member of sync group `{}` (no \
                             sync_group_tracking_weight)",
                            printable(g.name, 40)
                        ),
                    );
                    weight = 0;
                }
                (
                    "interface",
                    e.name.clone(),
                    weight,
                    e.reverse.unwrap_or(false),
                )
            }
        };
        if reverse {
            notes.not_carried(
                e.origin,
                format!(
                    "{kind} `{what}` with `reverse`: vipd has no reversed tracking, and \
                     without it the weight would act the other way round"
                ),
            );
            return None;
        }
        if weight.abs() > i64::from(MAX_TRACK_WEIGHT) {
            notes.not_carried(
                e.origin,
                format!("{kind} `{what}`: weight {weight} is outside vipd's -253..253"),
            );
            return None;
        }
        // Only a tracker that some entry uses is written.
        let flag = match e.kind {
            Kind::Script => (self.scripts.get(&e.name).and_then(|d| d.out))
                .and_then(|i| self.script_outs.get_mut(i))
                .map(|o| &mut o.1),
            Kind::File => (self.files.get(&e.name).and_then(|d| d.out))
                .and_then(|i| self.file_outs.get_mut(i))
                .map(|o| &mut o.1),
            Kind::Process | Kind::Interface => None,
        };
        if let Some(flag) = flag {
            *flag = true;
        }
        Some(TrackOut { kind, name, weight })
    }
}

/// The tracker tables that some carried instance uses; the others are noted.
pub(super) fn finish(t: Trackers, doc: &mut Doc) {
    for (out, used) in t.script_outs {
        if used {
            doc.scripts.push(out);
        } else {
            doc.top.extend(out.head.notes);
            doc.top.not_carried(
                out.head.origin,
                format!(
                    "{}: no carried instance tracks it (keepalived does not run an unused \
                     script either)",
                    out.head.title
                ),
            );
        }
    }
    for (out, used) in t.file_outs {
        if used {
            doc.files.push(out);
        } else {
            doc.top.extend(out.head.notes);
            doc.top.not_carried(
                out.head.origin,
                format!("{}: no carried instance tracks it", out.head.title),
            );
        }
    }
}

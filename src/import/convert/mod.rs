//! keepalived's keywords mapped onto vipd's tables.
//!
//! Top-level blocks are sorted first (`global_defs`, `vrrp_script`, `track_file`,
//! `vrrp_track_process`, `vrrp_sync_group`, `vrrp_instance`, the rest), so that each
//! instance can resolve what it tracks and which group it is in, whatever the order of the
//! file. Each section of the result carries the notes about it; what belongs to no carried
//! section is noted at the top of the file.

mod command;
mod global;
mod group;
mod instance;
mod track;
mod values;

pub(super) use values::duration;

use super::tree::Node;
use super::words::printable;
use super::{NoteKind, Origin, RawNote};

/// The vipd configuration to write, section by section.
#[derive(Default)]
pub(super) struct Doc {
    /// Notes that belong to no section that is written.
    pub(super) top: Vec<RawNote>,
    pub(super) global: Option<GlobalOut>,
    pub(super) scripts: Vec<ScriptOut>,
    pub(super) files: Vec<FileOut>,
    pub(super) instances: Vec<InstanceOut>,
    pub(super) groups: Vec<GroupOut>,
}

impl Doc {
    /// Every note, wherever it is kept.
    pub(super) fn all_notes(&self) -> Vec<RawNote> {
        let mut all = self.top.clone();
        let heads = (self.global.iter().map(|g| &g.head))
            .chain(self.scripts.iter().map(|s| &s.head))
            .chain(self.files.iter().map(|f| &f.head))
            .chain(self.instances.iter().map(|i| &i.head))
            .chain(self.groups.iter().map(|g| &g.head));
        for head in heads {
            all.extend(head.notes.iter().cloned());
        }
        all
    }
}

/// Where a section came from, and the notes about it.
pub(super) struct Head {
    pub(super) origin: Origin,
    /// `vrrp_instance VI_1`
    pub(super) title: String,
    pub(super) notes: Vec<RawNote>,
}

impl Head {
    fn new(node: &Node) -> Head {
        Head {
            origin: node.origin,
            title: printable(&node.words.join(" "), 80),
            notes: Vec::new(),
        }
    }
}

pub(super) struct GlobalOut {
    pub(super) head: Head,
    pub(super) router_id: Option<String>,
    pub(super) script_user: Option<String>,
}

pub(super) struct ScriptOut {
    pub(super) head: Head,
    pub(super) name: String,
    pub(super) command: Vec<String>,
    pub(super) interval_ms: u64,
    /// `None`: the interval.
    pub(super) timeout_ms: Option<u64>,
    pub(super) rise: u32,
    pub(super) fall: u32,
}

pub(super) struct FileOut {
    pub(super) head: Head,
    pub(super) name: String,
    pub(super) path: String,
}

pub(super) struct InstanceOut {
    pub(super) head: Head,
    pub(super) name: String,
    pub(super) interface: String,
    pub(super) vrid: u8,
    pub(super) priority: u8,
    pub(super) version: u8,
    pub(super) advert_ms: u64,
    pub(super) preempt: bool,
    pub(super) preempt_delay_ms: u64,
    pub(super) addresses: Vec<String>,
    pub(super) peers: Vec<String>,
    pub(super) auth_pass: Option<String>,
    pub(super) track: Vec<TrackOut>,
    pub(super) notify: NotifyOut,
    /// `use_vmac [NAME]`: `Some(None)` for vipd's default macvlan name.
    pub(super) virtual_mac: Option<Option<String>>,
    /// `garp_master_refresh SECONDS` (above 0).
    pub(super) garp_refresh_s: Option<u64>,
    /// `no_accept`, or `strict_mode on`.
    pub(super) accept_mode: bool,
}

/// One entry of an instance's `track` list: `kind` is `script`, `file`, `interface` or
/// `process`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TrackOut {
    pub(super) kind: &'static str,
    pub(super) name: String,
    pub(super) weight: i64,
}

/// The five notify commands, in vipd's key order.
#[derive(Default)]
pub(super) struct NotifyOut {
    pub(super) commands: [Option<Vec<String>>; 5],
}

/// vipd's notify keys, which are keepalived's too.
pub(super) const NOTIFY_KEYS: [&str; 5] = [
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
];

pub(super) struct GroupOut {
    pub(super) head: Head,
    pub(super) name: String,
    pub(super) instances: Vec<String>,
    pub(super) notify: NotifyOut,
}

/// Adds notes to a list.
pub(super) trait NoteSink {
    fn push_note(&mut self, note: RawNote);

    fn not_carried(&mut self, origin: Origin, text: impl Into<String>) {
        self.push_note(RawNote {
            origin: Some(origin),
            kind: NoteKind::NotCarried,
            text: text.into(),
        });
    }

    fn note(&mut self, origin: Origin, text: impl Into<String>) {
        self.push_note(RawNote {
            origin: Some(origin),
            kind: NoteKind::Note,
            text: text.into(),
        });
    }
}

impl NoteSink for Vec<RawNote> {
    fn push_note(&mut self, note: RawNote) {
        self.push(note);
    }
}

/// A statement as it reads in a note: `` `use_vmac vrrp51` ``.
pub(super) fn quote(node: &Node) -> String {
    format!("`{}`", printable(&node.words.join(" "), 60))
}

/// The block of `node`, or a note that it needs one.
pub(super) fn block<'n>(node: &'n Node, notes: &mut Vec<RawNote>) -> Option<&'n [Node]> {
    match &node.block {
        Some(b) => Some(b),
        None => {
            notes.not_carried(
                node.origin,
                format!("{}: a `{{ ... }}` block should follow", quote(node)),
            );
            None
        }
    }
}

/// A note when a keyword that takes no block has one; true when it has none.
pub(super) fn no_block(node: &Node, notes: &mut Vec<RawNote>) -> bool {
    if node.block.is_some() {
        notes.not_carried(
            node.origin,
            format!("{}: takes no `{{ ... }}` block", quote(node)),
        );
        return false;
    }
    true
}

/// Converts the top-level statements.
pub(super) fn convert(nodes: &[Node]) -> Doc {
    let mut doc = Doc::default();
    let mut globals = Vec::new();
    let mut scripts = Vec::new();
    let mut files = Vec::new();
    let mut processes = Vec::new();
    let mut groups = Vec::new();
    let mut instances = Vec::new();
    for node in nodes {
        match node.keyword() {
            "global_defs" => globals.push(node),
            "vrrp_script" => scripts.push(node),
            "track_file" | "vrrp_track_file" => files.push(node),
            "vrrp_track_process" => processes.push(node),
            "vrrp_sync_group" => groups.push(node),
            "vrrp_instance" => instances.push(node),
            _ => doc.top.not_carried(node.origin, top_level_reason(node)),
        }
    }
    let globals = global::convert(&globals, &mut doc);
    let mut trackers = track::definitions(&scripts, &files, &processes, &globals, &mut doc.top);
    let membership = group::membership(&groups, &mut doc.top);
    let (carried, known) =
        instance::convert_all(&instances, &globals, &mut trackers, &membership, &mut doc);
    group::convert_all(membership, &carried, &known, &globals, &mut doc);
    track::finish(trackers, &mut doc);
    doc
}

/// Why a top-level keyword other than the VRRP ones is left behind.
fn top_level_reason(node: &Node) -> String {
    let why = match node.keyword() {
        "virtual_server" | "virtual_server_group" => {
            "LVS load balancing: vipd does VRRP only; keep keepalived's checker (or ipvsadm) \
             for the virtual servers"
        }
        "static_ipaddress" | "static_routes" | "static_rules" | "static_track_group" => {
            "static addresses, routes and rules: vipd manages only virtual addresses; configure \
             these in the host's network configuration"
        }
        "bfd_instance" => "BFD: vipd has no BFD",
        "garp_group" => {
            "vipd sends its gratuitous ARPs and neighbour advertisements without pacing groups"
        }
        "linkbeat_interfaces" | "linkbeat_use_polling" => {
            "vipd follows interfaces through netlink events; it has no polling"
        }
        "interface_up_down_delays" => "vipd has no interface up/down delays",
        "net_namespace" | "net_namespace_ipvs" | "namespace_with_ipsets" => {
            "vipd has no network namespace setting: run it inside the namespace (ip netns exec)"
        }
        "instance" | "use_pid_dir" | "child_wait_time" | "use_instance" => {
            "a keepalived process setting; vipd has none such"
        }
        "vrrp_sync_group_end" => "not a keepalived keyword",
        _ => "not a keepalived 2.2 top-level keyword the importer knows",
    };
    format!("{}: {why}", quote(node))
}

/// Instances carried over: vipd's name by keepalived's.
pub(super) type Carried = std::collections::HashMap<String, String>;

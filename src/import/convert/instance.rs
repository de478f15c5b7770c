//! `vrrp_instance`: vipd's `[[instance]]`.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::str::FromStr;

use super::super::tree::Node;
use super::super::words::printable;
use super::super::{Origin, RawNote};
use super::command::command;
use super::global::Globals;
use super::group::Membership;
use super::track::{Entry, Trackers, entries, list_kind, user};
use super::values::{Names, duration, integer, interface_ok, micros, round_to, seconds_text};
use super::{
    Carried, Doc, Head, InstanceOut, NOTIFY_KEYS, NoteSink, NotifyOut, TrackOut, block, no_block,
    quote,
};
use crate::config::{MAX_ADDRESSES, MAX_AUTH_PASS_LEN, MAX_PREEMPT_DELAY, VirtualAddress};

/// Converts every instance; returns the carried ones (keepalived's name, vipd's) and every
/// keepalived instance name seen.
pub(super) fn convert_all(
    nodes: &[&Node],
    globals: &Globals,
    trackers: &mut Trackers,
    membership: &Membership<'_>,
    doc: &mut Doc,
) -> (Carried, HashSet<String>) {
    let mut names = Names::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut slots: HashMap<(String, u8, bool), String> = HashMap::new();
    let mut carried = Carried::new();
    for node in nodes {
        let name = match node.args() {
            [name] => name.clone(),
            [] => {
                doc.top
                    .not_carried(node.origin, format!("{}: no name given", quote(node)));
                continue;
            }
            _ => {
                doc.top.not_carried(
                    node.origin,
                    format!(
                        "{}: a name is one word; keepalived skips this instance",
                        quote(node)
                    ),
                );
                continue;
            }
        };
        if seen.contains(&name) {
            doc.top.not_carried(
                node.origin,
                format!(
                    "{}: a second instance named `{}`; keepalived uses the first",
                    quote(node),
                    printable(&name, 40)
                ),
            );
            continue;
        }
        seen.insert(name.clone());
        let Some(mut out) = instance(node, &name, globals, trackers, membership, &mut doc.top)
        else {
            continue;
        };
        let v6 = out.addresses.first().is_some_and(|a| a.contains(':'));
        let slot = (out.interface.clone(), out.vrid, v6);
        if let Some(first) = slots.get(&slot) {
            doc.top.extend(out.head.notes);
            doc.top.not_carried(
                node.origin,
                format!(
                    "{}: instance `{first}` already runs VRID {} for {} on {}; keepalived \
                     allows that with separate unicast peers or multicast groups, vipd runs \
                     one virtual router per VRID, family and interface",
                    quote(node),
                    out.vrid,
                    if v6 { "IPv6" } else { "IPv4" },
                    out.interface
                ),
            );
            continue;
        }
        let (vipd_name, renamed) = names.claim(&name);
        if renamed {
            out.head.notes.note(
                node.origin,
                format!(
                    "vrrp_instance `{}` is named `{vipd_name}`: vipd names are 1 to 64 \
                     characters from A-Z a-z 0-9 _ . -",
                    printable(&name, 40)
                ),
            );
        }
        slots.insert(slot, vipd_name.clone());
        out.name = vipd_name.clone();
        carried.insert(name, vipd_name);
        doc.instances.push(out);
    }
    (carried, seen)
}

/// What an instance says, before it is checked as a whole.
#[derive(Default)]
struct Said<'n> {
    interface: Option<&'n Node>,
    vrid: Option<u8>,
    priority: Option<u8>,
    version: Option<(u8, Origin)>,
    advert_us: Option<(u64, Origin)>,
    nopreempt: Option<Origin>,
    preempt_delay: Option<(u64, Origin)>,
    auth: Option<&'n Node>,
    vips: Vec<&'n Node>,
    peers: Vec<&'n Node>,
    tracks: Vec<Entry>,
    notify: Vec<&'n Node>,
    state: Option<&'n Node>,
    use_vmac: Option<&'n Node>,
    garp_refresh: Option<&'n Node>,
    no_accept: Option<&'n Node>,
}

/// One instance, or `None` (with the reason among `top`'s notes).
fn instance(
    node: &Node,
    name: &str,
    globals: &Globals,
    trackers: &mut Trackers,
    membership: &Membership<'_>,
    top: &mut Vec<RawNote>,
) -> Option<InstanceOut> {
    let mut head = Head::new(node);
    let body = block(node, top)?;
    let said = read(body, &mut head.notes);
    let notes = &mut head.notes;
    let fail = |head: Head, top: &mut Vec<RawNote>, why: String| {
        top.extend(head.notes);
        top.not_carried(
            node.origin,
            format!("vrrp_instance {}: {why}", printable(name, 40)),
        );
        None
    };
    let Some(interface_node) = said.interface else {
        return fail(
            head,
            top,
            "no `interface`; vipd needs the interface the instance runs on".to_owned(),
        );
    };
    let interface = interface_node.arg(1).unwrap_or_default().to_owned();
    if let Err(why) = interface_ok(&interface) {
        return fail(head, top, format!("interface: {why}"));
    }
    let Some(vrid) = said.vrid else {
        return fail(
            head,
            top,
            "no valid `virtual_router_id` (1..255)".to_owned(),
        );
    };
    let mut family_v6 = None;
    let mut addresses = Vec::new();
    let mut seen = HashSet::new();
    for b in &said.vips {
        let Some(list) = block(b, notes) else {
            continue;
        };
        for s in list {
            if let Some(a) = address(s, &interface, &mut family_v6, &mut seen, notes) {
                if addresses.len() == MAX_ADDRESSES {
                    notes.not_carried(
                        s.origin,
                        format!(
                            "{}: an advert carries at most {MAX_ADDRESSES} addresses",
                            quote(s)
                        ),
                    );
                    continue;
                }
                addresses.push(a);
            }
        }
    }
    let Some(v6) = family_v6.filter(|_| !addresses.is_empty()) else {
        return fail(
            head,
            top,
            "no virtual address vipd can carry; vipd needs at least one".to_owned(),
        );
    };
    let mut version = said.version.map_or(globals.version, |(v, _)| v);
    if v6 && version == 2 {
        if let Some((_, origin)) = said.version {
            notes.note(
                origin,
                "version 2: keepalived runs IPv6 instances with VRRPv3, and so does vipd",
            );
        }
        version = 3;
    }
    let advert_ms = advert(said.advert_us, version, node.origin, notes);
    // keepalived 2.2.7: state MASTER without a priority makes the address owner (255); state
    // MASTER clears nopreempt and preempt_delay, and so does priority 255 for nopreempt.
    let master = said.state.and_then(|s| s.arg(1)) == Some("MASTER");
    let priority = match said.priority {
        Some(p) => p,
        None if master => {
            if let Some(state) = said.state {
                notes.note(
                    state.origin,
                    "state MASTER without a priority: keepalived makes the instance the \
                     address owner, priority 255, and so does the import",
                );
            }
            255
        }
        None => 100,
    };
    let mut preempt = true;
    if let Some(origin) = said.nopreempt {
        if master || priority == 255 {
            notes.not_carried(
                origin,
                format!(
                    "nopreempt: keepalived clears it on an instance with {}",
                    if master {
                        "state MASTER"
                    } else {
                        "priority 255"
                    }
                ),
            );
        } else {
            preempt = false;
        }
    }
    let mut preempt_delay_ms = 0;
    if let Some((us, origin)) = said.preempt_delay.filter(|(us, _)| *us > 0) {
        let ms = round_to(us, 1000);
        if master {
            notes.not_carried(
                origin,
                "preempt_delay: keepalived clears it on an instance with state MASTER",
            );
        } else if !preempt {
            notes.not_carried(
                origin,
                "preempt_delay: with nopreempt the instance never preempts, so it has no \
                 effect",
            );
        } else if ms > MAX_PREEMPT_DELAY.as_millis() as u64 {
            notes.not_carried(
                origin,
                format!(
                    "preempt_delay {}: vipd allows at most 60 minutes",
                    seconds_text(us)
                ),
            );
        } else {
            preempt_delay_ms = ms;
        }
    }
    let auth_pass = said.auth.and_then(|a| auth(a, version, notes));
    let peers = match unicast_peers(&said.peers, v6, notes) {
        Ok(peers) => peers,
        Err(why) => return fail(head, top, why),
    };
    let group = membership.of(name);
    let mut track: Vec<TrackOut> = Vec::new();
    let mut tracked: HashMap<(&'static str, String), usize> = HashMap::new();
    let group_entries = group.as_ref().map_or(&[][..], |(_, e)| e);
    for e in said.tracks.iter().chain(group_entries) {
        let rule = group.as_ref().map(|(r, _)| r);
        let Some(t) = trackers.resolve(e, rule, notes) else {
            continue;
        };
        add_track(&mut track, &mut tracked, t, e, notes);
    }
    let notify = notify(&said.notify, globals, notes);
    if let Some(state) = said.state {
        let what = match state.arg(1) {
            Some("MASTER") if priority == 255 => {
                "vipd has no initial state: priority 255 makes it the address owner, master at \
                 once, as keepalived's MASTER does at 255"
            }
            Some("MASTER") => {
                "vipd has no initial state: the priority decides (keepalived 2.2 waits for the \
                 election too, unless the priority is 255)"
            }
            Some("BACKUP") => "",
            _ => "keepalived reads an unknown state as BACKUP, which is how vipd starts",
        };
        if !what.is_empty() {
            notes.note(state.origin, format!("{}: {what}", quote(state)));
        }
    }
    let virtual_mac = said.use_vmac.map(|s| vmac_name(s, notes));
    let garp_refresh_s = said.garp_refresh.and_then(|s| garp_refresh(s, notes));
    let mut accept_mode = true;
    if let Some(s) = said.no_accept {
        if priority == 255 {
            notes.not_carried(
                s.origin,
                format!(
                    "{}: the address owner always accepts traffic to its addresses",
                    quote(s)
                ),
            );
        } else {
            accept_mode = false;
        }
    }
    Some(InstanceOut {
        virtual_mac,
        garp_refresh_s,
        accept_mode,
        head,
        name: String::new(),
        interface,
        vrid,
        priority,
        version,
        advert_ms,
        preempt,
        preempt_delay_ms,
        addresses,
        peers,
        auth_pass,
        track,
        notify,
    })
}

/// `use_vmac [NAME]`: keepalived's default name (`vrrp.VRID`) becomes vipd's default; a name
/// of vipd's length limit is kept.
fn vmac_name(s: &Node, notes: &mut Vec<RawNote>) -> Option<String> {
    let name = s.arg(1)?;
    if name.starts_with("vrrp.") {
        notes.note(
            s.origin,
            format!(
                "{}: vipd names its macvlan vipd4.VRID / vipd6.VRID",
                quote(s)
            ),
        );
        return None;
    }
    if name.len() > crate::config::MAX_IFNAME_LEN {
        notes.note(
            s.origin,
            format!(
                "{}: longer than 15 bytes; vipd's default name is used",
                quote(s)
            ),
        );
        return None;
    }
    Some(name.to_owned())
}

/// `garp_master_refresh SECONDS`: vipd allows 1 s to 60 minutes.
fn garp_refresh(s: &Node, notes: &mut Vec<RawNote>) -> Option<u64> {
    match s.arg(1).and_then(integer) {
        Some(n @ 1..=3600) => Some(n as u64),
        _ => {
            notes.not_carried(
                s.origin,
                format!("{}: vipd's garp_refresh is 1 s to 60 minutes", quote(s)),
            );
            None
        }
    }
}

/// Adds `t` to the list unless its object is tracked already. keepalived, when an instance
/// and its group track the same object, uses the group's weight unless the instance's is 0.
fn add_track(
    track: &mut Vec<TrackOut>,
    tracked: &mut HashMap<(&'static str, String), usize>,
    t: TrackOut,
    e: &Entry,
    notes: &mut Vec<RawNote>,
) {
    let key = (t.kind, t.name.clone());
    let Some(existing) = tracked.get(&key).and_then(|i| track.get_mut(*i)) else {
        tracked.insert(key, track.len());
        track.push(t);
        return;
    };
    if e.from_group && existing.weight != 0 {
        existing.weight = t.weight;
    }
    let what = format!("{} `{}`", t.kind, printable(&t.name, 40));
    let text = if e.from_group {
        format!(
            "{what} is tracked by the instance and by its sync group: keepalived uses the \
             group's weight unless the instance's is 0; weight {}",
            existing.weight
        )
    } else {
        format!("{what} is tracked twice; the first entry is kept")
    };
    notes.note(e.origin, text);
}

/// Sorts the statements of an instance's block.
fn read<'n>(body: &'n [Node], notes: &mut Vec<RawNote>) -> Said<'n> {
    let mut said = Said::default();
    for s in body {
        let k = s.keyword();
        if let Some(kind) = list_kind(k) {
            let mut e = entries(s, kind, false, notes);
            said.tracks.append(&mut e);
            continue;
        }
        match k {
            "virtual_ipaddress" => {
                said.vips.push(s);
                continue;
            }
            "unicast_peer" => {
                said.peers.push(s);
                continue;
            }
            "authentication" => {
                said.auth = Some(s);
                continue;
            }
            "virtual_ipaddress_excluded" => {
                if let Some(list) = block(s, notes) {
                    for a in list {
                        notes.not_carried(
                            a.origin,
                            format!(
                                "virtual_ipaddress_excluded {}: vipd has no excluded (not \
                                 advertised) addresses yet; give it a second instance, or \
                                 configure it on the host",
                                quote(a)
                            ),
                        );
                    }
                }
                continue;
            }
            "virtual_routes" | "virtual_rules" => {
                notes.not_carried(
                    s.origin,
                    format!(
                        "{}: vipd moves no routes or rules with the master; a notify_master \
                         command can add them",
                        quote(s)
                    ),
                );
                continue;
            }
            "track_bfd" => {
                notes.not_carried(s.origin, "track_bfd: vipd has no BFD");
                continue;
            }
            _ => {}
        }
        if !no_block(s, notes) {
            continue;
        }
        let arg = s.arg(1);
        let bad = |notes: &mut Vec<RawNote>, allowed: &str| {
            notes.not_carried(s.origin, format!("{}: {allowed}", quote(s)));
        };
        match k {
            "state" => said.state = Some(s),
            "interface" if arg.is_some() => said.interface = Some(s),
            "interface" => bad(notes, "no interface given"),
            "virtual_router_id" => match arg.and_then(integer) {
                Some(v @ 1..=255) => said.vrid = Some(v as u8),
                _ => bad(notes, "the VRID is an integer 1..255"),
            },
            "priority" => match arg.and_then(integer) {
                Some(p @ 1..=255) => said.priority = Some(p as u8),
                _ => {
                    said.priority = Some(100);
                    notes.note(
                        s.origin,
                        format!(
                            "{}: not a priority 1..255; keepalived then uses 100, and so does \
                             the import",
                            quote(s)
                        ),
                    );
                }
            },
            "advert_int" => match arg.and_then(micros) {
                Some(us) if us > 0 => said.advert_us = Some((us, s.origin)),
                _ => notes.note(
                    s.origin,
                    format!(
                        "{}: not a number of seconds above 0; keepalived keeps 1 s, and so \
                         does the import",
                        quote(s)
                    ),
                ),
            },
            "version" => match arg.and_then(integer) {
                Some(v @ (2 | 3)) => said.version = Some((v as u8, s.origin)),
                _ => bad(notes, "the version is 2 or 3"),
            },
            "nopreempt" => said.nopreempt = Some(s.origin),
            "preempt" => said.nopreempt = None,
            "preempt_delay" => match arg.and_then(micros) {
                Some(us) => said.preempt_delay = Some((us, s.origin)),
                None => bad(notes, "not a number of seconds"),
            },
            k if NOTIFY_KEYS.contains(&k) => said.notify.push(s),
            "notify_deleted" => bad(
                notes,
                "vipd has no DELETED state; an instance that leaves runs notify_stop, and \
                 `notify` gets STOP",
            ),
            "notify_master_rx_lower_pri" => bad(
                notes,
                "vipd runs no command for it: a master that hears a worse master logs it, \
                 counts it (master_conflicts) and announces its addresses again",
            ),
            "unicast_src_ip" | "mcast_src_ip" => bad(
                notes,
                "vipd sends from the interface's primary IPv4 address, or its IPv6 link-local \
                 address, and has no setting for it; check that this is that address",
            ),
            "use_vmac" => said.use_vmac = Some(s),
            "vmac_xmit_base" => bad(
                notes,
                "vipd sends multicast adverts from the virtual MAC (as the RFC and FRR do), not \
                 from the base interface",
            ),
            "use_vmac_addr" | "use_ipvlan" => bad(
                notes,
                "vipd's virtual MAC is a macvlan with the RFC's MAC (virtual_mac); it has no \
                 ipvlan and no MAC of your choosing",
            ),
            "dont_track_primary" => bad(
                notes,
                "vipd always goes to FAULT when the interface loses carrier or its primary \
                 address",
            ),
            "garp_master_delay" | "garp_master_repeat" if arg == Some("5") => {}
            "garp_master_refresh" if arg == Some("0") => {}
            "garp_master_refresh" => said.garp_refresh = Some(s),
            k if k.starts_with("garp_") => bad(
                notes,
                "vipd sends 5 gratuitous ARPs or unsolicited neighbour advertisements at a \
                 takeover and 5 more 5 s later, without refresh; that is not configurable",
            ),
            "promote_secondaries" => notes.note(
                s.origin,
                "promote_secondaries: vipd sets it on the interface itself",
            ),
            "accept" | "check_unicast_src" | "native_ipv6" => {}
            "strict_mode" | "skip_check_adv_addr"
                if arg.is_some_and(|a| a == "off" || a == "false" || a == "no") => {}
            "no_accept" => said.no_accept = Some(s),
            "strict_mode" => {
                said.no_accept = Some(s);
                notes.note(
                    s.origin,
                    "strict_mode: carried as accept_mode = false (its other checks are vipd's \
                     defaults or not configurable)",
                );
            }
            "skip_check_adv_addr" => bad(
                notes,
                "vipd always checks the address list of the master's adverts",
            ),
            "smtp_alert" => bad(notes, "vipd sends no mail; a notify command can"),
            "notify_priority_changes" => bad(
                notes,
                "vipd has no notify FIFO; `vipd events` streams priority changes",
            ),
            "down_timer_adverts" if arg == Some("3") => {}
            "down_timer_adverts" => bad(
                notes,
                "vipd follows the RFC: the master is down after 3 intervals and the skew",
            ),
            "lower_prio_no_advert" | "higher_prio_send_advert" => bad(
                notes,
                "vipd answers a worse master with an advert, and a master that loses sends \
                 one last advert; that is not configurable",
            ),
            "old_unicast_checksum" => bad(
                notes,
                "vipd computes the checksum as keepalived 1.3.6 and later do",
            ),
            "debug" | "linkbeat_use_polling" | "kernel_rx_buf_size" => {
                bad(notes, "vipd has no such setting (and needs none)")
            }
            _ => bad(
                notes,
                "not a vrrp_instance keyword the importer knows (or one vipd has no \
                 equivalent for)",
            ),
        }
    }
    said
}

/// The advert interval in milliseconds: VRRPv2 counts whole seconds (keepalived rounds), v3
/// centiseconds.
fn advert(
    said: Option<(u64, Origin)>,
    version: u8,
    origin: Origin,
    notes: &mut Vec<RawNote>,
) -> u64 {
    let (us, origin) = said.unwrap_or((1_000_000, origin));
    let (ms, max) = if version == 2 {
        (round_to(us, 1_000_000).max(1) * 1000, 255_000)
    } else {
        (round_to(us, 10_000).max(1) * 10, 40_950)
    };
    let written = ms.min(max);
    if written * 1000 != us {
        let why = if version == 2 {
            "VRRPv2 counts whole seconds from 1 to 255"
        } else {
            "VRRPv3 counts centiseconds up to 40.95 s"
        };
        notes.note(
            origin,
            format!(
                "advert_int {}: {why}; written as {}",
                seconds_text(us),
                duration(written)
            ),
        );
    }
    written
}

/// One entry of `virtual_ipaddress`: `ADDR[/PREFIX] [dev IF] [scope S] [label L] ...`.
fn address(
    s: &Node,
    interface: &str,
    family_v6: &mut Option<bool>,
    seen: &mut HashSet<IpAddr>,
    notes: &mut Vec<RawNote>,
) -> Option<String> {
    let text = s.keyword();
    let vip = match VirtualAddress::from_str(text) {
        Ok(v) => v,
        Err(why) => {
            notes.not_carried(s.origin, format!("{}: {why}", quote(s)));
            return None;
        }
    };
    if let Err(why) = usable(&vip.addr) {
        notes.not_carried(s.origin, format!("{}: {why}", quote(s)));
        return None;
    }
    let v6 = vip.addr.is_ipv6();
    if *family_v6.get_or_insert(v6) != v6 {
        notes.not_carried(
            s.origin,
            format!(
                "{}: the first address is {}: keepalived and vipd run one family per \
                 instance; give it an instance of its own",
                quote(s),
                if v6 { "IPv4" } else { "IPv6" }
            ),
        );
        return None;
    }
    if !seen.insert(vip.addr) {
        notes.not_carried(s.origin, format!("{}: listed twice", quote(s)));
        return None;
    }
    let words = s.args();
    let mut i = 0;
    while let Some(option) = words.get(i) {
        let value = words.get(i + 1).map(String::as_str);
        let takes_value = matches!(
            option.as_str(),
            "dev"
                | "scope"
                | "label"
                | "brd"
                | "broadcast"
                | "peer"
                | "preferred_lft"
                | "track_group"
        );
        if takes_value && value.is_none() {
            notes.not_carried(
                s.origin,
                format!("{}: `{option}` without a value", quote(s)),
            );
            break;
        }
        match (option.as_str(), value) {
            ("dev", Some(dev)) if dev != interface => {
                notes.not_carried(
                    s.origin,
                    format!(
                        "{}: the address is on {dev}, not on the instance's interface \
                         {interface}; vipd adds addresses only to the instance's interface. \
                         The address list of the adverts now differs from keepalived's, whose \
                         peers will drop them",
                        quote(s)
                    ),
                );
                return None;
            }
            ("dev", _) => {}
            ("scope", Some("global" | "universe")) => {}
            ("scope", Some(scope)) => notes.not_carried(
                s.origin,
                format!(
                    "{}: scope {scope}: vipd adds addresses with scope global",
                    quote(s)
                ),
            ),
            ("label", Some(label)) => notes.not_carried(
                s.origin,
                format!("{}: label {label}: vipd sets no address labels", quote(s)),
            ),
            (other, v) => notes.not_carried(
                s.origin,
                format!(
                    "{}: option `{other}{}`: vipd adds the address without it",
                    quote(s),
                    v.filter(|_| takes_value)
                        .map_or(String::new(), |v| format!(" {v}"))
                ),
            ),
        }
        i += if takes_value { 2 } else { 1 };
    }
    Some(vip.to_string())
}

/// Addresses that cannot be virtual addresses (vipd refuses them too).
fn usable(addr: &IpAddr) -> Result<(), String> {
    let v4_broadcast = matches!(addr, IpAddr::V4(a) if a.is_broadcast());
    if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() || v4_broadcast {
        return Err(format!(
            "`{addr}` is a multicast, unspecified, loopback or broadcast address"
        ));
    }
    Ok(())
}

/// The `unicast_peer` lists. An error when peers were listed but none can be carried: vipd
/// would fall back to multicast, which is not what keepalived runs.
fn unicast_peers(
    blocks: &[&Node],
    v6: bool,
    notes: &mut Vec<RawNote>,
) -> Result<Vec<String>, String> {
    let mut peers: Vec<String> = Vec::new();
    let mut listed = 0;
    for b in blocks {
        let Some(list) = block(b, notes) else {
            continue;
        };
        for s in list {
            listed += 1;
            let text = s.keyword();
            let (addr_text, prefix) = match text.split_once('/') {
                Some((a, _)) => (a, true),
                None => (text, false),
            };
            let Ok(addr) = IpAddr::from_str(addr_text) else {
                notes.not_carried(s.origin, format!("{}: not an IP address", quote(s)));
                continue;
            };
            if prefix {
                notes.note(
                    s.origin,
                    format!("{}: a peer is one address; the prefix is dropped", quote(s)),
                );
            }
            if addr.is_ipv6() != v6 {
                notes.not_carried(
                    s.origin,
                    format!("{}: not of the family of the virtual addresses", quote(s)),
                );
                continue;
            }
            if let IpAddr::V6(a) = addr
                && !a.is_unicast_link_local()
            {
                notes.not_carried(
                    s.origin,
                    format!(
                        "{}: vipd sends and takes IPv6 adverts from link-local addresses \
                         (fe80::/10), so IPv6 peers are listed by theirs",
                        quote(s)
                    ),
                );
                continue;
            }
            if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() {
                notes.not_carried(s.origin, format!("{}: not a unicast address", quote(s)));
                continue;
            }
            if peers.contains(&addr.to_string()) {
                notes.not_carried(s.origin, format!("{}: listed twice", quote(s)));
                continue;
            }
            if !s.args().is_empty() {
                notes.not_carried(
                    s.origin,
                    format!(
                        "{}: `{}`: vipd checks the TTL of every advert is 255, and has no \
                         other TTL settings",
                        quote(s),
                        printable(&s.args().join(" "), 30)
                    ),
                );
            }
            peers.push(addr.to_string());
        }
    }
    if listed > 0 && peers.is_empty() {
        return Err(
            "unicast_peer lists peers but none can be carried, and without peers vipd would \
             use multicast"
                .to_owned(),
        );
    }
    Ok(peers)
}

/// The `authentication` block: a password for VRRPv2 `auth_type PASS`.
fn auth(node: &Node, version: u8, notes: &mut Vec<RawNote>) -> Option<String> {
    let body = block(node, notes)?;
    let mut kind = None;
    let mut pass = None;
    for s in body {
        match s.keyword() {
            "auth_type" => kind = s.arg(1).map(|k| (k.to_owned(), s.origin)),
            "auth_pass" => pass = s.arg(1).map(|p| (p.to_owned(), s.origin)),
            _ => notes.not_carried(
                s.origin,
                format!("{}: not an authentication keyword", quote(s)),
            ),
        }
    }
    if version == 3 {
        notes.not_carried(
            node.origin,
            "authentication: VRRPv3 has none, and keepalived ignores it for version 3 too",
        );
        return None;
    }
    match kind {
        Some((k, _)) if k == "PASS" => {}
        Some((k, origin)) => {
            notes.not_carried(
                origin,
                format!(
                    "auth_type {}: vipd has only simple-text (PASS) authentication; keepalived \
                     peers that use this will drop vipd's adverts",
                    printable(&k, 20)
                ),
            );
            return None;
        }
        None => {
            notes.not_carried(node.origin, "authentication: no auth_type given");
            return None;
        }
    }
    let Some((pass, origin)) = pass.filter(|(p, _)| !p.is_empty()) else {
        notes.not_carried(node.origin, "authentication: no auth_pass given");
        return None;
    };
    if pass.len() <= MAX_AUTH_PASS_LEN {
        return Some(pass);
    }
    match pass.get(..MAX_AUTH_PASS_LEN) {
        Some(cut) => {
            notes.note(
                origin,
                format!(
                    "auth_pass: keepalived uses only the first {MAX_AUTH_PASS_LEN} bytes, \
                     `{cut}`; so does the import"
                ),
            );
            Some(cut.to_owned())
        }
        None => {
            notes.not_carried(
                origin,
                format!(
                    "auth_pass: keepalived uses only the first {MAX_AUTH_PASS_LEN} bytes, \
                     which cut a character in two"
                ),
            );
            None
        }
    }
}

/// The notify commands among `nodes` (keepalived keeps the first of each kind).
pub(super) fn notify(nodes: &[&Node], globals: &Globals, notes: &mut Vec<RawNote>) -> NotifyOut {
    let mut out = NotifyOut::default();
    for s in nodes {
        let Some(slot) = NOTIFY_KEYS
            .iter()
            .position(|k| *k == s.keyword())
            .and_then(|i| out.commands.get_mut(i))
        else {
            continue;
        };
        if slot.is_some() {
            notes.not_carried(
                s.origin,
                format!(
                    "{}: a second {}; keepalived uses the first",
                    quote(s),
                    s.keyword()
                ),
            );
            continue;
        }
        match command(s) {
            Ok(c) => {
                for r in c.remarks {
                    notes.note(s.origin, r);
                }
                if !c.after.is_empty() {
                    let as_user = Node {
                        words: std::iter::once("user".to_owned())
                            .chain(c.after.iter().cloned())
                            .collect(),
                        text: String::new(),
                        origin: s.origin,
                        block: None,
                    };
                    user(&as_user, globals, notes);
                }
                *slot = Some(c.argv);
            }
            Err(e) => notes.not_carried(s.origin, format!("{}: {e}", quote(s))),
        }
    }
    out
}

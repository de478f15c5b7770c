//! One `[[instance]]` table: one virtual router.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;

use super::checks::{
    A_DURATION, A_INTERFACE, DurationRule, UniqueNames, check_interface, check_name, duration,
    family_name,
};
use super::errors::Sink;
use super::notify::{RawArgv, RawNotify, notify};
use super::schema::{INSTANCE, Named, RawList, RawSection, RawTable, TRACK, Table};
use super::track::{RawTrackRef, Trackers, track_list};
use super::{
    DEFAULT_ADVERT_INTERVAL, DEFAULT_PRIORITY, DEFAULT_VERSION, InstanceConfig, MAX_ADDRESSES,
    MAX_AUTH_PASS_LEN, MAX_GARP_REFRESH, MAX_PREEMPT_DELAY, VirtualAddress, default_vmac_name,
    parse_duration,
};
use crate::protocol::fsm::OWNER_PRIORITY;
use crate::protocol::units::{Centisecs, Family, Version};

pub(super) const A_INSTANCES: &str = "one or more [[instance]] tables";

pub(super) const A_NAME: &str = "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among instances";
pub(super) const A_VRID: &str = "an integer 1..=255";
pub(super) const A_PRIORITY: &str = "an integer 1..=255 (255 = address owner); default 100";
pub(super) const A_VERSION: &str = "2 or 3; default 3";
pub(super) const A_INTERVAL_V3: &str =
    "for version 3, \"10ms\" to \"40950ms\" in steps of 10ms; default \"1s\"";
pub(super) const A_INTERVAL_V2: &str =
    "for version 2, whole seconds \"1s\" to \"255s\"; default \"1s\"";
pub(super) const A_PREEMPT: &str = "true or false; default true";
pub(super) const A_VIPS: &str =
    "a list of 1 to 255 addresses of one family, e.g. [\"10.0.0.5/24\"]";
pub(super) const A_VIP: &str = "a unicast IPv4 or IPv6 address, optionally with /prefix (at most /32 or \
                     /128), listed once, e.g. \"10.0.0.5/24\"";
pub(super) const A_PEERS: &str = "a list of unicast addresses of the other routers, e.g. [\"10.0.0.2\"]; \
                       empty or absent means multicast";
pub(super) const A_PEER: &str = "a unicast IP address of the instance's family (IPv6: the peer's link-local \
                      address), without prefix, listed once";
pub(super) const A_AUTH_PASS: &str = "1 to 8 bytes, only with version = 2";
pub(super) const A_CHECKSUM: &str =
    "true or false, only for version 3 with IPv4 addresses; default true";
pub(super) const A_PREEMPT_DELAY: &str = "a duration from \"0s\" to \"60m\", e.g. \"30s\"; \
                                          default \"0s\" (none); only with preempt = true";
pub(super) const A_GARP_REFRESH: &str = "a duration from \"1s\" to \"60m\" in steps of 10ms, e.g. \
                                         \"60s\"; leave it out for none (the default)";
pub(super) const A_VIRTUAL_MAC: &str = "true or false; default false";
pub(super) const A_ACCEPT_MODE: &str = "true or false; default true (the master accepts traffic to \
     the virtual addresses); false only for an instance that does not own them (priority below 255)";
pub(super) const A_VMAC_INTERFACE: &str = "a Linux interface name of 1 to 15 bytes without '/', ':' or \
     whitespace, used by no other instance and no instance's `interface`; only with \
     virtual_mac = true; default \"vipd4.VRID\" (IPv4) or \"vipd6.VRID\" (IPv6)";

/// The periodic re-announcement: at least a second, at most an hour.
const GARP_REFRESH: DurationRule = DurationRule {
    min: Duration::from_secs(1),
    max: MAX_GARP_REFRESH,
    step: Duration::from_millis(10),
    allowed: A_GARP_REFRESH,
};

/// The preempt delay: up to an hour, to the millisecond.
const PREEMPT_DELAY: DurationRule = DurationRule {
    min: Duration::ZERO,
    max: MAX_PREEMPT_DELAY,
    step: Duration::from_millis(1),
    allowed: A_PREEMPT_DELAY,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInstance {
    name: Option<Spanned<String>>,
    interface: Option<Spanned<String>>,
    vrid: Option<Spanned<i64>>,
    priority: Option<Spanned<i64>>,
    version: Option<Spanned<i64>>,
    advert_interval: Option<Spanned<String>>,
    preempt: Option<Spanned<bool>>,
    virtual_addresses: Option<Spanned<Vec<Spanned<String>>>>,
    unicast_peers: Option<Spanned<Vec<Spanned<String>>>>,
    auth_pass: Option<Spanned<String>>,
    checksum_ipv4_pseudo_header: Option<Spanned<bool>>,
    preempt_delay: Option<Spanned<String>>,
    garp_refresh: Option<Spanned<String>>,
    virtual_mac: Option<Spanned<bool>>,
    vmac_interface: Option<Spanned<String>>,
    accept_mode: Option<Spanned<bool>>,
    notify: Option<Spanned<RawArgv>>,
    notify_master: Option<Spanned<RawArgv>>,
    notify_backup: Option<Spanned<RawArgv>>,
    notify_fault: Option<Spanned<RawArgv>>,
    notify_stop: Option<Spanned<RawArgv>>,
    /// Only makes `track` a known key: the list is taken out before serde sees the table and
    /// read on its own into `track_list` (see `schema::read_instance`).
    #[serde(rename = "track")]
    _track: Option<IgnoredAny>,
    #[serde(skip)]
    pub(super) track_list: Option<RawList<RawTrackRef>>,
}

impl Named for RawInstance {
    fn name(&self) -> Option<&Spanned<String>> {
        self.name.as_ref()
    }
}

/// The `[[instance]]` list: each instance, then what must differ between them.
/// `trackers`: what their `track` entries may name.
pub(super) fn validate_instances(
    section: RawSection<RawInstance>,
    trackers: &Trackers,
    sink: &mut Sink<'_>,
) -> Vec<InstanceConfig> {
    let list = match section.list {
        // Of the wrong type, already reported.
        None if section.broken => return Vec::new(),
        None => {
            let problem = "no [[instance]] table: there is nothing to run";
            sink.push(None, INSTANCE, problem, A_INSTANCES);
            return Vec::new();
        }
        Some(list) if list.get_ref().is_empty() => {
            let problem = "no [[instance]] table: the list is empty";
            sink.push(Some(list.span()), INSTANCE, problem, A_INSTANCES);
            return Vec::new();
        }
        Some(list) => list,
    };
    let mut names = UniqueNames::new(INSTANCE);
    let mut slots = HashMap::new();
    let mut vmacs = Vmacs::new();
    let mut instances = Vec::new();
    let tables = list.into_inner().into_iter().enumerate();
    // An element that is not a table has been reported already.
    for (i, raw) in tables.filter_map(|(i, raw)| Some((i, raw?))) {
        let checked = validate_instance(i, raw, trackers, sink);
        if let Some(name) = &checked.name {
            names.check(i, name, A_NAME, sink);
        }
        unique_slot(&mut slots, i, &checked, sink);
        vmacs.note(i, &checked);
        instances.extend(checked.config);
    }
    vmacs.check(sink);
    instances
}

/// The macvlans the instances ask for, checked once every instance is known: each name
/// belongs to one instance, and is no instance's own interface.
struct Vmacs {
    /// (instance, its name for errors, macvlan name, where it was written or the
    /// `virtual_mac` value's span for a default name).
    wanted: Vec<(usize, String, String, Range<usize>)>,
    /// Every instance's `interface`, with the instance.
    parents: Vec<(usize, String)>,
}

impl Vmacs {
    fn new() -> Vmacs {
        Vmacs {
            wanted: Vec::new(),
            parents: Vec::new(),
        }
    }

    fn note(&mut self, i: usize, checked: &Checked) {
        let label =
            (checked.name.as_ref()).map_or_else(String::new, |n| format!(" (`{}`)", n.get_ref()));
        if let Some(interface) = &checked.interface {
            self.parents.push((i, interface.clone()));
        }
        if let Some((name, span)) = &checked.vmac {
            self.wanted.push((i, label, name.clone(), span.clone()));
        }
    }

    fn check(&self, sink: &mut Sink<'_>) {
        for (n, (i, _, name, span)) in self.wanted.iter().enumerate() {
            let key = format!("instance[{i}].vmac_interface");
            if let Some((j, label, _, _)) = self.wanted[..n].iter().find(|w| &w.2 == name) {
                sink.push(
                    Some(span.clone()),
                    key,
                    format!(
                        "instance[{j}]{label} already uses the macvlan `{name}`: one virtual MAC \
                         interface serves one instance (the same VRID and family on two \
                         interfaces need two names)"
                    ),
                    A_VMAC_INTERFACE,
                );
            } else if let Some((j, _)) = self.parents.iter().find(|p| &p.1 == name) {
                sink.push(
                    Some(span.clone()),
                    key,
                    format!(
                        "`{name}` is the `interface` of instance[{j}]; vipd creates and deletes \
                         the macvlan, so it must be a name of its own"
                    ),
                    A_VMAC_INTERFACE,
                );
            }
        }
    }
}

/// The instance using each (interface, VRID, family), with its name for the error.
type Slots = HashMap<(String, u8, Family), (usize, String)>;

/// Two instances with the same (interface, VRID, family) would be one virtual router.
fn unique_slot(slots: &mut Slots, i: usize, checked: &Checked, sink: &mut Sink<'_>) {
    let (Some(interface), Some(vrid), Some(family)) =
        (&checked.interface, &checked.vrid, checked.family)
    else {
        return;
    };
    let label =
        (checked.name.as_ref()).map_or_else(String::new, |n| format!(" (`{}`)", n.get_ref()));
    match slots.entry((interface.clone(), *vrid.get_ref(), family)) {
        Entry::Occupied(first) => {
            let (j, first_label) = first.get();
            sink.push(
                Some(vrid.span()),
                format!("instance[{i}].vrid"),
                format!(
                    "instance[{j}]{first_label} already runs VRID {} for {} on `{interface}`",
                    vrid.get_ref(),
                    family_name(family)
                ),
                "a VRID that no other instance uses on the same interface and address family",
            );
        }
        Entry::Vacant(slot) => {
            slot.insert((i, label));
        }
    }
}

/// What one instance contributes to the checks across instances, and the result.
struct Checked {
    name: Option<Spanned<String>>,
    interface: Option<String>,
    /// The macvlan's name and where to point at it.
    vmac: Option<(String, Range<usize>)>,
    vrid: Option<Spanned<u8>>,
    family: Option<Family>,
    config: Option<InstanceConfig>,
}

/// Checks one instance on its own. Each key is checked even when an earlier one was wrong, in
/// the order of the struct, so that one run reports them all.
fn validate_instance(
    i: usize,
    raw: RawTable<RawInstance>,
    trackers: &Trackers,
    sink: &mut Sink<'_>,
) -> Checked {
    let (r, t) = raw.open(format!("instance[{i}]"));
    let before = sink.error_count();
    let name = t.required(r.name, "name", A_NAME, sink).and_then(|n| {
        let valid = sink.verify(&n, t.key("name"), A_NAME, |n| check_name(n));
        valid.map(|()| n)
    });
    let interface = t
        .required(r.interface, "interface", A_INTERFACE, sink)
        .and_then(|n| {
            sink.verify(&n, t.key("interface"), A_INTERFACE, |n| {
                check_interface(n).map(|()| n.clone())
            })
        });
    let vrid = t.required(r.vrid, "vrid", A_VRID, sink).and_then(|v| {
        Some(Spanned::new(
            v.span(),
            sink.verify(&v, t.key("vrid"), A_VRID, vrid)?,
        ))
    });
    let priority = r.priority.map_or(Some(DEFAULT_PRIORITY), |p| {
        sink.verify(&p, t.key("priority"), A_PRIORITY, priority)
    });
    let version = version(r.version, &t, sink);
    // The virtual addresses' family is the instance's family.
    let (family, addresses) =
        match t.required(r.virtual_addresses, "virtual_addresses", A_VIPS, sink) {
            None => (None, Vec::new()),
            Some(list) => virtual_addresses(list, &t.key("virtual_addresses"), sink),
        };
    if let (Some(Version::V2), Some(Family::V6)) = (version.value, family) {
        sink.push(
            version.span,
            t.key("version"),
            "VRRPv2 (RFC 3768) carries only IPv4 addresses, and the virtual addresses are IPv6",
            "version = 3 for IPv6 instances",
        );
    }
    let advert_interval = r
        .advert_interval
        .map_or(Some(DEFAULT_ADVERT_INTERVAL), |text| {
            advert_interval(&text, version.value, &t.key("advert_interval"), sink)
        });
    let preempt = r.preempt.is_none_or(Spanned::into_inner);
    let unicast_peers = match r.unicast_peers {
        Some(list) => unicast_peers(list, family, &t.key("unicast_peers"), sink),
        None => Vec::new(),
    };
    let auth_pass = r.auth_pass.and_then(|p| {
        sink.verify(&p, t.key("auth_pass"), A_AUTH_PASS, |p| {
            auth_pass(p, version.value)
        })
    });
    let checksum_setting = r.checksum_ipv4_pseudo_header.map(|c| {
        // Reported, but the value is known: it matters no further.
        sink.verify(&c, t.key("checksum_ipv4_pseudo_header"), A_CHECKSUM, |_| {
            checksum_setting(version.value, family)
        });
        c.into_inner()
    });
    let preempt_delay = (r.preempt_delay.as_ref()).map_or(Some(Duration::ZERO), |d| {
        preempt_delay(d, preempt, &t, sink)
    });
    let garp_refresh = match &r.garp_refresh {
        Some(d) => duration(d, &t.key("garp_refresh"), &GARP_REFRESH, sink).map(Some),
        None => Some(None),
    };
    let accept_mode = match r.accept_mode {
        // RFC 9568 6.1: an owner always accepts; `false` would silently do nothing.
        Some(a) if !*a.get_ref() && priority == Some(OWNER_PRIORITY) => {
            let problem = "does nothing with priority = 255: the address owner always accepts \
                           traffic to its own addresses (RFC 9568)";
            sink.push(Some(a.span()), t.key("accept_mode"), problem, A_ACCEPT_MODE);
            None
        }
        Some(a) => Some(a.into_inner()),
        None => Some(true),
    };
    let vmac = virtual_mac(
        r.virtual_mac,
        r.vmac_interface,
        vrid.as_ref(),
        family,
        &t,
        sink,
    );
    let track = match r.track_list {
        Some(list) => track_list(list, &t.key(TRACK), trackers, sink),
        None => Some(Vec::new()),
    };
    let raw_notify = RawNotify {
        any: r.notify,
        master: r.notify_master,
        backup: r.notify_backup,
        fault: r.notify_fault,
        stop: r.notify_stop,
    };
    let notify = notify(raw_notify, &t, sink);

    let clean = sink.error_count() == before && t.broken.is_empty();
    let build = || {
        let (version, family) = (version.value?, family?);
        Some(InstanceConfig {
            name: name.as_ref()?.get_ref().clone(),
            interface: interface.clone()?,
            vrid: *vrid.as_ref()?.get_ref(),
            priority: priority?,
            version,
            family,
            advert_interval: advert_interval?,
            preempt,
            preempt_delay: preempt_delay?,
            garp_refresh: garp_refresh?,
            virtual_mac: vmac.as_ref().map(|(name, _)| name.clone()),
            accept_mode: accept_mode?,
            track: track?,
            virtual_addresses: addresses,
            unicast_peers,
            auth_pass,
            checksum_ipv4_pseudo_header: match (version, family) {
                (Version::V2, _) => false,
                (Version::V3, Family::V6) => true,
                (Version::V3, Family::V4) => checksum_setting.unwrap_or(true),
            },
            notify: notify.clone()?,
        })
    };
    let config = if clean { build() } else { None };
    if config.is_none() && clean {
        // Every path that leaves a field unset reports why; this only guards against a
        // silently dropped instance should that ever change.
        let problem = "could not be validated (internal error)";
        sink.push(Some(t.span.clone()), t.path.clone(), problem, "");
    }
    Checked {
        name,
        interface,
        vmac,
        vrid,
        family,
        config,
    }
}

/// A delay only matters to an instance that preempts; with `preempt = false` it would be a
/// setting that silently does nothing.
fn preempt_delay(
    text: &Spanned<String>,
    preempt: bool,
    t: &Table,
    sink: &mut Sink<'_>,
) -> Option<Duration> {
    let key = t.key("preempt_delay");
    let delay = duration(text, &key, &PREEMPT_DELAY, sink)?;
    if !preempt && !delay.is_zero() {
        let problem = format!(
            "\"{}\" does nothing with preempt = false: this instance never preempts",
            text.get_ref()
        );
        sink.push(Some(text.span()), key, problem, A_PREEMPT_DELAY);
        return None;
    }
    Some(delay)
}

/// The macvlan of `virtual_mac = true`: its name (the default one unless `vmac_interface`
/// says otherwise) and where to point at it. A name without `virtual_mac = true` would be a
/// setting that silently does nothing.
fn virtual_mac(
    on: Option<Spanned<bool>>,
    name: Option<Spanned<String>>,
    vrid: Option<&Spanned<u8>>,
    family: Option<Family>,
    t: &Table,
    sink: &mut Sink<'_>,
) -> Option<(String, Range<usize>)> {
    let enabled = on.as_ref().is_some_and(|o| *o.get_ref());
    match (name, enabled) {
        (Some(name), false) => {
            let problem = format!(
                "`{}` does nothing without virtual_mac = true",
                name.get_ref()
            );
            sink.push(
                Some(name.span()),
                t.key("vmac_interface"),
                problem,
                A_VMAC_INTERFACE,
            );
            None
        }
        (Some(name), true) => {
            let span = name.span();
            sink.verify(&name, t.key("vmac_interface"), A_VMAC_INTERFACE, |n| {
                check_interface(n).map(|()| (n.clone(), span.clone()))
            })
        }
        (None, true) => {
            let span = on.map(|o| o.span()).unwrap_or_default();
            Some((default_vmac_name(*vrid?.get_ref(), family?), span))
        }
        (None, false) => None,
    }
}

fn vrid(v: &i64) -> Result<u8, String> {
    match u8::try_from(*v) {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{v} is out of range")),
    }
}

fn priority(p: &i64) -> Result<u8, String> {
    match *p {
        0 => Err(
            "0 is reserved: an advertisement with priority 0 means the master is leaving"
                .to_owned(),
        ),
        n => u8::try_from(n).map_err(|_| format!("{n} is out of range")),
    }
}

/// The version, and where it was written (for the checks of other keys that depend on it).
struct Versioned {
    /// `None` when invalid, or dropped for its type: unknown rather than the default, which
    /// could make other keys look wrong.
    value: Option<Version>,
    span: Option<Range<usize>>,
}

fn version(raw: Option<Spanned<i64>>, t: &Table, sink: &mut Sink<'_>) -> Versioned {
    let span = raw.as_ref().map(Spanned::span);
    let value = match raw {
        None if t.is_broken("version") => None,
        None => Some(DEFAULT_VERSION),
        Some(v) => sink.verify(&v, t.key("version"), A_VERSION, |v| match *v {
            2 => Ok(Version::V2),
            3 => Ok(Version::V3),
            n => Err(format!("{n} is not a VRRP version vipd speaks")),
        }),
    };
    Versioned { value, span }
}

fn advert_interval(
    text: &Spanned<String>,
    version: Option<Version>,
    key: &str,
    sink: &mut Sink<'_>,
) -> Option<Centisecs> {
    let d = sink.verify(text, key, A_DURATION, |t| {
        parse_duration(t).map_err(|e| format!("\"{t}\" is not a duration: {e}"))
    })?;
    match check_interval(d, version) {
        Ok(cs) => cs,
        Err((problem, allowed)) => {
            let problem = format!("\"{}\" {problem}", text.get_ref());
            sink.push(Some(text.span()), key, problem, allowed);
            None
        }
    }
}

/// The password NUL padded to the 8 bytes of the field.
fn auth_pass(p: &str, version: Option<Version>) -> Result<[u8; 8], String> {
    let bytes = p.as_bytes();
    if version == Some(Version::V3) {
        return Err(
            "VRRPv3 (RFC 5798) has no authentication; auth_pass needs version = 2".to_owned(),
        );
    }
    if bytes.is_empty() {
        return Err("must not be empty; leave auth_pass out for no authentication".to_owned());
    }
    if bytes.len() > MAX_AUTH_PASS_LEN {
        return Err(format!(
            "is {} bytes long; keepalived would silently cut it to {MAX_AUTH_PASS_LEN}, so vipd \
             refuses it",
            bytes.len()
        ));
    }
    let mut padded = [0u8; 8];
    for (slot, b) in padded.iter_mut().zip(bytes) {
        *slot = *b;
    }
    Ok(padded)
}

/// Whether `checksum_ipv4_pseudo_header` may be set at all.
fn checksum_setting(version: Option<Version>, family: Option<Family>) -> Result<(), String> {
    if version == Some(Version::V2) {
        return Err(
            "VRRPv2 (RFC 3768) checksums never include a pseudo-header; the setting \
                    exists only for version 3 over IPv4"
                .to_owned(),
        );
    }
    if family == Some(Family::V6) {
        return Err(
            "VRRPv3 over IPv6 always includes the IPv6 pseudo-header; the setting \
                    exists only for IPv4"
                .to_owned(),
        );
    }
    Ok(())
}

/// Checks the `virtual_addresses` list; returns the family of the first valid address and
/// the valid addresses.
fn virtual_addresses(
    list: Spanned<Vec<Spanned<String>>>,
    key: &str,
    sink: &mut Sink<'_>,
) -> (Option<Family>, Vec<VirtualAddress>) {
    let mut family = None;
    let mut addresses = Vec::new();
    if list.get_ref().is_empty() {
        sink.push(
            Some(list.span()),
            key,
            "the list is empty: an instance needs at least one address",
            A_VIPS,
        );
        return (family, addresses);
    }
    if list.get_ref().len() > MAX_ADDRESSES {
        sink.push(
            Some(list.span()),
            key,
            format!(
                "{} addresses; an advertisement carries at most {MAX_ADDRESSES}",
                list.get_ref().len()
            ),
            A_VIPS,
        );
    }
    let mut seen: HashMap<IpAddr, usize> = HashMap::new();
    for (j, text) in list.into_inner().into_iter().enumerate() {
        let element_key = format!("{key}[{j}]");
        let span = Some(text.span());
        let vip = match VirtualAddress::from_str(text.get_ref()) {
            Ok(vip) => vip,
            Err(problem) => {
                sink.push(span, element_key, problem, A_VIP);
                continue;
            }
        };
        if let Err(problem) = check_unicast(&vip.addr, true) {
            sink.push(span, element_key, problem, A_VIP);
            continue;
        }
        let first_family = *family.get_or_insert(vip.family());
        if first_family != vip.family() {
            sink.push(
                span,
                element_key,
                format!(
                    "`{}` is {} but the first address is {}: one instance serves one family",
                    vip.addr,
                    family_name(vip.family()),
                    family_name(first_family)
                ),
                "addresses of one family; use a second instance for the other",
            );
            continue;
        }
        if let Some(first) = seen.get(&vip.addr) {
            sink.push(
                span,
                element_key,
                format!(
                    "`{}` is already listed as virtual_addresses[{first}]",
                    vip.addr
                ),
                A_VIP,
            );
            continue;
        }
        seen.insert(vip.addr, j);
        addresses.push(vip);
    }
    (family, addresses)
}

/// Checks the `unicast_peers` list against the instance's `family` (if known); returns the
/// valid peers.
fn unicast_peers(
    list: Spanned<Vec<Spanned<String>>>,
    family: Option<Family>,
    key: &str,
    sink: &mut Sink<'_>,
) -> Vec<IpAddr> {
    let mut peers = Vec::new();
    let mut seen: HashMap<IpAddr, usize> = HashMap::new();
    for (j, text) in list.into_inner().into_iter().enumerate() {
        let text_ref = text.get_ref();
        let problem = match IpAddr::from_str(text_ref) {
            Err(_) if text_ref.contains('/') => Some(format!(
                "`{text_ref}` has a prefix length; a peer is a single address"
            )),
            Err(_) => Some(format!("`{text_ref}` is not an IPv4 or IPv6 address")),
            Ok(addr) => match (check_unicast(&addr, false), family, seen.get(&addr)) {
                (Err(problem), _, _) => Some(problem),
                (Ok(()), Some(f), _) if f != Family::of(&addr) => Some(format!(
                    "`{addr}` is {} but the virtual addresses are {}",
                    family_name(Family::of(&addr)),
                    family_name(f)
                )),
                // VRRP over IPv6 is sent from the link-local address (RFC 9568 5.1.2.2), so
                // that is the address a peer's adverts arrive from and are checked against.
                (Ok(()), _, _) if matches!(addr, IpAddr::V6(v6) if !v6.is_unicast_link_local()) => {
                    Some(format!(
                        "`{addr}` is not link-local; IPv6 adverts come from the sender's \
                         link-local address, so IPv6 peers are listed by theirs (fe80::/10)"
                    ))
                }
                (Ok(()), _, Some(first)) => Some(format!(
                    "`{addr}` is already listed as unicast_peers[{first}]"
                )),
                (Ok(()), _, None) => {
                    seen.insert(addr, j);
                    peers.push(addr);
                    None
                }
            },
        };
        if let Some(problem) = problem {
            sink.push(Some(text.span()), format!("{key}[{j}]"), problem, A_PEER);
        }
    }
    peers
}

/// Addresses that can never be a virtual address (`loopback_too`) or a peer.
fn check_unicast(addr: &IpAddr, loopback_too: bool) -> Result<(), String> {
    if addr.is_multicast() {
        return Err(format!("`{addr}` is a multicast address"));
    }
    if addr.is_unspecified() {
        return Err(format!("`{addr}` is the unspecified address"));
    }
    if matches!(addr, IpAddr::V4(v4) if v4.is_broadcast()) {
        return Err(format!("`{addr}` is the limited broadcast address"));
    }
    if loopback_too && addr.is_loopback() {
        return Err(format!(
            "`{addr}` is a loopback address, which never leaves the host"
        ));
    }
    Ok(())
}

/// The advertisement interval for `version` (unknown when the version itself is invalid).
fn check_interval(
    d: Duration,
    version: Option<Version>,
) -> Result<Option<Centisecs>, (String, &'static str)> {
    let ms = d.as_millis();
    match version {
        None => Ok(None),
        Some(Version::V3) => {
            if !(10..=40_950).contains(&ms) {
                Err(("is out of range for VRRPv3".to_owned(), A_INTERVAL_V3))
            } else if ms % 10 != 0 {
                Err((
                    "is not a multiple of 10ms (VRRPv3 counts in centiseconds)".to_owned(),
                    A_INTERVAL_V3,
                ))
            } else {
                Ok(Centisecs::from_duration(d))
            }
        }
        Some(Version::V2) => {
            if ms % 1000 != 0 {
                Err((
                    "is not a whole number of seconds (VRRPv2 counts in seconds)".to_owned(),
                    A_INTERVAL_V2,
                ))
            } else if !(1_000..=255_000).contains(&ms) {
                Err(("is out of range for VRRPv2".to_owned(), A_INTERVAL_V2))
            } else {
                Ok(Centisecs::from_duration(d))
            }
        }
    }
}

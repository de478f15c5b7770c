//! One `[[instance]]` table: one virtual router.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::checks::{A_DURATION, check_interface, check_name, family_name};
use super::errors::Sink;
use super::schema::RawTable;
use super::{
    DEFAULT_ADVERT_INTERVAL, DEFAULT_PRIORITY, DEFAULT_VERSION, InstanceConfig, MAX_ADDRESSES,
    MAX_AUTH_PASS_LEN, VirtualAddress, parse_duration,
};
use crate::units::{Centisecs, Family, Version};

pub(super) const A_INSTANCES: &str = "one or more [[instance]] tables";

pub(super) const A_NAME: &str = "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among instances";
pub(super) const A_INTERFACE: &str = "a Linux interface name: 1 to 15 bytes without '/', ':' or \
                           whitespace, not \".\" or \"..\" (it need not exist yet)";
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
}

/// What one instance contributes to the checks across instances, and the result.
pub(super) struct Checked {
    pub(super) name: Option<Spanned<String>>,
    pub(super) interface: Option<String>,
    pub(super) vrid: Option<Spanned<u8>>,
    pub(super) family: Option<Family>,
    pub(super) config: Option<InstanceConfig>,
}

pub(super) fn validate_instance(
    i: usize,
    raw: RawTable<RawInstance>,
    sink: &mut Sink<'_>,
) -> Checked {
    let table = raw.raw.span();
    let broken = raw.broken;
    let key = |field: &str| format!("instance[{i}].{field}");
    let missing = |sink: &mut Sink<'_>, field: &str, allowed: &str| {
        // A key dropped for its type was reported as such: it is not missing too.
        if broken.contains(&field) {
            return;
        }
        sink.push(
            Some(table.clone()),
            key(field),
            format!("required key `{field}` is missing"),
            allowed,
        );
    };
    let r = raw.raw.into_inner();
    let before = sink.error_count();

    let name = match r.name {
        None => {
            missing(sink, "name", A_NAME);
            None
        }
        Some(n) => match check_name(n.get_ref()) {
            Ok(()) => Some(n),
            Err(problem) => {
                sink.push(Some(n.span()), key("name"), problem, A_NAME);
                None
            }
        },
    };

    let interface = match r.interface {
        None => {
            missing(sink, "interface", A_INTERFACE);
            None
        }
        Some(n) => match check_interface(n.get_ref()) {
            Ok(()) => Some(n.into_inner()),
            Err(problem) => {
                sink.push(Some(n.span()), key("interface"), problem, A_INTERFACE);
                None
            }
        },
    };

    let vrid = match r.vrid {
        None => {
            missing(sink, "vrid", A_VRID);
            None
        }
        Some(v) => match u8::try_from(*v.get_ref()) {
            Ok(n) if n >= 1 => Some(Spanned::new(v.span(), n)),
            _ => {
                let problem = format!("{} is out of range", v.get_ref());
                sink.push(Some(v.span()), key("vrid"), problem, A_VRID);
                None
            }
        },
    };

    let priority = match r.priority {
        None => Some(DEFAULT_PRIORITY),
        Some(p) => match *p.get_ref() {
            0 => {
                sink.push(
                    Some(p.span()),
                    key("priority"),
                    "0 is reserved: an advertisement with priority 0 means the master is leaving",
                    A_PRIORITY,
                );
                None
            }
            n => match u8::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    let problem = format!("{n} is out of range");
                    sink.push(Some(p.span()), key("priority"), problem, A_PRIORITY);
                    None
                }
            },
        },
    };

    let version_span = r.version.as_ref().map(Spanned::span);
    let version = match r.version {
        // Unknown rather than the default, which could make other keys look wrong.
        None if broken.contains(&"version") => None,
        None => Some(DEFAULT_VERSION),
        Some(v) => match *v.get_ref() {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            n => {
                let problem = format!("{n} is not a VRRP version vipd speaks");
                sink.push(Some(v.span()), key("version"), problem, A_VERSION);
                None
            }
        },
    };

    // The virtual addresses' family is the instance's family.
    let (family, addresses) = match r.virtual_addresses {
        None => {
            missing(sink, "virtual_addresses", A_VIPS);
            (None, Vec::new())
        }
        Some(list) => virtual_addresses(list, &key("virtual_addresses"), sink),
    };

    if let (Some(Version::V2), Some(Family::V6)) = (version, family) {
        sink.push(
            version_span,
            key("version"),
            "VRRPv2 (RFC 3768) carries only IPv4 addresses, and the virtual addresses are IPv6",
            "version = 3 for IPv6 instances",
        );
    }

    let advert_interval = match r.advert_interval {
        None => Some(DEFAULT_ADVERT_INTERVAL),
        Some(text) => match parse_duration(text.get_ref()) {
            Err(e) => {
                let problem = format!("\"{}\" is not a duration: {e}", text.get_ref());
                sink.push(
                    Some(text.span()),
                    key("advert_interval"),
                    problem,
                    A_DURATION,
                );
                None
            }
            Ok(d) => match check_interval(d, version) {
                Ok(cs) => cs,
                Err((problem, allowed)) => {
                    let problem = format!("\"{}\" {problem}", text.get_ref());
                    sink.push(Some(text.span()), key("advert_interval"), problem, allowed);
                    None
                }
            },
        },
    };

    let preempt = r.preempt.is_none_or(Spanned::into_inner);

    let peers = match r.unicast_peers {
        Some(list) => unicast_peers(list, family, &key("unicast_peers"), sink),
        None => Vec::new(),
    };

    let auth_pass = match r.auth_pass {
        None => None,
        Some(p) => {
            let bytes = p.get_ref().as_bytes();
            let problem = if version == Some(Version::V3) {
                Some(
                    "VRRPv3 (RFC 5798) has no authentication; auth_pass needs version = 2"
                        .to_owned(),
                )
            } else if bytes.is_empty() {
                Some("must not be empty; leave auth_pass out for no authentication".to_owned())
            } else if bytes.len() > MAX_AUTH_PASS_LEN {
                Some(format!(
                    "is {} bytes long; keepalived would silently cut it to {MAX_AUTH_PASS_LEN}, \
                     so vipd refuses it",
                    bytes.len()
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                sink.push(Some(p.span()), key("auth_pass"), problem, A_AUTH_PASS);
                None
            } else {
                let mut padded = [0u8; 8];
                for (slot, b) in padded.iter_mut().zip(bytes) {
                    *slot = *b;
                }
                Some(padded)
            }
        }
    };

    let checksum_setting = match r.checksum_ipv4_pseudo_header {
        None => None,
        Some(c) => {
            let problem = if version == Some(Version::V2) {
                Some(
                    "VRRPv2 (RFC 3768) checksums never include a pseudo-header; the setting \
                     exists only for version 3 over IPv4",
                )
            } else if family == Some(Family::V6) {
                Some(
                    "VRRPv3 over IPv6 always includes the IPv6 pseudo-header; the setting \
                     exists only for IPv4",
                )
            } else {
                None
            };
            if let Some(problem) = problem {
                sink.push(
                    Some(c.span()),
                    key("checksum_ipv4_pseudo_header"),
                    problem,
                    A_CHECKSUM,
                );
            }
            Some(c.into_inner())
        }
    };

    let config = match (
        sink.error_count() == before && broken.is_empty(),
        &name,
        &interface,
        vrid.as_ref(),
        priority,
        version,
        family,
        advert_interval,
    ) {
        (
            true,
            Some(name),
            Some(interface),
            Some(vrid),
            Some(priority),
            Some(version),
            Some(family),
            Some(advert_interval),
        ) => Some(InstanceConfig {
            name: name.get_ref().clone(),
            interface: interface.clone(),
            vrid: *vrid.get_ref(),
            priority,
            version,
            family,
            advert_interval,
            preempt,
            virtual_addresses: addresses,
            unicast_peers: peers,
            auth_pass,
            checksum_ipv4_pseudo_header: match (version, family) {
                (Version::V2, _) => false,
                (Version::V3, Family::V6) => true,
                (Version::V3, Family::V4) => checksum_setting.unwrap_or(true),
            },
        }),
        _ => None,
    };
    if config.is_none() && sink.error_count() == before && broken.is_empty() {
        // Every path that leaves a field unset reports why; this only guards against a
        // silently dropped instance should that ever change.
        sink.push(
            Some(table),
            format!("instance[{i}]"),
            "could not be validated (internal error)",
            "",
        );
    }
    Checked {
        name,
        interface,
        vrid,
        family,
        config,
    }
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

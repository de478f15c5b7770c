//! The `[global]` table.

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::checks::duration;
use super::errors::Sink;
use super::notify::NOTIFY_TIMEOUT;
use super::schema::RawTable;
use super::{DEFAULT_CONTROL_SOCKET, DEFAULT_NOTIFY_TIMEOUT, Global};

pub(super) const A_GLOBAL: &str = "a [global] table with router_id and control_socket";
pub(super) const A_ROUTER_ID: &str = "a non-empty string; default: the host name";
pub(super) const A_SOCKET: &str = "an absolute path; default \"/run/vipd/vipd.sock\"";
pub(super) const A_SCRIPT_USER: &str = "a user name: 1 to 32 characters from A-Z a-z 0-9 _ . -, \
                                        not starting with '-' (it must exist when the agent \
                                        starts); default: the agent's own user, with no \
                                        capabilities";
pub(super) const A_METRICS_LISTEN: &str = "an IP address and a port, \"127.0.0.1:9650\" or \
                                           \"[::1]:9650\" (\"0.0.0.0:9650\" or \"[::]:9650\" \
                                           for every address); default: no metrics";
pub(super) const A_GROUP: &str = "a group name: 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting \
                       with '-'; default: none (root only)";

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGlobal {
    router_id: Option<Spanned<String>>,
    control_socket: Option<Spanned<String>>,
    control_group: Option<Spanned<String>>,
    script_user: Option<Spanned<String>>,
    notify_timeout: Option<Spanned<String>>,
    metrics_listen: Option<Spanned<String>>,
}

/// The `[global]` table, if any (`broken`: it was not a table, already reported).
pub(super) fn validate_global(
    raw: Option<RawTable<RawGlobal>>,
    broken: bool,
    sink: &mut Sink<'_>,
) -> Option<Global> {
    let span = raw.as_ref().map(|g| g.raw.span());
    let router_id_broken = match &raw {
        Some(g) => g.broken.contains(&"router_id"),
        None => broken,
    };
    let g = raw.map(|g| g.raw.into_inner()).unwrap_or_default();
    let before = sink.error_count();
    let router_id = router_id(g.router_id.as_ref(), router_id_broken, span, sink);
    let control_socket = match &g.control_socket {
        Some(p) => sink.verify(p, "global.control_socket", A_SOCKET, |p| {
            if Path::new(p).is_absolute() {
                Ok(PathBuf::from(p))
            } else {
                Err(format!("`{p}` is not an absolute path"))
            }
        }),
        None => Some(PathBuf::from(DEFAULT_CONTROL_SOCKET)),
    };
    let control_group = g
        .control_group
        .as_ref()
        .and_then(|name| account(name, "global.control_group", A_GROUP, "group", sink));
    let script_user = g
        .script_user
        .as_ref()
        .and_then(|name| account(name, "global.script_user", A_SCRIPT_USER, "user", sink));
    let notify_timeout = match &g.notify_timeout {
        Some(text) => duration(text, "global.notify_timeout", &NOTIFY_TIMEOUT, sink),
        None => Some(DEFAULT_NOTIFY_TIMEOUT),
    };
    let metrics_listen = g.metrics_listen.as_ref().and_then(|text| {
        sink.verify(text, "global.metrics_listen", A_METRICS_LISTEN, |t| {
            listen_address(t)
        })
    });
    (sink.error_count() == before).then_some(Global {
        router_id: router_id?,
        control_socket: control_socket?,
        control_group,
        script_user,
        notify_timeout: notify_timeout?,
        metrics_listen,
    })
}

/// `metrics_listen`: an IP address and a port, with a problem that says what to write for the
/// usual slips (no port, a host name, IPv6 without brackets, port 0).
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let problem = match text.parse::<SocketAddr>() {
        Ok(address) if address.port() == 0 => {
            "has port 0, which would listen on a random port that Prometheus cannot know".to_owned()
        }
        Ok(address) => return Ok(address),
        Err(_) => match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => format!("has no port; write `{a}:9650`"),
            Ok(IpAddr::V6(a)) => {
                // `::1:9650` is an address too, but likelier `::1` with a port.
                let example = match text.rsplit_once(':') {
                    Some((address, port))
                        if address.parse::<std::net::Ipv6Addr>().is_ok()
                            && port.parse::<u16>().is_ok_and(|p| p > 0) =>
                    {
                        format!("[{address}]:{port}")
                    }
                    _ => format!("[{a}]:9650"),
                };
                format!(
                    "has no port (an IPv6 address goes in brackets before its port, as in \
                     `{example}`)"
                )
            }
            Err(_) if text.contains('%') => {
                "has a zone index (`%`), which is not supported: listen on a global or \
                 unique-local address, or on `[::]:9650`"
                    .to_owned()
            }
            Err(_) if text.starts_with(':') => {
                "has no address; write `0.0.0.0` (every IPv4 address) or `[::]` (every \
                 address) before the port"
                    .to_owned()
            }
            Err(_) => match text.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    format!("`{host}` is not an IP address (host names are not resolved)")
                }
                _ => "is not an IP address and port".to_owned(),
            },
        },
    };
    Err(format!("`{text}` {problem}"))
}

/// `router_id`, or the host name by default (`broken`: it had a wrong type, already reported;
/// the host name would not be used).
fn router_id(
    id: Option<&Spanned<String>>,
    broken: bool,
    table: Option<Range<usize>>,
    sink: &mut Sink<'_>,
) -> Option<String> {
    match id {
        Some(id) => sink.verify(id, "global.router_id", A_ROUTER_ID, |id| {
            if id.is_empty() {
                Err("must not be empty".to_owned())
            } else {
                Ok(id.clone())
            }
        }),
        None if broken => None,
        None => {
            let host = host_name();
            if host.is_none() {
                let problem = "is not set and the host name could not be read";
                sink.push(table, "global.router_id", problem, A_ROUTER_ID);
            }
            host
        }
    }
}

/// This host's name (the default `router_id`).
pub fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(buf.get(..end)?).into_owned();
    (!name.is_empty()).then_some(name)
}

/// The user or group name (`kind`) `name` at key path `key`, if valid.
fn account(
    name: &Spanned<String>,
    key: &str,
    allowed: &str,
    kind: &str,
    sink: &mut Sink<'_>,
) -> Option<String> {
    sink.verify(name, key, allowed, |n| {
        check_account(n, kind).map(|()| n.clone())
    })
}

/// A user or group name (`kind`) of the portable characters (POSIX, as shadow-utils accepts
/// them). Whether it exists is looked up when the agent starts: the file may be checked on
/// another host.
fn check_account(name: &str, kind: &str) -> Result<(), String> {
    let portable = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || name.len() > 32 {
        return Err(format!("`{name}` is not 1 to 32 characters long"));
    }
    if name.starts_with('-') || !name.chars().all(portable) {
        return Err(format!("`{name}` is not a valid {kind} name"));
    }
    Ok(())
}

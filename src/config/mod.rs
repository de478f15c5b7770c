//! The configuration file: TOML in, a validated [`Config`] or every problem found out.
//!
//! Parsing happens in three passes:
//! 1. a recoverable TOML parse that reports every syntax error it can find;
//! 2. a walk of the parsed tables that reports every unknown key (with keepalived's names
//!    translated), then serde of `[global]` and of each `[[instance]]` on its own into
//!    span-carrying raw structs, dropping and retrying a key with a wrong type;
//! 3. semantic validation.
//!
//! Each pass keeps going after a problem, so that `vipd check` lists them all at once.
//!
//! Every [`ConfigError`] names the file, the line and column of the offending value (1-based),
//! the key (`instance[1].vrid`, instances counted from 0), what is wrong and what is allowed.
//! Interfaces are not looked up: a file can be checked on any host.
//!
//! Layout: this file holds the public types and the entry points; `errors` the error type and
//! its collection; `schema` the known keys and pass 2; `keepalived` the hints for keepalived's
//! keywords; `global` and `instance` the checks of each table; `checks` the value checks they
//! share.

mod checks;
mod errors;
mod global;
mod instance;
mod keepalived;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use toml::de::DeTable;

use crate::units::{Centisecs, Family, Version};

pub use errors::ConfigError;

use checks::family_name;
use errors::{Sink, key_at};
use global::validate_global;
use instance::validate_instances;
use schema::{GLOBAL, INSTANCE, RawFile, read_file};

pub const DEFAULT_PATH: &str = "/etc/vipd/vipd.toml";
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/vipd/vipd.sock";
pub const DEFAULT_PRIORITY: u8 = 100;
pub const DEFAULT_VERSION: Version = Version::V3;
pub const DEFAULT_ADVERT_INTERVAL: Centisecs = Centisecs::from_secs(1);
/// Instance names go into logs and JSON; keep them short.
pub const MAX_NAME_LEN: usize = 64;
/// Linux `IFNAMSIZ` is 16 including the terminating NUL.
pub const MAX_IFNAME_LEN: usize = 15;
/// The address count of an advertisement is an 8-bit field.
pub const MAX_ADDRESSES: usize = 255;
/// VRRPv2 simple-text authentication carries 8 bytes.
pub const MAX_AUTH_PASS_LEN: usize = 8;

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    pub instances: Vec<InstanceConfig>,
}

/// The `[global]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// Identifies this host in logs and status; default: the host name.
    pub router_id: String,
    /// Where `vipd status` connects; default [`DEFAULT_CONTROL_SOCKET`].
    pub control_socket: PathBuf,
    /// A group whose members may use the control socket; `None`: root only. Looked up when
    /// the agent starts, not by `vipd check` (which may run on another host).
    pub control_group: Option<String>,
}

/// One `[[instance]]`: one virtual router (VRID) for one address family on one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceConfig {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    /// 1..=255, default 100; 255 means this host owns the addresses.
    pub priority: u8,
    /// Default V3.
    pub version: Version,
    /// Derived from the virtual addresses (they are all of one family).
    pub family: Family,
    /// Default 1 s. V3: 1..=4095 cs; V2: a whole number of seconds 1..=255.
    pub advert_interval: Centisecs,
    /// Default true.
    pub preempt: bool,
    /// At least one, at most 255, in the configured order (sent in that order).
    pub virtual_addresses: Vec<VirtualAddress>,
    /// Empty means multicast (224.0.0.18 / ff02::12).
    pub unicast_peers: Vec<IpAddr>,
    /// VRRPv2 simple-text password, NUL padded to 8 bytes; only ever `Some` for V2.
    pub auth_pass: Option<[u8; 8]>,
    /// Whether the advertisement checksum covers a pseudo-header. Configurable only for V3
    /// over IPv4 (default true, as keepalived and FRR do); always true for V3 over IPv6 and
    /// always false for V2, so the codec may use it as is.
    pub checksum_ipv4_pseudo_header: bool,
}

/// A virtual address with the prefix length it is installed with (`10.0.0.5/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VirtualAddress {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl VirtualAddress {
    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }
}

impl fmt::Display for VirtualAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for VirtualAddress {
    type Err = String;

    /// `addr` or `addr/prefix`; without a prefix the address is a host route (/32, /128).
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = IpAddr::from_str(addr_text)
            .map_err(|_| format!("`{addr_text}` is not an IPv4 or IPv6 address"))?;
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix_len = match prefix_text {
            None => max,
            Some(p) => {
                let n: u32 = if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                    p.parse().unwrap_or(u32::MAX)
                } else {
                    return Err(format!("prefix length `/{p}` is not a number"));
                };
                if n > u32::from(max) {
                    return Err(format!(
                        "prefix length /{p} is longer than the {max} bits of an {} address",
                        family_name(Family::of(&addr))
                    ));
                }
                n as u8
            }
        };
        Ok(VirtualAddress { addr, prefix_len })
    }
}

impl Config {
    /// One line for `vipd check`: `2 instances: web (eth0 vrid 51 v3 ipv4, 1 address), ...`.
    pub fn summary(&self) -> String {
        let n = self.instances.len();
        let list: Vec<String> = self
            .instances
            .iter()
            .map(|i| {
                let count = i.virtual_addresses.len();
                format!(
                    "{} ({} vrid {} v{} {}, {count} address{})",
                    i.name,
                    i.interface,
                    i.vrid,
                    i.version.number(),
                    i.family,
                    if count == 1 { "" } else { "es" }
                )
            })
            .collect();
        format!(
            "{n} instance{}: {}",
            if n == 1 { "" } else { "s" },
            list.join(", ")
        )
    }
}

/// Reads and parses `path`. A read failure is reported as a [`ConfigError`] too.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let unreadable = |line, column, problem| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line,
            column,
            key: String::new(),
            problem,
            allowed: "a readable UTF-8 TOML file".to_owned(),
        }]
    };
    let bytes = std::fs::read(path)
        .map_err(|e| unreadable(None, None, format!("cannot read the file: {e}")))?;
    match std::str::from_utf8(&bytes) {
        Ok(text) => parse(text, path),
        Err(e) => {
            // Point at the first bad byte: everything before it is valid UTF-8.
            let valid = bytes
                .get(..e.valid_up_to())
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default();
            let sink = Sink::new(valid, path);
            let (line, column) = sink.line_col(valid.len()).unzip();
            Err(unreadable(line, column, "not valid UTF-8".to_owned()))
        }
    }
}

/// Parses and validates `text`; `file` is only used in the errors. Returns every problem found.
pub fn parse(text: &str, file: &Path) -> Result<Config, Vec<ConfigError>> {
    let mut sink = Sink::new(text, file);
    let (doc, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for e in &syntax_errors {
            let key = e.span().map(|s| key_at(doc.get_ref(), s.start));
            sink.toml_error(e, key.unwrap_or_default());
        }
        return Err(sink.into_errors());
    }
    let raw = read_file(doc.get_ref(), &mut sink);
    match validate(raw, &mut sink) {
        Some(config) if sink.error_count() == 0 => Ok(config),
        _ => Err(sink.into_errors()),
    }
}

/// Parses a duration with a unit: `"10ms"`, `"1s"`, `"2m"`. A whole number is required
/// (`"1500ms"`, not `"1.5s"`) and so is the unit (a bare `"100"` is ambiguous).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at(digits);
    if number.is_empty() {
        return Err(if s.starts_with('-') {
            "negative durations are not allowed".to_owned()
        } else {
            "it does not start with a number".to_owned()
        });
    }
    if unit.is_empty() {
        return Err("the unit is missing (ms, s or m)".to_owned());
    }
    if unit.starts_with(['.', ',']) {
        return Err("fractions are not allowed; use a smaller unit (\"1500ms\")".to_owned());
    }
    if unit.starts_with(char::is_whitespace) {
        return Err("there must be no space between the number and the unit".to_owned());
    }
    let n: u64 = number
        .parse()
        .map_err(|_| "the number is too large".to_owned())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => n
            .checked_mul(60)
            .map(Duration::from_secs)
            .ok_or_else(|| "the number is too large".to_owned()),
        other => Err(format!("unknown unit `{other}` (ms, s or m)")),
    }
}

// ---------------------------------------------------------------------------------------------
// Semantic validation.

fn validate(raw: RawFile, sink: &mut Sink<'_>) -> Option<Config> {
    let router_id_broken = raw.broken.contains(&GLOBAL)
        || (raw.global.as_ref()).is_some_and(|g| g.broken.contains(&"router_id"));
    let global = validate_global(raw.global, router_id_broken, sink);
    let instances = validate_instances(raw.instance, raw.broken.contains(&INSTANCE), sink);
    Some(Config {
        global: global?,
        instances,
    })
}

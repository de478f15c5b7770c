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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IntoDeserializer, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::protocol::units::{Centisecs, Family, Version};

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

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; `None` when the problem has no place (file unreadable, no instance at all).
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted path of the key, `instance[0].vrid`; empty when the whole file is concerned.
    pub key: String,
    pub problem: String,
    pub allowed: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.problem)?;
        if !self.allowed.is_empty() {
            write!(f, "; allowed: {}", self.allowed)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

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
// What is allowed, shared by the semantic checks and by type errors from serde.

const A_INSTANCES: &str = "one or more [[instance]] tables";
const A_GLOBAL: &str = "a [global] table with router_id and control_socket";
const A_ROUTER_ID: &str = "a non-empty string; default: the host name";
const A_SOCKET: &str = "an absolute path; default \"/run/vipd/vipd.sock\"";
const A_GROUP: &str = "a group name: 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting \
                       with '-'; default: none (root only)";
const A_NAME: &str = "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among instances";
const A_INTERFACE: &str = "a Linux interface name: 1 to 15 bytes without '/', ':' or \
                           whitespace, not \".\" or \"..\" (it need not exist yet)";
const A_VRID: &str = "an integer 1..=255";
const A_PRIORITY: &str = "an integer 1..=255 (255 = address owner); default 100";
const A_VERSION: &str = "2 or 3; default 3";
const A_DURATION: &str = "a whole number with a unit ms, s or m, e.g. \"100ms\", \"1s\", \"2m\"";
const A_INTERVAL_V3: &str =
    "for version 3, \"10ms\" to \"40950ms\" in steps of 10ms; default \"1s\"";
const A_INTERVAL_V2: &str = "for version 2, whole seconds \"1s\" to \"255s\"; default \"1s\"";
const A_PREEMPT: &str = "true or false; default true";
const A_VIPS: &str = "a list of 1 to 255 addresses of one family, e.g. [\"10.0.0.5/24\"]";
const A_VIP: &str = "a unicast IPv4 or IPv6 address, optionally with /prefix (at most /32 or \
                     /128), listed once, e.g. \"10.0.0.5/24\"";
const A_PEERS: &str = "a list of unicast addresses of the other routers, e.g. [\"10.0.0.2\"]; \
                       empty or absent means multicast";
const A_PEER: &str = "a unicast IP address of the instance's family (IPv6: the peer's link-local \
                      address), without prefix, listed once";
const A_AUTH_PASS: &str = "1 to 8 bytes, only with version = 2";
const A_CHECKSUM: &str = "true or false, only for version 3 with IPv4 addresses; default true";

/// What a key accepts, for type errors; `key` has its `[n]` indices removed.
fn allowed_for(key: &str, element: bool) -> Option<&'static str> {
    Some(match (key, element) {
        ("global", _) => A_GLOBAL,
        ("global.router_id", _) => A_ROUTER_ID,
        ("global.control_socket", _) => A_SOCKET,
        ("global.control_group", _) => A_GROUP,
        ("instance", false) => A_INSTANCES,
        ("instance", true) => "an [[instance]] table",
        ("instance.name", _) => A_NAME,
        ("instance.interface", _) => A_INTERFACE,
        ("instance.vrid", _) => A_VRID,
        ("instance.priority", _) => A_PRIORITY,
        ("instance.version", _) => A_VERSION,
        ("instance.advert_interval", _) => A_DURATION,
        ("instance.preempt", _) => A_PREEMPT,
        ("instance.virtual_addresses", false) => A_VIPS,
        ("instance.virtual_addresses", true) => A_VIP,
        ("instance.unicast_peers", false) => A_PEERS,
        ("instance.unicast_peers", true) => A_PEER,
        ("instance.auth_pass", _) => A_AUTH_PASS,
        ("instance.checksum_ipv4_pseudo_header", _) => A_CHECKSUM,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Raw, span-carrying form of the file. Everything is optional so that a missing key is one of
// the collected semantic errors rather than the end of parsing.

const GLOBAL: &str = "global";
const INSTANCE: &str = "instance";
/// The top level is walked by hand rather than deserialized, so its keys are listed here.
const TOP_KEYS: &[&str] = &[GLOBAL, INSTANCE];

struct RawFile {
    global: Option<RawTable<RawGlobal>>,
    /// Elements that are not tables are `None` (already reported), so indices stay those of
    /// the file.
    instance: Option<Spanned<Vec<Option<RawTable<RawInstance>>>>>,
    /// Top-level keys whose value has the wrong type (already reported).
    broken: Vec<&'static str>,
}

/// One deserialized table.
struct RawTable<T> {
    raw: Spanned<T>,
    /// Keys dropped for a wrong type. They were reported, so they are not also "missing".
    broken: Vec<&'static str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlobal {
    router_id: Option<Spanned<String>>,
    control_socket: Option<Spanned<String>>,
    control_group: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
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

// ---------------------------------------------------------------------------------------------
// Pass 2: unknown keys, then one table at a time into the raw structs.

/// A table whose keys are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Top,
    Global,
    Instance,
}

impl Scope {
    /// The known keys, taken from the raw structs so that the lists cannot drift apart.
    fn known_keys(self) -> &'static [&'static str] {
        match self {
            Scope::Top => TOP_KEYS,
            Scope::Global => field_names::<RawGlobal>(),
            Scope::Instance => field_names::<RawInstance>(),
        }
    }

    fn table(self) -> &'static str {
        match self {
            Scope::Top => "the top level",
            Scope::Global => "the [global] table",
            Scope::Instance => "an [[instance]] table",
        }
    }
}

/// The field names of `T`, as its derived `Deserialize` hands them to `deserialize_struct`.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The deserializer always fails once it has seen the fields: there is nothing to keep.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that records the field list of the struct asked for, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only a struct has field names"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

// What vipd lacks, one phrase per feature: change it here when the feature lands.
const NO_TRACKING: &str = "vipd has no health tracking yet";
const NO_NOTIFY: &str = "vipd has no notify scripts yet";
const NO_MAIL: &str = "vipd sends no mail alerts yet";
const NO_SOURCE: &str = "vipd has no such setting: the source is the interface's primary \
                         address, or its IPv6 link-local address";

/// keepalived keywords that people bring along, and what to write in vipd instead.
const KEEPALIVED_NAMES: &[(Scope, &str, &str)] = &[
    (Scope::Top, "vrrp_instance", "vipd calls it `[[instance]]`"),
    (Scope::Top, "vrrp_script", NO_TRACKING),
    (Scope::Top, "vrrp_sync_group", "vipd has no sync groups yet"),
    (Scope::Top, "global_defs", "vipd calls it `[global]`"),
    (
        Scope::Top,
        "router_id",
        "vipd sets it as `router_id` in `[global]`",
    ),
    (Scope::Global, "notification_email", NO_MAIL),
    (Scope::Global, "notification_email_from", NO_MAIL),
    (Scope::Global, "smtp_server", NO_MAIL),
    (Scope::Global, "smtp_connect_timeout", NO_MAIL),
    (
        Scope::Instance,
        "advert_int",
        "vipd calls it `advert_interval`, a duration such as \"1s\"",
    ),
    (
        Scope::Instance,
        "virtual_ipaddress",
        "vipd calls it `virtual_addresses`, a list such as [\"10.0.0.5/24\"]",
    ),
    (Scope::Instance, "virtual_router_id", "vipd calls it `vrid`"),
    (
        Scope::Instance,
        "nopreempt",
        "vipd writes it `preempt = false`",
    ),
    (
        Scope::Instance,
        "state",
        "vipd has no initial state setting: the priority decides, and 255 means address owner",
    ),
    (
        Scope::Instance,
        "unicast_peer",
        "vipd calls it `unicast_peers`, a list such as [\"10.0.0.2\"]",
    ),
    (Scope::Instance, "unicast_src_ip", NO_SOURCE),
    (Scope::Instance, "mcast_src_ip", NO_SOURCE),
    (
        Scope::Instance,
        "authentication",
        "vipd has no authentication block: set `auth_pass` in the instance, with version = 2",
    ),
    (
        Scope::Instance,
        "auth_type",
        "vipd has no auth_type: `auth_pass` with version = 2 is simple-text (PASS) \
         authentication",
    ),
    (
        Scope::Instance,
        "vrrp_version",
        "vipd calls it `version`, 2 or 3",
    ),
    (Scope::Instance, "track_script", NO_TRACKING),
    (Scope::Instance, "track_interface", NO_TRACKING),
    (Scope::Instance, "track_file", NO_TRACKING),
    (Scope::Instance, "track_process", NO_TRACKING),
    (
        Scope::Instance,
        "dont_track_primary",
        "vipd has no such option yet: an instance always goes to FAULT when its interface \
         loses carrier or its primary address",
    ),
    (Scope::Instance, "notify", NO_NOTIFY),
    (Scope::Instance, "notify_master", NO_NOTIFY),
    (Scope::Instance, "notify_backup", NO_NOTIFY),
    (Scope::Instance, "notify_fault", NO_NOTIFY),
    (Scope::Instance, "notify_stop", NO_NOTIFY),
    (Scope::Instance, "smtp_alert", NO_MAIL),
    (
        Scope::Instance,
        "preempt_delay",
        "vipd has no preempt delay yet",
    ),
    (
        Scope::Instance,
        "use_vmac",
        "vipd has no virtual MAC (VMAC) support yet",
    ),
    (
        Scope::Instance,
        "garp_master_refresh",
        "vipd has no periodic gratuitous ARP refresh yet",
    ),
    (
        Scope::Instance,
        "virtual_ipaddress_excluded",
        "vipd has no excluded addresses yet: every address in `virtual_addresses` is advertised",
    ),
    (
        Scope::Instance,
        "lvs_sync_daemon_interface",
        "vipd has no LVS sync daemon support",
    ),
];

/// What to add to "unknown key": keepalived's name translated, a vipd key that belongs in
/// another table, or a near typo.
fn hint(scope: Scope, key: &str) -> Option<String> {
    // keepalived's keywords are snake case too, and get the same slips (`advert-int`).
    let squashed = squash(key);
    if let Some((_, _, hint)) = KEEPALIVED_NAMES
        .iter()
        .find(|(s, name, _)| *s == scope && squash(name) == squashed)
    {
        return Some(format!("keepalived's name; {hint}"));
    }
    if let Some(home) = [Scope::Global, Scope::Instance]
        .into_iter()
        .find(|s| *s != scope && s.known_keys().contains(&key))
    {
        return Some(format!("`{key}` belongs in {}", home.table()));
    }
    closest(key, scope.known_keys()).map(|close| format!("did you mean `{close}`?"))
}

/// The known keys, worded as serde words them: "`a` or `b`", "one of `a`, `b`, `c`".
fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.as_slice() {
        [] => "no keys".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    }
}

/// Reports the unknown keys of `table` (at key path `path`) and returns their names.
fn report_unknown(
    table: &DeTable<'_>,
    scope: Scope,
    path: &str,
    sink: &mut Sink<'_>,
) -> Vec<String> {
    let known = scope.known_keys();
    let mut unknown = Vec::new();
    for (key, _) in table.iter() {
        let name: &str = key.get_ref();
        if known.contains(&name) {
            continue;
        }
        unknown.push(name.to_owned());
        if sink.counted_unlisted() {
            continue;
        }
        let mut problem = format!("unknown key `{name}`");
        if let Some(hint) = hint(scope, name) {
            problem.push_str(&format!(" ({hint})"));
        }
        let full = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        sink.push(Some(key.span()), full, problem, &one_of(known));
    }
    unknown
}

fn read_file(doc: &DeTable<'_>, sink: &mut Sink<'_>) -> RawFile {
    report_unknown(doc, Scope::Top, "", sink);
    let mut broken = Vec::new();
    let global = doc.get(GLOBAL).and_then(|value| {
        let read = read_table(value, Scope::Global, GLOBAL, sink);
        if read.is_none() {
            broken.push(GLOBAL);
        }
        read
    });
    let instance = doc.get(INSTANCE).and_then(|value| {
        let read = read_instances(value, sink);
        if read.is_none() {
            broken.push(INSTANCE);
        }
        read
    });
    RawFile {
        global,
        instance,
        broken,
    }
}

fn read_instances(
    value: &Spanned<DeValue<'_>>,
    sink: &mut Sink<'_>,
) -> Option<Spanned<Vec<Option<RawTable<RawInstance>>>>> {
    let DeValue::Array(list) = value.get_ref() else {
        let problem = format!("wrong type: {}", value.get_ref().type_str());
        sink.push(Some(value.span()), INSTANCE, problem, A_INSTANCES);
        return None;
    };
    let mut tables = Vec::with_capacity(list.len());
    for (i, element) in list.iter().enumerate() {
        let path = format!("{INSTANCE}[{i}]");
        tables.push(read_table(element, Scope::Instance, &path, sink));
    }
    Some(Spanned::new(value.span(), tables))
}

/// Reports the unknown keys of the table `value` (at key path `path`), then deserializes the
/// rest into `T`. serde stops at the first wrong type, so that key is reported and dropped and
/// serde runs again: one bad value hides nothing else. `None` if `value` is not a table.
fn read_table<'de, T: Deserialize<'de>>(
    value: &Spanned<DeValue<'de>>,
    scope: Scope,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<RawTable<T>> {
    let mut value = value.clone();
    if let DeValue::Table(table) = value.get_mut() {
        for name in report_unknown(table, scope, path, sink) {
            table.remove(name.as_str());
        }
    }
    let mut broken = Vec::new();
    loop {
        let error = match Spanned::<T>::deserialize(value.clone().into_deserializer()) {
            Ok(raw) => return Some(RawTable { raw, broken }),
            Err(e) => e,
        };
        let key = error.span().map(|s| key_in(&value, path, s.start));
        let key = key.unwrap_or_else(|| path.to_owned());
        if !sink.counted_unlisted() {
            sink.toml_error(&error, key.clone());
        }
        // Each round removes a key, so this ends; an error on the table itself ends it now.
        let culprit = top_key(&key, path)?;
        let culprit = *scope.known_keys().iter().find(|k| **k == culprit)?;
        let DeValue::Table(table) = value.get_mut() else {
            return None;
        };
        table.remove(culprit)?;
        broken.push(culprit);
    }
}

/// The key of the table at `path` that the key path `key` lies in: `vrid` for
/// `instance[0].vrid` in `instance[0]`. Known keys are plain names, without dots or brackets.
fn top_key<'k>(key: &'k str, path: &str) -> Option<&'k str> {
    let rest = key.strip_prefix(path)?.strip_prefix('.')?;
    rest.split(['.', '[']).next()
}

// ---------------------------------------------------------------------------------------------
// Error collection.

/// More errors than this are counted, not listed: a generated file with thousands of bad
/// entries must not bury the first ones (or take long to report).
const MAX_LISTED_ERRORS: usize = 100;

struct Sink<'a> {
    text: &'a str,
    file: &'a Path,
    /// Byte offset of the start of each line, so a position costs a binary search rather
    /// than a scan of the file.
    line_starts: Vec<usize>,
    errors: Vec<ConfigError>,
    unlisted: usize,
}

impl<'a> Sink<'a> {
    fn new(text: &'a str, file: &'a Path) -> Sink<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Sink {
            text,
            file,
            line_starts,
            errors: Vec::new(),
            unlisted: 0,
        }
    }

    fn error_count(&self) -> usize {
        self.errors.len() + self.unlisted
    }

    /// The errors in file order, as an editor shows them (errors without a place first).
    fn into_errors(mut self) -> Vec<ConfigError> {
        self.errors
            .sort_by_key(|e| (e.line.unwrap_or(0), e.column.unwrap_or(0)));
        if self.unlisted > 0 {
            self.errors.push(ConfigError {
                file: self.file.to_path_buf(),
                line: None,
                column: None,
                key: String::new(),
                problem: format!(
                    "{} more error(s) not listed (only the first {MAX_LISTED_ERRORS} are)",
                    self.unlisted
                ),
                allowed: "fix the errors above and check again".to_owned(),
            });
        }
        self.errors
    }

    /// 1-based line and column (in characters) of byte `offset`.
    fn line_col(&self, offset: usize) -> Option<(usize, usize)> {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let column = self.text.get(start..offset)?.chars().count() + 1;
        Some((line, column))
    }

    /// Counts an error that would not be listed anyway, sparing the caller its text: a file
    /// with 100 000 unknown keys must not build 100 000 hints.
    fn counted_unlisted(&mut self) -> bool {
        let full = self.errors.len() >= MAX_LISTED_ERRORS;
        if full {
            self.unlisted += 1;
        }
        full
    }

    fn push(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        problem: impl Into<String>,
        allowed: &str,
    ) {
        if self.errors.len() >= MAX_LISTED_ERRORS {
            self.unlisted += 1;
            return;
        }
        let place = span.and_then(|s| self.line_col(s.start));
        self.errors.push(ConfigError {
            file: self.file.to_path_buf(),
            line: place.map(|p| p.0),
            column: place.map(|p| p.1),
            key: key.into(),
            problem: problem.into(),
            allowed: allowed.to_owned(),
        });
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.line_col(span.start).map_or(0, |p| p.0)
    }

    /// A syntax error or a type error, as reported by toml/serde, at key path `key`.
    fn toml_error(&mut self, e: &toml::de::Error, key: String) {
        let message = e.message().trim_end();
        let (problem, expected) = match message.rsplit_once(", expected ") {
            Some((p, x)) => (p, Some(x)),
            None => (message, None),
        };
        // Unknown keys are removed before serde sees a table (`report_unknown`), so serde's own
        // unknown-field error is only a safety net.
        let (problem, allowed) = if let Some(field) = problem.strip_prefix("unknown field ") {
            (
                format!("unknown key {field}"),
                expected.unwrap_or_default().to_owned(),
            )
        } else if problem.starts_with("invalid type") || problem.starts_with("invalid value") {
            let (plain, element) = strip_indices(&key);
            let allowed = allowed_for(&plain, element)
                .map(str::to_owned)
                .or_else(|| expected.map(str::to_owned))
                .unwrap_or_default();
            (problem.replacen("invalid type", "wrong type", 1), allowed)
        } else if problem == "duplicate key" {
            (
                "this key or table is already defined".to_owned(),
                "each key at most once per table".to_owned(),
            )
        } else {
            let allowed = expected.unwrap_or("valid TOML (https://toml.io)");
            (format!("TOML syntax: {problem}"), allowed.to_owned())
        };
        // toml gives no place for its nesting limit; the culprit is the deepest dotted key.
        let span = e.span().or_else(|| {
            message
                .contains("recursion limit")
                .then(|| deepest_dotted_key(self.text))
                .flatten()
                .map(|at| at..at)
        });
        self.push(span, key, problem, &allowed);
    }
}

/// Byte offset of the line whose key or table header has the most dots outside quotes.
fn deepest_dotted_key(text: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key = if trimmed.starts_with('[') {
            trimmed
        } else {
            trimmed.split('=').next().unwrap_or_default()
        };
        let mut quoted = None;
        let mut dots = 0;
        for c in key.chars() {
            match (quoted, c) {
                (None, '"' | '\'') => quoted = Some(c),
                (Some(q), c) if c == q => quoted = None,
                (None, '.') => dots += 1,
                _ => {}
            }
        }
        if dots > best.map_or(0, |b| b.0) {
            best = Some((dots, offset));
        }
        offset += line.len();
    }
    best.map(|(_, at)| at)
}

/// The dotted key of the last key or value starting at or before `offset`: where toml points
/// at an error, that is the key the error belongs to.
fn key_at(doc: &DeTable<'_>, offset: usize) -> String {
    let mut best: Option<(usize, String)> = None;
    walk_table(doc, "", offset, &mut best);
    best.map(|(_, key)| key).unwrap_or_default()
}

/// [`key_at`] within one `value` whose key path is `path`: it costs the size of that value, not
/// of the whole file.
fn key_in(value: &Spanned<DeValue<'_>>, path: &str, offset: usize) -> String {
    let mut best: Option<(usize, String)> = None;
    consider(&mut best, value.span().start, offset, path);
    walk_value(value, path, offset, &mut best);
    best.map(|(_, key)| key).unwrap_or_else(|| path.to_owned())
}

fn consider(best: &mut Option<(usize, String)>, start: usize, offset: usize, key: &str) {
    if start <= offset && best.as_ref().is_none_or(|(s, _)| start >= *s) {
        *best = Some((start, key.to_owned()));
    }
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: &str,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    for (k, v) in table.iter() {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        consider(best, k.span().start, offset, &key);
        consider(best, v.span().start, offset, &key);
        walk_value(v, &key, offset, best);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    key: &str,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, key, offset, best),
        DeValue::Array(a) => {
            for (i, element) in a.iter().enumerate() {
                let key = format!("{key}[{i}]");
                consider(best, element.span().start, offset, &key);
                walk_value(element, &key, offset, best);
            }
        }
        _ => {}
    }
}

/// `instance[1].virtual_addresses[0]` -> (`instance.virtual_addresses`, true).
fn strip_indices(key: &str) -> (String, bool) {
    let mut plain = String::with_capacity(key.len());
    let mut depth = 0usize;
    for c in key.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    (plain, key.ends_with(']'))
}

/// The known key nearest to `typo`, if close enough. Case, `-` and `_` are ignored, so
/// `routerID`, `control-socket` and `advertinterval` find their key whatever their length.
fn closest<'a>(typo: &str, known: &[&'a str]) -> Option<&'a str> {
    let typo = squash(typo);
    known
        .iter()
        .map(|name| (edit_distance(&typo, &squash(name)), *name))
        .filter(|(d, _)| *d <= 2 || (*d <= 3 && typo.len() > 8))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// `Advert-Interval` -> `advertinterval`.
fn squash(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

// ---------------------------------------------------------------------------------------------
// Semantic validation.

fn validate(raw: RawFile, sink: &mut Sink<'_>) -> Option<Config> {
    let router_id_broken = raw.broken.contains(&GLOBAL)
        || (raw.global.as_ref()).is_some_and(|g| g.broken.contains(&"router_id"));
    let global = validate_global(raw.global, router_id_broken, sink);
    let mut instances = Vec::new();
    match raw.instance {
        // Already reported as a wrong type.
        None if raw.broken.contains(&INSTANCE) => {}
        None => sink.push(
            None,
            "instance",
            "no [[instance]] table: there is nothing to run",
            A_INSTANCES,
        ),
        Some(list) if list.get_ref().is_empty() => sink.push(
            Some(list.span()),
            "instance",
            "no [[instance]] table: the list is empty",
            A_INSTANCES,
        ),
        Some(list) => {
            let mut names: HashMap<String, (usize, usize)> = HashMap::new();
            let mut slots: HashMap<(String, u8, Family), (usize, String)> = HashMap::new();
            let tables = list.into_inner().into_iter().enumerate();
            // An element that is not a table has been reported already.
            for (i, raw) in tables.filter_map(|(i, raw)| Some((i, raw?))) {
                let checked = validate_instance(i, raw, sink);
                if let Some(name) = &checked.name {
                    let line = sink.line_of(&name.span());
                    match names.entry(name.get_ref().clone()) {
                        Entry::Occupied(first) => {
                            let (j, first_line) = *first.get();
                            sink.push(
                                Some(name.span()),
                                format!("instance[{i}].name"),
                                format!(
                                    "`{}` is already the name of instance[{j}] (line {first_line})",
                                    name.get_ref()
                                ),
                                A_NAME,
                            );
                        }
                        Entry::Vacant(slot) => {
                            slot.insert((i, line));
                        }
                    }
                }
                if let (Some(interface), Some(vrid), Some(family)) =
                    (&checked.interface, &checked.vrid, checked.family)
                {
                    let label = checked
                        .name
                        .as_ref()
                        .map_or_else(String::new, |n| format!(" (`{}`)", n.get_ref()));
                    match slots.entry((interface.clone(), *vrid.get_ref(), family)) {
                        Entry::Occupied(first) => {
                            let (j, first_label) = first.get();
                            sink.push(
                                Some(vrid.span()),
                                format!("instance[{i}].vrid"),
                                format!(
                                    "instance[{j}]{first_label} already runs VRID {} for {} \
                                     on `{interface}`",
                                    vrid.get_ref(),
                                    family_name(family)
                                ),
                                "a VRID that no other instance uses on the same interface and \
                                 address family",
                            );
                        }
                        Entry::Vacant(slot) => {
                            slot.insert((i, label));
                        }
                    }
                }
                if let Some(config) = checked.config {
                    instances.push(config);
                }
            }
        }
    }
    Some(Config {
        global: global?,
        instances,
    })
}

/// `router_id_broken`: `[global]` or its `router_id` had the wrong type (already reported).
fn validate_global(
    raw: Option<RawTable<RawGlobal>>,
    router_id_broken: bool,
    sink: &mut Sink<'_>,
) -> Option<Global> {
    let (router_id, control_socket, control_group, span) = match raw {
        Some(g) => {
            let span = g.raw.span();
            let g = g.raw.into_inner();
            (g.router_id, g.control_socket, g.control_group, Some(span))
        }
        None => (None, None, None, None),
    };
    let before = sink.error_count();
    let router_id = match router_id {
        Some(id) if id.get_ref().is_empty() => {
            sink.push(
                Some(id.span()),
                "global.router_id",
                "must not be empty",
                A_ROUTER_ID,
            );
            String::new()
        }
        Some(id) => id.into_inner(),
        // Reported as a wrong type; the host name would not be used.
        None if router_id_broken => String::new(),
        None => match host_name() {
            Some(host) => host,
            None => {
                sink.push(
                    span,
                    "global.router_id",
                    "is not set and the host name could not be read",
                    A_ROUTER_ID,
                );
                String::new()
            }
        },
    };
    let control_socket = match control_socket {
        Some(p) if !Path::new(p.get_ref()).is_absolute() => {
            sink.push(
                Some(p.span()),
                "global.control_socket",
                format!("`{}` is not an absolute path", p.get_ref()),
                A_SOCKET,
            );
            PathBuf::new()
        }
        Some(p) => PathBuf::from(p.into_inner()),
        None => PathBuf::from(DEFAULT_CONTROL_SOCKET),
    };
    let control_group = control_group.and_then(|g| match check_group(g.get_ref()) {
        Ok(()) => Some(g.into_inner()),
        Err(problem) => {
            sink.push(Some(g.span()), "global.control_group", problem, A_GROUP);
            None
        }
    });
    (sink.error_count() == before).then_some(Global {
        router_id,
        control_socket,
        control_group,
    })
}

fn host_name() -> Option<String> {
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

/// What one instance contributes to the checks across instances, and the result.
struct Checked {
    name: Option<Spanned<String>>,
    interface: Option<String>,
    vrid: Option<Spanned<u8>>,
    family: Option<Family>,
    config: Option<InstanceConfig>,
}

fn validate_instance(i: usize, raw: RawTable<RawInstance>, sink: &mut Sink<'_>) -> Checked {
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

/// For prose; `Family`'s own `Display` is the lower-case form used in logs and JSON.
fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// The portable user and group name characters (POSIX, as shadow-utils accepts them).
fn check_group(name: &str) -> Result<(), String> {
    let portable = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || name.len() > 32 {
        return Err(format!("`{name}` is not 1 to 32 characters long"));
    }
    if name.starts_with('-') || !name.chars().all(portable) {
        return Err(format!("`{name}` is not a valid group name"));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "contains {c:?}, which is not allowed (names appear in logs and JSON)"
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "is {} characters long, more than {MAX_NAME_LEN}",
            name.len()
        ));
    }
    Ok(())
}

/// The rules of the Linux kernel's `dev_valid_name()`.
fn check_interface(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.len() > MAX_IFNAME_LEN {
        return Err(format!(
            "`{name}` is {} bytes long; Linux interface names have at most {MAX_IFNAME_LEN} \
             (IFNAMSIZ 16 with the terminating NUL)",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a valid interface name"));
    }
    if name.contains('/') {
        return Err(format!(
            "`{name}` contains '/', which Linux does not allow in interface names"
        ));
    }
    if name.contains(':') {
        return Err(format!(
            "`{name}` contains ':', which Linux does not allow in interface names (`eth0:1` \
             is an address label, not an interface)"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{name:?} contains whitespace or a control character, which Linux does not \
             allow in interface names"
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const FILE: &str = "t.toml";

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

    // ----- valid files ---------------------------------------------------------------------

    #[test]
    fn full_example_parses_with_values_and_defaults() {
        let text = r#"
[global]
router_id = "lb1"
control_socket = "/tmp/vipd.sock"

[[instance]]
name = "web"
interface = "eth0"
vrid = 51
priority = 150
version = 3
advert_interval = "100ms"
preempt = false
virtual_addresses = ["10.99.0.50/24", "10.99.0.51"]
unicast_peers = ["10.99.0.2", "10.99.0.3"]
checksum_ipv4_pseudo_header = false

[[instance]]
name = "web6"
interface = "eth0"
vrid = 51
virtual_addresses = ["fe80::51/64", "2001:db8::50"]

[[instance]]
name = "legacy"
interface = "eth1.100"
vrid = 7
version = 2
advert_interval = "3s"
virtual_addresses = ["192.0.2.7/24"]
auth_pass = "ab"
"#;
        let c = ok(text);
        assert_eq!(c.global.router_id, "lb1");
        assert_eq!(c.global.control_socket, PathBuf::from("/tmp/vipd.sock"));
        assert_eq!(c.instances.len(), 3);

        let web = &c.instances[0];
        assert_eq!(web.name, "web");
        assert_eq!(web.interface, "eth0");
        assert_eq!(web.vrid, 51);
        assert_eq!(web.priority, 150);
        assert_eq!(web.version, Version::V3);
        assert_eq!(web.family, Family::V4);
        assert_eq!(web.advert_interval, Centisecs(10));
        assert!(!web.preempt);
        assert_eq!(
            web.virtual_addresses,
            vec![
                VirtualAddress {
                    addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 50)),
                    prefix_len: 24
                },
                VirtualAddress {
                    addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 51)),
                    prefix_len: 32
                },
            ]
        );
        assert_eq!(
            web.unicast_peers,
            vec![
                IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)),
                IpAddr::V4(Ipv4Addr::new(10, 99, 0, 3))
            ]
        );
        assert_eq!(web.auth_pass, None);
        assert!(!web.checksum_ipv4_pseudo_header);

        // Same interface and VRID as `web`, other family: a separate election, allowed.
        let web6 = &c.instances[1];
        assert_eq!(web6.family, Family::V6);
        assert_eq!(web6.priority, DEFAULT_PRIORITY);
        assert_eq!(web6.version, Version::V3);
        assert_eq!(web6.advert_interval, Centisecs(100));
        assert!(web6.preempt);
        assert!(web6.unicast_peers.is_empty());
        assert!(
            web6.checksum_ipv4_pseudo_header,
            "IPv6 always has a pseudo-header"
        );
        assert_eq!(web6.virtual_addresses[0].to_string(), "fe80::51/64");
        assert_eq!(
            web6.virtual_addresses[1],
            VirtualAddress {
                addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x50)),
                prefix_len: 128
            }
        );

        let legacy = &c.instances[2];
        assert_eq!(legacy.version, Version::V2);
        assert_eq!(legacy.advert_interval, Centisecs(300));
        assert_eq!(legacy.auth_pass, Some(*b"ab\0\0\0\0\0\0"));
        assert!(
            !legacy.checksum_ipv4_pseudo_header,
            "v2 has no pseudo-header"
        );

        assert_eq!(
            c.summary(),
            "3 instances: web (eth0 vrid 51 v3 ipv4, 2 addresses), web6 (eth0 vrid 51 v3 \
             ipv6, 2 addresses), legacy (eth1.100 vrid 7 v2 ipv4, 1 address)"
        );
    }

    #[test]
    fn minimal_instance_gets_the_defaults() {
        let c = ok(&inst(&[]));
        assert!(!c.global.router_id.is_empty(), "defaults to the host name");
        assert_eq!(
            c.global.control_socket,
            PathBuf::from(DEFAULT_CONTROL_SOCKET)
        );
        let i = &c.instances[0];
        assert_eq!(i.priority, 100);
        assert_eq!(i.version, Version::V3);
        assert_eq!(i.family, Family::V4);
        assert_eq!(i.advert_interval, Centisecs::from_secs(1));
        assert!(i.preempt);
        assert!(i.unicast_peers.is_empty());
        assert_eq!(i.auth_pass, None);
        assert!(i.checksum_ipv4_pseudo_header);
    }

    #[test]
    fn auth_pass_of_eight_bytes_fills_the_field() {
        let c = ok(&inst(&[("version", "2"), ("auth_pass", "\"12345678\"")]));
        assert_eq!(c.instances[0].auth_pass, Some(*b"12345678"));
    }

    #[test]
    fn v3_interval_limits_are_accepted() {
        for (text, cs) in [("\"10ms\"", 1), ("\"40950ms\"", 4095), ("\"40s\"", 4000)] {
            let c = ok(&inst(&[("advert_interval", text)]));
            assert_eq!(c.instances[0].advert_interval, Centisecs(cs), "{text}");
        }
        let c = ok(&inst(&[("version", "2"), ("advert_interval", "\"255s\"")]));
        assert_eq!(c.instances[0].advert_interval, Centisecs(25500));
    }

    #[test]
    fn virtual_address_parses_and_displays() {
        let v: VirtualAddress = "10.0.0.5".parse().expect("valid");
        assert_eq!(v.to_string(), "10.0.0.5/32");
        let v: VirtualAddress = "2001:db8::5/64".parse().expect("valid");
        assert_eq!(v.to_string(), "2001:db8::5/64");
        assert_eq!(v.family(), Family::V6);
        let v: VirtualAddress = "::ffff:1.2.3.4".parse().expect("valid");
        assert_eq!(v.prefix_len, 128);
    }

    #[test]
    fn shipped_example_files_are_valid() {
        for (path, instances) in [
            (concat!(env!("CARGO_MANIFEST_DIR"), "/conf/vipd.toml"), 2),
            (concat!(env!("CARGO_MANIFEST_DIR"), "/conf/ipv6.toml"), 1),
            (
                concat!(env!("CARGO_MANIFEST_DIR"), "/conf/keepalived-interop.toml"),
                1,
            ),
        ] {
            match load(Path::new(path)) {
                Ok(c) => assert_eq!(c.instances.len(), instances, "{path}"),
                Err(errors) => panic!("{path}: {errors:#?}"),
            }
        }
        let ipv6 = load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/conf/ipv6.toml"
        )))
        .expect("valid");
        assert_eq!(ipv6.instances[0].family, Family::V6);
        let v2 = load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/conf/keepalived-interop.toml"
        )))
        .expect("valid");
        assert_eq!(v2.instances[0].version, Version::V2);
        assert!(v2.instances[0].auth_pass.is_some());
    }

    // ----- error format --------------------------------------------------------------------

    #[test]
    fn display_names_file_place_key_problem_and_allowed() {
        let e = one(&inst(&[("vrid", "300")]));
        assert_eq!(
            e.to_string(),
            "t.toml:4:8: instance[0].vrid: 300 is out of range; allowed: an integer 1..=255"
        );
    }

    #[test]
    fn unreadable_file_is_a_config_error() {
        let errors = load(Path::new("/nonexistent/vipd.toml")).expect_err("missing file");
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!(e.line, None);
        assert!(e.problem.contains("cannot read"), "{e}");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/vipd.toml: cannot read"),
            "{e}"
        );
    }

    // ----- syntax, types, unknown keys ------------------------------------------------------

    #[test]
    fn syntax_error_has_a_position() {
        let e = one("[[instance]]\nname = \"web\nvrid = 5\n");
        check(&e, "instance[0].name", 2, 12, "TOML syntax");
        assert!(e.allowed.contains('"'), "says what was expected: {e}");
    }

    #[test]
    fn several_syntax_errors_are_reported() {
        let errors = errs("[[instance]]\nname = \"a\"\nvrid = = 5\n[[instance]]\nname = 'b' 'c'\n");
        assert_eq!(errors.len(), 3, "{errors:#?}");
        check(&errors[0], "instance[0].vrid", 3, 8, "extra `=`");
        check(&errors[2], "instance[1].name", 5, 12, "unexpected");
    }

    #[test]
    fn duplicate_key_is_a_syntax_error_with_position() {
        let e = one("[[instance]]\nname = \"a\"\nname = \"b\"\n");
        check(&e, "instance[0].name", 3, 1, "already defined");
    }

    #[test]
    fn wrong_type_says_what_is_allowed() {
        let e = one(&inst(&[("vrid", "\"51\"")]));
        check(&e, "instance[0].vrid", 4, 8, "wrong type: string");
        assert_eq!(e.allowed, A_VRID);
        let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5\", 7]")]));
        check(&e, "instance[0].virtual_addresses[1]", 5, 34, "integer `7`");
        assert_eq!(e.allowed, A_VIP);
        let e = one(&inst(&[("advert_interval", "100")]));
        check(
            &e,
            "instance[0].advert_interval",
            6,
            19,
            "wrong type: integer",
        );
        assert_eq!(e.allowed, A_DURATION);
    }

    #[test]
    fn instance_must_be_an_array_of_tables() {
        let e = one("[instance]\nname = \"a\"\n");
        check(&e, "instance", 1, 1, "wrong type");
        assert_eq!(e.allowed, A_INSTANCES);
    }

    #[test]
    fn unknown_top_level_key() {
        let e = one(&format!("routerid = \"x\"\n{}", inst(&[])));
        check(&e, "routerid", 1, 1, "unknown key `routerid`");
        assert_eq!(e.allowed, "`global` or `instance`");
    }

    #[test]
    fn unknown_key_in_global() {
        let e = one(&format!("[global]\nrouterid = \"x\"\n{}", inst(&[])));
        check(&e, "global.routerid", 2, 1, "did you mean `router_id`?");
        assert!(e.allowed.contains("`router_id`") && e.allowed.contains("`control_socket`"));
    }

    #[test]
    fn unknown_key_in_instance() {
        let e = one(&inst(&[("vrdi", "5")]));
        check(
            &e,
            "instance[0].vrdi",
            6,
            1,
            "unknown key `vrdi` (did you mean `vrid`?)",
        );
        assert!(e.allowed.starts_with("one of `name`"), "{e}");
        assert!(e.allowed.contains("`checksum_ipv4_pseudo_header`"), "{e}");
        let e = one(&inst(&[("garbage", "5")]));
        assert!(!e.problem.contains("did you mean"), "{e}");
    }

    // ----- every error in one run, keepalived's names ----------------------------------------

    /// The error with key `key`.
    #[track_caller]
    fn by_key<'e>(errors: &'e [ConfigError], key: &str) -> &'e ConfigError {
        match errors.iter().find(|e| e.key == key) {
            Some(e) => e,
            None => panic!("no error for {key}: {errors:#?}"),
        }
    }

    #[test]
    fn unknown_keys_type_and_range_errors_all_in_one_run() {
        let text = "global_defs = 1\n[global]\nrouterid = \"lb1\"\nsmtp_server = \"10.0.0.1\"\n\
                    [[instance]]\nname = \"web\"\ninterface = \"eth0\"\nvrid = 300\n\
                    advert_int = 1\nvirtual_addresses = [\"10.0.0.5/24\"]\nnopreempt = true\n\
                    [[instance]]\nname = \"db\"\ninterface = \"eth0\"\nvrid = 52\n\
                    priority = \"high\"\ntrack_script = [\"chk\"]\n\
                    virtual_addresses = [\"10.0.0.6/24\"]\nstate = \"MASTER\"\n";
        let errors = errs(text);
        let expected = [
            ("global_defs", 1, 1, "vipd calls it `[global]`"),
            ("global.routerid", 3, 1, "did you mean `router_id`?"),
            ("global.smtp_server", 4, 1, "no mail alerts"),
            ("instance[0].vrid", 8, 8, "300 is out of range"),
            ("instance[0].advert_int", 9, 1, "`advert_interval`"),
            ("instance[0].nopreempt", 11, 1, "`preempt = false`"),
            (
                "instance[1].priority",
                16,
                12,
                "wrong type: string \"high\"",
            ),
            ("instance[1].track_script", 17, 1, "no health tracking"),
            ("instance[1].state", 19, 1, "the priority decides"),
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (e, (key, line, column, fragment)) in errors.iter().zip(expected) {
            check(e, key, line, column, fragment);
        }
    }

    #[test]
    fn keepalived_names_get_their_vipd_hint() {
        for &(scope, name, hint) in KEEPALIVED_NAMES {
            let (text, key, line) = match scope {
                Scope::Top => (format!("{name} = 1\n{}", inst(&[])), name.to_owned(), 1),
                Scope::Global => (
                    format!("[global]\n{name} = 1\n{}", inst(&[])),
                    format!("global.{name}"),
                    2,
                ),
                Scope::Instance => (inst(&[(name, "1")]), format!("instance[0].{name}"), 6),
            };
            let e = one(&text);
            check(&e, &key, line, 1, "keepalived's name");
            assert_eq!(
                e.problem,
                format!("unknown key `{name}` (keepalived's name; {hint})")
            );
        }
        let e = one(&inst(&[("advert_int", "1")]));
        assert_eq!(
            e.problem,
            "unknown key `advert_int` (keepalived's name; vipd calls it `advert_interval`, a \
             duration such as \"1s\")"
        );
        // The same slips as in vipd's own keys.
        let e = one(&inst(&[("Advert-Int", "1")]));
        assert!(e.problem.contains("`advert_interval`"), "{e}");
    }

    #[test]
    fn keepalived_names_cover_the_common_keywords() {
        let listed = |scope: Scope, name: &str| {
            KEEPALIVED_NAMES
                .iter()
                .any(|&(s, n, _)| s == scope && n == name)
        };
        for name in [
            "advert_int",
            "virtual_ipaddress",
            "virtual_router_id",
            "nopreempt",
            "state",
            "unicast_peer",
            "unicast_src_ip",
            "authentication",
            "auth_type",
            "vrrp_version",
            "track_script",
            "track_interface",
            "track_file",
            "track_process",
            "notify",
            "notify_master",
            "notify_backup",
            "notify_fault",
            "notify_stop",
            "preempt_delay",
            "use_vmac",
            "garp_master_refresh",
            "smtp_alert",
            "virtual_ipaddress_excluded",
            "dont_track_primary",
            "lvs_sync_daemon_interface",
        ] {
            assert!(listed(Scope::Instance, name), "{name}");
        }
        for name in [
            "vrrp_instance",
            "vrrp_script",
            "vrrp_sync_group",
            "global_defs",
            "router_id",
        ] {
            assert!(listed(Scope::Top, name), "{name}");
        }
        for (i, &(scope, name, _)) in KEEPALIVED_NAMES.iter().enumerate() {
            assert!(
                !scope.known_keys().contains(&name),
                "{name} is a vipd key in {scope:?}"
            );
            assert!(
                !KEEPALIVED_NAMES[..i]
                    .iter()
                    .any(|&(s, n, _)| s == scope && n == name),
                "{name} is listed twice"
            );
        }
    }

    #[test]
    fn known_keys_come_from_the_raw_structs() {
        assert_eq!(
            Scope::Global.known_keys(),
            ["router_id", "control_socket", "control_group"]
        );
        let instance = Scope::Instance.known_keys();
        assert_eq!(instance.len(), 11, "{instance:?}");
        assert_eq!(instance.first(), Some(&"name"));
        assert_eq!(instance.last(), Some(&"checksum_ipv4_pseudo_header"));
    }

    #[test]
    fn wrong_type_is_not_also_a_missing_key() {
        let text = inst(&[
            ("name", "\"\""),
            ("vrid", "\"51\""),
            ("virtual_addresses", "[\"10.0.0.5\", 7]"),
        ]);
        let errors = errs(&text);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        check(&errors[0], "instance[0].name", 2, 8, "must not be empty");
        check(&errors[1], "instance[0].vrid", 4, 8, "wrong type: string");
        check(
            &errors[2],
            "instance[0].virtual_addresses[1]",
            5,
            34,
            "wrong type: integer",
        );
        // A version of the wrong type is unknown, not the default 3 that refuses auth_pass.
        let errors = errs(&inst(&[
            ("version", "\"2\""),
            ("auth_pass", "\"x\""),
            ("priority", "0"),
        ]));
        assert_eq!(errors.len(), 2, "{errors:#?}");
        check(&errors[0], "instance[0].version", 6, 11, "wrong type");
        check(&errors[1], "instance[0].priority", 8, 12, "reserved");
    }

    #[test]
    fn type_errors_in_global_and_several_instances() {
        let text = format!(
            "[global]\nrouter_id = 5\ncontrol_socket = true\n{}{}",
            inst(&[("preempt", "\"yes\""), ("priority", "1.5")]),
            inst(&[("name", "\"db\""), ("interface", "[]"), ("vrid", "52")]),
        );
        let errors = errs(&text);
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "global.router_id",
                "global.control_socket",
                "instance[0].preempt",
                "instance[0].priority",
                "instance[1].interface",
            ],
            "{errors:#?}"
        );
        assert!(errors.iter().all(|e| e.problem.contains("wrong type")));
    }

    #[test]
    fn an_element_that_is_not_a_table_hides_no_other_instance() {
        let text = "instance = [1, { name = \"a\", interface = \"eth0\", vrid = 1, \
                    virtual_addresses = [\"10.0.0.5\"], priority = 0 }]\n";
        let errors = errs(text);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        check(&errors[0], "instance[0]", 1, 13, "wrong type: integer");
        check(&errors[1], "instance[1].priority", 1, 105, "reserved");
    }

    #[test]
    fn snake_case_slips_find_their_key() {
        for (header, path, typo, key) in [
            ("[global]", "global", "routerID", "router_id"),
            ("[global]", "global", "control-socket", "control_socket"),
            (
                "[[instance]]",
                "instance[0]",
                "advertinterval",
                "advert_interval",
            ),
            (
                "[[instance]]",
                "instance[0]",
                "Virtual_Addresses",
                "virtual_addresses",
            ),
            (
                "[[instance]]",
                "instance[0]",
                "unicastPeers",
                "unicast_peers",
            ),
            (
                "[[instance]]",
                "instance[0]",
                "checksum-IPv4-pseudo-header",
                "checksum_ipv4_pseudo_header",
            ),
        ] {
            let errors = errs(&format!("{header}\n{typo} = 1\n"));
            let e = by_key(&errors, &format!("{path}.{typo}"));
            assert!(
                e.problem.contains(&format!("(did you mean `{key}`?)")),
                "{e}"
            );
        }
        let e = one(&format!("instances = 1\n{}", inst(&[])));
        check(&e, "instances", 1, 1, "did you mean `instance`?");
    }

    #[test]
    fn vipd_key_in_the_wrong_table_says_where_it_belongs() {
        let e = one(&format!("vrid = 5\n{}", inst(&[])));
        check(&e, "vrid", 1, 1, "`vrid` belongs in an [[instance]] table");
        let e = one(&format!("[global]\npriority = 5\n{}", inst(&[])));
        check(
            &e,
            "global.priority",
            2,
            1,
            "belongs in an [[instance]] table",
        );
        let e = one(&inst(&[("control_socket", "\"/x\"")]));
        check(
            &e,
            "instance[0].control_socket",
            6,
            1,
            "belongs in the [global] table",
        );
    }

    #[test]
    fn error_cap_holds_for_unknown_keys_and_type_errors() {
        let text: String = (1..=150)
            .map(|i| {
                inst(&[
                    ("name", &format!("\"n{i}\"")),
                    ("vrid", &i.to_string()),
                    ("advert_int", "1"),
                    ("priority", "\"high\""),
                ])
            })
            .collect();
        let started = std::time::Instant::now();
        let errors = errs(&text);
        assert_eq!(errors.len(), MAX_LISTED_ERRORS + 1, "listed plus summary");
        let last = errors.last().map(|e| e.problem.clone()).unwrap_or_default();
        assert!(last.starts_with("200 more error(s) not listed"), "{last}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    // ----- structure -----------------------------------------------------------------------

    #[test]
    fn at_least_one_instance() {
        let e = one("[global]\nrouter_id = \"a\"\n");
        assert_eq!(e.key, "instance");
        assert_eq!(e.line, None);
        assert!(e.problem.contains("no [[instance]]"), "{e}");
        let e = one("instance = []\n");
        check(&e, "instance", 1, 12, "the list is empty");
    }

    #[test]
    fn missing_required_keys_are_all_reported() {
        let errors = errs("[[instance]]\npriority = 7\n");
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "instance[0].name",
                "instance[0].interface",
                "instance[0].vrid",
                "instance[0].virtual_addresses"
            ]
        );
        check(
            &errors[2],
            "instance[0].vrid",
            1,
            1,
            "required key `vrid` is missing",
        );
    }

    // ----- global --------------------------------------------------------------------------

    #[test]
    fn router_id_must_not_be_empty() {
        let e = one(&format!("[global]\nrouter_id = \"\"\n{}", inst(&[])));
        check(&e, "global.router_id", 2, 13, "must not be empty");
    }

    #[test]
    fn control_group_must_be_a_group_name() {
        let e = one(&format!(
            "[global]\ncontrol_group = \"-wheel\"\n{}",
            inst(&[])
        ));
        check(&e, "global.control_group", 2, 17, "not a valid group name");
        let c = parse(
            &format!("[global]\ncontrol_group = \"vipd-status\"\n{}", inst(&[])),
            Path::new("t.toml"),
        )
        .expect("valid");
        assert_eq!(c.global.control_group.as_deref(), Some("vipd-status"));
    }

    #[test]
    fn control_socket_must_be_absolute() {
        let e = one(&format!(
            "[global]\ncontrol_socket = \"vipd.sock\"\n{}",
            inst(&[])
        ));
        check(&e, "global.control_socket", 2, 18, "not an absolute path");
    }

    // ----- name ----------------------------------------------------------------------------

    #[test]
    fn name_must_not_be_empty() {
        let e = one(&inst(&[("name", "\"\"")]));
        check(&e, "instance[0].name", 2, 8, "must not be empty");
    }

    #[test]
    fn name_characters_are_restricted() {
        let e = one(&inst(&[("name", "\"web 1\"")]));
        check(
            &e,
            "instance[0].name",
            2,
            8,
            "contains ' ', which is not allowed",
        );
    }

    #[test]
    fn name_length_is_limited() {
        let long = format!("\"{}\"", "a".repeat(65));
        let e = one(&inst(&[("name", &long)]));
        check(&e, "instance[0].name", 2, 8, "65 characters long");
        ok(&inst(&[("name", &format!("\"{}\"", "a".repeat(64)))]));
    }

    #[test]
    fn names_are_unique() {
        let text = format!("{}{}", inst(&[]), inst(&[("vrid", "52")]));
        let e = one(&text);
        check(
            &e,
            "instance[1].name",
            7,
            8,
            "already the name of instance[0] (line 2)",
        );
    }

    // ----- interface -----------------------------------------------------------------------

    #[test]
    fn interface_must_not_be_empty() {
        let e = one(&inst(&[("interface", "\"\"")]));
        check(&e, "instance[0].interface", 3, 13, "must not be empty");
    }

    #[test]
    fn interface_is_at_most_15_bytes() {
        let e = one(&inst(&[("interface", "\"abcdefghijklmnop\"")]));
        check(&e, "instance[0].interface", 3, 13, "16 bytes long");
        ok(&inst(&[("interface", "\"abcdefghijklmno\"")]));
    }

    #[test]
    fn interface_is_not_dot_or_dotdot() {
        for name in ["\".\"", "\"..\""] {
            let e = one(&inst(&[("interface", name)]));
            check(
                &e,
                "instance[0].interface",
                3,
                13,
                "not a valid interface name",
            );
        }
    }

    #[test]
    fn interface_has_no_slash() {
        let e = one(&inst(&[("interface", "\"eth/0\"")]));
        check(&e, "instance[0].interface", 3, 13, "contains '/'");
    }

    #[test]
    fn interface_has_no_colon() {
        let e = one(&inst(&[("interface", "\"eth0:1\"")]));
        check(&e, "instance[0].interface", 3, 13, "address label");
    }

    #[test]
    fn interface_has_no_whitespace() {
        let e = one(&inst(&[("interface", "\"eth 0\"")]));
        check(&e, "instance[0].interface", 3, 13, "whitespace");
    }

    // ----- vrid, priority, version ---------------------------------------------------------

    #[test]
    fn vrid_range() {
        for v in ["0", "256", "-1"] {
            let e = one(&inst(&[("vrid", v)]));
            check(
                &e,
                "instance[0].vrid",
                4,
                8,
                &format!("{v} is out of range"),
            );
        }
    }

    #[test]
    fn priority_zero_is_reserved() {
        let e = one(&inst(&[("priority", "0")]));
        check(&e, "instance[0].priority", 6, 12, "master is leaving");
    }

    #[test]
    fn priority_range() {
        let e = one(&inst(&[("priority", "256")]));
        check(&e, "instance[0].priority", 6, 12, "256 is out of range");
        assert_eq!(ok(&inst(&[("priority", "255")])).instances[0].priority, 255);
    }

    #[test]
    fn version_is_2_or_3() {
        let e = one(&inst(&[("version", "4")]));
        check(&e, "instance[0].version", 6, 11, "4 is not a VRRP version");
        assert_eq!(e.allowed, A_VERSION);
    }

    // ----- advert_interval -----------------------------------------------------------------

    #[test]
    fn advert_interval_must_be_a_duration() {
        let e = one(&inst(&[("advert_interval", "\"1.5s\"")]));
        check(&e, "instance[0].advert_interval", 6, 19, "fractions");
        assert_eq!(e.allowed, A_DURATION);
    }

    #[test]
    fn advert_interval_v3_range() {
        for d in ["\"0ms\"", "\"40960ms\"", "\"1m\""] {
            let e = one(&inst(&[("advert_interval", d)]));
            check(
                &e,
                "instance[0].advert_interval",
                6,
                19,
                "out of range for VRRPv3",
            );
            assert_eq!(e.allowed, A_INTERVAL_V3);
        }
    }

    #[test]
    fn advert_interval_v3_steps_of_10ms() {
        let e = one(&inst(&[("advert_interval", "\"15ms\"")]));
        check(
            &e,
            "instance[0].advert_interval",
            6,
            19,
            "not a multiple of 10ms",
        );
    }

    #[test]
    fn advert_interval_v2_whole_seconds() {
        let e = one(&inst(&[
            ("version", "2"),
            ("advert_interval", "\"1500ms\""),
        ]));
        check(
            &e,
            "instance[0].advert_interval",
            7,
            19,
            "whole number of seconds",
        );
        assert_eq!(e.allowed, A_INTERVAL_V2);
    }

    #[test]
    fn advert_interval_v2_range() {
        for d in ["\"0s\"", "\"256s\""] {
            let e = one(&inst(&[("version", "2"), ("advert_interval", d)]));
            check(
                &e,
                "instance[0].advert_interval",
                7,
                19,
                "out of range for VRRPv2",
            );
        }
    }

    // ----- virtual_addresses ---------------------------------------------------------------

    #[test]
    fn virtual_addresses_not_empty() {
        let e = one(&inst(&[("virtual_addresses", "[]")]));
        check(
            &e,
            "instance[0].virtual_addresses",
            5,
            21,
            "the list is empty",
        );
    }

    #[test]
    fn virtual_address_must_parse() {
        let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.300/24\"]")]));
        check(
            &e,
            "instance[0].virtual_addresses[0]",
            5,
            22,
            "not an IPv4 or IPv6 address",
        );
    }

    #[test]
    fn virtual_address_prefix_must_be_a_number() {
        let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5/x\"]")]));
        check(
            &e,
            "instance[0].virtual_addresses[0]",
            5,
            22,
            "`/x` is not a number",
        );
        let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5/\"]")]));
        check(
            &e,
            "instance[0].virtual_addresses[0]",
            5,
            22,
            "is not a number",
        );
    }

    #[test]
    fn virtual_address_prefix_length_limit() {
        let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5/33\"]")]));
        check(
            &e,
            "instance[0].virtual_addresses[0]",
            5,
            22,
            "longer than the 32 bits",
        );
        let e = one(&inst(&[("virtual_addresses", "[\"2001:db8::5/129\"]")]));
        check(
            &e,
            "instance[0].virtual_addresses[0]",
            5,
            22,
            "longer than the 128 bits",
        );
    }

    #[test]
    fn virtual_addresses_of_one_family() {
        let e = one(&inst(&[(
            "virtual_addresses",
            "[\"10.0.0.5\", \"2001:db8::5\"]",
        )]));
        check(
            &e,
            "instance[0].virtual_addresses[1]",
            5,
            34,
            "first address is IPv4",
        );
    }

    #[test]
    fn virtual_addresses_without_duplicates() {
        let e = one(&inst(&[(
            "virtual_addresses",
            "[\"10.0.0.5/24\", \"10.0.0.5/32\"]",
        )]));
        check(
            &e,
            "instance[0].virtual_addresses[1]",
            5,
            37,
            "already listed as virtual_addresses[0]",
        );
    }

    #[test]
    fn virtual_address_not_multicast() {
        let e = one(&inst(&[("virtual_addresses", "[\"224.0.0.18\"]")]));
        check(&e, "instance[0].virtual_addresses[0]", 5, 22, "multicast");
    }

    #[test]
    fn virtual_address_not_unspecified() {
        let e = one(&inst(&[("virtual_addresses", "[\"::\"]")]));
        check(&e, "instance[0].virtual_addresses[0]", 5, 22, "unspecified");
    }

    #[test]
    fn virtual_address_not_loopback() {
        let e = one(&inst(&[("virtual_addresses", "[\"127.0.0.2/8\"]")]));
        check(&e, "instance[0].virtual_addresses[0]", 5, 22, "loopback");
    }

    #[test]
    fn virtual_address_not_broadcast() {
        let e = one(&inst(&[("virtual_addresses", "[\"255.255.255.255\"]")]));
        check(&e, "instance[0].virtual_addresses[0]", 5, 22, "broadcast");
    }

    #[test]
    fn at_most_255_virtual_addresses() {
        let list: Vec<String> = (0..256)
            .map(|n| format!("\"10.1.{}.{}\"", n / 200, n % 200 + 1))
            .collect();
        let e = one(&inst(&[(
            "virtual_addresses",
            &format!("[{}]", list.join(", ")),
        )]));
        check(&e, "instance[0].virtual_addresses", 5, 21, "256 addresses");
        let list = &list[..255];
        ok(&inst(&[(
            "virtual_addresses",
            &format!("[{}]", list.join(", ")),
        )]));
    }

    #[test]
    fn ipv6_needs_version_3() {
        let e = one(&inst(&[
            ("version", "2"),
            ("virtual_addresses", "[\"2001:db8::5\"]"),
        ]));
        check(&e, "instance[0].version", 6, 11, "only IPv4");
    }

    // ----- unicast_peers -------------------------------------------------------------------

    #[test]
    fn unicast_peer_must_parse() {
        let e = one(&inst(&[("unicast_peers", "[\"lb2\"]")]));
        check(
            &e,
            "instance[0].unicast_peers[0]",
            6,
            18,
            "not an IPv4 or IPv6 address",
        );
        let e = one(&inst(&[("unicast_peers", "[\"10.0.0.2/24\"]")]));
        check(
            &e,
            "instance[0].unicast_peers[0]",
            6,
            18,
            "a peer is a single address",
        );
    }

    #[test]
    fn unicast_peers_match_the_family() {
        let e = one(&inst(&[("unicast_peers", "[\"fe80::2\"]")]));
        check(
            &e,
            "instance[0].unicast_peers[0]",
            6,
            18,
            "the virtual addresses are IPv4",
        );
    }

    #[test]
    fn ipv6_unicast_peers_are_link_local() {
        let e = one(&inst(&[
            ("virtual_addresses", "[\"fd00::5/64\"]"),
            ("unicast_peers", "[\"fe80::2\", \"fd00::2\"]"),
        ]));
        check(&e, "instance[0].unicast_peers[1]", 6, 29, "not link-local");
    }

    #[test]
    fn unicast_peers_without_duplicates() {
        let e = one(&inst(&[("unicast_peers", "[\"10.0.0.2\", \"10.0.0.2\"]")]));
        check(
            &e,
            "instance[0].unicast_peers[1]",
            6,
            30,
            "already listed as unicast_peers[0]",
        );
    }

    #[test]
    fn unicast_peer_not_multicast() {
        let e = one(&inst(&[("unicast_peers", "[\"224.0.0.18\"]")]));
        check(&e, "instance[0].unicast_peers[0]", 6, 18, "multicast");
    }

    #[test]
    fn unicast_peer_not_unspecified() {
        let e = one(&inst(&[("unicast_peers", "[\"0.0.0.0\"]")]));
        check(&e, "instance[0].unicast_peers[0]", 6, 18, "unspecified");
    }

    // ----- auth_pass -----------------------------------------------------------------------

    #[test]
    fn auth_pass_only_with_version_2() {
        let e = one(&inst(&[("auth_pass", "\"secret\"")]));
        check(
            &e,
            "instance[0].auth_pass",
            6,
            13,
            "VRRPv3 (RFC 5798) has no authentication",
        );
    }

    #[test]
    fn auth_pass_not_empty() {
        let e = one(&inst(&[("version", "2"), ("auth_pass", "\"\"")]));
        check(&e, "instance[0].auth_pass", 7, 13, "must not be empty");
    }

    #[test]
    fn auth_pass_at_most_8_bytes() {
        let e = one(&inst(&[("version", "2"), ("auth_pass", "\"123456789\"")]));
        check(
            &e,
            "instance[0].auth_pass",
            7,
            13,
            "9 bytes long; keepalived would silently cut",
        );
        // Bytes, not characters: 5 two-byte characters are 10 bytes.
        let e = one(&inst(&[("version", "2"), ("auth_pass", "\"ééééé\"")]));
        check(&e, "instance[0].auth_pass", 7, 13, "10 bytes long");
    }

    // ----- checksum_ipv4_pseudo_header -----------------------------------------------------

    #[test]
    fn checksum_setting_not_for_v2() {
        let e = one(&inst(&[
            ("version", "2"),
            ("checksum_ipv4_pseudo_header", "true"),
        ]));
        check(
            &e,
            "instance[0].checksum_ipv4_pseudo_header",
            7,
            31,
            "VRRPv2 (RFC 3768) checksums never",
        );
    }

    #[test]
    fn checksum_setting_not_for_ipv6() {
        let e = one(&inst(&[
            ("virtual_addresses", "[\"2001:db8::5\"]"),
            ("checksum_ipv4_pseudo_header", "false"),
        ]));
        check(
            &e,
            "instance[0].checksum_ipv4_pseudo_header",
            6,
            31,
            "always includes the IPv6 pseudo-header",
        );
    }

    // ----- across instances ----------------------------------------------------------------

    #[test]
    fn interface_vrid_family_is_unique() {
        let text = format!("{}{}", inst(&[]), inst(&[("name", "\"db\"")]));
        let e = one(&text);
        check(
            &e,
            "instance[1].vrid",
            9,
            8,
            "instance[0] (`web`) already runs VRID 51 for IPv4 on `eth0`",
        );
        // Another interface or another family is another election.
        ok(&format!(
            "{}{}",
            inst(&[]),
            inst(&[("name", "\"db\""), ("interface", "\"eth1\"")])
        ));
    }

    #[test]
    fn all_errors_are_collected() {
        let text = format!(
            "[global]\ncontrol_socket = \"x.sock\"\n{}{}",
            inst(&[("vrid", "0"), ("priority", "0"), ("auth_pass", "\"x\"")]),
            inst(&[
                ("name", "\"web\""),
                ("interface", "\"a/b\""),
                ("advert_interval", "\"5ms\"")
            ]),
        );
        let errors = errs(&text);
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "global.control_socket",
                "instance[0].vrid",
                "instance[0].priority",
                "instance[0].auth_pass",
                "instance[1].name",
                "instance[1].interface",
                "instance[1].advert_interval",
            ],
            "{errors:#?}"
        );
        let lines: Vec<Option<usize>> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 6, 8, 9, 11, 12, 15].map(Some), "in file order");
    }

    #[test]
    fn positions_survive_crlf_and_inline_tables() {
        let text = "[global]\r\nrouter_id = \"a\"\r\n[[instance]]\r\nname = \"web\"\r\n\
                    interface = \"eth0\"\r\nvrid = 0\r\nvirtual_addresses = [\"10.0.0.5\"]\r\n";
        check(&one(text), "instance[0].vrid", 6, 8, "0 is out of range");
        let text = "instance = [\n  { name = \"a\", interface = \"eth0\", vrid = 1, \
                    virtual_addresses = [\"10.0.0.5\"] },\n  { name = \"b\", interface = \"eth0\", \
                    vrid = 1, virtual_addresses = [\"10.0.0.6\"] },\n]\n";
        check(&one(text), "instance[1].vrid", 3, 44, "already runs VRID 1");
    }

    // ----- durations -----------------------------------------------------------------------

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("007ms"), Ok(Duration::from_millis(7)));
    }

    #[test]
    fn durations_reject_bad_input() {
        for (input, fragment) in [
            ("", "empty"),
            ("100", "unit is missing"),
            ("1.5s", "fractions"),
            ("1,5s", "fractions"),
            ("-1s", "negative"),
            ("+1s", "does not start with a number"),
            (" 1s", "does not start with a number"),
            ("ms", "does not start with a number"),
            ("1 s", "no space"),
            ("1h", "unknown unit `h`"),
            ("1S", "unknown unit `S`"),
            ("1sec", "unknown unit `sec`"),
            ("1s ", "unknown unit `s `"),
            ("1m30s", "unknown unit `m30s`"),
            ("1e3ms", "unknown unit `e3ms`"),
            ("18446744073709551616ms", "too large"),
            ("307445734561825861m", "too large"),
        ] {
            match parse_duration(input) {
                Ok(d) => panic!("{input:?} parsed as {d:?}"),
                Err(e) => assert!(e.contains(fragment), "{input:?}: {e:?} lacks {fragment:?}"),
            }
        }
    }

    #[test]
    fn thousands_of_errors_are_capped_and_fast() {
        let addrs: Vec<String> = (0..20_000).map(|i| format!("\"bad{i}\"")).collect();
        let text = inst(&[("virtual_addresses", &format!("[{}]", addrs.join(", ")))]);
        let started = std::time::Instant::now();
        let errors = errs(&text);
        assert_eq!(
            errors.len(),
            MAX_LISTED_ERRORS + 1,
            "listed errors plus the summary"
        );
        let last = errors.last().map(|e| e.problem.clone()).unwrap_or_default();
        assert!(last.contains("more error(s) not listed"), "{last}");
        // Positions come from a line index: 20k errors must not rescan the file each time.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn positions_from_the_line_index_count_characters() {
        let sink = Sink::new("ab\nçd = 1\n\nx", Path::new(FILE));
        assert_eq!(sink.line_col(0), Some((1, 1)));
        assert_eq!(sink.line_col(3), Some((2, 1)));
        assert_eq!(
            sink.line_col(6),
            Some((2, 3)),
            "ç is one character, two bytes"
        );
        assert_eq!(sink.line_col(12), Some((4, 1)));
        assert_eq!(sink.line_col(13), Some((4, 2)), "end of text");
        assert_eq!(sink.line_col(99), None);
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_position() {
        let dir = std::env::temp_dir().join(format!("vipd-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("bad.toml");
        std::fs::write(&path, b"[global]\nrouter_id = \"a\xffb\"\n").ok();
        let errors = load(&path).err().unwrap_or_default();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (Some(2), Some(15)));
        assert!(errors[0].problem.contains("UTF-8"));
    }

    #[test]
    fn nesting_beyond_the_parser_limit_points_at_the_deepest_key() {
        let deep = vec!["a"; 20_000].join(".");
        let text = format!("[global]\nrouter_id = \"x\"\n[{deep}]\n");
        let errors = errs(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!((errors[0].line, errors[0].column), (Some(3), Some(1)));
    }
}

//! The configuration file: TOML in, a validated [`Config`] or every problem found out.
//!
//! Parsing happens in three passes:
//! 1. a recoverable TOML parse that reports every syntax error it can find;
//! 2. a walk of the parsed tables that reports every unknown key (with keepalived's names
//!    translated), then serde of each table on its own (`[global]`, each `[[instance]]` and
//!    each entry of its `track` list, each `[[track_script]]`, `[[track_file]]` and
//!    `[[sync_group]]`) into span-carrying raw structs, dropping and retrying a key with a
//!    wrong type;
//! 3. semantic validation: each table, then the references between them (track entries name
//!    trackers, sync groups name instances), checked against the names as written so that a
//!    table with an error of its own does not make every reference to it an error too.
//!
//! Each pass keeps going after a problem, so that `vipd check` lists them all at once.
//!
//! Every [`ConfigError`] names the file, the line and column of the offending value (1-based),
//! the key (`instance[1].vrid`, instances counted from 0), what is wrong and what is allowed.
//! Interfaces are not looked up: a file can be checked on any host.
//!
//! Layout: this file holds the public types and the entry points; `errors` the error type and
//! its collection; `schema` the known keys and pass 2; `keepalived` the hints for keepalived's
//! keywords; `global`, `instance`, `track` (track scripts, track files and an instance's
//! `track` list) and `sync_group` the checks of each table; `notify` the notify commands of
//! instances and sync groups and `notify_timeout`; `checks` the value checks they share
//! (among them the argv of a command, track script or notify).

mod checks;
mod errors;
pub mod fleet;
mod global;
mod instance;
mod keepalived;
mod notify;
mod schema;
mod sync_group;
#[cfg(test)]
mod tests;
mod track;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::de::DeTable;

use crate::protocol::units::{Centisecs, Family, Version};

pub use errors::ConfigError;
pub use global::host_name;

use checks::family_name;
use errors::{Sink, key_at};
use global::validate_global;
use instance::validate_instances;
use schema::{Known, RawFile, read_file};
use sync_group::validate_sync_groups;
use track::{Trackers, validate_track_files, validate_track_scripts};

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
/// How often a track script runs when `interval` is not set.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Check intervals and timeouts are counted in steps of 10 ms, as VRRPv3 counts adverts.
pub const CHECK_STEP: Duration = Duration::from_millis(10);
/// The longest check interval (and timeout), and the longest preempt delay: one hour. Longer
/// is more likely a unit slip ("60m" meant as seconds) than a plan.
pub const MAX_CHECK_INTERVAL: Duration = Duration::from_secs(3600);
pub const MAX_PREEMPT_DELAY: Duration = Duration::from_secs(3600);
/// The longest `garp_refresh`: an hour, like the other periods.
pub const MAX_GARP_REFRESH: Duration = Duration::from_secs(3600);
/// Rise and fall are counts of consecutive results: 1..=1000.
pub const MAX_RISE_FALL: u32 = 1000;
/// A weight moves the priority within 1..=254, a span of 253.
pub const MAX_TRACK_WEIGHT: i32 = 253;
/// How long a notify command may run before it is killed with its process group, when
/// `notify_timeout` is not set.
pub const DEFAULT_NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest `notify_timeout`: one hour, like the check interval.
pub const MAX_NOTIFY_TIMEOUT: Duration = Duration::from_secs(3600);
/// Linux keeps the first 15 bytes of a process name in `/proc/PID/comm` (`TASK_COMM_LEN` 16
/// with the terminating NUL).
pub const MAX_PROCESS_NAME_LEN: usize = 15;

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    pub instances: Vec<InstanceConfig>,
    /// The `[[track_script]]` tables, in file order; names unique among them.
    pub track_scripts: Vec<TrackScript>,
    /// The `[[track_file]]` tables, in file order; names unique among them.
    pub track_files: Vec<TrackFile>,
    /// The `[[sync_group]]` tables, in file order; each instance is in at most one.
    pub sync_groups: Vec<SyncGroup>,
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
    /// The user that track (and notify) commands run as; `None`: the agent's own user, with
    /// its capabilities dropped. Looked up when the agent starts, like `control_group`.
    pub script_user: Option<String>,
    /// A notify command still running this long after it started is killed with its process
    /// group. Default [`DEFAULT_NOTIFY_TIMEOUT`]; a multiple of [`CHECK_STEP`], at least one
    /// step and at most [`MAX_NOTIFY_TIMEOUT`].
    pub notify_timeout: Duration,
    /// Where Prometheus scrapes `GET /metrics`; `None` (the default): no metrics server.
    pub metrics_listen: Option<SocketAddr>,
}

/// A virtual router as the hosts of a LAN share it: a VRID and a family on an interface name,
/// whatever each host calls its instance. How the fleet check and the plan match hosts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Router {
    pub interface: String,
    pub vrid: u8,
    pub family: Family,
}

impl fmt::Display for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "vrid {} {} on {}",
            self.vrid, self.family, self.interface
        )
    }
}

impl InstanceConfig {
    /// The virtual router this instance is one host's part of.
    pub fn router(&self) -> Router {
        Router {
            interface: self.interface.clone(),
            vrid: self.vrid,
            family: self.family,
        }
    }
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
    /// Default 0: how long a backup that would preempt waits, counted from start or from
    /// leaving FAULT with its tracking healthy. At most [`MAX_PREEMPT_DELAY`]; zero whenever
    /// `preempt` is false.
    pub preempt_delay: Duration,
    /// `garp_refresh`: a master re-announces its addresses this often; `None` (the default):
    /// only at takeover (and once more 5 s later).
    pub garp_refresh: Option<Duration>,
    /// `virtual_mac = true`: the name of the macvlan that carries the RFC 9568 virtual MAC
    /// and the virtual addresses (`vmac_interface`, default [`default_vmac_name`]).
    pub virtual_mac: Option<String>,
    /// RFC 9568 Accept_Mode, default true: a master accepts traffic sent to the virtual
    /// addresses. `false` (never for an owner): a master that does not own them drops it,
    /// all but ARP, neighbour discovery and VRRP, through nftables.
    pub accept_mode: bool,
    /// What this instance's priority (or FAULT) depends on, in the configured order; each
    /// object at most once. Script and file names are those of [`Config`]'s trackers.
    pub track: Vec<TrackRef>,
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
    /// The commands run when the instance changes state; default: none.
    pub notify: Notify,
}

/// One `[[track_script]]`: a command run periodically; exit status 0 is a success.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackScript {
    pub name: String,
    /// The argv, never run through a shell. The first element is an absolute path or a bare
    /// name (looked up in a fixed PATH at start); no element holds a NUL byte.
    pub command: Vec<String>,
    /// Default [`DEFAULT_CHECK_INTERVAL`]; a multiple of [`CHECK_STEP`], at least one step and
    /// at most [`MAX_CHECK_INTERVAL`].
    pub interval: Duration,
    /// Default: the interval, and never longer, so a check never runs twice at once. A
    /// multiple of [`CHECK_STEP`], at least one step.
    pub timeout: Duration,
    /// Consecutive successes before the check counts as healthy; 1..=[`MAX_RISE_FALL`].
    pub rise: u32,
    /// Consecutive failures before the check counts as failed; 1..=[`MAX_RISE_FALL`].
    pub fall: u32,
}

/// One `[[track_file]]`: a file holding an integer (missing or empty: 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackFile {
    pub name: String,
    /// Absolute, without NUL bytes; it need not exist.
    pub path: PathBuf,
}

/// One `[[sync_group]]`: instances that change state together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroup {
    pub name: String,
    /// Names of instances of the same file: at least one, each listed once, none in another
    /// group.
    pub instances: Vec<String>,
    /// The commands run when the group changes state; default: none. Left out of the
    /// serialized form when empty.
    #[serde(default, skip_serializing_if = "Notify::is_empty")]
    pub notify: Notify,
}

/// The notify commands of an instance or a sync group, each an argv like
/// [`TrackScript::command`]: never run through a shell; the first element an absolute path or
/// a bare name (looked up in a fixed PATH at start); no element holds a NUL byte. Each is run
/// as `script_user` without capabilities, with the `VIPD_*` environment, and killed with its
/// process group after [`Global::notify_timeout`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    /// `notify`: run on every state change, with keepalived's positional arguments
    /// `INSTANCE|GROUP NAME STATE PRIORITY` appended (STATE one of MASTER BACKUP FAULT STOP).
    pub any: Option<Vec<String>>,
    /// `notify_master`, run as is (nothing appended) on becoming MASTER; likewise below.
    pub master: Option<Vec<String>>,
    /// `notify_backup`.
    pub backup: Option<Vec<String>>,
    /// `notify_fault`.
    pub fault: Option<Vec<String>>,
    /// `notify_stop`: the instance leaves (the agent stops).
    pub stop: Option<Vec<String>>,
}

/// The keys of the [`Notify`] fields, in the order of its fields.
const NOTIFY_KEYS: [&str; 5] = [
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
];

impl Notify {
    /// No command is configured.
    pub fn is_empty(&self) -> bool {
        self.commands().next().is_none()
    }

    /// Every configured argv with its key name (`notify`, `notify_master`, ...), in the order
    /// of the fields, for start-up checks.
    pub fn commands(&self) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
        let fields = [
            &self.any,
            &self.master,
            &self.backup,
            &self.fault,
            &self.stop,
        ];
        NOTIFY_KEYS
            .into_iter()
            .zip(fields)
            .filter_map(|(key, command)| Some((key, command.as_ref()?)))
    }
}

/// One entry of an instance's `track` list. Serialized as written in the file:
/// `{"script": "haproxy", "weight": -60}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    #[serde(flatten)]
    pub target: TrackTarget,
    /// -[`MAX_TRACK_WEIGHT`]..=[`MAX_TRACK_WEIGHT`], default 0. 0: FAULT while the object
    /// fails; below 0: added to the priority while it fails; above 0: added while it is
    /// healthy. For a file: multiplied by the file's integer.
    pub weight: i32,
}

/// What a [`TrackRef`] watches.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackTarget {
    /// The name of a [`TrackScript`].
    Script(String),
    /// The name of a [`TrackFile`].
    File(String),
    /// Another interface, by its Linux name; failing while it has no carrier.
    Interface(String),
    /// A process name compared with `/proc/PID/comm` of each process: 1 to
    /// [`MAX_PROCESS_NAME_LEN`] bytes without '/'; failing while no process has it.
    Process(String),
}

/// A virtual address with the prefix length it is installed with (`10.0.0.5/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VirtualAddress {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

/// The macvlan of an instance with `virtual_mac = true` and no `vmac_interface`:
/// `vipd4.51` (IPv4) or `vipd6.51` (IPv6), at most 9 bytes.
pub fn default_vmac_name(vrid: u8, family: Family) -> String {
    match family {
        Family::V4 => format!("vipd4.{vrid}"),
        Family::V6 => format!("vipd6.{vrid}"),
    }
}

/// RFC 9568 section 7.3: the virtual router MAC address, 00-00-5E-00-01-{VRID} for IPv4 and
/// 00-00-5E-00-02-{VRID} for IPv6.
pub fn virtual_mac_address(vrid: u8, family: Family) -> [u8; 6] {
    let kind = match family {
        Family::V4 => 0x01,
        Family::V6 => 0x02,
    };
    [0x00, 0x00, 0x5e, 0x00, kind, vrid]
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
    /// One line for `vipd check`: `2 instances: web (eth0 vrid 51 v3 ipv4, 1 address), ...`,
    /// then the trackers and sync groups when there are any.
    pub fn summary(&self) -> String {
        let instances: Vec<String> = self.instances.iter().map(instance_summary).collect();
        let mut line = format!(
            "{}: {}",
            count(self.instances.len(), "instance", "instances"),
            instances.join(", ")
        );
        let names = |names: Vec<&str>| names.join(", ");
        let scripts = names(self.track_scripts.iter().map(|t| t.name.as_str()).collect());
        let files = names(self.track_files.iter().map(|t| t.name.as_str()).collect());
        let groups: Vec<String> = (self.sync_groups.iter())
            .map(|g| {
                let notify = match notify_count(&g.notify) {
                    Some(n) => format!("; {n}"),
                    None => String::new(),
                };
                format!("{} ({}{notify})", g.name, g.instances.join(", "))
            })
            .collect();
        for (n, one, many, list) in [
            (
                self.track_scripts.len(),
                "track script",
                "track scripts",
                scripts,
            ),
            (self.track_files.len(), "track file", "track files", files),
            (
                self.sync_groups.len(),
                "sync group",
                "sync groups",
                groups.join(", "),
            ),
        ] {
            if n > 0 {
                line.push_str(&format!("; {}: {list}", count(n, one, many)));
            }
        }
        if let Some(address) = self.global.metrics_listen {
            line.push_str(&format!("; metrics at http://{address}/metrics"));
        }
        line
    }
}

/// `web (eth0 vrid 51 v3 ipv4, 1 address)`, with `, 2 tracked` when it tracks anything,
/// `, 1 notify command` when it has any and `, virtual MAC on vipd4.51` with a virtual MAC.
fn instance_summary(i: &InstanceConfig) -> String {
    let tracked = match i.track.len() {
        0 => String::new(),
        n => format!(", {n} tracked"),
    };
    let notify = match notify_count(&i.notify) {
        Some(n) => format!(", {n}"),
        None => String::new(),
    };
    let vmac = match &i.virtual_mac {
        Some(name) => format!(", virtual MAC on {name}"),
        None => String::new(),
    };
    format!(
        "{} ({} vrid {} v{} {}, {}{tracked}{notify}{vmac})",
        i.name,
        i.interface,
        i.vrid,
        i.version.number(),
        i.family,
        count(i.virtual_addresses.len(), "address", "addresses"),
    )
}

/// `2 notify commands`, or `None` when there is none.
fn notify_count(notify: &Notify) -> Option<String> {
    match notify.commands().count() {
        0 => None,
        n => Some(count(n, "notify command", "notify commands")),
    }
}

/// `1 address`, `2 addresses`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
    let global = validate_global(raw.global, raw.global_broken, sink);
    // References are checked against the names as written, so that a table with an error of
    // its own does not make every reference to it an error too.
    let trackers = Trackers {
        scripts: Known::of(&raw.track_script),
        files: Known::of(&raw.track_file),
    };
    let instance_names = Known::of(&raw.instance);
    let track_scripts = validate_track_scripts(raw.track_script.list, sink);
    let track_files = validate_track_files(raw.track_file.list, sink);
    let instances = validate_instances(raw.instance, &trackers, sink);
    let sync_groups = validate_sync_groups(raw.sync_group.list, &instance_names, sink);
    Some(Config {
        global: global?,
        instances,
        track_scripts,
        track_files,
        sync_groups,
    })
}

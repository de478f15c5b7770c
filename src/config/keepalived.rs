//! keepalived's keywords that people bring along, and what to write in vipd instead.

use super::errors::{closest, edit_distance, squash};
use super::schema::{GLOBAL, Scope, TOP_KEYS};

// What vipd lacks, one phrase per feature: change it here when the feature lands.
const PER_INSTANCE: &str = "vipd tracks per instance: add a `track` list to each member \
                            [[instance]], e.g. `track = [{ script = \"NAME\" }]`";
const NO_MAIL: &str = "vipd sends no mail itself: a `notify` command of the instance or sync \
                       group can, e.g. notify = [\"/usr/local/bin/vip-mail\"]";
const NO_FIFO: &str = "vipd has no notify FIFO: give each instance or sync group a `notify` \
                       command, e.g. notify = [\"/usr/local/bin/vip-changed\"], which gets \
                       keepalived's arguments INSTANCE|GROUP NAME STATE PRIORITY";
const NO_SNMP: &str = "vipd has no SNMP agent: it serves Prometheus metrics instead, with \
                       `metrics_listen = \"127.0.0.1:9650\"` in [global]";
const NO_SOURCE: &str = "vipd has no such setting: the source is the interface's primary \
                         address, or its IPv6 link-local address";

/// keepalived keywords that people bring along, and what to write in vipd instead.
pub(super) const KEEPALIVED_NAMES: &[(Scope, &str, &str)] = &[
    (Scope::Top, "vrrp_instance", "vipd calls it `[[instance]]`"),
    (
        Scope::Top,
        "vrrp_script",
        "vipd calls it `[[track_script]]`, with `name` and `command`, an argv such as \
         [\"/usr/bin/pgrep\", \"-x\", \"haproxy\"]",
    ),
    (
        Scope::Top,
        "vrrp_sync_group",
        "vipd calls it `[[sync_group]]`, with `name` and `instances`, a list such as \
         [\"outside\", \"inside\"]",
    ),
    (
        Scope::Top,
        "vrrp_track_file",
        "vipd calls it `[[track_file]]`, with `name` and `path`",
    ),
    (
        Scope::Top,
        "vrrp_track_process",
        "vipd needs no definition: name the process in the instance, `track = [{ process = \
         \"haproxy\" }]`",
    ),
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
    (Scope::Global, "notify_fifo", NO_FIFO),
    (Scope::Global, "notify_fifo_script", NO_FIFO),
    (Scope::Global, "vrrp_notify_fifo", NO_FIFO),
    (Scope::Global, "vrrp_notify_fifo_script", NO_FIFO),
    (Scope::Global, "enable_snmp_vrrp", NO_SNMP),
    (Scope::Global, "enable_snmp_keepalived", NO_SNMP),
    (Scope::Global, "enable_snmp_rfc", NO_SNMP),
    (Scope::Global, "enable_snmp_rfcv2", NO_SNMP),
    (Scope::Global, "enable_snmp_rfcv3", NO_SNMP),
    (Scope::Global, "enable_traps", NO_SNMP),
    (Scope::Global, "snmp_socket", NO_SNMP),
    (
        Scope::Global,
        "enable_script_security",
        "vipd always runs commands without a shell and without capabilities (as `script_user` \
         when set): there is nothing to enable",
    ),
    (
        Scope::TrackScript,
        "script",
        "vipd calls it `command`, an argv such as [\"/usr/bin/pgrep\", \"-x\", \"haproxy\"], \
         run without a shell",
    ),
    (
        Scope::TrackScript,
        "weight",
        "vipd sets the weight where the check is tracked: `track = [{ script = \"NAME\", \
         weight = N }]` in the instance",
    ),
    (
        Scope::TrackScript,
        "user",
        "vipd runs every command as `script_user` in [global]",
    ),
    (Scope::TrackScript, "init_fail", "vipd has no such setting"),
    (Scope::TrackFile, "file", "vipd calls it `path`"),
    (
        Scope::TrackFile,
        "weight",
        "vipd sets the weight where the file is tracked: `track = [{ file = \"NAME\", \
         weight = N }]` in the instance",
    ),
    (
        Scope::TrackFile,
        "init_file",
        "vipd does not create the file: a missing or empty file counts as 0",
    ),
    (
        Scope::SyncGroup,
        "group",
        "vipd calls it `instances`, a list such as [\"outside\", \"inside\"]",
    ),
    (Scope::SyncGroup, "track_script", PER_INSTANCE),
    (Scope::SyncGroup, "track_interface", PER_INSTANCE),
    (Scope::SyncGroup, "track_file", PER_INSTANCE),
    (Scope::SyncGroup, "track_process", PER_INSTANCE),
    (Scope::SyncGroup, "smtp_alert", NO_MAIL),
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
    (
        Scope::Instance,
        "track_script",
        "vipd writes `track = [{ script = \"NAME\", weight = N }]`, with the check in a \
         [[track_script]] table",
    ),
    (
        Scope::Instance,
        "track_interface",
        "vipd writes `track = [{ interface = \"eth1\" }]` (weight 0: FAULT while it is down)",
    ),
    (
        Scope::Instance,
        "track_file",
        "vipd writes `track = [{ file = \"NAME\", weight = N }]`, with the file in a \
         [[track_file]] table",
    ),
    (
        Scope::Instance,
        "track_process",
        "vipd writes `track = [{ process = \"haproxy\" }]`, the name as in /proc/PID/comm",
    ),
    (
        Scope::Instance,
        "dont_track_primary",
        "vipd has no such option yet: an instance always goes to FAULT when its interface \
         loses carrier or its primary address",
    ),
    (
        Scope::Instance,
        "notify_master_rx_lower_pri",
        "vipd runs no command for it: a master that hears a lower-priority master keeps the \
         role, re-announces at once, logs it and counts it (`master_conflicts` in `vipd \
         status`)",
    ),
    (
        Scope::Instance,
        "notify_deleted",
        "vipd has no DELETED state: an instance that leaves runs `notify_stop`, and `notify` \
         gets STOP",
    ),
    (Scope::Instance, "smtp_alert", NO_MAIL),
    (
        Scope::Instance,
        "use_vmac",
        "vipd writes `virtual_mac = true`, and `vmac_interface = \"NAME\"` for the macvlan's name",
    ),
    (
        Scope::Instance,
        "garp_master_refresh",
        "vipd calls it `garp_refresh`, a duration such as \"60s\"",
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
pub(super) fn hint(scope: Scope, key: &str) -> Option<String> {
    // keepalived's keywords are snake case too, and get the same slips (`advert-int`).
    let squashed = squash(key);
    let keepalived = |scope: Scope| {
        let found = KEEPALIVED_NAMES
            .iter()
            .find(|(s, name, _)| *s == scope && squash(name) == squashed);
        found.map(|(_, _, hint)| format!("keepalived's name; {hint}"))
    };
    if let Some(hint) = keepalived(scope) {
        return Some(hint);
    }
    let close = closest(key, scope.known_keys());
    // A one-letter slip of a key of this table (`instances` at the top level) is likelier
    // than a key of another table.
    if let Some(close) = close.filter(|c| edit_distance(&squashed, &squash(c)) <= 1) {
        return Some(format!("did you mean `{close}`?"));
    }
    if scope != Scope::Top && TOP_KEYS.contains(&key) {
        let header = match key {
            GLOBAL => "[global]".to_owned(),
            list => format!("[[{list}]]"),
        };
        return Some(format!(
            "`{key}` is a top-level table: start it with a {header} line"
        ));
    }
    if let Some(home) = Scope::TABLES
        .into_iter()
        .find(|s| *s != scope && s.known_keys().contains(&key))
    {
        return Some(format!("`{key}` belongs in {}", home.table()));
    }
    // After a table header every key belongs to that table, so a top-level block such as
    // `vrrp_sync_group` written at the end of a file lands in the last table.
    if let Some(hint) = keepalived(Scope::Top) {
        return Some(hint);
    }
    close.map(|close| format!("did you mean `{close}`?"))
}

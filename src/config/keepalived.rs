//! keepalived's keywords that people bring along, and what to write in vipd instead.

use super::errors::{closest, squash};
use super::schema::Scope;

// What vipd lacks, one phrase per feature: change it here when the feature lands.
const NO_TRACKING: &str = "vipd has no health tracking yet";
const NO_NOTIFY: &str = "vipd has no notify scripts yet";
const NO_MAIL: &str = "vipd sends no mail alerts yet";
const NO_SOURCE: &str = "vipd has no such setting: the source is the interface's primary \
                         address, or its IPv6 link-local address";

/// keepalived keywords that people bring along, and what to write in vipd instead.
pub(super) const KEEPALIVED_NAMES: &[(Scope, &str, &str)] = &[
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
pub(super) fn hint(scope: Scope, key: &str) -> Option<String> {
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

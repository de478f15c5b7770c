//! `global_defs`: vipd's `[global]` (`router_id`, `script_user`) and the defaults the
//! instances take (the VRRP version).

use super::super::tree::Node;
use super::values::{account_ok, boolean, integer, micros};
use super::{Doc, GlobalOut, Head, NoteSink, no_block, quote};

/// What the rest of the conversion needs from `global_defs`.
pub(super) struct Globals {
    /// `vrrp_version`, default 2 (keepalived's).
    pub(super) version: u8,
    /// `script_user` as written, when vipd can take it.
    pub(super) script_user: Option<String>,
}

pub(super) fn convert(nodes: &[&Node], doc: &mut Doc) -> Globals {
    let mut globals = Globals {
        version: 2,
        script_user: None,
    };
    let Some(first) = nodes.first() else {
        return globals;
    };
    let mut out = GlobalOut {
        head: Head::new(first),
        router_id: None,
        script_user: None,
    };
    let notes = &mut out.head.notes;
    for node in nodes {
        let Some(block) = super::block(node, notes) else {
            continue;
        };
        for s in block {
            if s.keyword() != "notification_email" && !no_block(s, notes) {
                continue;
            }
            let arg = s.arg(1);
            match s.keyword() {
                "router_id" => match arg {
                    Some(id) if !id.is_empty() => out.router_id = Some(id.to_owned()),
                    _ => notes.not_carried(s.origin, format!("{}: no name given", quote(s))),
                },
                "script_user" => match arg {
                    Some(user) if account_ok(user) => {
                        out.script_user = Some(user.to_owned());
                        globals.script_user = Some(user.to_owned());
                        if let Some(group) = s.arg(2) {
                            notes.not_carried(
                                s.origin,
                                format!(
                                    "script_user's group `{group}`: vipd runs commands with \
                                     the user's own group"
                                ),
                            );
                        }
                    }
                    _ => notes.not_carried(
                        s.origin,
                        format!(
                            "{}: vipd takes a user name of 1 to 32 characters from A-Z a-z \
                             0-9 _ . -",
                            quote(s)
                        ),
                    ),
                },
                "enable_script_security" => notes.note(
                    s.origin,
                    "enable_script_security: vipd always refuses commands that anyone but root \
                     or their owner could change, and runs them without capabilities",
                ),
                "vrrp_version" => match arg.and_then(integer) {
                    Some(v @ (2 | 3)) => globals.version = v as u8,
                    _ => {
                        notes.not_carried(s.origin, format!("{}: the version is 2 or 3", quote(s)))
                    }
                },
                "vrrp_check_unicast_src" => notes.note(
                    s.origin,
                    "vrrp_check_unicast_src: vipd always takes unicast adverts only from the \
                     listed peers",
                ),
                "dynamic_interfaces" => notes.note(
                    s.origin,
                    "dynamic_interfaces: vipd waits in FAULT for an interface that is missing \
                     and follows it when it appears",
                ),
                keyword => {
                    if let Some(reason) = unsupported(keyword, arg) {
                        notes.not_carried(s.origin, format!("{}: {reason}", quote(s)));
                    }
                }
            }
        }
    }
    if nodes.len() > 1 {
        let more: Vec<String> = (nodes.get(1..).unwrap_or_default().iter())
            .map(|n| n.origin.line.to_string())
            .collect();
        out.head.notes.note(
            first.origin,
            format!(
                "global_defs appears {} times (also at lines {}); their settings are merged",
                nodes.len(),
                more.join(", ")
            ),
        );
    }
    if out.router_id.is_some() || out.script_user.is_some() {
        doc.global = Some(out);
    } else {
        doc.top.append(&mut out.head.notes);
    }
    globals
}

/// Why a `global_defs` keyword is left behind; `None` when its value is what vipd does
/// anyway.
fn unsupported(keyword: &str, arg: Option<&str>) -> Option<String> {
    let default_is = |want: u64| -> Option<String> {
        let ok = arg.and_then(micros) == Some(want * 1_000_000);
        (!ok).then(|| {
            "vipd sends 5 gratuitous ARPs or unsolicited neighbour advertisements at a takeover \
             and 5 more 5 s later, without refresh; that is not configurable"
                .to_owned()
        })
    };
    let text = match keyword {
        "vrrp_garp_master_delay" | "vrrp_garp_master_repeat" => return default_is(5),
        "vrrp_garp_master_refresh" | "vrrp_garp_interval" | "vrrp_gna_interval" => {
            return default_is(0);
        }
        "vrrp_garp_master_refresh_repeat" => return default_is(1),
        "vrrp_min_garp" if boolean(arg) == Some(false) => return None,
        "vrrp_garp_lower_prio_delay"
        | "vrrp_garp_lower_prio_repeat"
        | "vrrp_min_garp"
        | "vrrp_garp_extra_if"
        | "vrrp_garp_extra_if_vmac" => {
            "vipd's gratuitous ARP and neighbour advertisement schedule is fixed: 5 at a \
             takeover, 5 more 5 s later, and again at once when a worse master is heard"
        }
        "vrrp_mcast_group4" if arg == Some("224.0.0.18") => return None,
        "vrrp_mcast_group6" if arg.is_some_and(|a| a.eq_ignore_ascii_case("ff02::12")) => {
            return None;
        }
        "vrrp_mcast_group4" | "vrrp_mcast_group6" => {
            "vipd always uses the standard groups 224.0.0.18 and ff02::12"
        }
        "notification_email"
        | "notification_email_from"
        | "smtp_server"
        | "smtp_helo_name"
        | "smtp_connect_timeout"
        | "smtp_alert"
        | "smtp_alert_vrrp"
        | "smtp_alert_checker"
        | "no_email_faults"
        | "email_faults" => "SMTP alerts: vipd sends no mail; a notify command can",
        k if k.starts_with("enable_snmp") || k.starts_with("snmp_") || k == "enable_traps" => {
            "SNMP: vipd has no SNMP agent; `vipd status --json` and the metrics report its state"
        }
        "enable_dbus" | "enable_dbus_create_instance" => "D-Bus: vipd has no D-Bus interface",
        k if k.contains("notify_fifo") => {
            "notify FIFO: vipd has none; `vipd events` streams every state change, and notify \
             commands get keepalived's arguments"
        }
        k if k.starts_with("lvs_") || k.starts_with("checker_") => "LVS: vipd does VRRP only",
        "vrrp_strict" => {
            "strict mode: vipd has none (it never adds firewall rules, and accepts packets to \
             the virtual addresses)"
        }
        "vrrp_iptables" | "vrrp_ipsets" | "nftables" | "nftables_priority" | "nftables_ifindex"
        | "nftables_counters" => "vipd adds no firewall rules",
        "vrrp_skip_check_adv_addr" => {
            "vipd always checks the address list of adverts from the master"
        }
        "vrrp_priority"
        | "vrrp_no_swap"
        | "vrrp_rt_priority"
        | "vrrp_rlimit_rttime"
        | "checker_priority"
        | "checker_no_swap"
        | "bfd_priority"
        | "bfd_no_swap"
        | "max_auto_priority"
        | "min_auto_priority_delay"
        | "vrrp_cpu_affinity" => {
            "process scheduling: set it in vipd's systemd unit (Nice=, CPUSchedulingPolicy=, \
             CPUAffinity=)"
        }
        _ => "a keepalived setting that vipd has no equivalent for",
    };
    Some(text.to_owned())
}

use super::*;

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

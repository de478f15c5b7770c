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
            // After the instance, a valid table of each kind, with the keyword on line 9.
            Scope::TrackScript => (
                format!("{}{SCRIPT_TABLE}{name} = 1\n", inst(&[])),
                format!("track_script[0].{name}"),
                9,
            ),
            Scope::TrackFile => (
                format!("{}{FILE_TABLE}{name} = 1\n", inst(&[])),
                format!("track_file[0].{name}"),
                9,
            ),
            Scope::SyncGroup => (
                format!("{}{GROUP_TABLE}{name} = 1\n", inst(&[])),
                format!("sync_group[0].{name}"),
                9,
            ),
            Scope::Track => panic!("no keepalived name is listed for track entries"),
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
        "notify_master_rx_lower_pri",
        "notify_deleted",
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
        "vrrp_track_file",
        "vrrp_track_process",
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
fn keepalived_tracking_names_point_at_vipd_tracking() {
    for (name, fragment) in [
        (
            "track_script",
            "`track = [{ script = \"NAME\", weight = N }]`",
        ),
        ("track_interface", "`track = [{ interface = \"eth1\" }]`"),
        ("track_file", "[[track_file]]"),
        ("track_process", "`track = [{ process = \"haproxy\" }]`"),
    ] {
        let e = one(&inst(&[(name, "[\"x\"]")]));
        check(&e, &format!("instance[0].{name}"), 6, 1, fragment);
    }
    let e = one(&format!("vrrp_script = 1\n{}", inst(&[])));
    check(&e, "vrrp_script", 1, 1, "`[[track_script]]`");
    let e = one(&format!("vrrp_sync_group = 1\n{}", inst(&[])));
    check(&e, "vrrp_sync_group", 1, 1, "`[[sync_group]]`");
    // A real key now, no longer a keepalived name.
    assert!(
        !KEEPALIVED_NAMES
            .iter()
            .any(|&(_, n, _)| n == "preempt_delay")
    );
    ok(&inst(&[("preempt_delay", "\"1s\"")]));
    let e = one(&format!(
        "{}{SCRIPT_TABLE}script = \"/bin/check\"\n",
        inst(&[])
    ));
    check(
        &e,
        "track_script[0].script",
        9,
        1,
        "vipd calls it `command`",
    );
}

#[test]
fn keepalived_top_level_names_are_recognised_inside_a_table() {
    let e = one(&format!("{}vrrp_sync_group = 1\n", inst(&[])));
    check(
        &e,
        "instance[0].vrrp_sync_group",
        6,
        1,
        "keepalived's name; vipd calls it `[[sync_group]]`",
    );
}

#[test]
fn keepalived_notify_keys_are_vipd_keys_now() {
    for name in [
        "notify",
        "notify_master",
        "notify_backup",
        "notify_fault",
        "notify_stop",
    ] {
        assert!(
            !KEEPALIVED_NAMES.iter().any(|&(_, n, _)| n == name),
            "{name} is still listed as keepalived's"
        );
        assert!(Scope::Instance.known_keys().contains(&name), "{name}");
        assert!(Scope::SyncGroup.known_keys().contains(&name), "{name}");
        ok(&inst(&[(name, "[\"/bin/true\"]")]));
        ok(&format!(
            "{}{GROUP_TABLE}{name} = [\"/bin/true\"]\n",
            inst(&[])
        ));
    }
    assert!(
        !KEEPALIVED_NAMES
            .iter()
            .any(|&(_, _, hint)| hint.contains("yet") && hint.contains("notify"))
    );
}

#[test]
fn keepalived_notify_keywords_vipd_lacks_say_what_to_do() {
    let e = one(&inst(&[("notify_master_rx_lower_pri", "\"/bin/x\"")]));
    check(
        &e,
        "instance[0].notify_master_rx_lower_pri",
        6,
        1,
        "keepalived's name; vipd runs no command for it",
    );
    assert!(e.problem.contains("`master_conflicts`"), "{e}");
    let e = one(&inst(&[("notify_deleted", "true")]));
    check(
        &e,
        "instance[0].notify_deleted",
        6,
        1,
        "no DELETED state: an instance that leaves runs `notify_stop`",
    );
    let e = one(&inst(&[("smtp_alert", "true")]));
    check(
        &e,
        "instance[0].smtp_alert",
        6,
        1,
        "vipd sends no mail itself: a `notify` command",
    );
    let e = one(&format!("{}{GROUP_TABLE}smtp_alert = true\n", inst(&[])));
    check(
        &e,
        "sync_group[0].smtp_alert",
        9,
        1,
        "vipd sends no mail itself",
    );
    let e = one(&format!(
        "[global]\nnotify_fifo = \"/run/fifo\"\n{}",
        inst(&[])
    ));
    check(&e, "global.notify_fifo", 2, 1, "vipd has no notify FIFO");
}

use super::*;

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
    assert_eq!(
        e.allowed,
        "one of `global`, `instance`, `track_script`, `track_file`, `sync_group`"
    );
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
        ("global.smtp_server", 4, 1, "vipd sends no mail itself"),
        ("instance[0].vrid", 8, 8, "300 is out of range"),
        ("instance[0].advert_int", 9, 1, "`advert_interval`"),
        ("instance[0].nopreempt", 11, 1, "`preempt = false`"),
        (
            "instance[1].priority",
            16,
            12,
            "wrong type: string \"high\"",
        ),
        ("instance[1].track_script", 17, 1, "`track = [{ script = "),
        ("instance[1].state", 19, 1, "the priority decides"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (e, (key, line, column, fragment)) in errors.iter().zip(expected) {
        check(e, key, line, column, fragment);
    }
}

#[test]
fn known_keys_come_from_the_raw_structs() {
    assert_eq!(
        Scope::Global.known_keys(),
        [
            "router_id",
            "control_socket",
            "control_group",
            "script_user",
            "notify_timeout",
            "metrics_listen"
        ]
    );
    let instance = Scope::Instance.known_keys();
    assert_eq!(instance.len(), 22, "{instance:?}");
    assert_eq!(instance.first(), Some(&"name"));
    assert_eq!(
        instance.last(),
        Some(&"track"),
        "the list read on its own is known too"
    );
    assert_eq!(
        Scope::Track.known_keys(),
        ["script", "file", "interface", "process", "weight"]
    );
    assert_eq!(
        Scope::TrackScript.known_keys(),
        ["name", "command", "interval", "timeout", "rise", "fall"]
    );
    assert_eq!(Scope::TrackFile.known_keys(), ["name", "path"]);
    let notify = [
        "notify",
        "notify_master",
        "notify_backup",
        "notify_fault",
        "notify_stop",
    ];
    assert!(notify.iter().all(|k| instance.contains(k)), "{instance:?}");
    let group = Scope::SyncGroup.known_keys();
    assert_eq!(group.get(..2), Some(&["name", "instances"][..]));
    assert_eq!(group.get(2..), Some(&notify[..]));
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
fn new_keys_in_the_wrong_table_say_where_they_belong() {
    let e = one(&inst(&[("path", "\"/x\"")]));
    check(
        &e,
        "instance[0].path",
        6,
        1,
        "`path` belongs in a [[track_file]] table",
    );
    let e = one(&inst(&[("weight", "-10")]));
    check(
        &e,
        "instance[0].weight",
        6,
        1,
        "belongs in an entry of an instance's `track` list",
    );
    let e = one(&format!("[global]\ninterval = \"1s\"\n{}", inst(&[])));
    check(
        &e,
        "global.interval",
        2,
        1,
        "belongs in a [[track_script]] table",
    );
    let e = one(&format!(
        "track_script = []\n{}",
        inst(&[("track_script", "1")])
    ));
    assert!(e.problem.contains("keepalived's name"), "{e}");
    let e = one(&inst(&[("instance", "1")]));
    check(
        &e,
        "instance[0].instance",
        6,
        1,
        "start it with a [[instance]] line",
    );
}

#[test]
fn empty_optional_lists_are_fine() {
    let c = ok(&format!(
        "track_script = []\ntrack_file = []\nsync_group = []\n{}",
        inst(&[("track", "[]")])
    ));
    assert!(c.track_scripts.is_empty() && c.track_files.is_empty());
    assert!(c.sync_groups.is_empty() && c.instances[0].track.is_empty());
}

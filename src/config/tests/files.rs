use super::*;

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
fn shipped_example_files_are_valid() {
    for (path, instances) in [
        (concat!(env!("CARGO_MANIFEST_DIR"), "/conf/vipd.toml"), 2),
        (concat!(env!("CARGO_MANIFEST_DIR"), "/conf/ipv6.toml"), 1),
        (
            concat!(env!("CARGO_MANIFEST_DIR"), "/conf/keepalived-interop.toml"),
            1,
        ),
        (
            concat!(env!("CARGO_MANIFEST_DIR"), "/conf/tracking.toml"),
            2,
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
    let tracking = load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/conf/tracking.toml"
    )))
    .expect("valid");
    assert_eq!(tracking.track_scripts.len(), 1);
    assert_eq!(tracking.track_files.len(), 1);
    assert_eq!(tracking.sync_groups[0].instances, ["outside", "inside"]);
}

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

#[test]
fn health_tracking_and_sync_groups_parse_into_the_types() {
    let text = r#"
[global]
router_id = "r1"
script_user = "vipd-script"

[[track_script]]
name = "haproxy"
command = ["/usr/bin/pgrep", "-x", "haproxy"]
interval = "2s"
timeout = "500ms"
rise = 2
fall = 3

[[track_script]]
name = "disk"
command = ["check-disk"]

[[track_file]]
name = "maintenance"
path = "/etc/vipd/maintenance"

[[instance]]
name = "outside"
interface = "eth0"
vrid = 51
virtual_addresses = ["192.0.2.10/24"]
preempt_delay = "30s"
track = [
  { script = "haproxy", weight = -60 },
  { script = "disk", weight = 20 },
  { interface = "eth1" },
  { file = "maintenance", weight = -1 },
  { process = "haproxy", weight = -60 },
]

[[instance]]
name = "inside"
interface = "eth1"
vrid = 52
virtual_addresses = ["10.0.0.1/24"]

[[sync_group]]
name = "edge"
instances = ["outside", "inside"]
"#;
    let c = ok(text);
    assert_eq!(c.global.script_user.as_deref(), Some("vipd-script"));
    let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        c.track_scripts,
        [
            TrackScript {
                name: "haproxy".to_owned(),
                command: strings(&["/usr/bin/pgrep", "-x", "haproxy"]),
                interval: Duration::from_secs(2),
                timeout: Duration::from_millis(500),
                rise: 2,
                fall: 3,
            },
            TrackScript {
                name: "disk".to_owned(),
                command: strings(&["check-disk"]),
                interval: DEFAULT_CHECK_INTERVAL,
                timeout: DEFAULT_CHECK_INTERVAL,
                rise: 1,
                fall: 1,
            },
        ]
    );
    assert_eq!(
        c.track_files,
        [TrackFile {
            name: "maintenance".to_owned(),
            path: PathBuf::from("/etc/vipd/maintenance"),
        }]
    );
    let track = |target, weight| TrackRef { target, weight };
    let outside = &c.instances[0];
    assert_eq!(outside.preempt_delay, Duration::from_secs(30));
    assert_eq!(
        outside.track,
        [
            track(TrackTarget::Script("haproxy".to_owned()), -60),
            track(TrackTarget::Script("disk".to_owned()), 20),
            track(TrackTarget::Interface("eth1".to_owned()), 0),
            track(TrackTarget::File("maintenance".to_owned()), -1),
            track(TrackTarget::Process("haproxy".to_owned()), -60),
        ]
    );
    assert_eq!(c.instances[1].preempt_delay, Duration::ZERO);
    assert!(c.instances[1].track.is_empty());
    assert_eq!(
        c.sync_groups,
        [SyncGroup {
            name: "edge".to_owned(),
            instances: strings(&["outside", "inside"]),
            notify: Notify::default(),
        }]
    );
    assert_eq!(
        c.summary(),
        "2 instances: outside (eth0 vrid 51 v3 ipv4, 1 address, 5 tracked), inside (eth1 vrid \
         52 v3 ipv4, 1 address); 2 track scripts: haproxy, disk; 1 track file: maintenance; \
         1 sync group: edge (outside, inside)"
    );
}

#[test]
fn every_new_error_in_one_run() {
    let text = "[global]\nscript_user = \"-x\"\n\
                [[track_script]]\nname = \"chk\"\ncommand = []\nrise = 0\n\
                [[track_file]]\nname = \"f\"\npath = \"f\"\n\
                [[instance]]\nname = \"web\"\ninterface = \"eth0\"\nvrid = 1\n\
                virtual_addresses = [\"10.0.0.5\"]\npreempt_delay = \"2h\"\n\
                track = [{ script = \"nope\" }, { weight = 1 }]\n\
                [[sync_group]]\nname = \"g\"\ninstances = [\"db\"]\n";
    let errors = errs(text);
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "global.script_user",
            "track_script[0].command",
            "track_script[0].rise",
            "track_file[0].path",
            "instance[0].preempt_delay",
            "instance[0].track[0].script",
            "instance[0].track[1]",
            "sync_group[0].instances[0]",
        ],
        "{errors:#?}"
    );
}

#[test]
fn commented_notify_examples_are_valid_when_uncommented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/vipd.toml");
    let text = std::fs::read_to_string(path).expect("readable");
    // The notify keys, and the sync group they are shown in.
    let group = [
        "[[sync_group]]",
        "name = \"lb\"",
        "instances = [\"web\", \"db\"]",
    ];
    let example =
        |line: &str| (line.starts_with("notify") && line.contains(" = ")) || group.contains(&line);
    let uncommented: Vec<&str> = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if example(rest) => rest,
            _ => line,
        })
        .collect();
    let c = ok(&uncommented.join("\n"));
    assert_eq!(c.global.notify_timeout, DEFAULT_NOTIFY_TIMEOUT);
    let keys: Vec<&str> = c.instances[0].notify.commands().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "notify",
            "notify_master",
            "notify_backup",
            "notify_fault",
            "notify_stop"
        ]
    );
    assert!(c.instances[1].notify.is_empty());
    assert_eq!(c.sync_groups.len(), 1);
    assert!(c.sync_groups[0].notify.master.is_some());
}

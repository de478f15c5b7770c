//! The importer end to end on small inputs in memory: keepalived text in, vipd configuration
//! and notes out. One test per rule of the conversion, and the hostile inputs (each must end
//! with a problem that has its file and line, never a panic).

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::{TrackTarget, VirtualAddress};
use crate::protocol::units::{Centisecs, Version};

const MAIN: &str = "/etc/keepalived/keepalived.conf";

fn options() -> Options {
    Options {
        config_id: Some("lb1".to_owned()),
        ..Options::default()
    }
}

fn run(files: &MemFiles) -> Result<Imported, Failed> {
    import(Path::new(MAIN), files, &options())
}

fn import_text(text: &str) -> Result<Imported, Failed> {
    let mut files = MemFiles::new();
    files.add(MAIN, text);
    run(&files)
}

fn ok(text: &str) -> Imported {
    import_text(text).unwrap_or_else(|f| panic!("{:?}\n{:?}", f.problems, f.notes))
}

/// The one problem of a failed import, as `LINE: text` (line 0 when it has no place).
fn problem(text: &str) -> String {
    let f = import_text(text).expect_err("the import should fail");
    let p = f.problems.first().expect("a problem");
    format!("{}: {}", p.place.as_ref().map_or(0, |p| p.line), p.text)
}

/// An instance block around `body`, with an interface, a VRID and an address unless given.
fn instance(body: &str) -> String {
    let mut text = "vrrp_instance VI_1 {\n".to_owned();
    if !body
        .lines()
        .any(|l| l.trim_start().starts_with("interface "))
    {
        text.push_str("  interface eth0\n");
    }
    if !body.contains("virtual_router_id") {
        text.push_str("  virtual_router_id 51\n");
    }
    if !body.contains("virtual_ipaddress {") {
        text.push_str("  virtual_ipaddress {\n    192.0.2.50/24\n  }\n");
    }
    text.push_str(body);
    text.push_str("\n}\n");
    text
}

fn has(i: &Imported, kind: NoteKind, line: usize, words: &str) -> bool {
    i.notes.iter().any(|n| {
        n.kind == kind && n.place.as_ref().is_some_and(|p| p.line == line) && n.text.contains(words)
    })
}

fn not_carried(i: &Imported, words: &str) -> bool {
    i.notes
        .iter()
        .any(|n| n.kind == NoteKind::NotCarried && n.text.contains(words))
}

fn noted(i: &Imported, words: &str) -> bool {
    i.notes
        .iter()
        .any(|n| n.kind == NoteKind::Note && n.text.contains(words))
}

#[test]
fn smallest() {
    let i = ok(&instance(""));
    let inst = &i.config.instances[0];
    assert_eq!(inst.name, "VI_1");
    assert_eq!(inst.version, Version::V2);
    assert_eq!(inst.priority, 100);
    assert!(i.notes.is_empty(), "{:?}", i.notes);
}

#[test]
fn addresses_take_keepalived_defaults_and_options() {
    let i = ok(&instance(
        "  virtual_ipaddress {\n    192.0.2.50\n    192.0.2.51/24 dev eth0 scope global\n    \
         192.0.2.52/24 label eth0:vip scope link brd 192.0.2.255\n    \
         192.0.2.53/24 dev eth1\n    2001:db8::1\n    192.0.2.50/32\n    224.0.0.1\n    nonsense\n  }",
    ));
    let vips: Vec<String> = (i.config.instances[0].virtual_addresses.iter())
        .map(VirtualAddress::to_string)
        .collect();
    assert_eq!(vips, ["192.0.2.50/32", "192.0.2.51/24", "192.0.2.52/24"]);
    assert!(has(&i, NoteKind::NotCarried, 7, "label eth0:vip"));
    assert!(has(&i, NoteKind::NotCarried, 7, "scope link"));
    assert!(has(&i, NoteKind::NotCarried, 7, "option `brd 192.0.2.255`"));
    assert!(has(
        &i,
        NoteKind::NotCarried,
        8,
        "on eth1, not on the instance's interface"
    ));
    assert!(has(
        &i,
        NoteKind::NotCarried,
        9,
        "the first address is IPv4"
    ));
    assert!(has(&i, NoteKind::NotCarried, 10, "listed twice"));
    assert!(has(&i, NoteKind::NotCarried, 11, "multicast"));
    assert!(has(&i, NoteKind::NotCarried, 12, "nonsense"));
}

#[test]
fn ipv6_is_version_3_and_peers_are_link_local() {
    let i = ok(&instance(
        "  version 2\n  virtual_ipaddress {\n    fe80::1/64\n  }\n  unicast_peer {\n    \
         fe80::2\n    2001:db8::2\n    10.0.0.2\n  }",
    ));
    let inst = &i.config.instances[0];
    assert_eq!(inst.version, Version::V3);
    assert_eq!(
        inst.unicast_peers,
        ["fe80::2".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(noted(&i, "keepalived runs IPv6 instances with VRRPv3"));
    assert!(not_carried(&i, "link-local addresses"));
    assert!(not_carried(&i, "not of the family"));

    // Peers listed, none carried: vipd would use multicast, so the instance is left behind.
    let f = import_text(&instance(
        "  virtual_ipaddress {\n    2001:db8::10/64\n  }\n  unicast_peer {\n    2001:db8::2\n  }",
    ))
    .err()
    .unwrap();
    assert!(
        f.notes
            .iter()
            .any(|n| n.text.contains("would use multicast"))
    );
}

#[test]
fn advert_intervals_round_as_keepalived_does() {
    let one = |body: &str| ok(&instance(body)).config.instances[0].advert_interval;
    assert_eq!(one("  advert_int 3"), Centisecs(300));
    // VRRPv2 counts whole seconds: keepalived rounds 0.5 up to 1.
    let i = ok(&instance("  advert_int 0.5"));
    assert_eq!(i.config.instances[0].advert_interval, Centisecs(100));
    assert!(noted(&i, "advert_int 0.5 s: VRRPv2 counts whole seconds"));
    assert_eq!(one("  version 3\n  advert_int 0.02"), Centisecs(2));
    assert_eq!(one("  version 3\n  advert_int 0.015"), Centisecs(2));
    assert_eq!(one("  version 3\n  advert_int 60"), Centisecs(4095));
    assert_eq!(one("  advert_int 300"), Centisecs(25_500));
    let i = ok(&instance("  advert_int fast"));
    assert_eq!(i.config.instances[0].advert_interval, Centisecs(100));
    assert!(noted(&i, "keepalived keeps 1 s"));
}

#[test]
fn state_master_gives_255_and_clears_preempt_settings() {
    // keepalived 2.2.7: MASTER without a priority is the address owner, and MASTER clears
    // nopreempt and preempt_delay.
    let i = ok(&instance("  state MASTER\n  nopreempt\n  preempt_delay 10"));
    let inst = &i.config.instances[0];
    assert_eq!(inst.priority, 255);
    assert!(inst.preempt);
    assert_eq!(inst.preempt_delay, Duration::ZERO);
    assert!(noted(&i, "without a priority"));
    assert!(not_carried(
        &i,
        "nopreempt: keepalived clears it on an instance with state MASTER"
    ));
    assert!(not_carried(&i, "preempt_delay: keepalived clears it"));

    let i = ok(&instance(
        "  state BACKUP\n  priority 90\n  preempt_delay 4.12",
    ));
    let inst = &i.config.instances[0];
    assert_eq!((inst.priority, inst.preempt), (90, true));
    assert_eq!(inst.preempt_delay, Duration::from_millis(4120));

    let i = ok(&instance("  priority 255\n  nopreempt"));
    assert!(i.config.instances[0].preempt);
    assert!(not_carried(&i, "priority 255"));

    let i = ok(&instance("  nopreempt\n  preempt_delay 5"));
    assert!(!i.config.instances[0].preempt);
    assert!(not_carried(&i, "never preempts"));

    let i = ok(&instance("  priority 0"));
    assert_eq!(i.config.instances[0].priority, 100);
}

#[test]
fn authentication() {
    let pass = |body: &str| ok(&instance(body)).config.instances[0].auth_pass;
    let block = |t: &str, p: &str| {
        format!("  authentication {{\n    auth_type {t}\n    auth_pass {p}\n  }}")
    };
    assert_eq!(pass(&block("PASS", "secret")), Some(*b"secret\0\0"));
    // keepalived uses the first 8 bytes.
    let i = ok(&instance(&block("PASS", "0123456789")));
    assert_eq!(i.config.instances[0].auth_pass, Some(*b"01234567"));
    assert!(noted(&i, "first 8 bytes"));
    let i = ok(&instance(&block("AH", "secret")));
    assert_eq!(i.config.instances[0].auth_pass, None);
    assert!(not_carried(&i, "auth_type AH"));
    let i = ok(&instance(&format!(
        "  version 3\n{}",
        block("PASS", "secret")
    )));
    assert_eq!(i.config.instances[0].auth_pass, None);
    assert!(not_carried(&i, "VRRPv3 has none"));
}

#[test]
fn tracking() {
    let text = format!(
        "vrrp_script a {{\n  script /bin/true\n  weight -20\n}}\n\
         vrrp_script rev {{\n  script /bin/true\n  weight 10 reverse\n}}\n\
         track_file f {{\n  file /run/f\n}}\n\
         vrrp_track_process p {{\n  process nginx\n  weight 5\n}}\n\
         vrrp_track_process args {{\n  process haproxy -f /etc/haproxy.cfg\n}}\n\
         vrrp_track_process long {{\n  process a-very-long-process-name\n}}\n{}",
        instance(
            "  track_script {\n    a\n    a weight 5\n    rev\n    missing\n  }\n  \
             track_file {\n    f\n  }\n  track_process {\n    p\n    args\n    long\n  }\n  \
             track_interface {\n    eth1\n    eth2 weight -300\n    eth3 weight 10 reverse\n    \
             bad/name\n  }"
        )
    );
    let i = ok(&text);
    let track: Vec<(TrackTarget, i32)> = (i.config.instances[0].track.iter())
        .map(|t| (t.target.clone(), t.weight))
        .collect();
    assert_eq!(
        track,
        [
            (TrackTarget::Script("a".into()), -20),
            // track_file's own default weight is 1; vrrp_track_process's is 0.
            (TrackTarget::File("f".into()), 1),
            (TrackTarget::Process("nginx".into()), 5),
            (TrackTarget::Interface("eth1".into()), 0),
        ]
    );
    assert!(noted(&i, "script `a` is tracked twice"));
    assert!(not_carried(&i, "with `reverse`"));
    assert!(not_carried(&i, "track_script `missing`: no vrrp_script"));
    assert!(not_carried(&i, "command-line parameters"));
    assert!(not_carried(&i, "a-very-long-process-name"));
    assert!(not_carried(&i, "weight -300 is outside"));
    assert!(not_carried(&i, "bad/name"));
    // `rev` is tracked by no carried entry, so it is not written.
    let names: Vec<&str> = i
        .config
        .track_scripts
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["a"]);
    assert!(not_carried(
        &i,
        "vrrp_script rev: no carried instance tracks it"
    ));
}

#[test]
fn scripts_run_as_keepalived_runs_them() {
    let text = format!(
        "global_defs {{\n  script_user vrrp\n}}\n\
         vrrp_script unquoted {{\n  script /usr/bin/pgrep -x haproxy\n  user nobody\n}}\n\
         vrrp_script tcp {{\n  script \"</dev/tcp/127.0.0.1/80\"\n  interval 7200\n  timeout 9000\n  init_fail\n}}\n\
         vrrp_script rel {{\n  script \"bin/check\"\n}}\n\
         vrrp_script fast {{\n  script \"/bin/check 'a b'\"\n  interval 2\n  timeout 3\n  rise 5000\n}}\n{}",
        instance(
            "  track_script {\n    unquoted\n    tcp\n    rel\n    fast\n  }\n  \
             notify_master \"/bin/echo x > /tmp/f\"\n  notify_backup /bin/backup.sh vrrp\n  \
             notify_fault /bin/fault.sh root\n  notify_master /bin/second\n  notify_deleted /bin/x"
        )
    );
    let i = ok(&text);
    let scripts = &i.config.track_scripts;
    // Unquoted words after the command are ignored by keepalived 2.2.7.
    assert_eq!(scripts[0].command, ["/usr/bin/pgrep"]);
    assert!(not_carried(
        &i,
        "the words after the command (`-x haproxy`)"
    ));
    assert!(not_carried(
        &i,
        "`user nobody`: vipd runs every command as global.script_user"
    ));
    // A file test starting with `<` goes through /bin/sh, as keepalived runs it.
    assert_eq!(
        scripts[1].command,
        ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/80"]
    );
    assert_eq!(scripts[1].interval, Duration::from_secs(3600));
    assert_eq!(scripts[1].timeout, Duration::from_secs(3600));
    assert!(noted(&i, "interval 7200 s"));
    assert!(not_carried(&i, "init_fail"));
    assert!(not_carried(&i, "`bin/check` is a relative path"));
    assert!(not_carried(
        &i,
        "track_script `rel`: the vrrp_script (line "
    ));
    assert_eq!(scripts[2].command, ["/bin/check", "a b"]);
    assert_eq!(scripts[2].timeout, Duration::from_secs(2));
    assert_eq!(scripts[2].rise, 1000);
    assert!(noted(&i, "timeout 3 s is longer than the interval"));
    let notify = &i.config.instances[0].notify;
    assert_eq!(
        notify.master.as_deref(),
        Some(&["/bin/echo", "x", ">", "/tmp/f"].map(String::from)[..])
    );
    assert!(noted(&i, "`>` reaches the program as an argument"));
    assert!(not_carried(&i, "a second notify_master"));
    assert!(not_carried(&i, "notify_deleted"));
    // The user after a notify command: the global script_user is fine, another is not.
    assert_eq!(
        notify.backup.as_deref(),
        Some(&["/bin/backup.sh".to_owned()][..])
    );
    assert!(!not_carried(&i, "`user vrrp`"));
    assert!(not_carried(&i, "`user root`"));
}

#[test]
fn sync_groups() {
    let text = "vrrp_script s {\n  script /bin/true\n  weight -10\n}\n\
                vrrp_sync_group G {\n  group {\n    A B\n    missing\n  }\n  \
                track_script {\n    s\n  }\n  notify_master /bin/g\n  smtp_alert\n}\n\
                vrrp_sync_group H {\n  group {\n    A\n  }\n  sync_group_tracking_weight\n}\n\
                vrrp_sync_group G {\n}\n\
                vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  \
                virtual_ipaddress {\n    10.0.0.1\n  }\n  track_script {\n    s weight 0\n  }\n}\n\
                vrrp_instance B {\n  interface eth1\n  virtual_router_id 1\n  \
                virtual_ipaddress {\n    10.1.0.1\n  }\n  track_script {\n    s\n  }\n}\n";
    let i = ok(text);
    let g = &i.config.sync_groups;
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].instances, ["A", "B"]);
    assert_eq!(
        g[0].notify.master.as_deref(),
        Some(&["/bin/g".to_owned()][..])
    );
    // A: its own unweighted entry stays 0 even though the group's weight is -10.
    let a = &i.config.instances[0].track;
    assert_eq!((a.len(), a[0].weight), (1, 0));
    // B: its own weighted entry is dropped (keepalived ignores it); the group's is kept.
    let b = &i.config.instances[1].track;
    assert_eq!((b.len(), b[0].weight), (1, -10));
    assert!(not_carried(&i, "member `missing`: no vrrp_instance"));
    assert!(not_carried(&i, "member `A` is already in sync group `G`"));
    assert!(not_carried(&i, "a second sync group named `G`"));
    assert!(not_carried(&i, "keepalived ignores a weighted script"));
    assert!(not_carried(
        &i,
        "`vrrp_sync_group H`: none of its members is carried"
    ));
}

#[test]
fn names_and_duplicates() {
    let text = format!(
        "{}{}{}",
        instance("").replace("VI_1", "\"web vip\""),
        instance("").replace("VI_1", "web:vip"),
        instance("  interface eth1\n").replace("VI_1", "other")
    );
    // The second VRID 51 on eth0 is left behind.
    let i = ok(&text);
    let names: Vec<&str> = i.config.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["web_vip", "other"]);
    assert!(noted(&i, "is named `web_vip`"));
    assert!(not_carried(&i, "already runs VRID 51"));
    let i = ok(&format!(
        "{}{}",
        instance(""),
        instance("  interface eth1\n")
    ));
    assert_eq!(i.config.instances.len(), 1);
    assert!(not_carried(&i, "a second instance named `VI_1`"));
}

#[test]
fn everything_else_is_named_with_its_line() {
    let text = format!(
        "global_defs {{\n  router_id r\n  vrrp_strict\n  vrrp_garp_master_delay 1\n  \
         lvs_flush\n  enable_snmp_vrrp\n  vrrp_mcast_group4 224.0.0.18\n}}\n\
         virtual_server 10.0.0.1 80 {{\n  real_server 10.0.0.2 80 {{\n  }}\n}}\n\
         static_routes {{\n}}\nsomething_new 1\n{}",
        instance(
            "  use_vmac vrrp.51\n  virtual_routes {\n    0.0.0.0/0 via 10.0.0.1\n  }\n  \
             strict_mode off\n  garp_master_refresh 60\n  unknown_word\n  promote_secondaries\n  \
             virtual_ipaddress_excluded {\n    10.9.9.9\n  }"
        )
    );
    let i = ok(&text);
    for (line, words) in [
        (3, "vrrp_strict"),
        (4, "vrrp_garp_master_delay 1"),
        (5, "LVS"),
        (6, "SNMP"),
        (9, "virtual_server"),
        (13, "static_routes"),
        (15, "something_new"),
        (23, "virtual_routes"),
        (28, "unknown_word"),
        (31, "virtual_ipaddress_excluded"),
    ] {
        assert!(
            has(&i, NoteKind::NotCarried, line, words),
            "{line}: {words}: {:#?}",
            i.notes
        );
    }
    assert!(has(&i, NoteKind::Note, 29, "promote_secondaries"));
    // Carried since vipd has them: the virtual MAC (under vipd's own default name) and the
    // refresh.
    assert!(has(&i, NoteKind::Note, 22, "use_vmac"));
    assert!(i.toml.contains("\nvirtual_mac = true\n"), "{}", i.toml);
    assert!(i.toml.contains("\ngarp_refresh = \"60s\"\n"), "{}", i.toml);
    assert_eq!(i.notes.len(), 12, "{:#?}", i.notes);
    // Each is a comment of the file too.
    assert_eq!(i.toml.matches("\n# not carried: ").count(), 10);
}

#[test]
fn virtual_mac_refresh_and_no_accept_are_carried() {
    let i = ok(&instance(
        "  use_vmac vmac51\n  garp_master_refresh 30\n  no_accept",
    ));
    let c = &i.config.instances[0];
    assert_eq!(c.virtual_mac.as_deref(), Some("vmac51"));
    assert_eq!(c.garp_refresh, Some(std::time::Duration::from_secs(30)));
    assert!(!c.accept_mode);
    let owner = ok(&instance("  priority 255\n  no_accept").replace("  priority 100\n", ""));
    assert!(
        owner.config.instances[0].accept_mode,
        "an owner always accepts"
    );
}

#[test]
fn hostile_input_ends_with_a_place() {
    assert_eq!(problem("}\n"), "1: a `}` that closes no block");
    assert_eq!(
        problem("a {\n  b {\n"),
        "2: the `{` opened here is never closed (the file ends first)"
    );
    assert!(problem("{\n").starts_with("1: a `{` that follows no keyword"));
    assert!(problem("x 1\ny \"open\n").starts_with("2: a `\"` is never closed"));
    assert!(problem(&"a {\n".repeat(100)).starts_with("33: blocks nested more than 32"));
    assert!(problem("a\0b\n").starts_with("1: binary data"));
    assert!(problem("$A=$A $A\n$A\n").starts_with("2: "));
    assert!(problem(&"x".repeat(70_000)).starts_with("1: the line is longer than"));
    assert!(problem("").contains("no vrrp_instance could be carried"));
    assert!(problem("vrrp_instance X {\n}\n").contains("no vrrp_instance could be carried"));
}

#[test]
fn include_loops_depth_and_sizes_are_bounded() {
    let mut files = MemFiles::new();
    files
        .add(MAIN, "include a.conf\n")
        .add("/etc/keepalived/a.conf", "\ninclude b.conf\n")
        .add("/etc/keepalived/b.conf", "include ./a.conf\n");
    let f = run(&files).err().unwrap();
    let p = &f.problems[0];
    assert_eq!(
        p.place.as_ref().unwrap().file,
        Path::new("/etc/keepalived/b.conf")
    );
    assert_eq!(p.place.as_ref().unwrap().line, 1);
    assert!(p.text.starts_with("include loop: /etc/keepalived/a.conf includes /etc/keepalived/b.conf includes /etc/keepalived/a.conf"), "{}", p.text);

    // A chain of distinct files deeper than the limit.
    let mut files = MemFiles::new();
    files.add(MAIN, "include d0.conf\n");
    for n in 0..40 {
        files.add(
            format!("/etc/keepalived/d{n}.conf"),
            format!("include d{}.conf\n", n + 1),
        );
    }
    let f = run(&files).err().unwrap();
    assert!(f.problems[0].text.contains("nested more than 16 deep"));
    assert_eq!(
        f.problems[0].place.as_ref().unwrap().file,
        Path::new("/etc/keepalived/d15.conf")
    );

    // Too big: the first file, an included one, and all together.
    let options = Options {
        config_id: None,
        limits: Limits {
            file_bytes: 100,
            total_bytes: 150,
            ..Limits::default()
        },
        output_name: None,
    };
    let mut files = MemFiles::new();
    files.add(MAIN, "#".repeat(101));
    let f = import(Path::new(MAIN), &files, &options).err().unwrap();
    assert!(f.problems[0].place.is_none());
    assert!(f.problems[0].text.contains("longer than 100 bytes"));
    let mut files = MemFiles::new();
    files
        .add(MAIN, "include a.conf\ninclude b.conf\n")
        .add("/etc/keepalived/a.conf", "#".repeat(90))
        .add("/etc/keepalived/b.conf", "#".repeat(90));
    let f = import(Path::new(MAIN), &files, &options).err().unwrap();
    assert_eq!(f.problems[0].place.as_ref().unwrap().line, 2);
    assert!(
        f.problems[0].text.contains("longer than 150 bytes"),
        "{}",
        f.problems[0].text
    );

    // Work and text made by substitution, and the number of files read.
    let small = |limits: Limits| Options {
        config_id: None,
        limits,
        output_name: None,
    };
    let mut files = MemFiles::new();
    files.add(
        MAIN,
        format!("$A={}\n{}", "x".repeat(100), "$A $A $A\n".repeat(100)),
    );
    let limits = Limits {
        substitution_bytes: 10_000,
        ..Limits::default()
    };
    let f = import(Path::new(MAIN), &files, &small(limits))
        .err()
        .unwrap();
    assert!(
        f.problems[0]
            .text
            .contains("rewrites more than 10000 bytes")
    );
    // About 600 bytes rewritten per line: the 17th use line (line 18) passes 10000.
    assert_eq!(f.problems[0].place.as_ref().unwrap().line, 18);
    let limits = Limits {
        text_bytes: 10_000,
        ..Limits::default()
    };
    let f = import(Path::new(MAIN), &files, &small(limits))
        .err()
        .unwrap();
    assert!(f.problems[0].text.contains("more than 10000 bytes of text"));
    let mut files = MemFiles::new();
    files
        .add(MAIN, "include a.conf\n".repeat(10))
        .add("/etc/keepalived/a.conf", "include b.conf\n".repeat(10))
        .add("/etc/keepalived/b.conf", "include c.conf\n".repeat(10))
        .add("/etc/keepalived/c.conf", "x 1\n");
    let f = run(&files).err().unwrap();
    assert!(
        f.problems[0].text.contains("more than 1024 files"),
        "{:?}",
        f.problems
    );

    // A multi-line definition that uses itself grows until the limit.
    let f = import_text("$A= \\\n$A \\\n$A\n$A\n").err().unwrap();
    assert_eq!(f.problems[0].place.as_ref().unwrap().line, 4);
}

#[test]
fn includes_keepalived_would_skip() {
    let mut files = MemFiles::new();
    files
        .add(
            MAIN,
            format!("include \"q.conf\"\ninclude none/*.conf\n{}", instance("")),
        )
        .add("/etc/keepalived/q.conf", "bad {\n");
    let i = run(&files).unwrap();
    // keepalived 2.2.7 keeps the quotes of an include's name, so q.conf is never read.
    assert!(has(
        &i,
        NoteKind::Note,
        1,
        "include \"q.conf\": no file matches"
    ));
    assert!(has(
        &i,
        NoteKind::Note,
        2,
        "include none/*.conf: no file matches"
    ));
    assert_eq!(i.sources.len(), 1);
}

#[test]
fn the_output_is_commented_valid_toml() {
    let text = format!(
        "global_defs {{\n  router_id \"a \\\"quoted\\\" id\"\n}}\n{}",
        instance("  notify \"/bin/n 'tab\\there' \\\"q\\\"\"")
    );
    let i = ok(&text);
    assert_eq!(i.config.global.router_id, "a \\");
    let n = i.config.instances[0].notify.any.clone().unwrap();
    assert_eq!(n, ["/bin/n", "tab\there", "q"]);
    assert!(
        i.toml
            .contains("# from /etc/keepalived/keepalived.conf:4: vrrp_instance VI_1\n")
    );
}

#[test]
fn config_id_none_applies_negations_only() {
    let text = instance("  @lb1 priority 150\n  @^lb1 priority 50");
    let options = Options::default();
    let mut files = MemFiles::new();
    files.add(MAIN, text.as_str());
    let i = import(Path::new(MAIN), &files, &options).unwrap();
    assert_eq!(i.config.instances[0].priority, 50);
    assert!(i.toml.contains("No config id"));
}

//! `vipd import-keepalived` on keepalived configurations written the way deployments write
//! them (tests/data/keepalived/*/keepalived.conf): each import must load with vipd's own
//! loader and carry every value, and each thing left behind must be reported with its line.
//! Then the command line itself: output file, exit codes, messages.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vipd::config::{
    self, Config, InstanceConfig, Notify, SyncGroup, TrackFile, TrackRef, TrackScript, TrackTarget,
    VirtualAddress,
};
use vipd::import::{self, Imported, NoteKind, Options, RealFiles};
use vipd::protocol::units::{Centisecs, Family, Version};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/keepalived")
        .join(case)
        .join("keepalived.conf")
}

/// Imports a fixture for config id `id`, and checks the result as an operator would: the
/// TOML loads with vipd's loader, from a file too, into the same configuration.
fn import_case(case: &str, id: &str) -> Imported {
    let options = Options {
        config_id: Some(id.to_owned()),
        ..Options::default()
    };
    let imported = import::import(&fixture(case), &RealFiles, &options).unwrap_or_else(|f| {
        panic!("{case}: {:?}\nnotes: {:?}", f.problems, f.notes);
    });
    let parsed = config::parse(&imported.toml, Path::new("imported.toml"))
        .unwrap_or_else(|e| panic!("{case}: {e:?}\n{}", imported.toml));
    assert_eq!(parsed, imported.config, "{case}");
    let dir = std::env::temp_dir().join(format!("vipd-import-{}-{case}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("vipd.toml");
    std::fs::write(&file, &imported.toml).unwrap();
    let loaded = config::load(&file).unwrap_or_else(|e| panic!("{case}: {e:?}"));
    assert_eq!(loaded, imported.config, "{case}");
    std::fs::remove_dir_all(&dir).unwrap();
    imported
}

/// The notes of one kind as `(line, text)`.
fn notes(i: &Imported, kind: NoteKind) -> Vec<(usize, String)> {
    (i.notes.iter())
        .filter(|n| n.kind == kind)
        .map(|n| (n.place.as_ref().map_or(0, |p| p.line), n.text.clone()))
        .collect()
}

/// Asserts that the notes of `kind` are exactly these lines, each with its text containing
/// the given words; and that each is a `# kind:` comment in the TOML.
fn assert_notes(i: &Imported, kind: NoteKind, expected: &[(usize, &str)]) {
    let got = notes(i, kind);
    assert_eq!(
        got.len(),
        expected.len(),
        "{kind:?}: got {got:#?}, expected {expected:#?}"
    );
    for ((line, text), (want_line, want)) in got.iter().zip(expected) {
        assert_eq!(line, want_line, "{text}");
        assert!(text.contains(want), "line {line}: `{text}` lacks `{want}`");
    }
    let prefix = match kind {
        NoteKind::NotCarried => "# not carried: ",
        NoteKind::Note => "# note: ",
    };
    let comments = i.toml.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(comments, expected.len(), "{}", i.toml);
}

fn vip(s: &str) -> VirtualAddress {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn argv(words: &[&str]) -> Option<Vec<String>> {
    Some(words.iter().map(|w| (*w).to_owned()).collect())
}

fn track(target: TrackTarget, weight: i32) -> TrackRef {
    TrackRef { target, weight }
}

/// An instance with keepalived's defaults as the import writes them: VRRPv2, 1 s, priority
/// 100, preemptive, no delay, multicast, nothing tracked or notified.
fn instance(name: &str, interface: &str, vrid: u8, addresses: &[&str]) -> InstanceConfig {
    let virtual_addresses: Vec<VirtualAddress> = addresses.iter().map(|a| vip(a)).collect();
    let family = virtual_addresses[0].family();
    InstanceConfig {
        name: name.to_owned(),
        interface: interface.to_owned(),
        vrid,
        priority: 100,
        version: Version::V2,
        family,
        advert_interval: Centisecs::from_secs(1),
        preempt: true,
        preempt_delay: Duration::ZERO,
        track: Vec::new(),
        virtual_addresses,
        unicast_peers: Vec::new(),
        auth_pass: None,
        checksum_ipv4_pseudo_header: false,
        notify: Notify::default(),
        garp_refresh: None,
        virtual_mac: None,
        accept_mode: true,
    }
}

fn pass(p: &str) -> Option<[u8; 8]> {
    let mut out = [0u8; 8];
    out[..p.len()].copy_from_slice(p.as_bytes());
    Some(out)
}

#[test]
fn haproxy_pair_with_a_check_and_notify_scripts() {
    let i = import_case("haproxy-pair", "lb1");
    let c: &Config = &i.config;
    assert_eq!(c.global.router_id, "lb1");
    assert_eq!(c.global.script_user.as_deref(), Some("keepalived_script"));
    assert_eq!(
        c.track_scripts,
        [TrackScript {
            name: "chk_haproxy".into(),
            command: vec!["/usr/bin/pgrep".into(), "-x".into(), "haproxy".into()],
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            rise: 3,
            fall: 2,
        }]
    );
    let mut want = instance("VI_WEB", "eth0", 51, &["192.0.2.50/24"]);
    want.priority = 150;
    want.track = vec![
        track(TrackTarget::Script("chk_haproxy".into()), -60),
        track(TrackTarget::Process("haproxy".into()), -60),
    ];
    want.notify = Notify {
        any: argv(&["/usr/local/bin/vip-changed"]),
        master: argv(&["/etc/keepalived/scripts/notify.sh", "MASTER"]),
        backup: argv(&["/etc/keepalived/scripts/notify.sh", "BACKUP"]),
        fault: argv(&["/etc/keepalived/scripts/notify.sh", "FAULT"]),
        stop: argv(&["/etc/keepalived/scripts/stop.sh"]),
    };
    assert_eq!(c.instances, [want]);
    assert!(c.track_files.is_empty() && c.sync_groups.is_empty());
    assert_notes(
        &i,
        NoteKind::NotCarried,
        &[
            (4, "notification_email"),
            (7, "notification_email_from"),
            (8, "smtp_server"),
            (9, "smtp_connect_timeout"),
            (49, "smtp_alert"),
        ],
    );
    assert_notes(
        &i,
        NoteKind::Note,
        &[(12, "enable_script_security"), (30, "state MASTER")],
    );
    // Each section names where it came from.
    assert!(
        i.toml
            .contains("keepalived.conf:15: vrrp_script chk_haproxy\n")
    );
    assert!(
        i.toml
            .contains("keepalived.conf:29: vrrp_instance VI_WEB\n")
    );
}

#[test]
fn unicast_with_authentication() {
    let i = import_case("unicast-auth", "db1");
    let mut want = instance("VI_DB", "ens3", 60, &["10.10.0.100/24"]);
    want.preempt = false;
    want.unicast_peers = vec![ip("10.10.0.12"), ip("10.10.0.13")];
    // Quoted, so `!` and `#` do not start a comment.
    want.auth_pass = pass("pa!ss#1");
    want.notify.any = argv(&["/usr/local/sbin/keepalived-notify.sh", "--cluster", "db"]);
    assert_eq!(i.config.instances, [want]);
    assert_notes(
        &i,
        NoteKind::NotCarried,
        &[(10, "unicast_src_ip 10.10.0.11")],
    );
    assert_notes(&i, NoteKind::Note, &[]);
}

#[test]
fn ipv4_and_ipv6() {
    let i = import_case("dual-stack", "gw1");
    assert_eq!(i.config.global.router_id, "gw1");
    // vrrp_version 3 in global_defs; keepalived's 0.5 s.
    let mut gw4 = instance("GW4", "eth0", 10, &["198.51.100.1/24", "198.51.100.2/32"]);
    gw4.priority = 200;
    gw4.version = Version::V3;
    gw4.advert_interval = Centisecs(50);
    gw4.preempt_delay = Duration::from_millis(2500);
    gw4.checksum_ipv4_pseudo_header = true;
    let mut gw6 = instance(
        "GW6",
        "eth0",
        10,
        &["fe80::1/64", "2001:db8:100::1/64", "2001:db8:100::2/128"],
    );
    gw6.priority = 200;
    gw6.version = Version::V3;
    gw6.family = Family::V6;
    gw6.advert_interval = Centisecs(50);
    gw6.checksum_ipv4_pseudo_header = true;
    assert_eq!(i.config.instances, [gw4, gw6]);
    assert_notes(
        &i,
        NoteKind::NotCarried,
        &[(19, "virtual_ipaddress_excluded `198.51.100.200/24`")],
    );
    assert_notes(&i, NoteKind::Note, &[]);
}

#[test]
fn router_with_a_sync_group() {
    let i = import_case("router-sync", "r1");
    let c = &i.config;
    assert_eq!(
        c.track_files,
        [TrackFile {
            name: "maintenance".into(),
            path: "/etc/keepalived/maintenance".into(),
        }]
    );
    // The group's weighted track_script is dropped as keepalived drops it, so chk_bgp is not
    // written at all.
    assert!(c.track_scripts.is_empty());
    let eth2 = track(TrackTarget::Interface("eth2".into()), -20);
    let mut outside = instance("OUTSIDE", "eth0", 1, &["203.0.113.1/29"]);
    outside.priority = 200;
    outside.track = vec![
        track(TrackTarget::File("maintenance".into()), 0),
        eth2.clone(),
    ];
    let mut inside = instance("INSIDE", "eth1", 2, &["10.1.0.1/24"]);
    inside.priority = 200;
    // Weight -10 on a sync-group member: keepalived runs it with weight 0.
    inside.track = vec![track(TrackTarget::Interface("eth0".into()), 0), eth2];
    assert_eq!(c.instances, [outside, inside]);
    assert_eq!(
        c.sync_groups,
        [SyncGroup {
            name: "EDGE".into(),
            instances: vec!["OUTSIDE".into(), "INSIDE".into()],
            notify: Notify {
                any: argv(&["/usr/local/sbin/group-changed"]),
                master: argv(&["/usr/local/sbin/router-notify", "master"]),
                backup: argv(&["/usr/local/sbin/router-notify", "backup"]),
                fault: argv(&["/usr/local/sbin/router-notify", "fault"]),
                stop: None,
            },
        }]
    );
    assert_notes(
        &i,
        NoteKind::NotCarried,
        &[
            (22, "vrrp_script chk_bgp: no carried instance"),
            (41, "track_script `chk_bgp`"),
        ],
    );
    assert_notes(
        &i,
        NoteKind::Note,
        &[
            (29, "state MASTER"),
            (47, "state MASTER"),
            (56, "weight -10 becomes 0"),
        ],
    );
}

#[test]
fn includes_with_globs() {
    let i = import_case("includes", "lb-a");
    let c = &i.config;
    assert_eq!(c.global.router_id, "lb-a");
    // Files in glob order: conf.d/10-web.conf (which includes ../checks/*.conf), then
    // conf.d/20-api.conf, then the {extra,missing}.inc alternatives; not 30-old.conf.disabled.
    let names: Vec<String> = (i.sources.iter())
        .map(|p| {
            let dir = p.parent().unwrap().file_name().unwrap().to_string_lossy();
            format!("{dir}/{}", p.file_name().unwrap().to_string_lossy())
        })
        .collect();
    assert_eq!(
        names,
        [
            "includes/keepalived.conf",
            "conf.d/10-web.conf",
            "checks/api.conf",
            "checks/web.conf",
            "conf.d/20-api.conf",
            "conf.d/extra.inc",
        ]
    );
    assert_eq!(
        c.track_scripts,
        [
            TrackScript {
                name: "chk_api".into(),
                command: vec!["/usr/local/bin/check-api".into()],
                interval: Duration::from_secs(3),
                timeout: Duration::from_secs(3),
                rise: 1,
                fall: 1,
            },
            TrackScript {
                name: "chk_web".into(),
                command: [
                    "/usr/bin/curl",
                    "-fsS",
                    "-o",
                    "/dev/null",
                    "--max-time",
                    "1",
                    "http://127.0.0.1:8080/healthz",
                ]
                .map(String::from)
                .to_vec(),
                interval: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
                rise: 1,
                fall: 3,
            },
        ]
    );
    let mut web = instance("web", "eth0", 51, &["192.0.2.50/24"]);
    web.priority = 150;
    web.track = vec![track(TrackTarget::Script("chk_web".into()), 0)];
    let mut api = instance("api", "eth0", 52, &["192.0.2.60/24"]);
    api.track = vec![track(TrackTarget::Script("chk_api".into()), -50)];
    let extra = instance("extra", "eth1", 53, &["198.51.100.70/24"]);
    assert_eq!(c.instances, [web, api, extra]);
    assert_notes(&i, NoteKind::NotCarried, &[]);
    assert_notes(&i, NoteKind::Note, &[]);
    // Sections name the included file they came from.
    assert!(
        i.toml.contains("checks/web.conf:1: vrrp_script chk_web\n"),
        "{}",
        i.toml
    );
    assert!(i.toml.contains("conf.d/extra.inc:1: vrrp_instance extra\n"));
}

#[test]
fn host_conditionals() {
    for (id, router, priority, peer) in [
        ("lb1", "lb1.example.net", 150, "10.0.0.2"),
        ("lb2", "lb2.example.net", 100, "10.0.0.1"),
    ] {
        let i = import_case("conditionals", id);
        assert_eq!(i.config.global.router_id, router);
        let mut want = instance("VIP", "eth0", 42, &["10.0.0.10/24"]);
        want.priority = priority;
        want.unicast_peers = vec![ip(peer)];
        assert_eq!(i.config.instances, [want], "{id}");
        let own = if id == "lb1" { "10.0.0.1" } else { "10.0.0.2" };
        let src = format!("unicast_src_ip {own}");
        let line = if id == "lb1" { 12 } else { 13 };
        assert_notes(&i, NoteKind::NotCarried, &[(line, &src)]);
    }
    // Another host: no router_id (vipd uses the host name), no priority (keepalived's 100),
    // both peers.
    let i = import_case("conditionals", "lb3");
    let mut want = instance("VIP", "eth0", 42, &["10.0.0.10/24"]);
    want.unicast_peers = vec![ip("10.0.0.1"), ip("10.0.0.2")];
    assert_eq!(i.config.instances, [want]);
    assert!(i.config.global.router_id != "lb1.example.net");
}

#[test]
fn definitions_and_a_template() {
    for (id, priority) in [("lb1", 150), ("lb2", 100)] {
        let i = import_case("definitions", id);
        let mut instances = Vec::new();
        for n in [10u8, 20] {
            let mut want = instance(
                &format!("vlan{n}"),
                &format!("bond0.{n}"),
                n,
                &[&format!("10.{n}.0.1/24")],
            );
            want.priority = priority;
            want.notify.master = argv(&["/usr/local/bin/check-vlan", &n.to_string(), "master"]);
            instances.push(want);
        }
        assert_eq!(i.config.instances, instances, "{id}");
        assert_notes(&i, NoteKind::NotCarried, &[]);
        // The lines stamped out come from the line that uses the template.
        assert!(
            i.toml
                .contains("keepalived.conf:20: vrrp_instance vlan10\n")
        );
        assert!(
            i.toml
                .contains("keepalived.conf:22: vrrp_instance vlan20\n")
        );
    }
}

// -----------------------------------------------------------------------------------------
// The command line.

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn vipd(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vipd"))
        .args(args)
        .output()
        .expect("run vipd");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vipd-import-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_prints_the_file_and_lists_what_is_left_behind() {
    let path = fixture("haproxy-pair");
    let run = vipd(&[
        "import-keepalived",
        path.to_str().unwrap(),
        "--config-id",
        "lb1",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("# vipd configuration imported from ")
    );
    assert!(config::parse(&run.stdout, Path::new("stdout.toml")).is_ok());
    let conf = path.display().to_string();
    assert!(
        run.stderr
            .contains(&format!("{conf}:49: not carried: `smtp_alert`")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("{conf}:30: note: `state MASTER`"))
    );
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.contains("imported 1 instance (VI_WEB), 1 track script (chk_haproxy); 5 not carried"),
        "{last}"
    );
}

#[test]
fn cli_writes_the_output_file_that_vipd_check_accepts() {
    let dir = scratch("out");
    let out = dir.join("vipd.toml");
    let run = vipd(&[
        "import-keepalived",
        fixture("router-sync").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let check = vipd(&["check", "-c", out.to_str().unwrap()]);
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    assert!(
        check.stdout.contains("valid: 2 instances"),
        "{}",
        check.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_exit_1_when_the_input_cannot_be_read_or_parsed() {
    let dir = scratch("bad");
    let missing = dir.join("missing.conf");
    let run = vipd(&["import-keepalived", missing.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let unbalanced = dir.join("unbalanced.conf");
    std::fs::write(
        &unbalanced,
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n",
    )
    .unwrap();
    let run = vipd(&["import-keepalived", unbalanced.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    let want = format!(
        "{}:1: the `{{` opened here is never closed",
        unbalanced.display()
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);

    let lvs_only = dir.join("lvs.conf");
    std::fs::write(
        &lvs_only,
        "virtual_server 10.0.0.1 80 {\n  delay_loop 6\n}\n",
    )
    .unwrap();
    let run = vipd(&["import-keepalived", lvs_only.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains(":1: not carried: `virtual_server 10.0.0.1 80`")
    );
    assert!(run.stderr.contains("no vrrp_instance could be carried"));

    // The keepalived file itself is never overwritten.
    let own = dir.join("own.conf");
    std::fs::copy(fixture("unicast-auth"), &own).unwrap();
    let before = std::fs::read(&own).unwrap();
    let run = vipd(&[
        "import-keepalived",
        own.to_str().unwrap(),
        "-o",
        own.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("is one of the keepalived files read"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&own).unwrap(), before);

    let binary = dir.join("binary.conf");
    std::fs::write(&binary, b"global_defs {\n\x7fELF\x00\x01\x02\n").unwrap();
    let run = vipd(&["import-keepalived", binary.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains(&format!("{}:2: binary data", binary.display())),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

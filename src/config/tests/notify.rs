use super::*;

const KEYS: [&str; 5] = [
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
];

/// Where a notify key goes: the base instance (the key on line 6), or a sync group after it
/// (line 9); the value starts at column `key.len() + 4` either way.
#[derive(Clone, Copy, Debug)]
enum In {
    Instance,
    Group,
}

impl In {
    const BOTH: [In; 2] = [In::Instance, In::Group];

    fn text(self, key: &str, value: &str) -> String {
        match self {
            In::Instance => inst(&[(key, value)]),
            In::Group => format!("{}{GROUP_TABLE}{key} = {value}\n", inst(&[])),
        }
    }

    /// The key path of `key`, and its line.
    fn key(self, key: &str) -> (String, usize) {
        match self {
            In::Instance => (format!("instance[0].{key}"), 6),
            In::Group => (format!("sync_group[0].{key}"), 9),
        }
    }

    fn notify(self, c: &Config) -> &Notify {
        match self {
            In::Instance => &c.instances[0].notify,
            In::Group => &c.sync_groups[0].notify,
        }
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

// ----- values and defaults ---------------------------------------------------------------------

#[test]
fn notify_defaults_to_nothing() {
    let c = ok(&format!("{}{GROUP_TABLE}", inst(&[])));
    assert_eq!(c.instances[0].notify, Notify::default());
    assert_eq!(c.sync_groups[0].notify, Notify::default());
    assert!(c.instances[0].notify.is_empty());
    assert_eq!(c.instances[0].notify.commands().count(), 0);
    assert_eq!(c.global.notify_timeout, DEFAULT_NOTIFY_TIMEOUT);
    assert_eq!(DEFAULT_NOTIFY_TIMEOUT, Duration::from_secs(60));
}

#[test]
fn each_notify_key_fills_its_field() {
    for place in In::BOTH {
        for (n, key) in KEYS.into_iter().enumerate() {
            let c = ok(&place.text(key, "[\"/usr/local/bin/changed\", \"--site\", \"a\"]"));
            let notify = place.notify(&c);
            let expected = Some(argv(&["/usr/local/bin/changed", "--site", "a"]));
            let fields = [
                &notify.any,
                &notify.master,
                &notify.backup,
                &notify.fault,
                &notify.stop,
            ];
            for (m, field) in fields.into_iter().enumerate() {
                let want = if m == n { &expected } else { &None };
                assert_eq!(field, want, "{place:?} {key}: field {m}");
            }
            assert!(!notify.is_empty());
            let commands: Vec<_> = notify.commands().collect();
            assert_eq!(commands, [(key, expected.as_ref().unwrap())], "{place:?}");
        }
    }
}

#[test]
fn commands_lists_every_configured_argv_with_its_key_in_field_order() {
    let notify = Notify {
        any: Some(argv(&["a"])),
        master: None,
        backup: Some(argv(&["/b", "x"])),
        fault: None,
        stop: Some(argv(&["/s"])),
    };
    let commands: Vec<(&str, Vec<String>)> =
        notify.commands().map(|(k, c)| (k, c.clone())).collect();
    assert_eq!(
        commands,
        [
            ("notify", argv(&["a"])),
            ("notify_backup", argv(&["/b", "x"])),
            ("notify_stop", argv(&["/s"])),
        ]
    );
}

#[test]
fn notify_takes_the_same_argv_as_a_track_script() {
    for place in In::BOTH {
        // A bare name (looked up in the fixed PATH) and a path with a space are commands.
        let c = ok(&place.text("notify", "[\"logger\", \"-t\", \"vipd\"]"));
        assert_eq!(place.notify(&c).any, Some(argv(&["logger", "-t", "vipd"])));
        ok(&place.text("notify_master", "[\"/opt/my scripts/up\"]"));
    }
}

#[test]
fn notify_timeout_limits_are_accepted() {
    for (text, d) in [
        ("10ms", Duration::from_millis(10)),
        ("1500ms", Duration::from_millis(1500)),
        ("30s", Duration::from_secs(30)),
        ("60m", Duration::from_secs(3600)),
    ] {
        let c = ok(&format!(
            "[global]\nnotify_timeout = \"{text}\"\n{}",
            inst(&[])
        ));
        assert_eq!(c.global.notify_timeout, d, "{text}");
    }
}

// ----- errors ----------------------------------------------------------------------------------

#[test]
fn notify_of_a_wrong_type() {
    for place in In::BOTH {
        for key in KEYS {
            for (value, fragment) in [
                ("5", "wrong type: integer `5`"),
                ("true", "wrong type: boolean `true`"),
                ("{ a = 1 }", "wrong type: map"),
            ] {
                let e = one(&place.text(key, value));
                let (path, line) = place.key(key);
                check(&e, &path, line, key.len() + 4, fragment);
                assert_eq!(e.allowed, A_NOTIFY, "{e}");
            }
        }
    }
}

#[test]
fn notify_argument_of_a_wrong_type() {
    for place in In::BOTH {
        let e = one(&place.text("notify_backup", "[\"/bin/x\", 5]"));
        let (path, line) = place.key("notify_backup[1]");
        check(&e, &path, line, 28, "wrong type: integer `5`");
        assert_eq!(e.allowed, A_ARG);
    }
}

#[test]
fn notify_list_must_not_be_empty() {
    for place in In::BOTH {
        let e = one(&place.text("notify_fault", "[]"));
        let (path, line) = place.key("notify_fault");
        check(&e, &path, line, 16, "the list is empty");
        assert_eq!(e.allowed, A_NOTIFY);
    }
}

#[test]
fn notify_program_as_a_bare_name_with_spaces() {
    for place in In::BOTH {
        let e = one(&place.text("notify", "[\"vip-changed --site a\"]"));
        let (path, line) = place.key("notify[0]");
        check(&e, &path, line, 11, "contains whitespace");
        assert!(
            e.problem
                .contains(r#"its own element: ["vip-changed", "--site", "a"]"#),
            "{e}"
        );
    }
}

#[test]
fn notify_program_relative_or_with_a_nul_byte() {
    let e = one(&inst(&[("notify_stop", "[\"bin/stop\"]")]));
    check(&e, "instance[0].notify_stop[0]", 6, 16, "relative path");
    let e = one(&inst(&[("notify_stop", "[\"/bin/stop\", \"a\\u0000\"]")]));
    check(&e, "instance[0].notify_stop[1]", 6, 29, "NUL byte");
    let e = one(&inst(&[("notify_stop", "[\"\"]")]));
    check(
        &e,
        "instance[0].notify_stop[0]",
        6,
        16,
        "the program is empty",
    );
}

#[test]
fn notify_as_a_string_gets_its_split() {
    for place in In::BOTH {
        for key in KEYS {
            let e = one(&place.text(key, "\"/etc/keepalived/notify.sh master\""));
            let (path, line) = place.key(key);
            check(
                &e,
                &path,
                line,
                key.len() + 4,
                "vipd takes an argv list, never a shell line",
            );
            assert!(e.problem.starts_with("wrong type: string"), "{e}");
            assert!(
                e.problem
                    .ends_with(r#"write ["/etc/keepalived/notify.sh", "master"]"#),
                "{e}"
            );
            assert_eq!(e.allowed, A_NOTIFY);
        }
    }
    // Quotes as a shell reads them.
    let e = one(&inst(&[("notify", r#""'/opt/a b/up' \"x y\" it\\'s""#)]));
    assert!(
        e.problem
            .ends_with(r#"write ["/opt/a b/up", "x y", "it's"]"#),
        "{e}"
    );
}

#[test]
fn notify_as_a_shell_line_suggests_a_script_or_an_explicit_shell() {
    let e = one(&inst(&[(
        "notify_master",
        "\"systemctl start haproxy && logger up\"",
    )]));
    check(
        &e,
        "instance[0].notify_master",
        6,
        17,
        "this one needs a shell (`&`)",
    );
    assert!(
        e.problem.ends_with(
            r#"run a shell on purpose: ["/bin/sh", "-c", "systemctl start haproxy && logger up"]"#
        ),
        "{e}"
    );
}

#[test]
fn notify_as_an_empty_or_unclosed_string() {
    let e = one(&inst(&[("notify", "\"  \"")]));
    check(
        &e,
        "instance[0].notify",
        6,
        10,
        "this one is empty: leave the key out",
    );
    let e = one(&inst(&[("notify", "\"/bin/up 'x\"")]));
    check(&e, "instance[0].notify", 6, 10, "' quote is not closed");
}

#[test]
fn shell_lines_split_as_a_shell_would() {
    let words = |w: &[&str]| Split::Words(argv(w));
    for (line, split) in [
        ("", words(&[])),
        ("  /a   b\tc  ", words(&["/a", "b", "c"])),
        ("/a ''", words(&["/a", ""])),
        ("/a x'y z'w", words(&["/a", "xy zw"])),
        (r#"/a "q\"\\\n""#, words(&["/a", r#"q"\\n"#])),
        (r"/a b\ c", words(&["/a", "b c"])),
        ("/a b#c a~", words(&["/a", "b#c", "a~"])),
        ("/a | b", Split::Shell('|')),
        ("/a > /dev/null", Split::Shell('>')),
        ("/a $HOME", Split::Shell('$')),
        ("/a \"$HOME\"", Split::Shell('$')),
        ("/a '$HOME'", words(&["/a", "$HOME"])),
        ("/a *.log", Split::Shell('*')),
        ("/a # comment", Split::Shell('#')),
        ("/a ~/x", Split::Shell('~')),
        ("/a; /b", Split::Shell(';')),
        ("/a 'b", Split::Unclosed('\'')),
        ("/a \"b", Split::Unclosed('"')),
    ] {
        assert_eq!(split_line(line), split, "{line:?}");
    }
}

#[test]
fn notify_timeout_range_and_steps() {
    let timeout = |value: &str| {
        one(&format!(
            "[global]\nnotify_timeout = {value}\n{}",
            inst(&[])
        ))
    };
    for (value, fragment) in [
        ("\"0s\"", "\"0s\" is out of range"),
        ("\"5ms\"", "\"5ms\" is out of range"),
        ("\"61m\"", "\"61m\" is out of range"),
        ("\"15ms\"", "\"15ms\" is not a multiple of 10ms"),
        ("\"1.5s\"", "fractions are not allowed"),
        ("\"60\"", "the unit is missing"),
    ] {
        let e = timeout(value);
        check(&e, "global.notify_timeout", 2, 18, fragment);
        assert_eq!(e.allowed, A_NOTIFY_TIMEOUT);
    }
    let e = timeout("60");
    check(
        &e,
        "global.notify_timeout",
        2,
        18,
        "wrong type: integer `60`",
    );
    assert_eq!(e.allowed, A_NOTIFY_TIMEOUT);
}

#[test]
fn notify_keys_in_the_wrong_table_say_where_they_belong() {
    let e = one(&format!("[global]\nnotify = [\"/bin/up\"]\n{}", inst(&[])));
    check(
        &e,
        "global.notify",
        2,
        1,
        "`notify` belongs in an [[instance]] table",
    );
    let e = one(&inst(&[("notify_timeout", "\"30s\"")]));
    check(
        &e,
        "instance[0].notify_timeout",
        6,
        1,
        "`notify_timeout` belongs in the [global] table",
    );
    let e = one(&inst(&[("notify_mastre", "[\"/bin/up\"]")]));
    check(
        &e,
        "instance[0].notify_mastre",
        6,
        1,
        "did you mean `notify_master`?",
    );
}

#[test]
fn every_notify_error_in_one_run() {
    let text = format!(
        "[global]\nnotify_timeout = \"2h\"\n{}{GROUP_TABLE}notify_fault = \"/bin/down now\"\n\
         notify_stop = [\"stop it\"]\n",
        inst(&[
            ("notify", "1"),
            ("notify_master", "[]"),
            ("notify_backup", "\"/bin/x | y\""),
            ("notify_fault", "[\"/bin/f\", 2]"),
        ]),
    );
    let errors = errs(&text);
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "global.notify_timeout",
            "instance[0].notify",
            "instance[0].notify_master",
            "instance[0].notify_backup",
            "instance[0].notify_fault[1]",
            "sync_group[0].notify_fault",
            "sync_group[0].notify_stop[0]",
        ],
        "{errors:#?}"
    );
    let lines: Vec<Option<usize>> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 8, 9, 10, 11, 15, 16].map(Some), "{errors:#?}");
}

// ----- a whole file ----------------------------------------------------------------------------

#[test]
fn full_file_with_notify_round_trips() {
    let text = r#"
[global]
router_id = "r1"
script_user = "vipd-script"
notify_timeout = "90s"

[[instance]]
name = "outside"
interface = "eth0"
vrid = 51
virtual_addresses = ["192.0.2.10/24"]
notify = ["/usr/local/bin/vip-changed", "--site", "a"]
notify_master = ["/usr/local/bin/start-service"]
notify_backup = ["systemctl", "stop", "haproxy"]
notify_fault = ["/usr/local/bin/page", "fault"]
notify_stop = ["/usr/local/bin/page", "stop"]

[[instance]]
name = "inside"
interface = "eth1"
vrid = 52
virtual_addresses = ["10.0.0.1/24"]

[[sync_group]]
name = "edge"
instances = ["outside", "inside"]
notify = ["/usr/local/bin/group-changed"]
notify_master = ["/usr/local/bin/routes", "up"]
"#;
    let c = ok(text);
    assert_eq!(c.global.notify_timeout, Duration::from_secs(90));
    assert_eq!(
        c.instances[0].notify,
        Notify {
            any: Some(argv(&["/usr/local/bin/vip-changed", "--site", "a"])),
            master: Some(argv(&["/usr/local/bin/start-service"])),
            backup: Some(argv(&["systemctl", "stop", "haproxy"])),
            fault: Some(argv(&["/usr/local/bin/page", "fault"])),
            stop: Some(argv(&["/usr/local/bin/page", "stop"])),
        }
    );
    assert!(c.instances[1].notify.is_empty());
    let group = SyncGroup {
        name: "edge".to_owned(),
        instances: argv(&["outside", "inside"]),
        notify: Notify {
            any: Some(argv(&["/usr/local/bin/group-changed"])),
            master: Some(argv(&["/usr/local/bin/routes", "up"])),
            ..Notify::default()
        },
    };
    assert_eq!(c.sync_groups, std::slice::from_ref(&group));
    assert_eq!(
        c.summary(),
        "2 instances: outside (eth0 vrid 51 v3 ipv4, 1 address, 5 notify commands), inside \
         (eth1 vrid 52 v3 ipv4, 1 address); 1 sync group: edge (outside, inside; 2 notify \
         commands)"
    );

    // The public types round-trip through serde; an empty Notify is left out of a group.
    let json = serde_json::to_string(&group).expect("serializes");
    let back: SyncGroup = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, group);
    let notify = &c.instances[0].notify;
    let json = serde_json::to_string(notify).expect("serializes");
    assert_eq!(
        serde_json::from_str::<Notify>(&json).expect("deserializes"),
        *notify
    );
    let bare = SyncGroup {
        notify: Notify::default(),
        ..group
    };
    let json = serde_json::to_string(&bare).expect("serializes");
    assert_eq!(json, r#"{"name":"edge","instances":["outside","inside"]}"#);
    assert_eq!(
        serde_json::from_str::<SyncGroup>(&json).expect("deserializes"),
        bare
    );

    // Writing the configuration back out as TOML and reading it again gives the same.
    let mut again = String::from("[global]\nrouter_id = \"r1\"\nnotify_timeout = \"90s\"\n");
    for i in &c.instances {
        again.push_str(&format!(
            "[[instance]]\nname = \"{}\"\ninterface = \"{}\"\nvrid = {}\n\
             virtual_addresses = [\"{}\"]\n",
            i.name, i.interface, i.vrid, i.virtual_addresses[0]
        ));
        push_notify(&mut again, &i.notify);
    }
    for g in &c.sync_groups {
        again.push_str(&format!(
            "[[sync_group]]\nname = \"{}\"\ninstances = {:?}\n",
            g.name, g.instances
        ));
        push_notify(&mut again, &g.notify);
    }
    let c2 = ok(&again);
    assert_eq!(c2.instances, c.instances);
    assert_eq!(c2.sync_groups, c.sync_groups);
    assert_eq!(c2.global.notify_timeout, c.global.notify_timeout);
}

/// `notify_master = ["/x", "y"]` lines from `commands()`: the key names it gives are the keys.
fn push_notify(text: &mut String, notify: &Notify) {
    for (key, argv) in notify.commands() {
        text.push_str(&format!("{key} = {argv:?}\n"));
    }
}

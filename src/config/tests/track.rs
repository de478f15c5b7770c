use super::*;

/// The base instance, then a `[[track_script]]` (lines 6..=8) with the keys in `set` replaced
/// or appended (line 9..).
fn script(set: &[(&str, &str)]) -> String {
    table(
        "[[track_script]]",
        &[("name", "\"chk\""), ("command", "[\"/bin/true\"]")],
        set,
    )
}

/// The base instance, then a `[[track_file]]` (lines 6..=8) like [`script`].
fn file(set: &[(&str, &str)]) -> String {
    table(
        "[[track_file]]",
        &[("name", "\"maint\""), ("path", "\"/etc/vipd/maint\"")],
        set,
    )
}

fn table(header: &str, base: &[(&str, &str)], set: &[(&str, &str)]) -> String {
    let mut lines: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in set {
        match lines.iter_mut().find(|(key, _)| key == k) {
            Some(line) => line.1 = v.to_string(),
            None => lines.push((k.to_string(), v.to_string())),
        }
    }
    let mut text = format!("{}{header}\n", inst(&[]));
    for (k, v) in lines {
        text.push_str(&format!("{k} = {v}\n"));
    }
    text
}

/// The base instance with `track = [ENTRIES]` on line 6 (entries start at column 10), then
/// the script `chk` and the file `maint`.
fn tracked(entries: &str) -> String {
    format!(
        "{}{SCRIPT_TABLE}{FILE_TABLE}",
        inst(&[("track", &format!("[{entries}]"))])
    )
}

// ----- [[track_script]] ------------------------------------------------------------------------

#[test]
fn track_script_defaults() {
    let c = ok(&script(&[]));
    assert_eq!(
        c.track_scripts,
        [TrackScript {
            name: "chk".to_owned(),
            command: vec!["/bin/true".to_owned()],
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            rise: 1,
            fall: 1,
        }]
    );
    let c = ok(&script(&[("interval", "\"5s\"")]));
    assert_eq!(
        c.track_scripts[0].timeout,
        Duration::from_secs(5),
        "the timeout defaults to the interval"
    );
}

#[test]
fn track_script_limits_are_accepted() {
    let c = ok(&script(&[
        ("interval", "\"10ms\""),
        ("timeout", "\"10ms\""),
        ("rise", "1000"),
        ("fall", "1000"),
    ]));
    let s = &c.track_scripts[0];
    assert_eq!((s.interval, s.timeout), (CHECK_STEP, CHECK_STEP));
    assert_eq!((s.rise, s.fall), (MAX_RISE_FALL, MAX_RISE_FALL));
    let c = ok(&script(&[("interval", "\"60m\""), ("timeout", "\"60m\"")]));
    assert_eq!(c.track_scripts[0].interval, MAX_CHECK_INTERVAL);
    // A bare name is looked up in the fixed PATH at start.
    ok(&script(&[(
        "command",
        "[\"pgrep\", \"-x\", \"haproxy\", \"\"]",
    )]));
}

#[test]
fn track_script_name_is_required() {
    let e = one(&format!(
        "{}[[track_script]]\ncommand = [\"/bin/true\"]\n",
        inst(&[])
    ));
    check(
        &e,
        "track_script[0].name",
        6,
        1,
        "required key `name` is missing",
    );
}

#[test]
fn track_script_name_characters_are_restricted() {
    let e = one(&script(&[("name", "\"chk 1\"")]));
    check(
        &e,
        "track_script[0].name",
        7,
        8,
        "contains ' ', which is not allowed",
    );
    assert!(e.allowed.contains("unique among [[track_script]]"), "{e}");
}

#[test]
fn track_script_names_are_unique() {
    let text = format!("{}{SCRIPT_TABLE}", script(&[]));
    let e = one(&text);
    check(
        &e,
        "track_script[1].name",
        10,
        8,
        "`chk` is already the name of track_script[0] (line 7)",
    );
}

#[test]
fn track_script_command_is_required() {
    let e = one(&format!("{}[[track_script]]\nname = \"chk\"\n", inst(&[])));
    check(
        &e,
        "track_script[0].command",
        6,
        1,
        "required key `command` is missing",
    );
}

#[test]
fn track_script_command_is_a_list() {
    let e = one(&script(&[("command", "\"/bin/true\"")]));
    check(&e, "track_script[0].command", 8, 11, "wrong type: string");
    assert!(e.allowed.contains("run without a shell"), "{e}");
}

#[test]
fn track_script_command_not_empty() {
    let e = one(&script(&[("command", "[]")]));
    check(&e, "track_script[0].command", 8, 11, "the list is empty");
}

#[test]
fn track_script_program_not_empty() {
    let e = one(&script(&[("command", "[\"\", \"x\"]")]));
    check(
        &e,
        "track_script[0].command[0]",
        8,
        12,
        "the program is empty",
    );
}

#[test]
fn track_script_arguments_have_no_nul() {
    let e = one(&script(&[("command", "[\"/bin/echo\", \"a\\u0000b\"]")]));
    check(&e, "track_script[0].command[1]", 8, 25, "NUL byte");
}

#[test]
fn track_script_program_is_not_a_relative_path() {
    let e = one(&script(&[("command", "[\"bin/check\"]")]));
    check(&e, "track_script[0].command[0]", 8, 12, "relative path");
}

#[test]
fn track_script_program_is_not_a_shell_line() {
    let e = one(&script(&[("command", "[\"pgrep -x haproxy\"]")]));
    check(
        &e,
        "track_script[0].command[0]",
        8,
        12,
        "[\"pgrep\", \"-x\", \"haproxy\"]",
    );
    // An absolute path may hold a space.
    ok(&script(&[("command", "[\"/opt/my checks/web\"]")]));
}

#[test]
fn track_script_interval_range() {
    for d in ["\"0ms\"", "\"61m\""] {
        let e = one(&script(&[("interval", d)]));
        check(&e, "track_script[0].interval", 9, 12, "is out of range");
        assert_eq!(e.allowed, A_TRACK_INTERVAL);
    }
}

#[test]
fn track_script_interval_steps_of_10ms() {
    let e = one(&script(&[("interval", "\"15ms\"")]));
    check(
        &e,
        "track_script[0].interval",
        9,
        12,
        "not a multiple of 10ms",
    );
}

#[test]
fn track_script_interval_is_a_duration() {
    let e = one(&script(&[("interval", "\"1h\"")]));
    check(&e, "track_script[0].interval", 9, 12, "unknown unit `h`");
    let e = one(&script(&[("interval", "1")]));
    check(&e, "track_script[0].interval", 9, 12, "wrong type: integer");
    assert_eq!(e.allowed, A_TRACK_INTERVAL);
}

#[test]
fn track_script_timeout_at_most_the_interval() {
    let e = one(&script(&[
        ("interval", "\"1s\""),
        ("timeout", "\"1010ms\""),
    ]));
    check(
        &e,
        "track_script[0].timeout",
        10,
        11,
        "longer than the interval (1000ms): a check is never run twice at once",
    );
    // Also against the default interval.
    let e = one(&script(&[("timeout", "\"2s\"")]));
    check(
        &e,
        "track_script[0].timeout",
        9,
        11,
        "longer than the interval",
    );
}

#[test]
fn track_script_timeout_range_and_steps() {
    let e = one(&script(&[("timeout", "\"0ms\"")]));
    check(&e, "track_script[0].timeout", 9, 11, "is out of range");
    let e = one(&script(&[("timeout", "\"105ms\"")]));
    check(
        &e,
        "track_script[0].timeout",
        9,
        11,
        "not a multiple of 10ms",
    );
}

#[test]
fn track_script_timeout_with_a_bad_interval_is_one_error() {
    let e = one(&script(&[("interval", "\"5ms\""), ("timeout", "\"1s\"")]));
    check(&e, "track_script[0].interval", 9, 12, "out of range");
}

#[test]
fn track_script_rise_and_fall_range() {
    for (key, value, fragment) in [
        (
            "rise",
            "0",
            "0 is out of range: it takes at least one result",
        ),
        ("rise", "1001", "1001 is out of range"),
        ("fall", "0", "0 is out of range"),
        ("fall", "-1", "-1 is out of range"),
    ] {
        let e = one(&script(&[(key, value)]));
        check(&e, &format!("track_script[0].{key}"), 9, 8, fragment);
        assert!(e.allowed.starts_with("an integer 1..=1000"), "{e}");
    }
}

#[test]
fn track_script_unknown_key() {
    let e = one(&script(&[("intervall", "\"1s\"")]));
    check(
        &e,
        "track_script[0].intervall",
        9,
        1,
        "did you mean `interval`?",
    );
    assert!(e.allowed.contains("`rise`"), "{e}");
}

#[test]
fn track_script_must_be_an_array_of_tables() {
    let e = one(&format!("{}[track_script]\nname = \"chk\"\n", inst(&[])));
    check(&e, "track_script", 6, 1, "wrong type: table");
    assert_eq!(e.allowed, "one or more [[track_script]] tables");
}

// ----- [[track_file]] --------------------------------------------------------------------------

#[test]
fn track_file_parses() {
    let c = ok(&file(&[]));
    assert_eq!(
        c.track_files,
        [TrackFile {
            name: "maint".to_owned(),
            path: PathBuf::from("/etc/vipd/maint"),
        }]
    );
}

#[test]
fn track_file_path_is_required() {
    let e = one(&format!("{}[[track_file]]\nname = \"maint\"\n", inst(&[])));
    check(
        &e,
        "track_file[0].path",
        6,
        1,
        "required key `path` is missing",
    );
}

#[test]
fn track_file_path_is_absolute() {
    let e = one(&file(&[("path", "\"maint\"")]));
    check(&e, "track_file[0].path", 8, 8, "not an absolute path");
    let e = one(&file(&[("path", "\"/a\\u0000b\"")]));
    check(&e, "track_file[0].path", 8, 8, "NUL byte");
}

#[test]
fn track_file_names_are_unique() {
    let e = one(&format!("{}{FILE_TABLE}", file(&[])));
    check(
        &e,
        "track_file[1].name",
        10,
        8,
        "already the name of track_file[0] (line 7)",
    );
}

#[test]
fn script_and_file_names_are_separate() {
    let text = format!(
        "{}{}{SCRIPT_TABLE}[[track_file]]\nname = \"chk\"\npath = \"/x\"\n",
        inst(&[("track", "[{ script = \"chk\" }, { file = \"chk\" }]")]),
        ""
    );
    let c = ok(&text);
    assert_eq!(
        c.instances[0].track,
        [
            TrackRef {
                target: TrackTarget::Script("chk".to_owned()),
                weight: 0
            },
            TrackRef {
                target: TrackTarget::File("chk".to_owned()),
                weight: 0
            },
        ]
    );
}

// ----- an instance's track list ----------------------------------------------------------------

#[test]
fn track_entries_of_each_kind() {
    let c = ok(&tracked(
        "{ script = \"chk\", weight = -60 }, { file = \"maint\", weight = -1 }, \
         { interface = \"eth1\" }, { process = \"haproxy\", weight = 253 }",
    ));
    let track = &c.instances[0].track;
    let target = |t: &TrackRef| t.target.clone();
    assert_eq!(
        track.iter().map(target).collect::<Vec<_>>(),
        [
            TrackTarget::Script("chk".to_owned()),
            TrackTarget::File("maint".to_owned()),
            TrackTarget::Interface("eth1".to_owned()),
            TrackTarget::Process("haproxy".to_owned()),
        ]
    );
    let weights: Vec<i32> = track.iter().map(|t| t.weight).collect();
    assert_eq!(weights, [-60, -1, 0, 253], "weight defaults to 0");
    assert!(ok(&inst(&[])).instances[0].track.is_empty());
}

#[test]
fn track_entry_names_nothing() {
    let e = one(&tracked("{ weight = -10 }"));
    check(&e, "instance[0].track[0]", 6, 10, "names nothing to track");
    assert_eq!(e.allowed, A_TRACK_ENTRY);
}

#[test]
fn track_entry_names_one_thing() {
    let e = one(&tracked("{ script = \"chk\", interface = \"eth1\" }"));
    check(
        &e,
        "instance[0].track[0].interface",
        6,
        40,
        "`script` and `interface` in one entry",
    );
}

#[test]
fn track_script_must_be_defined() {
    let e = one(&tracked("{ script = \"chk\" }, { script = \"haproxy\" }"));
    check(
        &e,
        "instance[0].track[1].script",
        6,
        41,
        "no [[track_script]] table is named `haproxy`",
    );
    assert_eq!(e.allowed, "the name of a [[track_script]] table: `chk`");
}

#[test]
fn track_file_must_be_defined() {
    let e = one(&inst(&[("track", "[{ file = \"maint\" }]")]));
    check(
        &e,
        "instance[0].track[0].file",
        6,
        19,
        "no [[track_file]] table is named `maint`",
    );
    assert_eq!(
        e.allowed,
        "the name of a [[track_file]] table; this file has none"
    );
}

#[test]
fn tracked_interface_name_is_checked() {
    let e = one(&tracked("{ interface = \"eth0:1\" }"));
    check(&e, "instance[0].track[0].interface", 6, 24, "address label");
    assert_eq!(e.allowed, A_INTERFACE);
}

#[test]
fn tracked_process_name_is_checked() {
    for (name, fragment) in [
        ("\"\"", "must not be empty"),
        ("\"/usr/sbin/haproxy\"", "contains '/'"),
        ("\"ha\\tproxy\"", "control character"),
        (
            "\"haproxy-ingress-controller\"",
            "26 bytes long; Linux keeps only the first 15 bytes of a process name \
             (/proc/PID/comm), so write `haproxy-ingress`",
        ),
    ] {
        let e = one(&tracked(&format!("{{ process = {name} }}")));
        check(&e, "instance[0].track[0].process", 6, 22, fragment);
        assert_eq!(e.allowed, A_PROCESS);
    }
    ok(&tracked("{ process = \"haproxy-ingress\" }"));
}

#[test]
fn track_weight_range() {
    for w in ["254", "-254", "4294967296"] {
        let e = one(&tracked(&format!("{{ script = \"chk\", weight = {w} }}")));
        check(
            &e,
            "instance[0].track[0].weight",
            6,
            37,
            &format!("{w} is out of range"),
        );
        assert_eq!(e.allowed, A_WEIGHT);
    }
    ok(&tracked("{ script = \"chk\", weight = -253 }"));
}

#[test]
fn the_same_object_is_tracked_once() {
    let e = one(&tracked(
        "{ script = \"chk\", weight = -10 }, { script = \"chk\", weight = -20 }",
    ));
    check(
        &e,
        "instance[0].track[1].script",
        6,
        55,
        "script `chk` is already tracked by track[0]",
    );
    // The same name as another kind is another object.
    ok(&tracked("{ script = \"chk\" }, { process = \"chk\" }"));
}

#[test]
fn unknown_key_in_a_track_entry() {
    let e = one(&tracked("{ script = \"chk\", wieght = -10 }"));
    check(
        &e,
        "instance[0].track[0].wieght",
        6,
        28,
        "did you mean `weight`?",
    );
    assert!(e.allowed.contains("`process`"), "{e}");
}

#[test]
fn a_bad_track_entry_hides_no_other() {
    let errors = errs(&tracked(
        "{ script = 5 }, { process = \"\" }, { file = \"nope\", weight = \"x\" }",
    ));
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "instance[0].track[0].script",
            "instance[0].track[1].process",
            "instance[0].track[2].file",
            "instance[0].track[2].weight",
        ],
        "{errors:#?}"
    );
    assert_eq!(errors[0].allowed, A_SCRIPT_REF);
    assert!(errors[0].problem.contains("wrong type: integer"));
}

#[test]
fn track_must_be_a_list_of_tables() {
    let e = one(&inst(&[("track", "\"chk\"")]));
    check(&e, "instance[0].track", 6, 9, "wrong type: string");
    assert_eq!(e.allowed, A_TRACKS);
    let e = one(&tracked("\"chk\""));
    check(&e, "instance[0].track[0]", 6, 10, "wrong type: string");
    assert_eq!(e.allowed, A_TRACK_ENTRY);
}

#[test]
fn track_as_an_array_of_tables() {
    let text = format!(
        "{}[[instance.track]]\nscript = \"chk\"\nweight = -5\n{SCRIPT_TABLE}",
        inst(&[])
    );
    let c = ok(&text);
    assert_eq!(c.instances[0].track[0].weight, -5);
}

#[test]
fn a_tracker_with_its_own_error_is_not_also_unknown() {
    let text = format!(
        "{}[[track_script]]\nname = \"chk\"\ncommand = [\"/bin/true\"]\ninterval = \"5ms\"\n",
        inst(&[("track", "[{ script = \"chk\" }]")])
    );
    let e = one(&text);
    check(&e, "track_script[0].interval", 10, 12, "out of range");
    // A tracker whose name could not be read may be the one meant: no guess either way.
    let text = format!(
        "{}[[track_script]]\nname = 5\ncommand = [\"/bin/true\"]\n",
        inst(&[("track", "[{ script = \"chk\" }]")])
    );
    let e = one(&text);
    check(&e, "track_script[0].name", 8, 8, "wrong type");
}

#[test]
fn track_types_serialize_as_written_in_the_file() {
    let r = TrackRef {
        target: TrackTarget::Script("haproxy".to_owned()),
        weight: -60,
    };
    let json = serde_json::to_string(&r).unwrap_or_default();
    assert_eq!(json, r#"{"script":"haproxy","weight":-60}"#);
    let back: Option<TrackRef> = serde_json::from_str(&json).ok();
    assert_eq!(back, Some(r));
    let c = ok(&script(&[]));
    let json = serde_json::to_string(&c.track_scripts[0]).unwrap_or_default();
    let back: Option<TrackScript> = serde_json::from_str(&json).ok();
    assert_eq!(back.as_ref(), c.track_scripts.first());
}

// ----- preempt_delay ---------------------------------------------------------------------------

#[test]
fn preempt_delay_default_and_value() {
    assert_eq!(ok(&inst(&[])).instances[0].preempt_delay, Duration::ZERO);
    let c = ok(&inst(&[("preempt_delay", "\"30s\"")]));
    assert_eq!(c.instances[0].preempt_delay, Duration::from_secs(30));
    let c = ok(&inst(&[("preempt_delay", "\"60m\"")]));
    assert_eq!(c.instances[0].preempt_delay, MAX_PREEMPT_DELAY);
    ok(&inst(&[("preempt", "false"), ("preempt_delay", "\"0s\"")]));
}

#[test]
fn preempt_delay_range() {
    let e = one(&inst(&[("preempt_delay", "\"61m\"")]));
    check(&e, "instance[0].preempt_delay", 6, 17, "is out of range");
    assert_eq!(e.allowed, A_PREEMPT_DELAY);
    let e = one(&inst(&[("preempt_delay", "\"1.5s\"")]));
    check(&e, "instance[0].preempt_delay", 6, 17, "fractions");
}

#[test]
fn preempt_delay_needs_preempt() {
    let e = one(&inst(&[("preempt", "false"), ("preempt_delay", "\"30s\"")]));
    check(
        &e,
        "instance[0].preempt_delay",
        7,
        17,
        "does nothing with preempt = false",
    );
}

use super::*;

#[test]
fn router_id_must_not_be_empty() {
    let e = one(&format!("[global]\nrouter_id = \"\"\n{}", inst(&[])));
    check(&e, "global.router_id", 2, 13, "must not be empty");
}

#[test]
fn control_group_must_be_a_group_name() {
    let e = one(&format!(
        "[global]\ncontrol_group = \"-wheel\"\n{}",
        inst(&[])
    ));
    check(&e, "global.control_group", 2, 17, "not a valid group name");
    let c = parse(
        &format!("[global]\ncontrol_group = \"vipd-status\"\n{}", inst(&[])),
        Path::new("t.toml"),
    )
    .expect("valid");
    assert_eq!(c.global.control_group.as_deref(), Some("vipd-status"));
}

#[test]
fn control_socket_must_be_absolute() {
    let e = one(&format!(
        "[global]\ncontrol_socket = \"vipd.sock\"\n{}",
        inst(&[])
    ));
    check(&e, "global.control_socket", 2, 18, "not an absolute path");
}

#[test]
fn script_user_is_a_user_name() {
    assert_eq!(ok(&inst(&[])).global.script_user, None);
    let c = ok(&format!(
        "[global]\nscript_user = \"vipd-script\"\n{}",
        inst(&[])
    ));
    assert_eq!(c.global.script_user.as_deref(), Some("vipd-script"));
    for (name, fragment) in [
        ("-x", "not a valid user name"),
        ("vipd script", "not a valid user name"),
        ("", "not 1 to 32 characters long"),
        (&"u".repeat(33), "not 1 to 32 characters long"),
    ] {
        let e = one(&format!(
            "[global]\nscript_user = \"{name}\"\n{}",
            inst(&[])
        ));
        check(&e, "global.script_user", 2, 15, fragment);
        assert!(e.allowed.starts_with("a user name"), "{e}");
    }
    ok(&format!(
        "[global]\nscript_user = \"{}\"\n{}",
        "u".repeat(32),
        inst(&[])
    ));
}

#[test]
fn script_user_of_the_wrong_type() {
    let e = one(&format!("[global]\nscript_user = 1000\n{}", inst(&[])));
    check(&e, "global.script_user", 2, 15, "wrong type: integer");
    assert!(e.allowed.starts_with("a user name"), "{e}");
}

#[test]
fn metrics_listen_is_off_by_default_and_takes_ipv4_and_ipv6_socket_addresses() {
    assert_eq!(ok(&inst(&[])).global.metrics_listen, None);
    for text in ["127.0.0.1:9650", "0.0.0.0:9650", "[::1]:9650", "[::]:65535"] {
        let c = ok(&format!(
            "[global]\nmetrics_listen = \"{text}\"\n{}",
            inst(&[])
        ));
        let want: std::net::SocketAddr = text.parse().expect("a socket address");
        assert_eq!(c.global.metrics_listen, Some(want));
        assert!(
            c.summary()
                .ends_with(&format!("; metrics at http://{want}/metrics")),
            "{}",
            c.summary()
        );
    }
}

#[test]
fn metrics_listen_errors_say_what_to_write() {
    for (text, fragment) in [
        (
            "127.0.0.1",
            "`127.0.0.1` has no port; write `127.0.0.1:9650`",
        ),
        (
            "::1",
            "an IPv6 address goes in brackets before its port, as in `[::1]:9650`",
        ),
        // An IPv6 address without brackets reads as an address without a port.
        ("::1:9650", "as in `[::1]:9650`"),
        ("fd00::50", "as in `[fd00::50]:9650`"),
        (
            "localhost:9650",
            "`localhost` is not an IP address (host names are not resolved)",
        ),
        (":9650", "has no address; write `0.0.0.0`"),
        ("127.0.0.1:0", "has port 0"),
        ("127.0.0.1:65536", "is not an IP address and port"),
        ("[fe80::1%eth0]:9650", "has a zone index"),
        (
            "http://127.0.0.1:9650/metrics",
            "is not an IP address and port",
        ),
        ("", "is not an IP address and port"),
    ] {
        let e = one(&format!(
            "[global]\nmetrics_listen = \"{text}\"\n{}",
            inst(&[])
        ));
        check(&e, "global.metrics_listen", 2, 18, fragment);
        assert!(e.allowed.starts_with("an IP address and a port"), "{e}");
    }
}

#[test]
fn metrics_listen_of_the_wrong_type() {
    let e = one(&format!("[global]\nmetrics_listen = 9650\n{}", inst(&[])));
    check(&e, "global.metrics_listen", 2, 18, "wrong type: integer");
    assert!(e.allowed.contains("\"127.0.0.1:9650\""), "{e}");
}

#[test]
fn keepalived_snmp_keywords_point_to_metrics_listen() {
    let e = one(&format!("[global]\nenable_snmp_vrrp = true\n{}", inst(&[])));
    check(&e, "global.enable_snmp_vrrp", 2, 1, "keepalived's name");
    assert!(e.problem.contains("metrics_listen"), "{e}");
}

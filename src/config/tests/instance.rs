use super::*;

#[test]
fn auth_pass_of_eight_bytes_fills_the_field() {
    let c = ok(&inst(&[("version", "2"), ("auth_pass", "\"12345678\"")]));
    assert_eq!(c.instances[0].auth_pass, Some(*b"12345678"));
}

#[test]
fn v3_interval_limits_are_accepted() {
    for (text, cs) in [("\"10ms\"", 1), ("\"40950ms\"", 4095), ("\"40s\"", 4000)] {
        let c = ok(&inst(&[("advert_interval", text)]));
        assert_eq!(c.instances[0].advert_interval, Centisecs(cs), "{text}");
    }
    let c = ok(&inst(&[("version", "2"), ("advert_interval", "\"255s\"")]));
    assert_eq!(c.instances[0].advert_interval, Centisecs(25500));
}

#[test]
fn name_must_not_be_empty() {
    let e = one(&inst(&[("name", "\"\"")]));
    check(&e, "instance[0].name", 2, 8, "must not be empty");
}

#[test]
fn name_characters_are_restricted() {
    let e = one(&inst(&[("name", "\"web 1\"")]));
    check(
        &e,
        "instance[0].name",
        2,
        8,
        "contains ' ', which is not allowed",
    );
}

#[test]
fn name_length_is_limited() {
    let long = format!("\"{}\"", "a".repeat(65));
    let e = one(&inst(&[("name", &long)]));
    check(&e, "instance[0].name", 2, 8, "65 characters long");
    ok(&inst(&[("name", &format!("\"{}\"", "a".repeat(64)))]));
}

#[test]
fn names_are_unique() {
    let text = format!("{}{}", inst(&[]), inst(&[("vrid", "52")]));
    let e = one(&text);
    check(
        &e,
        "instance[1].name",
        7,
        8,
        "already the name of instance[0] (line 2)",
    );
}

#[test]
fn interface_must_not_be_empty() {
    let e = one(&inst(&[("interface", "\"\"")]));
    check(&e, "instance[0].interface", 3, 13, "must not be empty");
}

#[test]
fn interface_is_at_most_15_bytes() {
    let e = one(&inst(&[("interface", "\"abcdefghijklmnop\"")]));
    check(&e, "instance[0].interface", 3, 13, "16 bytes long");
    ok(&inst(&[("interface", "\"abcdefghijklmno\"")]));
}

#[test]
fn interface_is_not_dot_or_dotdot() {
    for name in ["\".\"", "\"..\""] {
        let e = one(&inst(&[("interface", name)]));
        check(
            &e,
            "instance[0].interface",
            3,
            13,
            "not a valid interface name",
        );
    }
}

#[test]
fn interface_has_no_slash() {
    let e = one(&inst(&[("interface", "\"eth/0\"")]));
    check(&e, "instance[0].interface", 3, 13, "contains '/'");
}

#[test]
fn interface_has_no_colon() {
    let e = one(&inst(&[("interface", "\"eth0:1\"")]));
    check(&e, "instance[0].interface", 3, 13, "address label");
}

#[test]
fn interface_has_no_whitespace() {
    let e = one(&inst(&[("interface", "\"eth 0\"")]));
    check(&e, "instance[0].interface", 3, 13, "whitespace");
}

#[test]
fn vrid_range() {
    for v in ["0", "256", "-1"] {
        let e = one(&inst(&[("vrid", v)]));
        check(
            &e,
            "instance[0].vrid",
            4,
            8,
            &format!("{v} is out of range"),
        );
    }
}

#[test]
fn priority_zero_is_reserved() {
    let e = one(&inst(&[("priority", "0")]));
    check(&e, "instance[0].priority", 6, 12, "master is leaving");
}

#[test]
fn priority_range() {
    let e = one(&inst(&[("priority", "256")]));
    check(&e, "instance[0].priority", 6, 12, "256 is out of range");
    assert_eq!(ok(&inst(&[("priority", "255")])).instances[0].priority, 255);
}

#[test]
fn version_is_2_or_3() {
    let e = one(&inst(&[("version", "4")]));
    check(&e, "instance[0].version", 6, 11, "4 is not a VRRP version");
    assert_eq!(e.allowed, A_VERSION);
}

#[test]
fn advert_interval_must_be_a_duration() {
    let e = one(&inst(&[("advert_interval", "\"1.5s\"")]));
    check(&e, "instance[0].advert_interval", 6, 19, "fractions");
    assert_eq!(e.allowed, A_DURATION);
}

#[test]
fn advert_interval_v3_range() {
    for d in ["\"0ms\"", "\"40960ms\"", "\"1m\""] {
        let e = one(&inst(&[("advert_interval", d)]));
        check(
            &e,
            "instance[0].advert_interval",
            6,
            19,
            "out of range for VRRPv3",
        );
        assert_eq!(e.allowed, A_INTERVAL_V3);
    }
}

#[test]
fn advert_interval_v3_steps_of_10ms() {
    let e = one(&inst(&[("advert_interval", "\"15ms\"")]));
    check(
        &e,
        "instance[0].advert_interval",
        6,
        19,
        "not a multiple of 10ms",
    );
}

#[test]
fn advert_interval_v2_whole_seconds() {
    let e = one(&inst(&[
        ("version", "2"),
        ("advert_interval", "\"1500ms\""),
    ]));
    check(
        &e,
        "instance[0].advert_interval",
        7,
        19,
        "whole number of seconds",
    );
    assert_eq!(e.allowed, A_INTERVAL_V2);
}

#[test]
fn advert_interval_v2_range() {
    for d in ["\"0s\"", "\"256s\""] {
        let e = one(&inst(&[("version", "2"), ("advert_interval", d)]));
        check(
            &e,
            "instance[0].advert_interval",
            7,
            19,
            "out of range for VRRPv2",
        );
    }
}

#[test]
fn auth_pass_only_with_version_2() {
    let e = one(&inst(&[("auth_pass", "\"secret\"")]));
    check(
        &e,
        "instance[0].auth_pass",
        6,
        13,
        "VRRPv3 (RFC 5798) has no authentication",
    );
}

#[test]
fn auth_pass_not_empty() {
    let e = one(&inst(&[("version", "2"), ("auth_pass", "\"\"")]));
    check(&e, "instance[0].auth_pass", 7, 13, "must not be empty");
}

#[test]
fn auth_pass_at_most_8_bytes() {
    let e = one(&inst(&[("version", "2"), ("auth_pass", "\"123456789\"")]));
    check(
        &e,
        "instance[0].auth_pass",
        7,
        13,
        "9 bytes long; keepalived would silently cut",
    );
    // Bytes, not characters: 5 two-byte characters are 10 bytes.
    let e = one(&inst(&[("version", "2"), ("auth_pass", "\"ééééé\"")]));
    check(&e, "instance[0].auth_pass", 7, 13, "10 bytes long");
}

#[test]
fn checksum_setting_not_for_v2() {
    let e = one(&inst(&[
        ("version", "2"),
        ("checksum_ipv4_pseudo_header", "true"),
    ]));
    check(
        &e,
        "instance[0].checksum_ipv4_pseudo_header",
        7,
        31,
        "VRRPv2 (RFC 3768) checksums never",
    );
}

#[test]
fn checksum_setting_not_for_ipv6() {
    let e = one(&inst(&[
        ("virtual_addresses", "[\"2001:db8::5\"]"),
        ("checksum_ipv4_pseudo_header", "false"),
    ]));
    check(
        &e,
        "instance[0].checksum_ipv4_pseudo_header",
        6,
        31,
        "always includes the IPv6 pseudo-header",
    );
}

#[test]
fn interface_vrid_family_is_unique() {
    let text = format!("{}{}", inst(&[]), inst(&[("name", "\"db\"")]));
    let e = one(&text);
    check(
        &e,
        "instance[1].vrid",
        9,
        8,
        "instance[0] (`web`) already runs VRID 51 for IPv4 on `eth0`",
    );
    // Another interface or another family is another election.
    ok(&format!(
        "{}{}",
        inst(&[]),
        inst(&[("name", "\"db\""), ("interface", "\"eth1\"")])
    ));
}

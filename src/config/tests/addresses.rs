use super::*;

#[test]
fn virtual_address_parses_and_displays() {
    let v: VirtualAddress = "10.0.0.5".parse().expect("valid");
    assert_eq!(v.to_string(), "10.0.0.5/32");
    let v: VirtualAddress = "2001:db8::5/64".parse().expect("valid");
    assert_eq!(v.to_string(), "2001:db8::5/64");
    assert_eq!(v.family(), Family::V6);
    let v: VirtualAddress = "::ffff:1.2.3.4".parse().expect("valid");
    assert_eq!(v.prefix_len, 128);
}

#[test]
fn virtual_addresses_not_empty() {
    let e = one(&inst(&[("virtual_addresses", "[]")]));
    check(
        &e,
        "instance[0].virtual_addresses",
        5,
        21,
        "the list is empty",
    );
}

#[test]
fn virtual_address_must_parse() {
    let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.300/24\"]")]));
    check(
        &e,
        "instance[0].virtual_addresses[0]",
        5,
        22,
        "not an IPv4 or IPv6 address",
    );
}

#[test]
fn virtual_address_prefix_must_be_a_number() {
    let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5/x\"]")]));
    check(
        &e,
        "instance[0].virtual_addresses[0]",
        5,
        22,
        "`/x` is not a number",
    );
    let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5/\"]")]));
    check(
        &e,
        "instance[0].virtual_addresses[0]",
        5,
        22,
        "is not a number",
    );
}

#[test]
fn virtual_address_prefix_length_limit() {
    let e = one(&inst(&[("virtual_addresses", "[\"10.0.0.5/33\"]")]));
    check(
        &e,
        "instance[0].virtual_addresses[0]",
        5,
        22,
        "longer than the 32 bits",
    );
    let e = one(&inst(&[("virtual_addresses", "[\"2001:db8::5/129\"]")]));
    check(
        &e,
        "instance[0].virtual_addresses[0]",
        5,
        22,
        "longer than the 128 bits",
    );
}

#[test]
fn virtual_addresses_of_one_family() {
    let e = one(&inst(&[(
        "virtual_addresses",
        "[\"10.0.0.5\", \"2001:db8::5\"]",
    )]));
    check(
        &e,
        "instance[0].virtual_addresses[1]",
        5,
        34,
        "first address is IPv4",
    );
}

#[test]
fn virtual_addresses_without_duplicates() {
    let e = one(&inst(&[(
        "virtual_addresses",
        "[\"10.0.0.5/24\", \"10.0.0.5/32\"]",
    )]));
    check(
        &e,
        "instance[0].virtual_addresses[1]",
        5,
        37,
        "already listed as virtual_addresses[0]",
    );
}

#[test]
fn virtual_address_not_multicast() {
    let e = one(&inst(&[("virtual_addresses", "[\"224.0.0.18\"]")]));
    check(&e, "instance[0].virtual_addresses[0]", 5, 22, "multicast");
}

#[test]
fn virtual_address_not_unspecified() {
    let e = one(&inst(&[("virtual_addresses", "[\"::\"]")]));
    check(&e, "instance[0].virtual_addresses[0]", 5, 22, "unspecified");
}

#[test]
fn virtual_address_not_loopback() {
    let e = one(&inst(&[("virtual_addresses", "[\"127.0.0.2/8\"]")]));
    check(&e, "instance[0].virtual_addresses[0]", 5, 22, "loopback");
}

#[test]
fn virtual_address_not_broadcast() {
    let e = one(&inst(&[("virtual_addresses", "[\"255.255.255.255\"]")]));
    check(&e, "instance[0].virtual_addresses[0]", 5, 22, "broadcast");
}

#[test]
fn at_most_255_virtual_addresses() {
    let list: Vec<String> = (0..256)
        .map(|n| format!("\"10.1.{}.{}\"", n / 200, n % 200 + 1))
        .collect();
    let e = one(&inst(&[(
        "virtual_addresses",
        &format!("[{}]", list.join(", ")),
    )]));
    check(&e, "instance[0].virtual_addresses", 5, 21, "256 addresses");
    let list = &list[..255];
    ok(&inst(&[(
        "virtual_addresses",
        &format!("[{}]", list.join(", ")),
    )]));
}

#[test]
fn ipv6_needs_version_3() {
    let e = one(&inst(&[
        ("version", "2"),
        ("virtual_addresses", "[\"2001:db8::5\"]"),
    ]));
    check(&e, "instance[0].version", 6, 11, "only IPv4");
}

#[test]
fn unicast_peer_must_parse() {
    let e = one(&inst(&[("unicast_peers", "[\"lb2\"]")]));
    check(
        &e,
        "instance[0].unicast_peers[0]",
        6,
        18,
        "not an IPv4 or IPv6 address",
    );
    let e = one(&inst(&[("unicast_peers", "[\"10.0.0.2/24\"]")]));
    check(
        &e,
        "instance[0].unicast_peers[0]",
        6,
        18,
        "a peer is a single address",
    );
}

#[test]
fn unicast_peers_match_the_family() {
    let e = one(&inst(&[("unicast_peers", "[\"fe80::2\"]")]));
    check(
        &e,
        "instance[0].unicast_peers[0]",
        6,
        18,
        "the virtual addresses are IPv4",
    );
}

#[test]
fn ipv6_unicast_peers_are_link_local() {
    let e = one(&inst(&[
        ("virtual_addresses", "[\"fd00::5/64\"]"),
        ("unicast_peers", "[\"fe80::2\", \"fd00::2\"]"),
    ]));
    check(&e, "instance[0].unicast_peers[1]", 6, 29, "not link-local");
}

#[test]
fn unicast_peers_without_duplicates() {
    let e = one(&inst(&[("unicast_peers", "[\"10.0.0.2\", \"10.0.0.2\"]")]));
    check(
        &e,
        "instance[0].unicast_peers[1]",
        6,
        30,
        "already listed as unicast_peers[0]",
    );
}

#[test]
fn unicast_peer_not_multicast() {
    let e = one(&inst(&[("unicast_peers", "[\"224.0.0.18\"]")]));
    check(&e, "instance[0].unicast_peers[0]", 6, 18, "multicast");
}

#[test]
fn unicast_peer_not_unspecified() {
    let e = one(&inst(&[("unicast_peers", "[\"0.0.0.0\"]")]));
    check(&e, "instance[0].unicast_peers[0]", 6, 18, "unspecified");
}

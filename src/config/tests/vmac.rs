//! `garp_refresh`, `virtual_mac` and `vmac_interface`.

use std::time::Duration;

use super::*;

#[test]
fn garp_refresh_is_off_by_default_and_a_duration() {
    assert_eq!(ok(&inst(&[])).instances[0].garp_refresh, None);
    let c = ok(&inst(&[("garp_refresh", "\"60s\"")]));
    assert_eq!(c.instances[0].garp_refresh, Some(Duration::from_secs(60)));
    let e = one(&inst(&[("garp_refresh", "\"500ms\"")]));
    check(&e, "instance[0].garp_refresh", 6, 16, "out of range");
    let e = one(&inst(&[("garp_refresh", "\"2h\"")]));
    check(&e, "instance[0].garp_refresh", 6, 16, "unknown unit");
    let e = one(&inst(&[("garp_refresh", "\"61m\"")]));
    check(&e, "instance[0].garp_refresh", 6, 16, "out of range");
}

#[test]
fn virtual_mac_gets_a_default_name_per_family() {
    assert_eq!(ok(&inst(&[])).instances[0].virtual_mac, None);
    let c = ok(&inst(&[("virtual_mac", "true")]));
    assert_eq!(c.instances[0].virtual_mac.as_deref(), Some("vipd4.51"));
    let v6 = [
        ("virtual_mac", "true"),
        ("virtual_addresses", "[\"fd00::5/64\"]"),
    ];
    let c = ok(&inst(&v6));
    assert_eq!(c.instances[0].virtual_mac.as_deref(), Some("vipd6.51"));
    let c = ok(&inst(&[("virtual_mac", "false")]));
    assert_eq!(c.instances[0].virtual_mac, None);
    let named = [("virtual_mac", "true"), ("vmac_interface", "\"vrrp.51\"")];
    assert_eq!(
        ok(&inst(&named)).instances[0].virtual_mac.as_deref(),
        Some("vrrp.51")
    );
}

#[test]
fn vmac_interface_needs_virtual_mac() {
    let e = one(&inst(&[("vmac_interface", "\"vrrp.51\"")]));
    check(
        &e,
        "instance[0].vmac_interface",
        6,
        18,
        "does nothing without virtual_mac = true",
    );
}

#[test]
fn vmac_interface_name_too_long() {
    let set = [
        ("virtual_mac", "true"),
        ("vmac_interface", "\"vipd-much-too-long\""),
    ];
    let e = one(&inst(&set));
    check(&e, "instance[0].vmac_interface", 7, 18, "at most 15");
}

#[test]
fn two_instances_cannot_share_a_macvlan() {
    // The same VRID and family on two interfaces: the default names collide.
    let a = inst(&[("virtual_mac", "true")]);
    let b = inst(&[
        ("name", "\"b\""),
        ("interface", "\"eth1\""),
        ("virtual_mac", "true"),
    ]);
    let e = one(&format!("{a}{b}"));
    check(
        &e,
        "instance[1].vmac_interface",
        12,
        15,
        "instance[0] (`web`) already uses the macvlan `vipd4.51`",
    );
    let b = inst(&[
        ("name", "\"b\""),
        ("interface", "\"eth1\""),
        ("virtual_mac", "true"),
        ("vmac_interface", "\"vipd4.51b\""),
    ]);
    ok(&format!("{a}{b}"));
}

#[test]
fn a_macvlan_is_not_an_instance_interface() {
    let a = inst(&[("virtual_mac", "true"), ("vmac_interface", "\"eth1\"")]);
    let b = inst(&[("name", "\"b\""), ("interface", "\"eth1\"")]);
    let e = one(&format!("{a}{b}"));
    check(
        &e,
        "instance[0].vmac_interface",
        7,
        18,
        "is the `interface` of instance[1]",
    );
}

#[test]
fn keepalived_names_are_translated() {
    let e = one(&inst(&[("use_vmac", "true")]));
    assert!(e.problem.contains("virtual_mac = true"), "{e}");
    let e = one(&inst(&[("garp_master_refresh", "60")]));
    assert!(e.problem.contains("garp_refresh"), "{e}");
}

#[test]
fn accept_mode_defaults_to_true_and_is_not_for_owners() {
    assert!(ok(&inst(&[])).instances[0].accept_mode);
    assert!(!ok(&inst(&[("accept_mode", "false")])).instances[0].accept_mode);
    let e = one(&inst(&[("priority", "255"), ("accept_mode", "false")]));
    check(
        &e,
        "instance[0].accept_mode",
        7,
        15,
        "does nothing with priority = 255",
    );
    ok(&inst(&[("priority", "255"), ("accept_mode", "true")]));
}

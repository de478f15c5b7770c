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

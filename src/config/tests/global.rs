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

use super::*;

/// Instances `web` (lines 1..=5) and `db` (lines 6..=10), then `groups`.
fn two(groups: &str) -> String {
    format!(
        "{}{}{groups}",
        inst(&[]),
        inst(&[("name", "\"db\""), ("vrid", "52")])
    )
}

/// A group table of 3 lines.
fn group(name: &str, members: &str) -> String {
    format!("[[sync_group]]\nname = \"{name}\"\ninstances = [{members}]\n")
}

#[test]
fn sync_group_parses() {
    let c = ok(&two(&group("edge", "\"web\", \"db\"")));
    assert_eq!(
        c.sync_groups,
        [SyncGroup {
            name: "edge".to_owned(),
            instances: vec!["web".to_owned(), "db".to_owned()],
            notify: Notify::default(),
        }]
    );
    // One member is allowed: a group of one does nothing yet, but a second can be added
    // without changing the first.
    let c = ok(&two(&format!(
        "{}{}",
        group("a", "\"web\""),
        group("b", "\"db\"")
    )));
    assert_eq!(c.sync_groups.len(), 2);
    assert!(ok(&inst(&[])).sync_groups.is_empty());
}

#[test]
fn sync_group_name_is_required() {
    let e = one(&two("[[sync_group]]\ninstances = [\"web\"]\n"));
    check(
        &e,
        "sync_group[0].name",
        11,
        1,
        "required key `name` is missing",
    );
}

#[test]
fn sync_group_name_characters_are_restricted() {
    let e = one(&two(&group("edge/1", "\"web\"")));
    check(&e, "sync_group[0].name", 12, 8, "contains '/'");
}

#[test]
fn sync_group_names_are_unique() {
    let e = one(&two(&format!(
        "{}{}",
        group("edge", "\"web\""),
        group("edge", "\"db\"")
    )));
    check(
        &e,
        "sync_group[1].name",
        15,
        8,
        "`edge` is already the name of sync_group[0] (line 12)",
    );
}

#[test]
fn sync_group_instances_are_required() {
    let e = one(&two("[[sync_group]]\nname = \"edge\"\n"));
    check(
        &e,
        "sync_group[0].instances",
        11,
        1,
        "required key `instances` is missing",
    );
}

#[test]
fn sync_group_instances_not_empty() {
    let e = one(&two(&group("edge", "")));
    check(&e, "sync_group[0].instances", 13, 13, "the list is empty");
}

#[test]
fn sync_group_members_are_instances() {
    let e = one(&two(&group("edge", "\"web\", \"dns\"")));
    check(
        &e,
        "sync_group[0].instances[1]",
        13,
        21,
        "no [[instance]] is named `dns`",
    );
    assert_eq!(e.allowed, "the name of an [[instance]] table: `web`, `db`");
}

#[test]
fn sync_group_members_listed_once() {
    let e = one(&two(&group("edge", "\"web\", \"db\", \"web\"")));
    check(
        &e,
        "sync_group[0].instances[2]",
        13,
        27,
        "`web` is already listed as instances[0]",
    );
}

#[test]
fn an_instance_is_in_one_group() {
    let e = one(&two(&format!(
        "{}{}",
        group("edge", "\"web\""),
        group("core", "\"db\", \"web\"")
    )));
    check(
        &e,
        "sync_group[1].instances[1]",
        16,
        20,
        "instance `web` is already in sync_group[0] `edge` (line 13); it cannot also follow \
         sync_group[1] `core`",
    );
}

#[test]
fn sync_group_must_be_an_array_of_tables() {
    let e = one(&format!("sync_group = \"edge\"\n{}", inst(&[])));
    check(&e, "sync_group", 1, 14, "wrong type: string");
    assert_eq!(e.allowed, "one or more [[sync_group]] tables");
    // After a table header, a key belongs to that table.
    let e = one(&two("sync_group = \"edge\"\n"));
    check(
        &e,
        "instance[1].sync_group",
        11,
        1,
        "`sync_group` is a top-level table: start it with a [[sync_group]] line",
    );
}

#[test]
fn a_member_with_its_own_error_is_not_also_unknown() {
    let text = format!("{}{}", inst(&[("vrid", "0")]), group("edge", "\"web\""));
    let e = one(&text);
    check(&e, "instance[0].vrid", 4, 8, "0 is out of range");
    // When a name could not be read, any member may be that instance.
    let text = format!("{}{}", inst(&[("name", "5")]), group("edge", "\"web\""));
    let e = one(&text);
    check(&e, "instance[0].name", 2, 8, "wrong type");
}

#[test]
fn sync_group_unknown_key() {
    let e = one(&two(&format!(
        "{}instance = [\"web\"]\n",
        group("edge", "\"db\"")
    )));
    check(
        &e,
        "sync_group[0].instance",
        14,
        1,
        "did you mean `instances`?",
    );
}

#[test]
fn thousands_of_references_are_fast() {
    let mut text = String::new();
    for i in 0..2000 {
        let vrid = i % 255 + 1;
        text.push_str(&format!(
            "[[instance]]\nname = \"i{i}\"\ninterface = \"e{}\"\nvrid = {vrid}\n\
             virtual_addresses = [\"10.0.0.5\"]\ntrack = [{{ process = \"p\" }}]\n",
            i / 255
        ));
    }
    let members: Vec<String> = (0..4000).map(|i| format!("\"i{i}\"")).collect();
    text.push_str(&group("all", &members.join(", ")));
    let started = std::time::Instant::now();
    let errors = errs(&text);
    assert_eq!(errors.len(), MAX_LISTED_ERRORS + 1, "listed plus summary");
    assert!(
        errors[0]
            .problem
            .contains("no [[instance]] is named `i2000`")
    );
    assert!(
        errors[0].allowed.ends_with("and 1990 more"),
        "{}",
        errors[0]
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

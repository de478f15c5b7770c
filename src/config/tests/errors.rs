use super::*;

#[test]
fn display_names_file_place_key_problem_and_allowed() {
    let e = one(&inst(&[("vrid", "300")]));
    assert_eq!(
        e.to_string(),
        "t.toml:4:8: instance[0].vrid: 300 is out of range; allowed: an integer 1..=255"
    );
}

#[test]
fn unreadable_file_is_a_config_error() {
    let errors = load(Path::new("/nonexistent/vipd.toml")).expect_err("missing file");
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(e.line, None);
    assert!(e.problem.contains("cannot read"), "{e}");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/vipd.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn syntax_error_has_a_position() {
    let e = one("[[instance]]\nname = \"web\nvrid = 5\n");
    check(&e, "instance[0].name", 2, 12, "TOML syntax");
    assert!(e.allowed.contains('"'), "says what was expected: {e}");
}

#[test]
fn several_syntax_errors_are_reported() {
    let errors = errs("[[instance]]\nname = \"a\"\nvrid = = 5\n[[instance]]\nname = 'b' 'c'\n");
    assert_eq!(errors.len(), 3, "{errors:#?}");
    check(&errors[0], "instance[0].vrid", 3, 8, "extra `=`");
    check(&errors[2], "instance[1].name", 5, 12, "unexpected");
}

#[test]
fn duplicate_key_is_a_syntax_error_with_position() {
    let e = one("[[instance]]\nname = \"a\"\nname = \"b\"\n");
    check(&e, "instance[0].name", 3, 1, "already defined");
}

#[test]
fn error_cap_holds_for_unknown_keys_and_type_errors() {
    let text: String = (1..=150)
        .map(|i| {
            inst(&[
                ("name", &format!("\"n{i}\"")),
                ("vrid", &i.to_string()),
                ("advert_int", "1"),
                ("priority", "\"high\""),
            ])
        })
        .collect();
    let started = std::time::Instant::now();
    let errors = errs(&text);
    assert_eq!(errors.len(), MAX_LISTED_ERRORS + 1, "listed plus summary");
    let last = errors.last().map(|e| e.problem.clone()).unwrap_or_default();
    assert!(last.starts_with("200 more error(s) not listed"), "{last}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn thousands_of_errors_are_capped_and_fast() {
    let addrs: Vec<String> = (0..20_000).map(|i| format!("\"bad{i}\"")).collect();
    let text = inst(&[("virtual_addresses", &format!("[{}]", addrs.join(", ")))]);
    let started = std::time::Instant::now();
    let errors = errs(&text);
    assert_eq!(
        errors.len(),
        MAX_LISTED_ERRORS + 1,
        "listed errors plus the summary"
    );
    let last = errors.last().map(|e| e.problem.clone()).unwrap_or_default();
    assert!(last.contains("more error(s) not listed"), "{last}");
    // Positions come from a line index: 20k errors must not rescan the file each time.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn positions_from_the_line_index_count_characters() {
    let sink = Sink::new("ab\nçd = 1\n\nx", Path::new(FILE));
    assert_eq!(sink.line_col(0), Some((1, 1)));
    assert_eq!(sink.line_col(3), Some((2, 1)));
    assert_eq!(
        sink.line_col(6),
        Some((2, 3)),
        "ç is one character, two bytes"
    );
    assert_eq!(sink.line_col(12), Some((4, 1)));
    assert_eq!(sink.line_col(13), Some((4, 2)), "end of text");
    assert_eq!(sink.line_col(99), None);
}

#[test]
fn invalid_utf8_is_reported_with_its_position() {
    let dir = std::env::temp_dir().join(format!("vipd-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok();
    let path = dir.join("bad.toml");
    std::fs::write(&path, b"[global]\nrouter_id = \"a\xffb\"\n").ok();
    let errors = load(&path).err().unwrap_or_default();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (Some(2), Some(15)));
    assert!(errors[0].problem.contains("UTF-8"));
}

#[test]
fn nesting_beyond_the_parser_limit_points_at_the_deepest_key() {
    let deep = vec!["a"; 20_000].join(".");
    let text = format!("[global]\nrouter_id = \"x\"\n[{deep}]\n");
    let errors = errs(&text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].line, errors[0].column), (Some(3), Some(1)));
}

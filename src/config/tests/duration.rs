use super::*;

#[test]
fn durations_parse() {
    assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
    assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    assert_eq!(parse_duration("007ms"), Ok(Duration::from_millis(7)));
}

#[test]
fn durations_reject_bad_input() {
    for (input, fragment) in [
        ("", "empty"),
        ("100", "unit is missing"),
        ("1.5s", "fractions"),
        ("1,5s", "fractions"),
        ("-1s", "negative"),
        ("+1s", "does not start with a number"),
        (" 1s", "does not start with a number"),
        ("ms", "does not start with a number"),
        ("1 s", "no space"),
        ("1h", "unknown unit `h`"),
        ("1S", "unknown unit `S`"),
        ("1sec", "unknown unit `sec`"),
        ("1s ", "unknown unit `s `"),
        ("1m30s", "unknown unit `m30s`"),
        ("1e3ms", "unknown unit `e3ms`"),
        ("18446744073709551616ms", "too large"),
        ("307445734561825861m", "too large"),
    ] {
        match parse_duration(input) {
            Ok(d) => panic!("{input:?} parsed as {d:?}"),
            Err(e) => assert!(e.contains(fragment), "{input:?}: {e:?} lacks {fragment:?}"),
        }
    }
}

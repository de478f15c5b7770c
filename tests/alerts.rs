//! The shipped Prometheus alert rules (`conf/vipd-alerts.yml`) are valid and pass their own
//! tests (`conf/vipd-alerts.test.yml`), where promtool is installed (Debian: `prometheus`).
//! netns-tests/t_metrics.sh runs the same checks and fails without promtool.

use std::path::Path;
use std::process::Command;

fn promtool(args: &[&str]) -> Option<String> {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    let out = match Command::new("promtool")
        .args(args)
        .current_dir(conf)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("promtool not available ({e}): skipped");
            return None;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    Some(text)
}

#[test]
fn alert_rules_are_valid() {
    if let Some(out) = promtool(&["check", "rules", "vipd-alerts.yml"]) {
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

#[test]
fn alert_rules_pass_their_tests() {
    if let Some(out) = promtool(&["test", "rules", "vipd-alerts.test.yml"]) {
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

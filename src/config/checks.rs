//! Checks of values that several tables share: names, interface names, user and group names.

use crate::units::Family;

use super::MAX_IFNAME_LEN;
use super::MAX_NAME_LEN;

/// What a duration looks like, for type errors and unparsable durations.
pub(super) const A_DURATION: &str =
    "a whole number with a unit ms, s or m, e.g. \"100ms\", \"1s\", \"2m\"";

/// For prose; `Family`'s own `Display` is the lower-case form used in logs and JSON.
pub(super) fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

pub(super) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "contains {c:?}, which is not allowed (names appear in logs and JSON)"
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "is {} characters long, more than {MAX_NAME_LEN}",
            name.len()
        ));
    }
    Ok(())
}

/// The rules of the Linux kernel's `dev_valid_name()`.
pub(super) fn check_interface(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.len() > MAX_IFNAME_LEN {
        return Err(format!(
            "`{name}` is {} bytes long; Linux interface names have at most {MAX_IFNAME_LEN} \
             (IFNAMSIZ 16 with the terminating NUL)",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a valid interface name"));
    }
    if name.contains('/') {
        return Err(format!(
            "`{name}` contains '/', which Linux does not allow in interface names"
        ));
    }
    if name.contains(':') {
        return Err(format!(
            "`{name}` contains ':', which Linux does not allow in interface names (`eth0:1` \
             is an address label, not an interface)"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{name:?} contains whitespace or a control character, which Linux does not \
             allow in interface names"
        ));
    }
    Ok(())
}

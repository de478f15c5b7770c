//! The `[global]` table.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::errors::Sink;
use super::schema::RawTable;
use super::{DEFAULT_CONTROL_SOCKET, Global};

pub(super) const A_GLOBAL: &str = "a [global] table with router_id and control_socket";
pub(super) const A_ROUTER_ID: &str = "a non-empty string; default: the host name";
pub(super) const A_SOCKET: &str = "an absolute path; default \"/run/vipd/vipd.sock\"";
pub(super) const A_GROUP: &str = "a group name: 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting \
                       with '-'; default: none (root only)";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGlobal {
    router_id: Option<Spanned<String>>,
    control_socket: Option<Spanned<String>>,
    control_group: Option<Spanned<String>>,
}

/// `router_id_broken`: `[global]` or its `router_id` had the wrong type (already reported).
pub(super) fn validate_global(
    raw: Option<RawTable<RawGlobal>>,
    router_id_broken: bool,
    sink: &mut Sink<'_>,
) -> Option<Global> {
    let (router_id, control_socket, control_group, span) = match raw {
        Some(g) => {
            let span = g.raw.span();
            let g = g.raw.into_inner();
            (g.router_id, g.control_socket, g.control_group, Some(span))
        }
        None => (None, None, None, None),
    };
    let before = sink.error_count();
    let router_id = match router_id {
        Some(id) if id.get_ref().is_empty() => {
            sink.push(
                Some(id.span()),
                "global.router_id",
                "must not be empty",
                A_ROUTER_ID,
            );
            String::new()
        }
        Some(id) => id.into_inner(),
        // Reported as a wrong type; the host name would not be used.
        None if router_id_broken => String::new(),
        None => match host_name() {
            Some(host) => host,
            None => {
                sink.push(
                    span,
                    "global.router_id",
                    "is not set and the host name could not be read",
                    A_ROUTER_ID,
                );
                String::new()
            }
        },
    };
    let control_socket = match control_socket {
        Some(p) if !Path::new(p.get_ref()).is_absolute() => {
            sink.push(
                Some(p.span()),
                "global.control_socket",
                format!("`{}` is not an absolute path", p.get_ref()),
                A_SOCKET,
            );
            PathBuf::new()
        }
        Some(p) => PathBuf::from(p.into_inner()),
        None => PathBuf::from(DEFAULT_CONTROL_SOCKET),
    };
    let control_group = control_group.and_then(|g| match check_group(g.get_ref()) {
        Ok(()) => Some(g.into_inner()),
        Err(problem) => {
            sink.push(Some(g.span()), "global.control_group", problem, A_GROUP);
            None
        }
    });
    (sink.error_count() == before).then_some(Global {
        router_id,
        control_socket,
        control_group,
    })
}

fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(buf.get(..end)?).into_owned();
    (!name.is_empty()).then_some(name)
}

/// The portable user and group name characters (POSIX, as shadow-utils accepts them).
fn check_group(name: &str) -> Result<(), String> {
    let portable = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || name.len() > 32 {
        return Err(format!("`{name}` is not 1 to 32 characters long"));
    }
    if name.starts_with('-') || !name.chars().all(portable) {
        return Err(format!("`{name}` is not a valid group name"));
    }
    Ok(())
}

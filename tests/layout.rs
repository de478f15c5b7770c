//! The protocol core stays sans-IO: no file under `src/protocol/` may name an I/O crate or
//! an I/O part of std. A use of any of these is a design change, not a shortcut.

use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &[
    "tokio",
    "libc",
    "nix::",
    "socket2",
    "rtnetlink",
    "netlink_",
    "std::fs",
    "std::process",
    "std::thread",
    "std::env",
    "std::net::TcpStream",
    "std::net::UdpSocket",
    "std::os::",
    "Instant",
    "SystemTime",
    "tracing",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn protocol_core_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/protocol");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        files.len() >= 5,
        "found only {files:?} under {}",
        root.display()
    );
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in FORBIDDEN.iter().filter(|w| code.contains(*w)) {
                offences.push(format!(
                    "{}:{}: `{word}`: {}",
                    file.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "I/O in the protocol core:\n{}",
        offences.join("\n")
    );
}

/// The keepalived importer is pure code apart from reading files, and reads them only through
/// `src/import/files.rs`: no agent, no protocol core, no sockets, processes or environment.
#[test]
fn importer_reads_files_and_does_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/import");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() >= 5, "found only {files:?}");
    let forbidden = [
        "crate::agent",
        "tokio",
        "libc",
        "socket",
        "std::process",
        "std::thread",
        "std::env",
        "std::net::TcpStream",
        "std::net::UdpSocket",
        "Instant",
        "SystemTime",
        "tracing",
    ];
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let reads_files = file.ends_with("files.rs");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let file_io = !reads_files && (code.contains("std::fs") || code.contains("std::io"));
            // `nix::` as a path of its own, not the end of `std::os::unix::`.
            let nix = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .any(|w| w.starts_with("nix::"));
            let found = forbidden
                .iter()
                .find(|w| code.contains(*w))
                .or(nix.then_some(&"nix::"));
            if let Some(word) = found.copied().or(file_io.then_some("std::fs/std::io")) {
                offences.push(format!(
                    "{}:{}: `{word}`: {}",
                    file.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "I/O in the importer:\n{}",
        offences.join("\n")
    );
}

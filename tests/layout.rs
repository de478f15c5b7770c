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

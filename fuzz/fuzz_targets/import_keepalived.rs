//! cargo-fuzz target `import_keepalived`: see fuzz/harness.rs for the input layout (up to four
//! keepalived files separated by `%%` lines) and fuzz/README.md.
//!
//! Run (stable toolchain; RUSTC_BOOTSTRAP=1 lets stable accept the -Z flags cargo-fuzz passes):
//!   cd fuzz && mkdir -p /tmp/new-import && RUSTC_BOOTSTRAP=1 cargo fuzz run import_keepalived \
//!       /tmp/new-import corpus/import_keepalived -- -max_total_time=600 -max_len=8192
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::run_import(data);
});

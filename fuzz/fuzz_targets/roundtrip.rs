//! cargo-fuzz target `roundtrip`: see fuzz/harness.rs for the input layout and fuzz/README.md.
//!
//! Run (stable toolchain; RUSTC_BOOTSTRAP=1 lets stable accept the -Z flags cargo-fuzz passes;
//! new finds go to the scratch dir, merge them back as fuzz/README.md says):
//!   cd fuzz && mkdir -p /tmp/new-roundtrip && RUSTC_BOOTSTRAP=1 cargo fuzz run roundtrip \
//!       /tmp/new-roundtrip corpus/roundtrip -- -max_total_time=600 -max_len=8192
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::run_roundtrip(data);
});

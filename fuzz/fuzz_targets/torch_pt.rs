//! Fuzz target: `maskface_fuzz::Reader::TorchPt` (see `src/readers.rs`).
#![no_main]

use maskface_fuzz::{check, Reader};

#[global_allocator]
static ALLOC: maskface_fuzz::Alloc = maskface_fuzz::Alloc::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check(&ALLOC, Reader::TorchPt, data);
});

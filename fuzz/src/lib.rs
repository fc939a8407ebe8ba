//! Fuzz targets for every reader of outside files (`fuzz/README.md`): the
//! readers themselves are in [`readers`] (shared with the stable replay
//! test), [`check`] runs one and holds it to the allocation rule.

#[path = "readers.rs"]
pub mod readers;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use readers::{Reader, ALLOCATION_ALLOWANCE, ALLOCATION_FACTOR};

/// The global allocator the targets install: counts the largest single
/// allocation (across threads) since it was last asked.
pub type Alloc = accounting_allocator::AccountingAlloc;

/// A scratch folder for readers that take a path, one per process, reused.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("maskface-fuzz-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("scratch folder {}: {e}", dir.display());
        }
        dir
    })
}

/// Runs `reader` over `data`: a panic inside it, or a single allocation
/// over [`Reader::allocation_bound`], fails the fuzz target. With
/// `MASKFACE_FUZZ_VERBOSE` set, each input's result is printed.
pub fn check(alloc: &Alloc, reader: Reader, data: &[u8]) {
    let dir = scratch();
    alloc.count();
    let result = reader.run(data, dir);
    if std::env::var_os("MASKFACE_FUZZ_VERBOSE").is_some() {
        eprintln!("{}: {} bytes: {result:?}", reader.name(), data.len());
    }
    let largest = alloc.count().since_last.largest_alloc;
    let bound = reader.allocation_bound(data.len());
    assert!(
        largest <= bound,
        "{}: an allocation of {largest} bytes for {} input bytes (bound {bound})",
        reader.name(),
        data.len()
    );
}

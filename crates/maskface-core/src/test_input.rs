//! The rule every test suite of the workspace follows for inputs it does
//! not hold itself (the models from `scripts/setup.sh`, the LFW copy).

/// Whether a test's input is there (`present`). A missing input fails the
/// test, with a message naming `what` is missing and `how` to get it, so
/// that a run without the data never counts its tests as passed. With
/// `MASKFACE_SKIP_MISSING=1` (and never in CI, `CI=true`) the test is
/// skipped instead: this returns `false` and prints a `SKIPPED` note on
/// stderr.
///
/// ```
/// assert!(maskface_core::require_test_input("models/", "run scripts/setup.sh", true));
/// ```
///
/// # Panics
///
/// When the input is missing and skipping is not asked for (or in CI): a
/// test that cannot run must not pass.
#[allow(clippy::panic)]
pub fn require_test_input(what: &str, how: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let skip = std::env::var("MASKFACE_SKIP_MISSING").is_ok_and(|v| v == "1");
    if ci || !skip {
        panic!(
            "{what} not found{}: {how}, or set MASKFACE_SKIP_MISSING=1 to skip \
             the tests that need it",
            if ci { " in CI" } else { "" }
        );
    }
    eprintln!("SKIPPED (MASKFACE_SKIP_MISSING=1): {what} not found");
    false
}

//! The commands' `report.json` files.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// Writes `value` as indented JSON to `path`, atomically.
pub fn write(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    maskface_core::write_atomic(path, |w| w.write_all(text.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))
}

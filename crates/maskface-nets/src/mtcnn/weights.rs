//! Loading facenet-pytorch's state dicts (`pnet.pt`, `rnet.pt`, `onet.pt`).
//!
//! These are legacy (pre-zip) torch pickles whose tensors are stored with
//! non-contiguous strides. burn-store's PyTorch reader (pinned 0.22.1)
//! honours the strides (the test in `tests/mtcnn_weights.rs` checks every
//! tensor against an independent reader) and its adapter transposes `Linear`
//! weights from PyTorch's `[out, in]`. What is left here: PyTorch calls a
//! PReLU's slopes `weight`, burn calls them `alpha`; and a missing or
//! unexpected tensor must be an error naming the file.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, PytorchStore};

use crate::NetsError;

/// Loads a state dict into `module`, requiring every tensor of the module
/// to be present with its exact shape.
pub(crate) fn load_state_dict<M: Module + ModuleSnapshot>(
    module: &mut M,
    path: &Path,
    expected: &str,
) -> Result<(), NetsError> {
    let err = |reason: String| NetsError::Weights {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(err(format!(
            "file not found (expected {expected}; run scripts/setup.sh)"
        )));
    }
    let mut store = PytorchStore::from_file(path)
        .with_key_remapping(r"^(prelu\d+)\.weight$", "$1.alpha")
        .validate(true);
    let applied = module
        .load_from(&mut store)
        .map_err(|e| err(format!("{e} (expected {expected})")))?;
    if !applied.unused.is_empty() {
        return Err(err(format!(
            "tensors {:?} are not part of {expected}: is this the right file?",
            applied.unused
        )));
    }
    Ok(())
}

//! Loading PyTorch state dicts (`.pt`, `.pth`: the zip format of PyTorch
//! 1.6+ and the legacy pickles) into the networks, by parameter name.
//!
//! burn-store's PyTorch reader (pinned 0.22.1) honours non-contiguous
//! strides (the test in `tests/mtcnn_weights.rs` checks every tensor of
//! facenet-pytorch's legacy files against an independent reader) and its
//! adapter transposes `Linear` weights from PyTorch's `[out, in]` and
//! renames batch norms' `weight`/`bias`. What is left here: the key maps
//! for names that differ between the reference definitions and the burn
//! modules, the batch norms' `num_batches_tracked` counters (PyTorch's
//! bookkeeping, not weights), and making a missing, surplus or mis-shaped
//! tensor an error naming the file and the key.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, ModuleStore, PytorchStore};

use crate::NetsError;

/// A state-dict key PyTorch writes for every batch norm that holds no
/// weight: the number of training steps taken.
const BATCH_COUNTER: &str = ".num_batches_tracked";

/// Loads a state dict into `module`, requiring every tensor of the module
/// to be present with its exact shape and every tensor of the file (batch
/// counters aside) to be used; on any error `module` is left as it was. `key_map` rewrites the file's keys
/// (`(regex, replacement)` pairs, applied in order) before they are
/// matched; `expected` names the network in error messages.
pub(crate) fn load_state_dict<M: Module + ModuleSnapshot + Clone>(
    module: &mut M,
    path: &Path,
    key_map: &[(&str, &str)],
    expected: &str,
) -> Result<(), NetsError> {
    let err = |reason: String| NetsError::Weights {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(err(format!("file not found (expected {expected})")));
    }
    // Partial and unvalidated, so that every problem is collected and
    // reported in one line; the module is only replaced once all is well.
    let mut store = PytorchStore::from_file(path)
        .validate(false)
        .allow_partial(true);
    for &(from, to) in key_map {
        store = store.with_key_remapping(from, to);
    }
    let mut loaded = module.clone();
    let applied = loaded
        .load_from(&mut store)
        .map_err(|e| err(format!("{e} (expected {expected})")))?;
    let surplus: Vec<String> = applied
        .unused
        .iter()
        .filter(|key| !key.ends_with(BATCH_COUNTER))
        .cloned()
        .collect();
    let missing: Vec<String> = applied.missing.iter().map(|(key, _)| key.clone()).collect();
    let wrong: Vec<String> = applied.errors.iter().map(|e| e.to_string()).collect();
    let problems: Vec<String> = [
        ("wrong", wrong),
        ("missing", missing),
        ("not part of the network", surplus),
    ]
    .into_iter()
    .filter(|(_, keys)| !keys.is_empty())
    .map(|(what, keys)| format!("{} tensors {what}: {}", keys.len(), first_few(&keys)))
    .collect();
    if !problems.is_empty() {
        return Err(err(format!(
            "{} (expected {expected}: is this the right file?)",
            problems.join("; ")
        )));
    }
    *module = loaded;
    Ok(())
}

/// The first keys of a list, enough to recognise the file.
fn first_few(keys: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut text = keys[..keys.len().min(SHOWN)].join(", ");
    if keys.len() > SHOWN {
        text.push_str(&format!(", ... ({} more)", keys.len() - SHOWN));
    }
    text
}

/// The size of axis `axis` of the tensor `key` in the PyTorch file at
/// `path` (`None` when the file has no such tensor or axis): how many
/// classes a reference state dict's classifier has, before a network is
/// built to load it.
pub fn pytorch_dim(path: &Path, key: &str, axis: usize) -> Result<Option<usize>, NetsError> {
    let mut store = PytorchStore::from_file(path);
    let tensor = store.get_tensor(key).map_err(|e| NetsError::Weights {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(tensor.and_then(|t| t.shape.to_vec().get(axis).copied()))
}

use std::path::PathBuf;

/// Errors of `maskface-train`; each names the file, sample or parameter
/// concerned.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A parameter is outside its range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A training or validation set that cannot be used.
    #[error("{what}: {reason}")]
    Data {
        /// The set, manifest or sample.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A checkpoint that cannot be read or does not belong to this run.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file error from `maskface-core` (image, manifest, atomic write).
    #[error(transparent)]
    Core(#[from] maskface_core::CoreError),
    /// A network error (weights, input shape).
    #[error(transparent)]
    Nets(#[from] maskface_nets::NetsError),
    /// Drawing the loss curve failed.
    #[error(transparent)]
    Plot(#[from] maskface_plot::PlotError),
    /// Training diverged: the loss is not finite.
    #[error("training diverged in epoch {epoch}: loss {loss}")]
    Diverged {
        /// The epoch (from 1).
        epoch: usize,
        /// The loss seen.
        loss: f64,
    },
    /// Training on one of the devices a batch is split across failed (a
    /// panic in the backend: out of memory, a lost device).
    #[error("training on device {index} ({device}) failed: {reason}")]
    Device {
        /// The device's place in the list, from 0.
        index: usize,
        /// The device.
        device: String,
        /// The backend's message.
        reason: String,
    },
    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device failed: {0}")]
    Readback(String),
}

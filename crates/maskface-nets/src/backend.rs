use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::NetsError;

/// Which burn backend runs the networks.
///
/// `Flex` (burn's CPU backend) is always available; the others need the
/// cargo feature of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Backend {
    /// burn's `flex` CPU backend (the default).
    #[default]
    #[cfg_attr(feature = "clap", value(help = "burn's CPU backend"))]
    Flex,
    /// `wgpu`: Vulkan, Metal, DirectX or WebGPU, whichever the machine
    /// offers (feature `wgpu`).
    #[cfg_attr(
        feature = "clap",
        value(help = "GPU through wgpu (build with `--features wgpu`)")
    )]
    Wgpu,
    /// NVIDIA CUDA (feature `cuda`).
    #[cfg_attr(
        feature = "clap",
        value(help = "NVIDIA CUDA (build with `--features cuda`)")
    )]
    Cuda,
}

impl Backend {
    /// The backend's name as used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// The backend's default device; [`NetsError::Backend`] when this build
    /// lacks the backend's feature.
    pub fn device(&self) -> Result<Device, NetsError> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(burn::tensor::DeviceIndex::Default)),
            #[allow(unreachable_patterns)]
            other => Err(NetsError::Backend {
                name: other.name(),
                reason: format!("this build lacks the cargo feature `{}`", other.name()),
            }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = NetsError;
    fn from_str(s: &str) -> Result<Self, NetsError> {
        match s {
            "flex" | "cpu" => Ok(Backend::Flex),
            "wgpu" => Ok(Backend::Wgpu),
            "cuda" => Ok(Backend::Cuda),
            other => Err(NetsError::InvalidParameter {
                name: "backend",
                reason: format!("unknown backend `{other}` (flex, wgpu or cuda)"),
            }),
        }
    }
}

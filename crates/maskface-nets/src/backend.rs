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

    /// `count` devices of the backend, for data-parallel training: CUDA
    /// devices `0..count`, or wgpu's discrete GPUs `0..count`; on `flex`,
    /// burn's single CPU device `count` times, which runs the
    /// data-parallel code on the same cores (a test of that code, not a
    /// speed-up). One device is [`Backend::device`]'s.
    ///
    /// [`NetsError::InvalidParameter`] (`devices`) for 0, and for more CUDA
    /// devices than the machine has; [`NetsError::Backend`] when this
    /// build lacks the backend's feature.
    pub fn devices(&self, count: usize) -> Result<Vec<Device>, NetsError> {
        let one = self.device()?;
        match (count, self) {
            (0, _) => Err(NetsError::InvalidParameter {
                name: "devices",
                reason: "at least one device".into(),
            }),
            (1, _) => Ok(vec![one]),
            (_, Backend::Flex) => Ok(vec![one; count]),
            #[cfg(feature = "wgpu")]
            (_, Backend::Wgpu) => Ok((0..count)
                .map(|i| Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(i)))
                .collect()),
            #[cfg(feature = "cuda")]
            (_, Backend::Cuda) => {
                let found = Device::enumerate(burn::tensor::DeviceType::Cuda).len();
                if count > found {
                    return Err(NetsError::InvalidParameter {
                        name: "devices",
                        reason: format!("{count} CUDA devices asked for, {found} found"),
                    });
                }
                Ok((0..count)
                    .map(|i| Device::cuda(burn::tensor::DeviceIndex::new(i)))
                    .collect())
            }
            #[allow(unreachable_patterns)]
            (_, other) => Err(NetsError::Backend {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_gives_its_one_cpu_device_as_often_as_asked() {
        let devices = Backend::Flex.devices(2).unwrap();
        assert_eq!(devices, vec![Device::flex(), Device::flex()]);
        assert_eq!(Backend::Flex.devices(1).unwrap(), vec![Device::flex()]);
        let err = Backend::Flex.devices(0).unwrap_err();
        assert!(err.to_string().contains("`devices`"), "{err}");
    }
}

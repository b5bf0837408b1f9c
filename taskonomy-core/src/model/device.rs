//! Which dfdx device trains the networks: `Cpu` always, `Cuda` when built with the `cuda` feature.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use dfdx::tensor::Cpu;
#[cfg(feature = "cuda")]
pub use dfdx::tensor::Cuda;

/// A device choice, as given on the command line (`--device cpu|cuda`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// dfdx's CPU device (matrix products on all cores).
    #[default]
    Cpu,
    /// dfdx's CUDA device (needs the `cuda` feature and an NVIDIA GPU).
    Cuda,
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Cuda => "cuda",
        })
    }
}

impl FromStr for DeviceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceKind::Cpu),
            "cuda" => Ok(DeviceKind::Cuda),
            other => Err(format!(
                "unknown device `{other}`: expected `cpu` or `cuda`"
            )),
        }
    }
}

/// The CPU device.
///
/// dfdx's buffer cache stays off: it is not safe to use from several threads at once (a lookup and the
/// removal that follows it are separate critical sections), and the batch shards of a training step run
/// in parallel. Freshly allocated buffers are what the cache would have saved; binaries get the same
/// effect from a global allocator that keeps freed pages (the `taskonomy` command uses mimalloc), which
/// also serves the parallel shards without contention.
pub fn cpu() -> dfdx::tensor::Cpu {
    dfdx::tensor::Cpu::default()
}

/// The CUDA device `ordinal` with dfdx's buffer cache on.
///
/// cudarc 0.9 panics when the driver is missing or fails (sometimes inside a panic, which aborts the
/// process), so ask the driver first with calls that return errors; the command line does this before
/// calling here.
#[cfg(feature = "cuda")]
pub fn cuda(ordinal: usize) -> Result<dfdx::tensor::Cuda, String> {
    use dfdx::tensor::Cache;
    let dev = dfdx::tensor::Cuda::try_build(ordinal, 0).map_err(|e| match e {
        dfdx::tensor::CudaError::Driver(d) => format!("driver error {:?}", d.0),
        dfdx::tensor::CudaError::Blas(b) => format!("cuBLAS error {:?}", b.0),
        other => format!("{other:?}"),
    })?;
    dev.enable_cache();
    Ok(dev)
}

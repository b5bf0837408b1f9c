//! Opening the device the networks run on, for the stage subcommands.

use anyhow::bail;
use taskonomy_core::model::DeviceKind;
use taskonomy_core::train::fit::ShardDevice;

/// Work that runs on whichever device the user chose.
pub trait OnDevice {
    /// What the work returns.
    type Output;
    /// Does the work on `dev`.
    fn run<D: ShardDevice>(self, dev: &D) -> anyhow::Result<Self::Output>;
}

/// Opens the device `kind` and runs `work` on it.
pub fn dispatch<W: OnDevice>(kind: DeviceKind, work: W) -> anyhow::Result<W::Output> {
    match kind {
        DeviceKind::Cpu => work.run(&taskonomy_core::model::device::cpu()),
        DeviceKind::Cuda => on_cuda(work),
    }
}

#[cfg(feature = "cuda")]
fn on_cuda<W: OnDevice>(work: W) -> anyhow::Result<W::Output> {
    check_driver(0)?;
    let dev = taskonomy_core::model::device::cuda(0)
        .map_err(|e| anyhow::anyhow!("cannot open CUDA device 0: {e}"))?;
    work.run(&dev)
}

#[cfg(not(feature = "cuda"))]
fn on_cuda<W: OnDevice>(_: W) -> anyhow::Result<W::Output> {
    bail!("this build has no CUDA support: rebuild with `cargo build --release --features cuda`")
}

/// Asks the CUDA driver for device `ordinal` with calls that return errors: cudarc 0.9 panics (and can
/// abort) when the driver is missing, so this runs before it is touched.
#[cfg(feature = "cuda")]
#[allow(unsafe_code)]
fn check_driver(ordinal: usize) -> anyhow::Result<()> {
    use cudarc::driver::sys::{self, CUresult};
    // SAFETY: plain driver-API calls with valid out-pointers; they only report status.
    unsafe {
        let r = sys::cuInit(0);
        if r != CUresult::CUDA_SUCCESS {
            bail!("the CUDA driver did not start (cuInit: {r:?}); is an NVIDIA GPU and driver present?");
        }
        let mut n: std::ffi::c_int = 0;
        let r = sys::cuDeviceGetCount(&mut n);
        if r != CUresult::CUDA_SUCCESS {
            bail!("cannot count CUDA devices (cuDeviceGetCount: {r:?})");
        }
        if usize::try_from(n).unwrap_or(0) <= ordinal {
            bail!("CUDA device {ordinal} requested, {n} visible");
        }
    }
    Ok(())
}

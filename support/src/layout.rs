//! Channels-last memory layout for CPU training.
//!
//! libtorch stores images `[N, C, H, W]` plane by plane, but its CPU convolutions (oneDNN)
//! work on channel-interleaved blocks, so every convolution of a plane-by-plane tensor
//! first reorders its input, output and gradients, and reorders them back afterwards: a
//! large part of an FMP training step, as oneDNN's trace (`ONEDNN_VERBOSE=1`) shows
//! (docs/speed-history.md, "Measurements behind the code's comments"). A channels-last
//! tensor keeps the same shape with the channels innermost in memory (`[N, H, W, C]`
//! strides); convolutions, BatchNorm and elementwise ops then keep that layout end to
//! end, and the FMP kernel has a channels-last version.
//!
//! [`flat_values`] reads any tensor, whatever its layout and device, as one plain vector.

use anyhow::{Context, Result};
use tch::{Device, Kind, Tensor};

/// The values of `t` in logical (row-major) order, on the CPU, converted to `T`: how the
/// figures and the HOG descriptor read a tensor, whatever its layout, kind or device.
pub(crate) fn flat_values<T: tch::kind::Element + Copy>(t: &Tensor) -> Result<Vec<T>> {
    let flat = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(T::KIND)
        .contiguous()
        .view([-1]);
    Vec::<T>::try_from(&flat).context("cannot read the tensor's values")
}

/// True for a 4-D tensor stored channels-last and not also plane by plane (one channel
/// or a 1x1 grid are both at once; those count as plane by plane).
pub fn is_channels_last(x: &Tensor) -> bool {
    x.dim() == 4 && !x.is_contiguous() && x.permute([0, 2, 3, 1]).is_contiguous()
}

/// `x` stored channels-last (with autograd), if it is a 4-D `f32` CPU tensor that is not
/// already; otherwise `x` itself. Other devices keep their layout: the GPU path of the FMP
/// layer reads planes.
///
/// Call it on a convolution's input: the convolution then writes its output channels-last
/// too, and converting the input (one or a few channels) is cheaper than converting the
/// output (many). A one-channel tensor is both layouts at once, and libtorch reads its
/// plain strides as plane by plane; for it this is a free view with the channels-last
/// strides.
pub fn to_channels_last_on_cpu(x: &Tensor) -> Tensor {
    if x.device() != Device::Cpu || x.kind() != Kind::Float || x.dim() != 4 || is_channels_last(x) {
        return x.shallow_clone();
    }
    let s = x.size();
    if s[1] == 1 {
        return x
            .contiguous()
            .as_strided(s.as_slice(), [s[2] * s[3], 1, s[3], 1], None);
    }
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

//! Layer-sequential unit-variance initialisation (after Mishkin and Matas, "All you need is
//! a good init", ICLR 2016, without their orthogonal start), for nets without BatchNorm.
//!
//! Why: a fixed draw of the weights keeps the variance through a deep net without
//! BatchNorm only by luck. Kaiming's keeps it through a convolution and a ReLU, but not
//! through max-pooling, which keeps the largest of 4 to 9 values: in Graham's MNIST net the
//! activations grow about 1.7x per block, the logits start with a standard deviation near
//! 35, the first loss is near 53 instead of ln 10, and SGD diverges at a learning rate of
//! 0.01 (Graham's is 0.003). PyTorch's draw, the models' own ([`super::init`]), is `sqrt 6`
//! times narrower, and there the logits start near 0.05 instead. Dividing each layer's
//! weights and bias by the standard deviation of its output, from the input up, starts
//! every layer near unit variance whichever draw it started from.

use super::Model;
use anyhow::{Result, ensure};
use tch::Tensor;

/// Rescales the parameters of `model`'s layers, in forward order, so that each layer that
/// has parameters gives outputs of standard deviation 1 on `batch` in training mode.
///
/// One pass is exact for layers whose output scales with their parameters: a convolution
/// with its bias, followed by max-pooling, a leaky ReLU or dropout (the FMP nets without
/// BatchNorm). The output is divided by the same factor instead of being computed again,
/// so every random draw (dropout, pooling regions) happens once.
pub(crate) fn rescale_to_unit_variance(model: &dyn Model, batch: &Tensor) -> Result<()> {
    tch::no_grad(|| {
        let mut x = batch.shallow_clone();
        for layer in model.layers() {
            let y = layer.forward(&x, true);
            if layer.parameters.is_empty() {
                x = y;
                continue;
            }
            let std = y.std(true).double_value(&[]);
            ensure!(
                std.is_finite() && std > 0.0,
                "cannot scale layer {:?} to unit variance: its output's standard deviation \
                 is {std} on the calibration batch",
                layer.name
            );
            for parameter in &layer.parameters {
                let _ = parameter.shallow_clone().g_mul_scalar_(1.0 / std);
            }
            x = y / std;
        }
        Ok(())
    })
}

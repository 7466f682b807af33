//! Convolutions and fully connected layers that start as PyTorch's do.
//!
//! Why: the course's nets are PyTorch's `nn.Conv2d` and `nn.Linear`, which draw weights and
//! biases from `U(-1/sqrt(F), 1/sqrt(F))`, `F` the number of inputs of one output (for a
//! convolution, input channels per group times the kernel's area). tch's `nn::conv2d` and
//! `nn::linear` draw weights from Kaiming's uniform with the ReLU gain, `sqrt 6` times
//! wider, and start convolution biases at 0. Adam's first steps have a fixed size, so on
//! weights that much wider they change the net less, and the course's FMP net learned
//! visibly slower in its first hundred steps from tch's start than from PyTorch's
//! (docs/recipe-measurements.md). Starting the same way also makes a run here and the
//! course's PyTorch comparable from the first step.

use tch::nn::{self, ConvConfig, Init, LinearConfig};

/// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, PyTorch's default for weights and biases.
fn pytorch_uniform(fan_in: i64) -> Init {
    let bound = 1.0 / (fan_in as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// A `k x k` convolution as `nn::conv2d` builds it (stride, padding and groups from
/// `config`), with weights and bias drawn as PyTorch's `nn.Conv2d` draws them.
pub(crate) fn conv2d(
    vs: nn::Path,
    inputs: i64,
    outputs: i64,
    k: i64,
    config: ConvConfig,
) -> nn::Conv2D {
    let init = pytorch_uniform(inputs / config.groups * k * k);
    let config = ConvConfig {
        ws_init: init,
        bs_init: init,
        ..config
    };
    nn::conv2d(vs, inputs, outputs, k, config)
}

/// A fully connected layer with weights and bias drawn as PyTorch's `nn.Linear` draws them.
pub(crate) fn linear(vs: nn::Path, inputs: i64, outputs: i64) -> nn::Linear {
    let init = pytorch_uniform(inputs);
    let config = LinearConfig {
        ws_init: init,
        bs_init: Some(init),
        bias: true,
    };
    nn::linear(vs, inputs, outputs, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    /// Checks that `weights` and `bias` look drawn from `U(-bound, bound)`: nothing
    /// outside, the largest values near the bound, and the weights' standard deviation
    /// `bound / sqrt 3` (tch's Kaiming draw is `sqrt 6` times wider; a zero bias fails too).
    fn assert_uniform_within(weights: &Tensor, bias: &Tensor, bound: f64) {
        let largest = |t: &Tensor| t.abs().max().to_kind(Kind::Double).double_value(&[]);
        let (w, b) = (largest(weights), largest(bias));
        assert!(
            w <= bound && w > 0.99 * bound,
            "weights up to {w}, bound {bound}"
        );
        assert!(
            b <= bound && b > 0.5 * bound,
            "bias up to {b}, bound {bound}"
        );
        let std = weights.to_kind(Kind::Double).std(true).double_value(&[]);
        let expected = bound / 3f64.sqrt();
        assert!(
            (std / expected - 1.0).abs() < 0.05,
            "std {std}, expected {expected}"
        );
    }

    #[test]
    fn a_convolution_starts_as_pytorchs_conv2d() {
        let vs = nn::VarStore::new(Device::Cpu);
        let grouped = ConvConfig {
            groups: 2,
            ..Default::default()
        };
        // 64 inputs in 2 groups of 32, 3x3: each output reads 288 values.
        let conv = conv2d(vs.root() / "c", 64, 128, 3, grouped);
        let bias = conv.bs.as_ref().expect("a bias");
        assert_uniform_within(&conv.ws, bias, 1.0 / 288f64.sqrt());
    }

    #[test]
    fn a_linear_layer_starts_as_pytorchs_linear() {
        let vs = nn::VarStore::new(Device::Cpu);
        let fc = linear(vs.root() / "fc", 400, 300);
        assert_uniform_within(&fc.ws, fc.bs.as_ref().expect("a bias"), 1.0 / 20.0);
    }
}

//! The fully connected baseline the chapter starts from: `3072-1024-512-10` on CIFAR-10.
//!
//! It has 3,072·1,024 + 1,024 + 1,024·512 + 512 + 512·10 + 10 = 3,676,682 parameters and
//! reaches about 55 % test accuracy: the wall that motivates convolutions.

use super::Model;
use super::init;
use super::layers::{Expects, Layer, forward_by_layers, weights_and_bias};
use crate::data::batches::pad_to;
use anyhow::{Result, bail};
use tch::nn;

/// Sizes of the fully connected net.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FcnnConfig {
    pub in_channels: i64,
    /// Side of the square input; smaller images are zero-padded to it (MNIST 28 -> 32).
    pub side: i64,
    /// Hidden layer widths, each followed by a ReLU.
    pub hidden: Vec<i64>,
    pub classes: i64,
}

impl Default for FcnnConfig {
    fn default() -> Self {
        Self::cifar10()
    }
}

impl FcnnConfig {
    /// The course's CIFAR-10 baseline, `3072-1024-512-10`.
    pub fn cifar10() -> Self {
        FcnnConfig {
            in_channels: 3,
            side: 32,
            hidden: vec![1024, 512],
            classes: 10,
        }
    }
}

/// A multilayer perceptron on flattened images.
#[derive(Debug)]
pub struct Fcnn {
    config: FcnnConfig,
    dense: Vec<nn::Linear>,
}

impl Fcnn {
    /// Builds the layers under `vs` as `fc1`, `fc2`, ...
    pub fn new(vs: &nn::Path, config: FcnnConfig) -> Result<Self> {
        if config.in_channels < 1 || config.side < 1 || config.classes < 1 {
            bail!(
                "Fcnn needs positive in_channels, side and classes, got {}, {}, {}",
                config.in_channels,
                config.side,
                config.classes
            );
        }
        if let Some(w) = config.hidden.iter().find(|&&w| w < 1) {
            bail!("Fcnn hidden widths must be positive, got {w}");
        }
        let inputs = config.in_channels * config.side * config.side;
        let widths: Vec<i64> = std::iter::once(inputs)
            .chain(config.hidden.iter().copied())
            .chain([config.classes])
            .collect();
        let dense = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| init::linear(vs / format!("fc{}", i + 1), w[0], w[1]))
            .collect();
        Ok(Fcnn { config, dense })
    }
}

forward_by_layers!(Fcnn);

impl Model for Fcnn {
    fn spec(&self) -> Option<super::ModelSpec> {
        Some(super::ModelSpec::Fcnn(self.config.clone()))
    }

    fn input_shape(&self) -> (i64, i64) {
        (self.config.in_channels, self.config.side)
    }

    fn layers(&self) -> Vec<Layer<'_>> {
        let (c, side) = self.input_shape();
        let mut out = vec![Layer::new(
            format!("pad + flatten to {}", c * side * side),
            Expects::at_most(c, side),
            vec![],
            move |x, _| pad_to(x, side).flatten(1, -1),
        )];
        let last = self.dense.len() - 1;
        for (i, fc) in self.dense.iter().enumerate() {
            let (outputs, inputs) = (fc.ws.size()[0], fc.ws.size()[1]);
            let relu = i < last;
            let name = format!(
                "fc{} {inputs} -> {outputs}{}",
                i + 1,
                if relu { " + ReLU" } else { "" }
            );
            out.push(Layer::new(
                name,
                Expects::Features(inputs),
                weights_and_bias(&fc.ws, &fc.bs),
                move |x, _| {
                    let y = x.apply(fc);
                    if relu { y.relu() } else { y }
                },
            ));
        }
        out
    }
}

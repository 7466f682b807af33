//! The chapter's models: the FMP nets (`fmp_net.rs`), LeNet-5 (`lenet.rs`), the fully
//! connected baseline (`fcnn.rs`), `summary.rs`, the per-layer parameter table,
//! `unit_variance.rs`, the rescaled start of the FMP nets without BatchNorm, and `init.rs`,
//! the convolutions and dense layers every model builds, started as PyTorch starts them.
//!
//! Every model implements [`Model`], which is what training, evaluation and the CLI need
//! beyond `ModuleT`: the input it expects, its loss, whether it is random at test time, and
//! its list of named layers (`layers.rs`), from which the forward pass, the parameter table
//! and the debug pass are all run. `registry.rs` names the models; `spec.rs` describes a
//! net exactly, and builds it: `ModelSpec::preset(name)?.with_io(c, k).build(vs)`.

pub mod fcnn;
pub mod fmp_net;
pub mod init;
pub mod layers;
pub mod leaky_dropout;
pub mod lenet;
pub mod own;
pub mod registry;
mod spec;
pub mod summary;
// The nets' building blocks are tested from inside the crate, with the tests under
// support/tests/unit/.
#[cfg(test)]
#[path = "../../tests/unit/models/mod.rs"]
mod tests;
pub mod unit_variance;

pub use fcnn::{Fcnn, FcnnConfig};
pub use fmp_net::{Dropout, FmpConfig, FmpNet};
pub use layers::{Expects, Layer};
pub use lenet::{LeNet5, LeNet5Config, LeNetVariant};
pub use own::OwnNet;
pub use registry::MODEL_NAMES;
pub use spec::ModelSpec;
pub use summary::{debug_forward, summary};

use crate::data::{BatchOpts, Dataset, PixelRange};
use anyhow::{Result, bail};
use tch::nn::{self, ModuleT};
use tch::{Device, Tensor};

/// The number of trainable values in `vs` (LeNet-5's fixed RBF bitmaps are not trainable,
/// so they do not count).
pub fn parameter_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// What training and evaluation need from a model beyond its forward pass.
pub trait Model: ModuleT {
    /// `(channels, side)` of the square input the model expects. Batches are zero-padded
    /// to `side`; a smaller input is a clear error, not a libtorch backtrace.
    fn input_shape(&self) -> (i64, i64);

    /// Training loss of a forward output against `i64` labels. Cross-entropy by default;
    /// LeNet-5's RBF output has its own.
    fn loss(&self, output: &Tensor, labels: &Tensor) -> Tensor {
        output.cross_entropy_for_logits(labels)
    }

    /// Class scores where larger means more likely, to turn into probabilities with a
    /// softmax (for repeated-pass averaging) or an argmax (for predictions).
    fn scores(&self, output: &Tensor) -> Tensor {
        output.shallow_clone()
    }

    /// True when two evaluation passes can differ (FMP draws new regions every pass),
    /// so that averaging repeated passes is worth the time.
    fn random_at_test_time(&self) -> bool {
        false
    }

    /// The model as named layers in forward order, for [`summary`] and [`debug_forward`]:
    /// run in order they compute what `forward_t` computes (a test checks every model).
    fn layers(&self) -> Vec<Layer<'_>>;

    /// `forward_t` with every layer's input shape checked first, so that a batch of the
    /// wrong channels or size is an error naming the layer, not a libtorch panic. Use it
    /// where the input comes from the user (training and evaluation loops).
    fn try_forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        layers::try_run(&self.layers(), xs, train)
    }

    /// Where the model wants black and white pixels to land, if it fixes that itself (the
    /// 1998 LeNet-5 does); `None` normalises with the data set's mean and standard
    /// deviation, as the course's `Normalize` does.
    fn pixel_range(&self) -> Option<PixelRange> {
        None
    }

    /// Batches of `data` as this model takes them: normalised its way and padded to its
    /// side (with the background when it fixes its pixel range). Training, evaluation and
    /// the benchmarks all make their batches from this.
    fn batch_opts(&self, data: &Dataset, batch_size: usize, device: Device) -> BatchOpts {
        let mut opts = BatchOpts {
            pad_to: Some(self.input_shape().1),
            ..BatchOpts::new(data, batch_size, device)
        };
        if let Some(range) = self.pixel_range() {
            let (mean, std) = range.mean_std();
            opts.mean = vec![mean; data.mean.len()];
            opts.std = vec![std; data.std.len()];
            opts.pad_with_black = true;
        }
        opts
    }

    /// `(parameter, second derivative)` for every trainable tensor: the diagonal
    /// Gauss-Newton curvature of the loss averaged over the images `xs`, for stochastic
    /// diagonal Levenberg-Marquardt ([`crate::train::Optimizer::Sdlm`]). Only the 1998
    /// LeNet-5 has it, as its paper trained with it.
    fn diagonal_curvature(&self, xs: &Tensor) -> Result<Vec<(Tensor, Tensor)>> {
        let _ = xs;
        bail!(
            "this model has no curvature estimate, so it cannot train with SDLM (stochastic \
             diagonal Levenberg-Marquardt, the 1998 LeNet-5's optimizer); use Adam or SGD, or \
             the model lenet5-classic"
        )
    }

    /// The model's full configuration, which `fit` records with the run so that the net
    /// can be built again; `None` for a model of your own.
    fn spec(&self) -> Option<ModelSpec> {
        None
    }
}

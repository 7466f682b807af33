//! The chapter's models: the FMP nets (`fmp_net.rs`), LeNet-5 (`lenet.rs`), the fully
//! connected baseline (`fcnn.rs`), and `summary.rs`, the per-layer parameter table.
//!
//! Every model implements [`Model`], which is what training, evaluation and the CLI need
//! beyond `ModuleT`: the input it expects, its loss, and whether it is random at test time.

use tch::Tensor;
use tch::nn::ModuleT;

/// The model names used everywhere: CLI, notebooks, run folders.
pub const MODEL_NAMES: [&str; 7] = [
    "fcnn",
    "lenet5-classic",
    "lenet5-modern",
    "fmp-mnist",
    "fmp-cifar10",
    "fmp-cifar10-large",
    "fmp-tiny",
];

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
}

//! LeNet-5 in two versions: the 1998 paper's (`classic.rs`, with its RBF output in
//! `rbf.rs`) and Rosebrock's modern ReLU + max-pooling version (here).
//!
//! | variant | input | body | output | parameters |
//! |---|---|---|---|---|
//! | classic | 32x32 | C1-S2-C3(partial)-S4-C5-F6, scaled tanh | RBF to 7x12 bitmaps | 60,000 |
//! | modern | 28x28 | conv 20 - pool - conv 50 - pool - FC 500 | FC 10 + softmax | 1,256,080 |

mod classic;
mod rbf;

pub use classic::C3_TABLE;
use rbf::DIGITS;
use rbf::rbf_loss;
pub use rbf::{BITMAP_HEIGHT, BITMAP_WIDTH, bitmap_targets};

use super::Model;
use super::init;
use super::layers::{self, Expects, Layer, forward_by_layers, weights_and_bias};
use crate::data::PixelRange;
use crate::data::batches::pad_to;
use crate::layout::to_channels_last_on_cpu;
use anyhow::{Result, bail};
use classic::Classic;
use tch::Tensor;
use tch::nn::{self, ConvConfig};

/// Which LeNet-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeNetVariant {
    /// LeCun et al. 1998: 32x32 input, scaled tanh, trainable subsampling, partial C3,
    /// RBF output.
    Classic,
    /// Rosebrock 2016: 28x28 input, ReLU, max-pooling, dense layers, softmax.
    Modern,
}

/// The LeNet-5 configuration.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeNet5Config {
    pub variant: LeNetVariant,
    pub in_channels: i64,
    pub classes: i64,
    /// The constant `j` of the RBF loss `y_D + log(exp(-j) + sum_i exp(-y_i))` (classic
    /// only): the distance below which a wrong class is still pushed away.
    pub rbf_j: f64,
    /// The 1998 paper's initialisation and input convention (classic only). Each can be
    /// switched off to measure what it buys; a run recorded before they existed had
    /// neither.
    #[serde(default)]
    pub paper: PaperDetails,
}

/// Two details of LeCun et al. (1998) that the architecture alone does not fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PaperDetails {
    /// Every weight and bias drawn from `U(-2.4/F, 2.4/F)`, `F` the fan-in of its unit
    /// (paper, appendix A), so that the units start in the squashing's linear range. Off:
    /// PyTorch's default, `U(-1/sqrt F, 1/sqrt F)` ([`crate::models::init`]): 2x wider
    /// for C1, 8x for C5.
    pub lecun_init: bool,
    /// Pixels scaled so that the background is -0.1 and the ink 1.175 (mean about 0,
    /// variance about 1), and the 28x28 digit padded to 32x32 with background. Off: the
    /// data set's mean/std normalisation, padded with zeros (brighter than background).
    pub paper_input: bool,
}

impl PaperDetails {
    /// Both details, as in the paper.
    pub const ALL: PaperDetails = PaperDetails {
        lecun_init: true,
        paper_input: true,
    };
}

/// The pixel values of the 1998 paper's input: background (pixel 0) and ink (pixel 1).
pub(crate) const PAPER_PIXELS: PixelRange = PixelRange {
    background: -0.1,
    ink: 1.175,
};

impl Default for LeNet5Config {
    fn default() -> Self {
        Self::classic()
    }
}

impl LeNet5Config {
    /// The 1998 network on 1-channel digits.
    pub fn classic() -> Self {
        LeNet5Config {
            variant: LeNetVariant::Classic,
            in_channels: 1,
            classes: 10,
            rbf_j: 1.0,
            paper: PaperDetails::ALL,
        }
    }

    /// Rosebrock's modern version on 1-channel 28x28 digits.
    pub fn modern() -> Self {
        LeNet5Config {
            variant: LeNetVariant::Modern,
            ..Self::classic()
        }
    }
}

#[derive(Debug)]
enum Body {
    Classic(Classic),
    Modern(Modern),
}

/// LeNet-5, classic or modern (see [`LeNet5Config`]).
#[derive(Debug)]
pub struct LeNet5 {
    config: LeNet5Config,
    body: Body,
}

impl LeNet5 {
    /// Builds the variant `config` names under `vs`.
    ///
    /// The classic output compares against ten digit bitmaps, so it supports at most 10
    /// classes.
    pub fn new(vs: &nn::Path, config: LeNet5Config) -> Result<Self> {
        if config.in_channels < 1 || config.classes < 1 {
            bail!(
                "LeNet-5 needs positive in_channels and classes, got {} and {}",
                config.in_channels,
                config.classes
            );
        }
        let body = match config.variant {
            LeNetVariant::Classic => {
                if config.classes > DIGITS as i64 {
                    bail!(
                        "the classic LeNet-5's RBF output has bitmaps for 10 digits, not {} \
                         classes; use LeNet5Config::modern() for more classes",
                        config.classes
                    );
                }
                Body::Classic(Classic::new(
                    vs,
                    config.in_channels,
                    config.classes,
                    config.paper,
                ))
            }
            LeNetVariant::Modern => {
                Body::Modern(Modern::new(vs, config.in_channels, config.classes))
            }
        };
        Ok(LeNet5 { config, body })
    }

    /// The 1998 network with [`LeNet5Config::classic`].
    pub fn classic(vs: &nn::Path) -> Result<Self> {
        Self::new(vs, LeNet5Config::classic())
    }

    /// Rosebrock's version with [`LeNet5Config::modern`].
    pub fn modern(vs: &nn::Path) -> Result<Self> {
        Self::new(vs, LeNet5Config::modern())
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &LeNet5Config {
        &self.config
    }
}

// The forward pass gives logits for the modern variant, RBF distances `[B, classes]` for
// the classic one.
forward_by_layers!(LeNet5);

impl Model for LeNet5 {
    fn spec(&self) -> Option<super::ModelSpec> {
        Some(super::ModelSpec::Lenet5(self.config.clone()))
    }

    fn input_shape(&self) -> (i64, i64) {
        let side = match self.config.variant {
            LeNetVariant::Classic => 32,
            LeNetVariant::Modern => 28,
        };
        (self.config.in_channels, side)
    }

    /// Cross-entropy for the modern variant; the RBF loss ([`rbf_loss`]) for the classic.
    fn loss(&self, output: &Tensor, labels: &Tensor) -> Tensor {
        match self.body {
            Body::Classic(_) => rbf_loss(output, labels, self.config.rbf_j),
            Body::Modern(_) => output.cross_entropy_for_logits(labels),
        }
    }

    /// The paper's background -0.1 and ink 1.175 for the classic variant with
    /// [`PaperDetails::paper_input`]; the data set's normalisation otherwise.
    fn pixel_range(&self) -> Option<PixelRange> {
        match self.body {
            Body::Classic(_) if self.config.paper.paper_input => Some(PAPER_PIXELS),
            _ => None,
        }
    }

    /// Minus the RBF distance for the classic variant, so the nearest bitmap scores highest.
    fn scores(&self, output: &Tensor) -> Tensor {
        match self.body {
            Body::Classic(_) => -output,
            Body::Modern(_) => output.shallow_clone(),
        }
    }

    /// The paper's estimate for the classic variant (`classic/curvature.rs`), on `xs`
    /// padded to 32x32 as the forward pass pads it.
    fn diagonal_curvature(&self, xs: &Tensor) -> Result<Vec<(Tensor, Tensor)>> {
        match &self.body {
            Body::Classic(c) => {
                let padded = layers::try_run(&self.layers()[..1], xs, true)?;
                Ok(c.diagonal_curvature(&padded))
            }
            Body::Modern(_) => bail!(
                "the modern LeNet-5 has no curvature estimate for SDLM (the 1998 paper's \
                 optimizer); train it with Adam or SGD, or use lenet5-classic"
            ),
        }
    }

    fn layers(&self) -> Vec<Layer<'_>> {
        match &self.body {
            Body::Classic(c) => c.layers(self.config.in_channels, self.pixel_range()),
            Body::Modern(m) => m.layers(self.config.in_channels),
        }
    }
}

/// Rosebrock's layers: two "same" 5x5 convolutions with ReLU and 2x2 max-pooling, then
/// FC 500 + ReLU and FC to the classes. FC1 (`7·7·50·500`) holds most of the parameters.
#[derive(Debug)]
struct Modern {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Modern {
    fn new(vs: &nn::Path, in_channels: i64, classes: i64) -> Self {
        let same = ConvConfig {
            padding: 2,
            ..Default::default()
        };
        Modern {
            conv1: init::conv2d(vs / "conv1", in_channels, 20, 5, same),
            conv2: init::conv2d(vs / "conv2", 20, 50, 5, same),
            fc1: init::linear(vs / "fc1", 7 * 7 * 50, 500),
            fc2: init::linear(vs / "fc2", 500, classes),
        }
    }

    /// Each block pools before its ReLU: ReLU is monotonic, so `max(relu(a), relu(b)) =
    /// relu(max(a, b))`, the same values and gradients with the ReLU over a quarter of the
    /// values. The first convolution reads its input channels-last on a CPU, so it writes
    /// channels-last too and oneDNN skips its layout reorders (see `crate::layout`).
    fn layers(&self, in_channels: i64) -> Vec<Layer<'_>> {
        let pool = |x: &Tensor| x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        vec![
            Layer::new(
                "pad to 28x28",
                Expects::at_most(in_channels, 28),
                vec![],
                |x, _| pad_to(x, 28),
            ),
            Layer::new(
                "conv1 5x5 same + max-pool 2x2 + ReLU",
                Expects::exactly(in_channels, 28),
                weights_and_bias(&self.conv1.ws, &self.conv1.bs),
                move |x, _| pool(&to_channels_last_on_cpu(x).apply(&self.conv1)).relu(),
            ),
            Layer::new(
                "conv2 5x5 same + max-pool 2x2 + ReLU",
                Expects::exactly(20, 14),
                weights_and_bias(&self.conv2.ws, &self.conv2.bs),
                move |x, _| pool(&x.apply(&self.conv2)).relu().flatten(1, -1),
            ),
            Layer::new(
                "fc1 2450 -> 500 + ReLU",
                Expects::Features(7 * 7 * 50),
                weights_and_bias(&self.fc1.ws, &self.fc1.bs),
                |x, _| x.apply(&self.fc1).relu(),
            ),
            Layer::new(
                "fc2 500 -> classes",
                Expects::Features(500),
                weights_and_bias(&self.fc2.ws, &self.fc2.bs),
                |x, _| x.apply(&self.fc2),
            ),
        ]
    }
}

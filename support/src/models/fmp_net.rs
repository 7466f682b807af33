//! Graham's fractional max-pooling network, `(F n C2 - FMP alpha)_L - C2 - C1 - output`.
//!
//! Block `n` (n = 1..L) is a 2x2 valid convolution with `F n` filters (linear growth: the
//! grid shrinks slowly, so the width grows slowly too), optional BatchNorm (the course's
//! addition, not the paper's), a leaky ReLU, fractional max-pooling to the size
//! [`fmp_sizes`] computed backwards from the head, and dropout on the pooled output. (The
//! code pools before the leaky ReLU, which gives the same values: see `layers`.) The
//! head is a 2x2 convolution with `F (L + 1)` filters taking 2x2 to 1x1 and a 1x1
//! convolution to the classes: on a 1x1 grid that is exactly a fully connected layer,
//! written as a convolution.
//!
//! Parameters: block n has `4 F(n-1) F n + F n` (block 1 reads the image's channels),
//! C2 `4 L F (L+1) F + (L+1) F`, C1 `(L+1) F classes + classes`, plus `2 F n` per
//! BatchNorm. For L = 12 that is about `2,912 F^2`: 12 M for F = 64, 74.6 M for F = 160.

use super::Model;
use super::init;
use super::layers::{Expects, Layer, forward_by_layers, weights_and_bias};
use super::leaky_dropout::leaky_relu_dropout;
use super::unit_variance::rescale_to_unit_variance;
use crate::data::batches::pad_to;
use crate::fmp::{Fmp, FmpSizes, Regions, fmp_sizes};
use crate::layout::to_channels_last_on_cpu;
use anyhow::{Result, ensure};
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

/// Graham's "very leaky" ReLU slope; the course notebooks use 0.2 (the default here).
pub(crate) const GRAHAM_LEAKY_SLOPE: f64 = 1.0 / 3.0;

/// The dropout rates of an FMP net: after each block's pooling, then after C2.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dropout {
    /// Rising linearly with depth: block n drops `max (n - 1) / L`, C2's output `max` (the
    /// course's nets, and Graham's CIFAR-10 net, with 0.5). Follows a change of `layers`.
    Linear(f64),
    /// One rate per block, then C2's: `layers + 1` rates.
    Rates(Vec<f64>),
}

impl Dropout {
    /// No dropout (short runs: see notebook 502).
    pub const NONE: Dropout = Dropout::Linear(0.0);

    /// Graham's MNIST code drops 0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5 of the inputs of its
    /// eight layers (six blocks, C2, C1). Here dropout acts on a layer's output, so the
    /// same rates are 0, 0, 0.1, 0.2, 0.3, 0.4 after the blocks and 0.5 after C2 (the first
    /// layer's input, the image, is not dropped).
    pub fn graham_mnist() -> Dropout {
        Dropout::Rates(vec![0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    }

    /// The `layers + 1` rates for a net of `layers` blocks.
    pub fn rates(&self, layers: usize) -> Result<Vec<f64>> {
        let rates = match self {
            Dropout::Linear(max) => (0..=layers)
                .map(|n| {
                    if n == layers {
                        *max
                    } else {
                        max * n as f64 / layers as f64
                    }
                })
                .collect(),
            Dropout::Rates(rates) => rates.clone(),
        };
        ensure!(
            rates.len() == layers + 1,
            "dropout has {} rates, but a net of {layers} blocks needs {}: one per block, then \
             C2's (or use Dropout::Linear, which follows the number of blocks)",
            rates.len(),
            layers + 1
        );
        ensure!(
            rates.iter().all(|p| (0.0..1.0).contains(p)),
            "dropout rates must be in [0, 1), got {rates:?}; the course uses up to 0.5"
        );
        Ok(rates)
    }
}

/// The configuration of an FMP net.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FmpConfig {
    pub in_channels: i64,
    pub classes: i64,
    /// Number of (C2 - FMP) blocks, L.
    pub layers: usize,
    /// Growth F: block n has `F n` filters.
    pub growth: i64,
    /// Pooling ratio alpha in (1, 2]; sqrt(2) for MNIST, 2^(1/3) for CIFAR.
    pub alpha: f64,
    /// Which pooling regions the FMP layers use.
    pub regions: Regions,
    /// Dropout after each block's pooling and after C2.
    pub dropout: Dropout,
    /// BatchNorm after every convolution but the last (the course's addition; not in the
    /// paper).
    pub batch_norm: bool,
    /// Negative slope of the leaky ReLU: 0.2 in the course, 1/3 in the paper.
    pub leaky_slope: f64,
    /// `None`: new pooling regions on every pass, in training and at test time (the paper;
    /// repeated test passes then form an ensemble). `Some(seed)`: block n always uses the
    /// regions drawn from `seed + n`, so the net is deterministic.
    pub regions_seed: Option<u64>,
    /// Fresh regions for each image of a batch (as PyTorch's op draws them) instead of one
    /// draw per batch (Graham's code). A run recorded before this option drew per batch.
    #[serde(default)]
    pub per_image_regions: bool,
    /// Rescale the initial weights so that every layer starts at unit variance
    /// ([`super::unit_variance`]), on a batch of Gaussian noise when the net is built. For
    /// the nets without BatchNorm, whose activations otherwise grow through every pooling.
    /// A run recorded before this option was built without it.
    #[serde(default)]
    pub unit_variance_init: bool,
}

impl Default for FmpConfig {
    fn default() -> Self {
        Self::course_mnist()
    }
}

impl FmpConfig {
    /// Graham's MNIST net, as in his code: L = 6, F = 32, alpha = sqrt 2, input 36x36,
    /// about 0.5 M parameters, pseudorandom overlapping regions, no BatchNorm, leaky ReLU
    /// with slope 1/3, and his dropout rates ([`Dropout::graham_mnist`]).
    pub fn graham_mnist() -> Self {
        FmpConfig {
            in_channels: 1,
            classes: 10,
            layers: 6,
            growth: 32,
            alpha: std::f64::consts::SQRT_2,
            regions: Regions::PseudorandomOverlapping,
            dropout: Dropout::graham_mnist(),
            batch_norm: false,
            leaky_slope: GRAHAM_LEAKY_SLOPE,
            regions_seed: None,
            per_image_regions: false,
            unit_variance_init: true,
        }
    }

    /// The course's MNIST net: Graham's sizes with BatchNorm after every convolution but
    /// the last, leaky ReLU slope 0.2, and dropout rising linearly to 0.5.
    pub fn course_mnist() -> Self {
        FmpConfig {
            dropout: Dropout::Linear(0.5),
            batch_norm: true,
            leaky_slope: 0.2,
            unit_variance_init: false,
            ..Self::graham_mnist()
        }
    }

    /// Graham's CIFAR-10 net: L = 12, F = 160, alpha = 2^(1/3), input 94x94, about 74 M
    /// parameters, no BatchNorm, slope 1/3, dropout rising linearly to 0.5. (His training
    /// also used affine and colour augmentation.) For a GPU.
    pub fn graham_cifar10() -> Self {
        FmpConfig {
            in_channels: 3,
            layers: 12,
            growth: 160,
            alpha: 2f64.powf(1.0 / 3.0),
            dropout: Dropout::Linear(0.5),
            ..Self::graham_mnist()
        }
    }

    /// The course's CIFAR-10 net: L = 12, F = 64, alpha = 2^(1/3), input 94x94, about 12 M
    /// parameters, with the course's BatchNorm and slope 0.2. Too slow to train on a CPU.
    pub fn course_cifar10() -> Self {
        FmpConfig {
            in_channels: 3,
            layers: 12,
            growth: 64,
            alpha: 2f64.powf(1.0 / 3.0),
            ..Self::course_mnist()
        }
    }

    /// The course's CIFAR-10 net with F = 160 as in the course text (about 74 M parameters).
    pub fn course_cifar10_large() -> Self {
        FmpConfig {
            growth: 160,
            ..Self::course_cifar10()
        }
    }

    /// A small net for `CNN_QUICK` runs and tests: L = 5, F = 8, alpha = 1.6, input 33x33
    /// (large enough for MNIST's 28 and CIFAR's 32), about 18 k parameters.
    pub fn tiny() -> Self {
        FmpConfig {
            layers: 5,
            growth: 8,
            alpha: 1.6,
            ..Self::course_mnist()
        }
    }

    /// The sizes this configuration needs: input side and the pooled side of every block.
    pub fn sizes(&self) -> Result<FmpSizes> {
        fmp_sizes(self.alpha, self.layers)
    }
}

/// One (C2 - FMP) block.
#[derive(Debug)]
struct Block {
    conv: nn::Conv2D,
    norm: Option<nn::BatchNorm>,
    dropout: f64,
    pool: Fmp,
}

impl Block {
    /// The 2x2 convolution and its optional BatchNorm.
    fn convolve(&self, x: &Tensor, train: bool) -> Tensor {
        conv_norm(x, &self.conv, self.norm.as_ref(), train)
    }

    /// Fractional max-pooling, then the leaky ReLU and dropout.
    ///
    /// Dropout after the pooling, as in Graham's code: before it, the max would pick
    /// dropout's scaled-up survivors, so training activations would run larger than test
    /// ones and BatchNorm's running statistics would not fit. The leaky ReLU moves after
    /// the pooling too: it never decreases, so the max of the activations is the
    /// activation of the max (the same values; with a slope of 0 a tie among negatives may
    /// pick another argmax, whose gradient is 0 either way), and on the pooled grid it
    /// touches half as many values.
    fn pool(&self, x: &Tensor, slope: f64, train: bool) -> Tensor {
        leaky_relu_dropout(&self.pool.forward_t(x, train), slope, self.dropout, train)
    }
}

/// Graham's FMP network (see the module docs).
#[derive(Debug)]
pub struct FmpNet {
    config: FmpConfig,
    sizes: FmpSizes,
    blocks: Vec<Block>,
    c2: nn::Conv2D,
    c2_norm: Option<nn::BatchNorm>,
    /// Dropout after C2.
    c2_dropout: f64,
    c1: nn::Conv2D,
}

impl FmpNet {
    /// Builds the net under `vs` (`block1.conv`, ..., `c2.conv`, `c1`); errors for an
    /// alpha or layer count [`fmp_sizes`] rejects, or non-positive sizes.
    pub fn new(vs: &nn::Path, config: FmpConfig) -> Result<Self> {
        ensure!(
            config.in_channels > 0 && config.classes > 0 && config.growth > 0,
            "FmpNet needs positive in_channels, classes and growth, got {}, {}, {}",
            config.in_channels,
            config.classes,
            config.growth
        );
        ensure!(
            (0.0..=1.0).contains(&config.leaky_slope),
            "leaky_slope = {} must be in [0, 1]; the course uses 0.2, Graham 1/3",
            config.leaky_slope
        );
        let sizes = config.sizes()?;
        let dropout = config.dropout.rates(config.layers)?;
        let norm = |p: nn::Path, c: i64| {
            config.batch_norm.then(|| {
                let config = nn::BatchNormConfig {
                    eps: BN_EPS,
                    ..Default::default()
                };
                nn::batch_norm2d(p / "norm", c, config)
            })
        };
        let layers = config.layers as i64;
        let mut channels = config.in_channels;
        let blocks = sizes
            .pooled
            .iter()
            .enumerate()
            .map(|(i, &pooled)| {
                let n = i as i64 + 1;
                let p = vs / format!("block{n}");
                let filters = config.growth * n;
                let pool = Fmp::new(pooled, config.regions);
                let pool = match config.regions_seed {
                    Some(seed) => pool.with_seed(seed.wrapping_add(n as u64)),
                    None if config.per_image_regions => pool.per_image(),
                    None => pool,
                };
                let block = Block {
                    conv: init::conv2d(&p / "conv", channels, filters, 2, Default::default()),
                    norm: norm(p, filters),
                    dropout: dropout[i],
                    pool,
                };
                channels = filters;
                block
            })
            .collect();
        let head = config.growth * (layers + 1);
        let c2 = init::conv2d(vs / "c2" / "conv", channels, head, 2, Default::default());
        let c2_norm = norm(vs / "c2", head);
        let c1 = init::conv2d(vs / "c1", head, config.classes, 1, Default::default());
        let net = FmpNet {
            c2_dropout: dropout[config.layers],
            config,
            sizes,
            blocks,
            c2,
            c2_norm,
            c1,
        };
        if net.config.unit_variance_init {
            let side = net.sizes.input;
            let shape = [CALIBRATION_BATCH, net.config.in_channels, side, side];
            let noise = Tensor::randn(shape, (Kind::Float, vs.device()));
            rescale_to_unit_variance(&net, &noise)?;
        }
        Ok(net)
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &FmpConfig {
        &self.config
    }

    /// The input side and per-block pooled sides.
    pub fn sizes(&self) -> &FmpSizes {
        &self.sizes
    }
}

/// A 2x2 valid convolution and its optional BatchNorm, channels-last on a CPU.
///
/// Both pooling kernels read a channels-last batch in contiguous passes over the channels
/// ([`crate::fmp`]). With libtorch's windows the net used to run plane by plane, which
/// trained faster with the earlier per-window kernel; with the current one, channels-last
/// evaluates faster and trains as fast (docs/speed-history.md).
///
/// Only the first convolution's input (one channel) needs converting, and for one channel
/// that is a free view ([`crate::layout`]); from then on every op keeps the layout.
///
/// In evaluation the BatchNorm is a fixed affine map per channel, `scale (y - mean) +
/// beta` with `scale = gamma / sqrt(var + eps)`, so it folds into the convolution's
/// weights and bias: the same values (up to rounding) without a pass over the output,
/// which makes a test pass about a tenth faster.
fn conv_norm(x: &Tensor, conv: &nn::Conv2D, norm: Option<&nn::BatchNorm>, train: bool) -> Tensor {
    let x = to_channels_last_on_cpu(x);
    let y = match norm {
        Some(bn) if !train => {
            let (weight, bias) = fold_batch_norm(conv, bn);
            x.conv2d(&weight, Some(&bias), [1, 1], [0, 0], [1, 1], 1)
        }
        _ => x.apply(conv),
    };
    match norm {
        Some(bn) if train => y.apply_t(bn, true),
        _ => y,
    }
}

/// The weights and bias of `conv` followed by `bn` with its running statistics.
fn fold_batch_norm(conv: &nn::Conv2D, bn: &nn::BatchNorm) -> (Tensor, Tensor) {
    let scale = (&bn.running_var + BN_EPS).rsqrt();
    let scale = match &bn.ws {
        Some(gamma) => scale * gamma,
        None => scale,
    };
    let weight = &conv.ws * scale.view([-1, 1, 1, 1]);
    let bias = match &conv.bs {
        Some(b) => (b - &bn.running_mean) * &scale,
        None => -&bn.running_mean * &scale,
    };
    let bias = match &bn.bs {
        Some(beta) => bias + beta,
        None => bias,
    };
    (weight, bias)
}

/// Images of noise the unit-variance initialisation measures on: few enough for Graham's
/// CIFAR-10 net on a CPU, and still 320 values on C1's 1x1 grid of 10 classes.
const CALIBRATION_BATCH: i64 = 32;

/// The BatchNorm epsilon: tch's default, which [`FmpNet::new`] builds with.
const BN_EPS: f64 = 1e-5;

// The forward pass, logits `[B, classes]`: pad, the blocks, C2, C1.
forward_by_layers!(FmpNet);

impl Model for FmpNet {
    fn spec(&self) -> Option<super::ModelSpec> {
        Some(super::ModelSpec::Fmp(self.config.clone()))
    }

    fn input_shape(&self) -> (i64, i64) {
        (self.config.in_channels, self.sizes.input)
    }

    /// True unless `regions_seed` fixes the pooling regions.
    fn random_at_test_time(&self) -> bool {
        self.config.regions_seed.is_none()
    }

    /// The net in forward order, which `forward_t` runs: zero-padding up to the input
    /// side the sizes need, each block's 2x2 convolution and its pooling, then the head:
    /// C2 takes the 2x2 grid to 1x1, and C1, a 1x1 convolution, gives the class scores.
    fn layers(&self) -> Vec<Layer<'_>> {
        let (c, input) = self.input_shape();
        let mut out = vec![Layer::new(
            format!("pad to {input}x{input}"),
            Expects::at_most(c, input),
            vec![],
            move |x, _| pad_to(x, input),
        )];
        let bn = if self.config.batch_norm { " + BN" } else { "" };
        let slope = self.config.leaky_slope;
        let mut side = input;
        let mut channels = c;
        for (i, block) in self.blocks.iter().enumerate() {
            let n = i + 1;
            let filters = block.conv.ws.size()[0];
            let mut params = weights_and_bias(&block.conv.ws, &block.conv.bs);
            params.extend(
                block
                    .norm
                    .iter()
                    .flat_map(|b| b.ws.iter().chain(b.bs.iter())),
            );
            out.push(Layer::new(
                format!("block {n} conv 2x2 {channels} -> {filters}{bn}"),
                Expects::exactly(channels, side),
                params,
                move |x, train| block.convolve(x, train),
            ));
            let pooled = block.pool.out();
            out.push(Layer::new(
                format!(
                    "block {n} FMP {} -> {pooled} ({}) + leaky ReLU + dropout {:.2}",
                    side - 1,
                    self.config.regions,
                    block.dropout
                ),
                Expects::exactly(filters, side - 1),
                vec![],
                move |x, train| block.pool(x, slope, train),
            ));
            side = pooled;
            channels = filters;
        }
        let head = self.c2.ws.size()[0];
        let mut params = weights_and_bias(&self.c2.ws, &self.c2.bs);
        params.extend(
            self.c2_norm
                .iter()
                .flat_map(|b| b.ws.iter().chain(b.bs.iter())),
        );
        let p = self.c2_dropout;
        out.push(Layer::new(
            format!("C2 conv 2x2 {channels} -> {head}{bn} + leaky ReLU + dropout {p:.2}"),
            Expects::exactly(channels, 2),
            params,
            move |x, train| {
                let normalised = conv_norm(x, &self.c2, self.c2_norm.as_ref(), train);
                leaky_relu_dropout(&normalised, slope, p, train)
            },
        ));
        out.push(Layer::new(
            format!("C1 conv 1x1 {head} -> {} + flatten", self.config.classes),
            Expects::exactly(head, 1),
            weights_and_bias(&self.c1.ws, &self.c1.bs),
            |x, _| x.apply(&self.c1).flatten(1, -1),
        ));
        out
    }
}

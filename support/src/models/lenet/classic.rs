//! The 1998 LeNet-5 body, faithful to the paper: scaled-tanh squashing, trainable
//! subsampling, the partial C3 connection table, C5, F6 and the RBF output.

use super::{PaperDetails, rbf};
use crate::data::PixelRange;
use crate::data::batches::pad_to;
use crate::models::init;
use crate::models::layers::{Expects, Layer, weights_and_bias};
use tch::Tensor;
use tch::nn::{self, ConvConfig};

mod curvature;

/// Which S2 maps each C3 map reads (LeCun et al. 1998, Table I): six contiguous triples,
/// six contiguous quadruples, three non-contiguous quadruples, then all six. Breaking the
/// symmetry forces the maps to learn different features and gives C3 1,516 parameters
/// instead of 2,416.
pub const C3_TABLE: [&[i64]; 16] = [
    &[0, 1, 2],
    &[1, 2, 3],
    &[2, 3, 4],
    &[3, 4, 5],
    &[0, 4, 5],
    &[0, 1, 5],
    &[0, 1, 2, 3],
    &[1, 2, 3, 4],
    &[2, 3, 4, 5],
    &[0, 3, 4, 5],
    &[0, 1, 4, 5],
    &[0, 1, 2, 5],
    &[0, 1, 3, 4],
    &[1, 2, 4, 5],
    &[0, 2, 3, 5],
    &[0, 1, 2, 3, 4, 5],
];

/// The squashing function from C1 to F6: `f(a) = 1.7159 tanh(2a/3)`, so that `f(±1) = ±1`.
pub(crate) fn squash(a: &Tensor) -> Tensor {
    (a * (2.0 / 3.0)).tanh() * 1.7159
}

/// The sum of each 2x2 block of inputs, as a subsampling unit takes it.
fn sum_2x2(x: &Tensor) -> Tensor {
    x.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>) * 4.0
}

/// S2/S4: each unit sums its 2x2 inputs, times one trainable coefficient per map, plus
/// one trainable bias per map, then squashes: 2 parameters per map.
#[derive(Debug)]
pub(crate) struct Subsampling {
    pub coefficient: Tensor,
    pub bias: Tensor,
}

impl Subsampling {
    fn new(vs: &nn::Path, maps: i64) -> Self {
        // 0.25 makes the sum an average at the start.
        Subsampling {
            coefficient: vs.var("coefficient", &[maps], nn::Init::Const(0.25)),
            bias: vs.var("bias", &[maps], nn::Init::Const(0.0)),
        }
    }

    /// The weighted sum before the squashing.
    fn pre_activation(&self, x: &Tensor) -> Tensor {
        let shape = [1, -1, 1, 1];
        sum_2x2(x) * self.coefficient.view(shape) + self.bias.view(shape)
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        squash(&self.pre_activation(x))
    }
}

/// C3 as three grouped convolutions over gathered S2 maps: triples (6 groups of 3),
/// quadruples (9 groups of 4) and the full map (1 group of 6). Only the connections in
/// [`C3_TABLE`] exist, so the count is exactly
/// `6 (3·25 + 1) + 9 (4·25 + 1) + (6·25 + 1) = 1,516`; a masked full weight would hold
/// 2,416 values of which 900 never train.
#[derive(Debug)]
pub(crate) struct PartialConv {
    groups: Vec<(Tensor, nn::Conv2D)>,
}

impl PartialConv {
    fn new(vs: &nn::Path) -> Self {
        let spans = [
            (0usize, 6usize, "triples"),
            (6, 15, "quadruples"),
            (15, 16, "all"),
        ];
        let groups = spans
            .iter()
            .map(|&(from, to, name)| {
                let rows = &C3_TABLE[from..to];
                let index: Vec<i64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
                let n = (to - from) as i64;
                let config = ConvConfig {
                    groups: n,
                    ..Default::default()
                };
                let conv = init::conv2d(vs / name, index.len() as i64, n, 5, config);
                (Tensor::from_slice(&index).to_device(vs.device()), conv)
            })
            .collect();
        PartialConv { groups }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let maps: Vec<Tensor> = self
            .groups
            .iter()
            .map(|(index, conv)| x.index_select(1, index).apply(conv))
            .collect();
        Tensor::cat(&maps, 1)
    }

    fn parameters(&self) -> Vec<&Tensor> {
        self.groups
            .iter()
            .flat_map(|(_, conv)| weights_and_bias(&conv.ws, &conv.bs))
            .collect()
    }
}

/// The 1998 network from C1 to the RBF output.
#[derive(Debug)]
pub(crate) struct Classic {
    c1: nn::Conv2D,
    s2: Subsampling,
    c3: PartialConv,
    s4: Subsampling,
    c5: nn::Conv2D,
    f6: nn::Linear,
    /// The fixed ±1 bitmaps `[classes, 84]`, a non-trainable buffer of the VarStore.
    centres: Tensor,
}

impl Classic {
    pub(super) fn new(vs: &nn::Path, in_channels: i64, classes: i64, paper: PaperDetails) -> Self {
        let mut centres = vs.zeros_no_train("rbf_centres", &[classes, 84]);
        tch::no_grad(|| {
            centres.copy_(&rbf::bitmap_targets(classes as usize, vs.device()));
        });
        let classic = Classic {
            c1: init::conv2d(vs / "c1", in_channels, 6, 5, Default::default()),
            s2: Subsampling::new(&(vs / "s2"), 6),
            c3: PartialConv::new(&(vs / "c3")),
            s4: Subsampling::new(&(vs / "s4"), 16),
            c5: init::conv2d(vs / "c5", 16, 120, 5, Default::default()),
            f6: init::linear(vs / "f6", 120, 84),
            centres,
        };
        if paper.lecun_init {
            classic.lecun_init(in_channels);
        }
        classic
    }

    /// Redraws every weight and bias from `U(-2.4/F, 2.4/F)`, `F` the number of inputs of
    /// the unit it belongs to: 25 per input map for a 5x5 convolution (C3's units read 3,
    /// 4 or 6 maps), 4 for a subsampling unit, 120 for F6.
    fn lecun_init(&self, in_channels: i64) {
        let mut units: Vec<(Vec<&Tensor>, i64)> = vec![
            (weights_and_bias(&self.c1.ws, &self.c1.bs), 25 * in_channels),
            (vec![&self.s2.coefficient, &self.s2.bias], 4),
            (vec![&self.s4.coefficient, &self.s4.bias], 4),
            (weights_and_bias(&self.c5.ws, &self.c5.bs), 25 * 16),
            (weights_and_bias(&self.f6.ws, &self.f6.bs), 120),
        ];
        for (_, conv) in &self.c3.groups {
            let fan_in = conv.ws.size()[1] * 25;
            units.push((weights_and_bias(&conv.ws, &conv.bs), fan_in));
        }
        tch::no_grad(|| {
            for (tensors, fan_in) in units {
                let bound = 2.4 / fan_in as f64;
                for t in tensors {
                    let _ = t.shallow_clone().uniform_(-bound, bound);
                }
            }
        });
    }

    /// The layers in order; `pixels` is the input's range when the paper's input
    /// convention is on, so that a 28x28 digit is padded with its background.
    pub(super) fn layers(&self, in_channels: i64, pixels: Option<PixelRange>) -> Vec<Layer<'_>> {
        let background = pixels.map_or(0.0, |p| p.background);
        vec![
            Layer::new(
                "pad to 32x32",
                Expects::at_most(in_channels, 32),
                vec![],
                move |x, _| pad_to(&(x - background), 32) + background,
            ),
            Layer::new(
                "C1 conv 5x5 + squash",
                Expects::exactly(in_channels, 32),
                weights_and_bias(&self.c1.ws, &self.c1.bs),
                |x, _| squash(&x.apply(&self.c1)),
            ),
            Layer::new(
                "S2 subsampling 2x2",
                Expects::exactly(6, 28),
                vec![&self.s2.coefficient, &self.s2.bias],
                |x, _| self.s2.forward(x),
            ),
            Layer::new(
                "C3 conv 5x5 (partial) + squash",
                Expects::exactly(6, 14),
                self.c3.parameters(),
                |x, _| squash(&self.c3.forward(x)),
            ),
            Layer::new(
                "S4 subsampling 2x2",
                Expects::exactly(16, 10),
                vec![&self.s4.coefficient, &self.s4.bias],
                |x, _| self.s4.forward(x),
            ),
            Layer::new(
                "C5 conv 5x5 + squash",
                Expects::exactly(16, 5),
                weights_and_bias(&self.c5.ws, &self.c5.bs),
                |x, _| squash(&x.apply(&self.c5)).flatten(1, -1),
            ),
            Layer::new(
                "F6 full + squash",
                Expects::Features(120),
                weights_and_bias(&self.f6.ws, &self.f6.bs),
                |x, _| squash(&x.apply(&self.f6)),
            ),
            Layer::new(
                "RBF output (fixed bitmaps)",
                Expects::Features(84),
                vec![],
                |x, _| rbf::distances(x, &self.centres),
            ),
        ]
    }
}

//! Checks of notebook 500's counting exercises: a convolution's parameters (500.1), a
//! dense layer's weights (500.2), a convolution's output side (500.4) and the length of
//! a HOG descriptor (500.5). Each is tried against real layers, or the library's own
//! descriptor, on several cases; a wrong answer is matched against the usual slips,
//! which name what was forgotten.

use super::{Passed, first_problem, verdict};
use crate::features::{HogConfig, hog};
use crate::models::own::catch_torch_panic;
use crate::show::thousands;
use anyhow::Result;
use tch::{Device, Kind, Tensor, nn};

/// Convolutions 500.1 is tried on, `(in, out, kernel)`: LeNet-5's C1 and C3, VGG's first
/// layer, a wide layer and Rosebrock's C3.
const CONVOLUTIONS: [(i64, i64, i64); 5] =
    [(1, 6, 5), (6, 16, 5), (3, 64, 3), (64, 128, 3), (20, 50, 5)];

/// Exercise 500.1: `count(in, out, kernel)` is the number of trainable values of a
/// convolution from `in` to `out` channels with a square kernel. Compared with the
/// weights and biases of real `nn::conv2d` layers; a missing bias, missing input
/// channels, a kernel side not squared and swapped channels each have a hint.
pub fn conv_parameters(count: impl Fn(i64, i64, i64) -> i64) -> Result<Passed> {
    let problems = first_problem(&CONVOLUTIONS, |(inputs, out, k)| {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = nn::conv2d(vs.root(), inputs, out, k, Default::default());
        let want = (layer.ws.numel() + layer.bs.as_ref().map_or(0, Tensor::numel)) as i64;
        let got = count(inputs, out, k);
        let hint = if got == want {
            return None;
        } else if got == inputs * k * k * out {
            "each filter also has a bias, added after its sum"
        } else if got == (k * k + 1) * out || got == k * k * out {
            "a filter reaches through all input channels: it has a kernel for each of them"
        } else if got == (inputs * k + 1) * out || got == inputs * k * out {
            "a kernel of side k is a k x k square of weights"
        } else if got == (out * k * k + 1) * inputs {
            "input and output channels are swapped: there is one filter per output channel"
        } else {
            "count one filter's values (its kernels and its bias), then the filters"
        };
        Some(format!(
            "for a {k}x{k} convolution from {inputs} to {out} channels your count is {}, which \
             is not what nn::conv2d holds: {hint}",
            thousands(got)
        ))
    });
    verdict("500.1", problems, || {
        format!(
            "your count agrees with nn::conv2d on {} layers. VGG's first layer, a 3x3 \
             convolution from 3 to 64 channels, has {} parameters, wherever in the image it \
             looks; the first dense layer of the 3072-1024-512-10 net has {}",
            CONVOLUTIONS.len(),
            thousands(count(3, 64, 3)),
            thousands(3072 * 1024 + 1024)
        )
    })
}

/// Dense layers 500.2 is tried on, `(height, width, channels, units)`: the chapter's
/// 4096-unit layer, the FC net's first layer, one on a digit, and a small odd one.
const DENSE: [(i64, i64, i64, i64); 4] = [
    (224, 224, 3, 4096),
    (32, 32, 3, 1024),
    (28, 28, 1, 500),
    (7, 5, 2, 3),
];

/// Exercise 500.2: `weights(height, width, channels, units)` is the number of weights
/// (biases apart) of a dense layer with `units` units on a flattened `height x width`
/// image of `channels` channels.
pub fn dense_weights(weights: impl Fn(i64, i64, i64, i64) -> i64) -> Result<Passed> {
    let problems = first_problem(&DENSE, |(h, w, c, units)| {
        let got = weights(h, w, c, units);
        let hint = if got == h * w * c * units {
            return None;
        } else if got == h * w * c * units + units {
            "that includes the biases, one per unit; count the weights alone"
        } else if got == h * w * units {
            "every pixel has a value per channel, and each value gets its own weight"
        } else if got == h * w * c {
            "that is one unit's weights; every unit has its own"
        } else if got == h * h * c * units || got == w * w * c * units {
            "the image need not be square: use its height and its width"
        } else {
            "a dense layer has one weight per connection: every value of the flattened image \
             connects to every unit"
        };
        Some(format!(
            "for {units} units on a {h}x{w} image of {c} channel(s) your count is {}: {hint}",
            thousands(got)
        ))
    });
    verdict("500.2", problems, || {
        format!(
            "your count agrees on {} layers: one 4096-unit layer on a 224x224x3 image has {} \
             weights, the first layer of the 3072-1024-512-10 net {} (its table adds the \
             1,024 biases)",
            DENSE.len(),
            thousands(weights(224, 224, 3, 4096)),
            thousands(weights(32, 32, 3, 1024))
        )
    })
}

/// One case of 500.4: `(input, kernel, padding, stride)`.
type SideCase = (i64, i64, i64, i64);

/// The side of a real `conv2d`'s output for one case.
fn conv2d_side((input, kernel, padding, stride): SideCase) -> i64 {
    let image = Tensor::zeros([1, 1, input, input], (Kind::Float, Device::Cpu));
    let weight = Tensor::zeros([1, 1, kernel, kernel], (Kind::Float, Device::Cpu));
    let out = image.conv2d(&weight, None::<Tensor>, [stride], [padding], [1], 1);
    out.size()[2]
}

/// The usual slips in the output-side formula, each with what it forgets.
type Slip = (fn(SideCase) -> i64, &'static str);

const SLIPS: [Slip; 5] = [
    (
        |(n, k, p, s)| (n + p - k) / s + 1,
        "padding adds its pixels on both sides of the input",
    ),
    (
        |(n, k, p, s)| (n + 2 * p - k) / s,
        "count the positions: the first one, with the kernel at the padded input's edge, \
         counts too",
    ),
    (
        |(n, k, p, s)| (n + 2 * p - k + s - 1) / s + 1,
        "round down: a last step that would take the kernel past the padded input's edge is \
         not taken",
    ),
    (
        |(n, k, p, _)| n + 2 * p - k + 1,
        "with stride s the kernel jumps s pixels from one position to the next",
    ),
    (
        |(n, k, _, s)| (n - k) / s + 1,
        "the padding makes the input larger",
    ),
];

/// Exercise 500.4: `side(input, kernel, padding, stride)` is the output side of a
/// convolution on a square input. Compared with real `conv2d` outputs on a grid of
/// cases; when the answer matches one of the usual slips wherever it is wrong, the slip
/// is named, else the first case that differs.
pub fn output_side(side: impl Fn(i64, i64, i64, i64) -> i64) -> Result<Passed> {
    let mut cases = Vec::new();
    for input in [5, 6, 7, 12, 28] {
        for kernel in [1, 2, 3, 5] {
            for padding in 0..=2 {
                for stride in 1..=3 {
                    if input + 2 * padding >= kernel {
                        cases.push((input, kernel, padding, stride));
                    }
                }
            }
        }
    }
    let mut wrong = Vec::new();
    for &case in &cases {
        let (n, k, p, s) = case;
        match catch_torch_panic(|| side(n, k, p, s)) {
            Ok(got) if got == conv2d_side(case) => {}
            Ok(got) => wrong.push((case, got)),
            Err(message) => {
                let problem = format!(
                    "your function panicked for input {n}, kernel {k}, padding {p}, stride \
                     {s}: {message}"
                );
                return verdict("500.4", vec![problem], String::new);
            }
        }
    }
    let problems = match wrong.first() {
        None => vec![],
        Some(&((n, k, p, s), got)) => {
            let slip = SLIPS
                .iter()
                .find(|(formula, _)| wrong.iter().all(|&(case, got)| formula(case) == got));
            let hint = slip.map_or(
                "count the positions where the kernel fits inside the padded input, stepping \
                 by the stride",
                |(_, hint)| *hint,
            );
            vec![format!(
                "{} of {} cases differ from conv2d; the first: input {n}, kernel {k}x{k}, \
                 padding {p}, stride {s}, where your side is {got}. Look at it on paper: {hint}",
                wrong.len(),
                cases.len()
            )]
        }
    };
    verdict("500.4", problems, || {
        format!(
            "your formula gives conv2d's output side in all {} cases (inputs 5 to 28, kernels \
             1 to 5, padding 0 to 2, stride 1 to 3)",
            cases.len()
        )
    })
}

/// Exercise 500.5: a prediction of HOG's sizes for a `side x side` image with `config`:
/// whole `cells` and `blocks` along a side, and the descriptor's `length`, compared with
/// the library's descriptor of such an image. Each wrong number gets its own hint.
pub fn hog_length(
    config: &HogConfig,
    side: usize,
    cells: usize,
    blocks: usize,
    length: usize,
) -> Result<Passed> {
    let image = Tensor::zeros([side as i64, side as i64], (Kind::Float, Device::Cpu));
    let want_length = hog(&image, config)?.descriptor.len();
    let (want_cells, want_blocks) = (config.cells(side), config.blocks(side));
    let HogConfig {
        pixels_per_cell: p,
        cells_per_block: b,
        bins,
    } = *config;
    let mut problems = Vec::new();
    if cells != want_cells {
        problems.push(format!(
            "cells = {cells}: count the cells of {p}x{p} pixels along one side of the \
             {side}-pixel image (only whole cells count), as the HOG figure draws them"
        ));
    }
    if blocks != want_blocks {
        let hint = if blocks == cells / b {
            "blocks overlap: a new block starts at every cell"
        } else if blocks == cells {
            "a block needs room for all its cells: one that would stick out of the grid \
             does not count"
        } else {
            "a block of cells starts at every cell where it fits inside the grid"
        };
        problems.push(format!(
            "blocks = {blocks} for blocks of {b}x{b} cells: {hint}"
        ));
    }
    if length != want_length {
        let hint = if length == blocks * blocks * bins {
            "each block holds the histograms of all its cells"
        } else if length == cells * cells * bins {
            "the descriptor is made of the normalised blocks, and a cell is in every block \
             that covers it"
        } else if length == blocks * blocks * b * b {
            "each cell's histogram has one value per bin"
        } else {
            "count the blocks in both directions, then the values of one block"
        };
        problems.push(format!("length = {length}: {hint}"));
    }
    verdict("500.5", problems, || {
        format!(
            "a {side}x{side} image has {cells}x{cells} cells of {p}x{p} pixels and \
             {blocks}x{blocks} overlapping blocks of {b}x{b} cells: {length} values, as the \
             library's descriptor has"
        )
    })
}

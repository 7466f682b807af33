//! Checks of the FMP exercises: the backwards size chain (501.1) and the MNIST
//! adaptation of the CIFAR-10 net (502.1).

use super::{Passed, verdict};
use crate::fmp::{FmpSizes, fmp_sizes};
use crate::models::{FmpConfig, FmpNet, parameter_count};
use crate::show::thousands;
use anyhow::Result;
use std::f64::consts::SQRT_2;
use tch::{Device, nn};

/// The nets 501.1's size chain is tried on: the course's CIFAR-10 net first.
fn size_cases() -> [(&'static str, f64, usize); 3] {
    [
        (
            "the CIFAR-10 net (12 blocks, α = 2^(1/3))",
            2f64.powf(1.0 / 3.0),
            12,
        ),
        ("Graham's MNIST net (6 blocks, α = √2)", SQRT_2, 6),
        ("a net of 5 blocks at α = 1.6", 1.6, 5),
    ]
}

/// Exercise 501.1: `chain(alpha, layers)` returns the input side and every block's pooled
/// side in forward order, computed backwards from the head's 2x2 as [`fmp_sizes`] does.
/// It is tried on three nets; a difference is explained from the student's own numbers
/// (which step of the way back goes wrong), never by printing the right ones.
pub fn size_chain(chain: impl Fn(f64, usize) -> (i64, Vec<i64>)) -> Result<Passed> {
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    for (name, alpha, layers) in size_cases() {
        let want = fmp_sizes(alpha, layers)?;
        let (input, pooled) = chain(alpha, layers);
        if let Some(problem) = chain_problem(name, alpha, &want, input, &pooled) {
            problems.push(problem);
            break; // the first net's problem is the one to fix; the others repeat it
        }
        inputs.push(input);
    }
    verdict("501.1", problems, || {
        format!(
            "your chain agrees with the library's fmp_sizes on {} nets: the CIFAR-10 net \
             pads its 32x32 images to {}x{}, Graham's MNIST net its 28x28 digits to {}x{}",
            inputs.len(),
            inputs[0],
            inputs[0],
            inputs[1],
            inputs[1]
        )
    })
}

/// What is wrong with a student's chain for one net, judged step by step from the head.
fn chain_problem(
    name: &str,
    alpha: f64,
    want: &FmpSizes,
    input: i64,
    pooled: &[i64],
) -> Option<String> {
    if input == want.input && pooled == want.pooled {
        return None;
    }
    let layers = want.pooled.len();
    if pooled.len() != layers {
        return Some(format!(
            "for {name} your chain lists {} pooled sides; it needs one per block, {layers}",
            pooled.len()
        ));
    }
    let reversed: Vec<i64> = pooled.iter().rev().copied().collect();
    if input == want.input && reversed == want.pooled {
        return Some(format!(
            "for {name} your pooled sides run from the head back to the input ({pooled:?}); \
             give them in forward order, the first block's first"
        ));
    }
    if pooled.last() != Some(&2) {
        return Some(format!(
            "for {name} your last block pools to {:?}, but the head's 2x2 convolution C2 \
             needs a 2x2 grid: the way back starts there",
            pooled.last()
        ));
    }
    // Walk back from the head: each step goes from a block's pooled side to the side
    // before its convolution (the previous block's pooled side, or the input).
    let mut befores: Vec<i64> = pooled[..layers - 1].to_vec();
    befores.insert(0, input);
    for block in (0..layers).rev() {
        let (after, before) = (pooled[block], befores[block]);
        let undone = (after as f64 * alpha + 0.5) as i64;
        if before == undone + 1 {
            continue;
        }
        let hint = if before == undone {
            "you undo the pooling but not the convolution before it: a 2x2 valid \
             convolution takes one pixel off the side"
        } else if before == undone + 2 || before == (after as f64 * alpha).ceil() as i64 + 1 {
            "check the rounding: Graham rounds n·α + 0.5 down, as Python's int() and Rust's \
             `as i64` do"
        } else if before == (after as f64 * alpha) as i64 + 1 {
            "check the rounding: Graham adds 0.5 before rounding down, so n·α is rounded \
             to the nearest whole number"
        } else {
            "undo the pooling (multiply by α and round as Graham does), then undo the 2x2 \
             valid convolution"
        };
        return Some(format!(
            "for {name}, block {} goes back from a pooled side of {after} to {before}: {hint}",
            block + 1
        ));
    }
    Some(format!(
        "for {name} your chain gives input {input} and pooled sides {pooled:?}, which \
         disagree with the library's fmp_sizes; compare them step by step"
    ))
}

/// The paper's MNIST net, as exercise 502.1 adapts it from the course's CIFAR-10 net.
fn graham_mnist_shape() -> FmpConfig {
    FmpConfig {
        in_channels: 1,
        layers: 6,
        growth: 32,
        alpha: SQRT_2,
        ..FmpConfig::course_cifar10()
    }
}

/// Exercise 502.1: `config` is the course's CIFAR-10 net adapted to MNIST as Graham's
/// MNIST experiment does (input channels, blocks, growth, α). Checks that its size chain
/// fits a 28x28 digit with little padding and ends at the head's 2x2, and that it has
/// the paper-shaped net's parameter count; each wrong field gets a hint at where to look
/// in the paper, not its value.
pub fn mnist_adaptation(config: &FmpConfig) -> Result<Passed> {
    let want = graham_mnist_shape();
    let mut problems = Vec::new();
    if config.in_channels != want.in_channels {
        problems.push(format!(
            "in_channels = {}: an MNIST digit is a grayscale image; how many numbers \
             describe one of its pixels?",
            config.in_channels
        ));
    }
    let sizes = fmp_sizes(config.alpha, config.layers);
    if (config.alpha - want.alpha).abs() > 1e-9 {
        let cifar = (config.alpha - 2f64.powf(1.0 / 3.0)).abs() < 1e-6;
        problems.push(if cifar {
            format!(
                "alpha = {:.4} is the CIFAR-10 net's 2^(1/3). The MNIST net pools faster, so \
                 that a small digit passes through fewer blocks: read α off the MNIST net's \
                 formula, (F n C2 - FMP α)_L, in the paper's MNIST results",
                config.alpha
            )
        } else {
            format!(
                "alpha = {:.4} is not the pooling ratio of Graham's MNIST net: read α off its \
                 formula, (F n C2 - FMP α)_L, in the paper's MNIST results",
                config.alpha
            )
        });
    }
    if config.layers != want.layers {
        let fit = match &sizes {
            Ok(s) if s.input < 28 => format!(
                ": with α = {:.4} the net's input is {}x{}, too small for a 28x28 digit",
                config.alpha, s.input, s.input
            ),
            Ok(s) => format!(
                ": with α = {:.4} a 28x28 digit needs an input of {}x{}, so {} pixels of \
                 zeros around it are computed on",
                config.alpha,
                s.input,
                s.input,
                (s.input - 28) / 2
            ),
            Err(_) => String::new(),
        };
        problems.push(format!(
            "layers = {}{fit}. Graham's MNIST net has another number of (C2 - FMP) blocks: \
             the subscript L of its formula",
            config.layers
        ));
    }
    if config.growth != want.growth {
        let cifar = if config.growth == FmpConfig::course_cifar10().growth {
            " is the course's CIFAR-10 growth"
        } else {
            ""
        };
        problems.push(format!(
            "growth = {}{cifar}: Graham's MNIST net adds another number of filters per block, \
             the F in front of n in its formula",
            config.growth
        ));
    }
    if let Err(e) = &sizes {
        problems.push(format!("the sizes cannot be computed: {e}"));
    }
    let parameters = count_parameters(config);
    let wanted = count_parameters(&want);
    if problems.is_empty() && parameters != wanted {
        problems.push(format!(
            "the four fields are right, but the net has {} parameters instead of {}: change \
             only in_channels, layers, growth and alpha, and keep the rest of \
             FmpConfig::course_cifar10()",
            thousands(parameters),
            thousands(wanted)
        ));
    }
    verdict("502.1", problems, || {
        let sides = sizes
            .map(|s| {
                let chain: Vec<String> = s.chain().iter().map(i64::to_string).collect();
                chain.join("-")
            })
            .unwrap_or_default();
        format!(
            "sizes {sides}: a 28x28 digit padded by 4 pixels on each side, and the head's C2 \
             gets its 2x2; {} parameters",
            thousands(parameters)
        )
    })
}

/// The trainable values of an FMP net with `config`, built on the CPU to count them;
/// `0` when the configuration cannot be built (its problem is reported separately).
fn count_parameters(config: &FmpConfig) -> i64 {
    let vs = nn::VarStore::new(Device::Cpu);
    match FmpNet::new(&vs.root(), config.clone()) {
        Ok(_) => parameter_count(&vs),
        Err(_) => 0,
    }
}

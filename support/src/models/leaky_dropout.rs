//! The leaky ReLU, and in training the leaky ReLU followed by dropout, as one
//! multiplication by a mask.
//!
//! Both are `x * s`: the leaky ReLU's `s` is 1 where `x > 0` and `slope` elsewhere, and
//! dropout multiplies `s` by 0 (dropped, probability `p`) or `1 / (1 - p)` (kept). With `s`
//! computed without autograd, the backward pass of `x * s` is `grad * s`, which is exactly
//! the two layers' gradient, in one elementwise pass. libtorch's own ops cost far more on a
//! CPU: its `bernoulli_` draws about 5 ns per element, and `prelu` (the only leaky ReLU
//! with a free slope that tch binds) also computes a weight gradient in its backward.
//! On the CPU the mask is made in Rust, from a counter-based hash of a seed drawn from
//! libtorch's generator, so `support::seed` still makes runs repeatable.

use crate::fmp::torch_seed;
use crate::layout::is_channels_last;
use tch::{Device, Kind, Tensor};

/// `leaky_relu(x, slope)`, then in training dropout with probability `p`.
///
/// Evaluation (and `p == 0`) applies no dropout, as `nn.Dropout` does.
pub fn leaky_relu_dropout(x: &Tensor, slope: f64, p: f64, train: bool) -> Tensor {
    if !train {
        return leaky_relu(x, slope);
    }
    x * mask(x, slope, p)
}

/// The leaky ReLU: `x` for `x > 0`, `slope x` otherwise.
///
/// tch's `leaky_relu` fixes the slope at 0.01; `prelu` with a constant one-element weight is
/// the same function in a single pass, which is what evaluation wants (no backward follows).
pub(crate) fn leaky_relu(x: &Tensor, slope: f64) -> Tensor {
    let weight = Tensor::from_slice(&[slope])
        .to_kind(x.kind())
        .to_device(x.device());
    x.prelu(&weight)
}

/// The mask `s` of [`leaky_relu_dropout`], without autograd.
fn mask(x: &Tensor, slope: f64, p: f64) -> Tensor {
    if x.device() == Device::Cpu && x.kind() == Kind::Float {
        return cpu_mask(x, slope as f32, p);
    }
    tch::no_grad(|| {
        let s = x.gt(0.0).to_kind(x.kind()) * (1.0 - slope) + slope;
        if p > 0.0 {
            s * x.empty_like().bernoulli_float_(1.0 - p) / (1.0 - p)
        } else {
            s
        }
    })
}

/// [`mask`] in Rust for an `f32` CPU tensor, split over libtorch's threads
/// ([`crate::parallel::run_parts`]).
///
/// Each hash of the seed and a position gives four 16-bit draws; an element is dropped
/// when its draw is below `p * 2^16` (so `p` is rounded to a multiple of 1/65536). The
/// draws depend only on the seed and the position, never on the thread split. Drawing a
/// block's numbers first leaves a plain select loop, which compiles to SIMD.
fn cpu_mask(x: &Tensor, slope: f32, p: f64) -> Tensor {
    // Elementwise, so any dense layout works as it is; the mask takes the same strides.
    let x = x.detach();
    let x = if x.is_contiguous() || is_channels_last(&x) {
        x
    } else {
        x.contiguous()
    };
    let n = x.numel();
    let out = x.empty_like();
    if n == 0 {
        return out;
    }
    let keep = 1.0 / (1.0 - p) as f32;
    // `p < 1` (the models check it), so the threshold fits in 16 bits.
    let threshold = (p * 65536.0).round().min(65535.0) as u16;
    let seed = if p > 0.0 { torch_seed() } else { 0 };
    // SAFETY: both tensors are dense `f32` CPU tensors of `n` elements in the same layout
    // that outlive the slices; `out` is a fresh allocation nothing else aliases.
    let (input, output) = unsafe {
        (
            std::slice::from_raw_parts(x.data_ptr() as *const f32, n),
            std::slice::from_raw_parts_mut(out.data_ptr() as *mut f32, n),
        )
    };
    // Chunks of whole blocks, so a block never straddles two threads.
    let threads = (tch::get_num_threads().max(1) as usize).min(n.div_ceil(16_384));
    let per = n.div_ceil(threads).next_multiple_of(BLOCK);
    let shares: Vec<_> = input
        .chunks(per)
        .zip(output.chunks_mut(per))
        .enumerate()
        .collect();
    crate::parallel::run_parts(shares, |(k, (input, output))| {
        let first_block = (k * per / BLOCK) as u64;
        let blocks = input.chunks(BLOCK).zip(output.chunks_mut(BLOCK));
        let mut draws = [u16::MAX; BLOCK];
        for (j, (v, o)) in blocks.enumerate() {
            if threshold > 0 {
                fill_draws(&mut draws, seed, first_block + j as u64);
            }
            for ((&v, o), &d) in v.iter().zip(o.iter_mut()).zip(&draws) {
                let kept = if d >= threshold { keep } else { 0.0 };
                *o = if v > 0.0 { kept } else { slope * kept };
            }
        }
    });
    out
}

/// Elements per block of draws.
const BLOCK: usize = 64;

/// The 16-bit draws of block `block`: four from each of `BLOCK / 4` hashes.
fn fill_draws(draws: &mut [u16; BLOCK], seed: u64, block: u64) {
    for (g, four) in draws.chunks_exact_mut(4).enumerate() {
        let bits = hash(seed, block * (BLOCK / 4) as u64 + g as u64);
        for (e, d) in four.iter_mut().enumerate() {
            *d = (bits >> (16 * e)) as u16;
        }
    }
}

/// wyrand's output function of `seed + i * gamma`: 64 well-mixed bits per position, from
/// one 128-bit multiply (SplitMix64's three multiplies made the mask twice as slow).
fn hash(seed: u64, i: u64) -> u64 {
    let z = seed.wrapping_add(i.wrapping_add(1).wrapping_mul(0xa076_1d64_78bd_642f));
    let t = u128::from(z) * u128::from(z ^ 0xe703_7ed1_a0b4_28db);
    ((t >> 64) as u64) ^ (t as u64)
}

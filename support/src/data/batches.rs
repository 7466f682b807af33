//! Shuffled, normalised, padded (and optionally augmented) batches, made on the device.
//!
//! The whole data set sits in memory as `u8`. A batch is an index selection, one copy
//! to the device, and a few whole-batch tensor ops there. No per-image work, no worker
//! processes: on a 2-core laptop this keeps the input pipeline far below the model's cost.

use super::{Augment, Dataset, Examples};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tch::{Device, Kind, Tensor};

/// How to make batches.
#[derive(Debug, Clone)]
pub struct BatchOpts {
    pub batch_size: usize,
    /// Shuffle the order with this seed; `None` keeps the stored order (for evaluation).
    pub shuffle_seed: Option<u64>,
    /// Pad each image (after normalisation) to this side length, centred:
    /// 28 -> 32 for LeNet-5, 28 -> 36 for the MNIST FMP net.
    pub pad_to: Option<i64>,
    /// Pad with the value a black pixel normalises to (the digits' background) instead
    /// of with zeros (the normalised mean).
    pub pad_with_black: bool,
    /// Per-channel mean and standard deviation of the [0, 1] pixels.
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub device: Device,
    pub augment: Augment,
    /// Seed of the augmentation's random draws.
    pub augment_seed: u64,
}

impl BatchOpts {
    /// Evaluation batches for `data` on `device`: stored order, no augmentation, no padding.
    pub fn new(data: &Dataset, batch_size: usize, device: Device) -> Self {
        BatchOpts {
            batch_size,
            shuffle_seed: None,
            pad_to: None,
            pad_with_black: false,
            mean: data.mean.clone(),
            std: data.std.clone(),
            device,
            augment: Augment::default(),
            augment_seed: 0,
        }
    }
}

/// An iterator of `(images, labels)`: float `[B, C, S, S]` on the device and `i64` `[B]`.
/// The last batch may be smaller.
pub struct Batches<'a> {
    examples: &'a Examples,
    opts: BatchOpts,
    order: Tensor,
    next: usize,
    rng: StdRng,
    mean: Tensor,
    std: Tensor,
}

impl<'a> Batches<'a> {
    pub(crate) fn new(examples: &'a Examples, opts: &BatchOpts) -> Self {
        let n = examples.len();
        let order = match opts.shuffle_seed {
            Some(seed) => {
                let mut idx: Vec<i64> = (0..n as i64).collect();
                idx.shuffle(&mut StdRng::seed_from_u64(seed));
                Tensor::from_slice(&idx)
            }
            None => Tensor::arange(n as i64, (Kind::Int64, Device::Cpu)),
        };
        let channels = examples.image_shape()[0];
        let stats = |v: &[f64]| {
            Tensor::from_slice(v)
                .to_kind(Kind::Float)
                .view([1, channels, 1, 1])
                .to_device(opts.device)
        };
        Batches {
            examples,
            order,
            next: 0,
            rng: StdRng::seed_from_u64(opts.augment_seed),
            mean: stats(&opts.mean),
            std: stats(&opts.std),
            opts: opts.clone(),
        }
    }

    /// Number of batches in one pass.
    pub fn num_batches(&self) -> usize {
        self.examples.len().div_ceil(self.opts.batch_size.max(1))
    }
}

impl Iterator for Batches<'_> {
    type Item = (Tensor, Tensor);

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.examples.len();
        if self.next >= n || self.opts.batch_size == 0 {
            return None;
        }
        let end = (self.next + self.opts.batch_size).min(n);
        let idx = self
            .order
            .narrow(0, self.next as i64, (end - self.next) as i64);
        self.next = end;
        let device = self.opts.device;
        let pixels = self.examples.images.index_select(0, &idx).to_device(device);
        let labels = self.examples.labels.index_select(0, &idx).to_device(device);
        let mut x = pixels.to_kind(Kind::Float) / 255.0;
        if !self.opts.augment.is_none() {
            x = self.opts.augment.apply(&x, &mut self.rng);
        }
        x = (x - &self.mean) / &self.std;
        if let Some(side) = self.opts.pad_to {
            x = if self.opts.pad_with_black {
                let black = -&self.mean / &self.std;
                pad_to(&(x - &black), side) + black
            } else {
                pad_to(&x, side)
            };
        }
        Some((x, labels))
    }
}

/// Where a model wants its `[0, 1]` pixels to land: a black pixel (the digits'
/// background) at `background`, a white one (full ink) at `ink`. LeNet-5 (1998) uses -0.1
/// and 1.175; the other models use the data set's mean and standard deviation instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelRange {
    pub background: f64,
    pub ink: f64,
}

impl PixelRange {
    /// The `(mean, std)` whose normalisation `(p - mean) / std` maps 0 to `background`
    /// and 1 to `ink`.
    pub fn mean_std(&self) -> (f64, f64) {
        let std = 1.0 / (self.ink - self.background);
        (-self.background * std, std)
    }
}

/// Zero-pads `[B, C, H, W]` to `side x side`, centred (the extra pixel, if odd, goes
/// right and bottom). Inputs already that large are returned unchanged.
pub fn pad_to(x: &Tensor, side: i64) -> Tensor {
    let s = x.size();
    let (h, w) = (s[2], s[3]);
    if h >= side && w >= side {
        return x.shallow_clone();
    }
    let (dh, dw) = ((side - h).max(0), (side - w).max(0));
    x.constant_pad_nd([dw / 2, dw - dw / 2, dh / 2, dh - dh / 2])
}

//! The chapter's data sets, held in memory as `u8` images with `i64` labels.
//!
//! Readers live in `mnist.rs` (IDX files) and `cifar.rs` (binary batches and the archive),
//! finding and downloading in `locate.rs` and `download.rs`, batching in `batches.rs`,
//! augmentation in `augment.rs`. Images stay `u8` until a batch is made: conversion,
//! normalisation, padding and augmentation happen per batch, on the training device.

pub mod augment;
pub mod batches;

pub use augment::Augment;
pub use batches::{BatchOpts, Batches};

use tch::Tensor;

/// Images and their labels: `images` is `u8` `[N, C, H, W]`, `labels` is `i64` `[N]`.
#[derive(Debug)]
pub struct Examples {
    pub images: Tensor,
    pub labels: Tensor,
}

impl Examples {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[C, H, W]` of one image.
    pub fn image_shape(&self) -> [i64; 3] {
        let s = self.images.size();
        [s[1], s[2], s[3]]
    }

    /// An iterator over batches, made as `opts` says (see [`BatchOpts`]).
    pub fn batches(&self, opts: &BatchOpts) -> Batches<'_> {
        Batches::new(self, opts)
    }
}

/// A whole data set: train, optional validation, and test examples, with class names
/// and the per-channel mean and standard deviation used to normalise its pixels.
#[derive(Debug)]
pub struct Dataset {
    /// `mnist`, `fashion-mnist`, `cifar10` or `synthetic-...`.
    pub name: String,
    pub classes: Vec<String>,
    /// Per-channel mean of the pixels scaled to [0, 1].
    pub mean: Vec<f64>,
    /// Per-channel standard deviation of the pixels scaled to [0, 1].
    pub std: Vec<f64>,
    pub train: Examples,
    pub validation: Option<Examples>,
    pub test: Examples,
}

impl Dataset {
    /// `[C, H, W]` of one image.
    pub fn image_shape(&self) -> [i64; 3] {
        self.train.image_shape()
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }
}

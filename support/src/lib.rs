//! `support`: everything the cnn-notebooks reuse, so that each notebook stays short.
//!
//! One module per concept, named after the chapter: `data` (MNIST, Fashion-MNIST,
//! CIFAR-10 and batches), `features` (hand-made descriptors: HOG), `fmp` (Graham's
//! fractional max-pooling), `models` (FMP nets, LeNet-5, the fully connected baseline),
//! `train`, `recipes` (the papers' and the notebooks' training settings by name),
//! `reproduce` (a recipe over seeds against its paper), `report` (many runs in one
//! table), `parallel` (the crate's CPU kernels on libtorch's threads), `device`, `plot`,
//! `show`, `diary`, `check` (the exercises' gaps and checks), `source` (the library's
//! code, shown in a notebook) and `env` (what the environment sets: quick mode, threads).
//! A notebook starts with `use support::prelude::*;`.

pub mod atomic;
pub mod check;
pub mod data;
pub mod device;
pub mod diary;
pub mod env;
pub mod features;
pub mod fmp;
pub mod layout;
pub mod models;
pub mod parallel;
pub mod plot;
pub mod recipes;
pub mod repo;
pub mod report;
pub mod reproduce;
pub mod show;
pub mod source;
pub mod train;

/// The crates a notebook may want by name, so its one `:dep` line is enough.
pub use {plotters, polars, tch};

/// The names the notebooks use, in one import.
pub mod prelude {
    pub use crate::data::{Augment, LoadOpts, load, mnist_like_from_env};
    pub use crate::device::choose_device;
    pub use crate::diary::{self, Entry};
    pub use crate::env::quick_mode;
    pub use crate::features::{Hog, HogConfig, hog};
    pub use crate::fmp::{Fmp, Regions, fmp_size_table, fmp_sizes, repeated_pooling};
    pub use crate::models::{
        Dropout, Fcnn, FcnnConfig, FmpConfig, FmpNet, LeNet5, Model, OwnNet, debug_forward, summary,
    };
    pub use crate::plot::{self, Figure, RegionPanel};
    pub use crate::show::table;
    pub use crate::source::listing;
    pub use crate::train::{
        EvalOpts, FitConfig, History, LrSchedule, Results, compare_devices, ensemble_curve,
        estimate_epoch_time, evaluate, fit, resume, timing::human_seconds,
    };
    pub use crate::{check, gap, seed};
    pub use anyhow::Result;
    pub use polars::prelude::DataFrame;
    pub use tch::nn;
    pub use tch::{Device, Kind, Tensor};
}

/// Seeds libtorch's random generator, which draws a model's initial weights when the
/// model is built (and dropout masks, pooling regions and so on later). Call it just
/// before building a model: re-running the notebook, or only that cell, then starts from
/// the same weights whatever ran before. `fit` seeds the training's own draws from
/// `FitConfig::seed`.
pub fn seed(seed: u64) {
    tch::manual_seed(seed as i64);
}

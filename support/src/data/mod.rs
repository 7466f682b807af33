//! The chapter's data sets, held in memory as `u8` images with `i64` labels.
//!
//! Readers live in `mnist.rs` (IDX files) and `cifar.rs` (binary batches and the archive),
//! finding and downloading in `locate.rs` and `download.rs`, batching in `batches.rs`,
//! augmentation in `augment.rs`, splits and subsets in `split.rs`, and the writers of
//! small synthetic data sets in `synthetic.rs`. Images stay `u8` until a batch is made:
//! conversion, normalisation, padding and augmentation happen per batch, on the device.
//!
//! Everyone loads through [`load`]: `load("mnist", &LoadOpts::default())?`.

pub mod augment;
pub mod batches;
pub mod cifar;
pub mod download;
pub mod locate;
pub mod mnist;
pub mod source;
pub mod split;
pub mod synthetic;
// The readers, writers and download are tested from inside the crate (they are internal);
// the tests live with the others, under support/tests/unit/.
#[cfg(test)]
#[path = "../../tests/unit/data/mod.rs"]
mod tests;

pub use augment::Augment;
pub use batches::{BatchOpts, Batches, PixelRange};
pub use source::Source;

use anyhow::{Context, Result, ensure};
use std::path::PathBuf;
use tch::Tensor;

/// Images and their labels: `images` is `u8` `[N, C, H, W]`, `labels` is `i64` `[N]`.
#[derive(Debug)]
pub struct Examples {
    pub images: Tensor,
    pub labels: Tensor,
}

impl Examples {
    /// Per-channel mean and standard deviation of the pixels scaled to [0, 1].
    pub fn pixel_mean_std(&self) -> (Vec<f64>, Vec<f64>) {
        let x = self.images.to_kind(tch::Kind::Double) / 255.0;
        let dims: &[i64] = &[0, 2, 3];
        let mean = x.mean_dim(dims, false, tch::Kind::Double);
        let std = x.std_mean_correction(dims, 0, false).0;
        let v = |t: &Tensor| Vec::<f64>::try_from(t).unwrap_or_default();
        (v(&mean), v(&std))
    }

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

    /// Example `index` alone, as a batch of one made as `opts` says (normalised, padded,
    /// on its device): one image as a model takes it, e.g. for `plot::activations`.
    pub fn batch_of_one(&self, index: usize, opts: &BatchOpts) -> Result<Tensor> {
        ensure!(
            index < self.len(),
            "there is no example {index}: there are {}, counted from 0",
            self.len()
        );
        let one = self.select(&[index as i64]);
        let opts = BatchOpts {
            batch_size: 1,
            ..opts.clone()
        };
        let (images, _) = one
            .batches(&opts)
            .next()
            .context("internal: a batch of one example came out empty")?;
        Ok(images)
    }

    /// How many examples each class has, for `num_classes` classes (a quick check that a
    /// split or subset kept the classes balanced).
    pub fn class_counts(&self, num_classes: usize) -> Vec<i64> {
        let counts = self.labels.bincount::<Tensor>(None, num_classes as i64);
        Vec::<i64>::try_from(&counts).unwrap_or_default()
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
    /// How [`load`] made it, so that a run can load the same data again; `None` for a
    /// data set built in memory.
    pub loaded: Option<LoadSpec>,
}

/// The name and options a data set was loaded with: what a run records so that
/// `cnn eval` and `cnn resume` load the same images, split the same way.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoadSpec {
    pub name: String,
    pub path: Option<PathBuf>,
    pub validation: usize,
    pub seed: u64,
    pub quick: bool,
}

impl LoadSpec {
    /// Loads the data set again (no download: it was there when the run was made).
    pub fn load(&self) -> Result<Dataset> {
        load(
            &self.name,
            &LoadOpts {
                path: self.path.clone(),
                validation: self.validation,
                seed: self.seed,
                download: false,
                quick: self.quick,
            },
        )
    }
}

/// One line: the name, the size of each split, the image shape and the classes.
impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} training, {} validation and {} test images of shape {:?}; classes {:?}",
            self.name,
            self.train.len(),
            self.validation.as_ref().map_or(0, |v| v.len()),
            self.test.len(),
            self.image_shape(),
            self.classes
        )
    }
}

impl Dataset {
    /// A data set of `source`'s classes, named `name`, normalised with `mean` and `std`,
    /// without a validation split (see [`Dataset::split_validation`]), not read from a run.
    pub(crate) fn of(
        source: Source,
        name: String,
        (mean, std): (Vec<f64>, Vec<f64>),
        train: Examples,
        test: Examples,
    ) -> Dataset {
        Dataset {
            name,
            classes: source.classes(),
            mean,
            std,
            train,
            validation: None,
            test,
            loaded: None,
        }
    }

    /// `[C, H, W]` of one image.
    pub fn image_shape(&self) -> [i64; 3] {
        self.train.image_shape()
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }
}

/// How [`load`] finds and trims a data set.
#[derive(Debug, Clone)]
pub struct LoadOpts {
    /// Look here first: a folder with the data set's files (see [`locate`]).
    pub path: Option<PathBuf>,
    /// Move this many training examples, class-balanced, into `Dataset::validation`.
    pub validation: usize,
    /// Seed of the validation split and of the quick subset.
    pub seed: u64,
    /// Download from the official mirrors when no folder has the files.
    pub download: bool,
    /// Keep only a small class-balanced subset ([`QUICK_TRAIN`], [`QUICK_TEST`]).
    pub quick: bool,
}

impl Default for LoadOpts {
    fn default() -> Self {
        LoadOpts {
            path: None,
            validation: 0,
            seed: 0,
            download: true,
            quick: false,
        }
    }
}

/// Training examples kept in quick mode (`CNN_QUICK=1`): enough to see learning.
pub(crate) const QUICK_TRAIN: usize = 2000;
/// Test examples kept in quick mode.
pub(crate) const QUICK_TEST: usize = 500;

/// Loads `mnist`, `fashion-mnist` or `cifar10` (or `synthetic-mnist`, `synthetic-cifar10`,
/// made in memory): finds the files as [`locate::find`] says, downloads them when allowed,
/// validates and reads them, then trims to the quick subset and splits off a validation
/// set as `opts` says.
pub fn load(name: &str, opts: &LoadOpts) -> Result<Dataset> {
    let data = match name.strip_prefix("synthetic-") {
        Some(like) => synthetic::dataset(like, 6000, 1000, opts.seed)?,
        None => {
            let source = Source::from_name(name)?;
            let dir = locate::find_or_download(source, opts.path.as_deref(), opts.download)?;
            source
                .read(&dir)
                .with_context(|| format!("cannot load {} from {}", source.name(), dir.display()))?
        }
    };
    let data = if opts.quick {
        data.subset(QUICK_TRAIN, QUICK_TEST, opts.seed)
    } else {
        data
    };
    let data = if opts.validation > 0 {
        data.split_validation(opts.validation, opts.seed)?
    } else {
        data
    };
    Ok(Dataset {
        loaded: Some(LoadSpec {
            name: name.to_string(),
            path: opts.path.clone(),
            validation: opts.validation,
            seed: opts.seed,
            quick: opts.quick,
        }),
        ..data
    })
}

/// The MNIST-like data set the notebooks use: `$CNN_DATASET` when set (for example
/// `fashion-mnist`), otherwise `mnist`.
pub fn mnist_like_from_env() -> String {
    std::env::var("CNN_DATASET")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "mnist".to_string())
}

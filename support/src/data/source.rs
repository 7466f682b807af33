//! The three real data sets: their names, classes, statistics and files.

use super::{Dataset, cifar, mnist};
use anyhow::{Result, bail};
use std::path::Path;

/// One of the chapter's real data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// LeCun et al. 1998: 70,000 handwritten digits, 28x28 grey.
    Mnist,
    /// Xiao et al. 2017: a drop-in MNIST replacement with 10 kinds of clothing.
    FashionMnist,
    /// Krizhevsky 2009: 60,000 colour images 32x32 in 10 classes.
    Cifar10,
}

/// MNIST's digits as class names.
const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
/// Fashion-MNIST's class names, in label order (Xiao et al. 2017, table 1).
const FASHION: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
/// CIFAR-10's class names, in label order (`batches.meta.txt`).
const CIFAR10: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

impl Source {
    /// All three, in the order the chapter meets them.
    pub const ALL: [Source; 3] = [Source::Mnist, Source::FashionMnist, Source::Cifar10];

    /// Parses `mnist`, `fashion-mnist` (also `fashion_mnist`, `fmnist`) or `cifar10`
    /// (also `cifar-10`).
    pub fn from_name(name: &str) -> Result<Source> {
        match name.trim().to_ascii_lowercase().as_str() {
            "mnist" => Ok(Source::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fashionmnist" | "fmnist" => {
                Ok(Source::FashionMnist)
            }
            "cifar10" | "cifar-10" | "cifar_10" => Ok(Source::Cifar10),
            other => bail!(
                "unknown data set `{other}`: use mnist, fashion-mnist or cifar10 \
                 (or synthetic-mnist / synthetic-cifar10 for a small made-up one)"
            ),
        }
    }

    /// The folder name under `$CNN_DATA_DIR`, `<repo>/data` and `/usr/share/datasets`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Mnist => "mnist",
            Source::FashionMnist => "fashion-mnist",
            Source::Cifar10 => "cifar10",
        }
    }

    /// Class names in label order.
    pub fn classes(self) -> Vec<String> {
        let names: &[&str] = match self {
            Source::Mnist => &DIGITS,
            Source::FashionMnist => &FASHION,
            Source::Cifar10 => &CIFAR10,
        };
        names.iter().map(|s| s.to_string()).collect()
    }

    /// Per-channel mean and standard deviation of the training pixels in [0, 1], the
    /// values torchvision tutorials normalise with. Fashion-MNIST uses its own
    /// statistics (0.2860, 0.3530), not MNIST's: its images are brighter and normalising
    /// with MNIST's would leave the inputs off-centre.
    pub fn mean_std(self) -> (Vec<f64>, Vec<f64>) {
        match self {
            Source::Mnist => (vec![0.1307], vec![0.3081]),
            Source::FashionMnist => (vec![0.2860], vec![0.3530]),
            Source::Cifar10 => (vec![0.4914, 0.4822, 0.4465], vec![0.2470, 0.2435, 0.2616]),
        }
    }

    /// Which files a folder must hold, in words, for error messages.
    pub fn expected_files(self) -> String {
        match self {
            Source::Mnist | Source::FashionMnist => mnist::FILES
                .iter()
                .map(|f| format!("{f}.gz"))
                .collect::<Vec<_>>()
                .join(", "),
            Source::Cifar10 => format!(
                "either {} or the folder {}/ with {}",
                cifar::ARCHIVE,
                cifar::FOLDER,
                cifar::BATCHES.join(", ")
            ),
        }
    }

    /// True when `dir` holds a complete copy (by file names; contents are checked on
    /// reading).
    pub fn present_in(self, dir: &Path) -> bool {
        match self {
            Source::Mnist | Source::FashionMnist => mnist::present_in(dir),
            Source::Cifar10 => cifar::present_in(dir),
        }
    }

    /// Reads and validates the copy in `dir` into a [`Dataset`] with no validation set.
    pub fn read(self, dir: &Path) -> Result<Dataset> {
        let (train, test) = match self {
            Source::Mnist | Source::FashionMnist => mnist::read_dir(dir)?,
            Source::Cifar10 => cifar::read_dir(dir)?,
        };
        let name = self.name().to_string();
        Ok(Dataset::of(self, name, self.mean_std(), train, test))
    }
}

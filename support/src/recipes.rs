//! Named training recipes: the papers' own settings and the notebooks' ones.
//!
//! A recipe is everything a run needs besides the data: the net, the training settings
//! (epochs, batch, optimizer, schedule, distortions) and the number of test passes. Each
//! names its source and lists every way it departs from it, so that a result can be read
//! next to the published one. `cnn train --recipe NAME` trains one, `cnn recipes` lists
//! them.

use crate::data::{Augment, Dataset};
use crate::fmp::Regions;
use crate::models::{Dropout, FmpConfig, LeNet5Config, ModelSpec};
use crate::train::{FitConfig, LrSchedule, Optimizer, check_weight_decay};
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// The data a recipe is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// 28x28 grey digits or clothes: `mnist`, `fashion-mnist`, `synthetic-mnist`.
    Mnist,
    /// 32x32 colour images: `cifar10`, `synthetic-cifar10`.
    Cifar10,
}

impl Family {
    /// The data set a recipe of this family trains on unless told otherwise.
    pub fn default_dataset(self) -> &'static str {
        match self {
            Family::Mnist => "mnist",
            Family::Cifar10 => "cifar10",
        }
    }

    fn accepts(self, dataset: &str) -> bool {
        let name = dataset.strip_prefix("synthetic-").unwrap_or(dataset);
        match self {
            Family::Mnist => name == "mnist" || name == "fashion-mnist",
            Family::Cifar10 => name == "cifar10",
        }
    }
}

/// A published test error, in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// With one test pass.
    pub one_pass: f64,
    /// With 12 passes averaged (FMP nets only).
    pub twelve_passes: Option<f64>,
    /// On which data and where it is printed.
    pub note: String,
}

/// A named, complete training setting (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub name: String,
    /// Where the settings come from.
    pub source: String,
    /// Every way this recipe departs from its source.
    pub deviations: Vec<String>,
    pub published: Option<Published>,
    pub family: Family,
    /// The net, for one-channel digits with ten classes (or CIFAR-10's three channels);
    /// [`Recipe::model_for`] fits it to the data.
    pub model: ModelSpec,
    /// Epochs, batch, optimizer, schedule, distortions and seed. `run` is unset.
    pub fit: FitConfig,
    /// Test passes averaged at the end: 12 for FMP nets, whose pooling regions are drawn
    /// anew each pass; 1 for deterministic nets.
    pub passes: usize,
}

/// The recipes' names, in the order `cnn recipes` lists them.
pub(crate) const RECIPE_NAMES: [&str; 10] = [
    "graham-mnist",
    "graham-mnist-random",
    "lecun-1998",
    "lecun-1998-distorted",
    "lecun-1998-sdlm",
    "course-502",
    "course-503",
    "course-501",
    "cpu-30min",
    "graham-cifar10",
];

/// The recipe called `name`, or an error listing the known ones.
pub fn recipe(name: &str) -> Result<Recipe> {
    Ok(match name {
        "graham-mnist" => graham_mnist(Regions::PseudorandomOverlapping),
        "graham-mnist-random" => graham_mnist(Regions::RandomOverlapping),
        "lecun-1998" => lecun_1998(false),
        "lecun-1998-distorted" => lecun_1998(true),
        "lecun-1998-sdlm" => lecun_1998_sdlm(),
        "course-502" => course_502(),
        "course-503" => course_503(),
        "course-501" => course_501(),
        "cpu-30min" => cpu_30min(),
        "graham-cifar10" => graham_cifar10(),
        _ => bail!(
            "unknown recipe {name:?}; the recipes are: {} (`cnn recipes` describes them)",
            RECIPE_NAMES.join(", ")
        ),
    })
}

/// Every recipe, in [`RECIPE_NAMES`] order.
pub fn all() -> Vec<Recipe> {
    RECIPE_NAMES
        .iter()
        .map(|name| recipe(name).expect("every listed recipe is defined"))
        .collect()
}

impl Recipe {
    /// The recipe's net for `data`: its channels and classes, after checking that the
    /// data is of the recipe's family.
    pub fn model_for(&self, data: &Dataset) -> Result<ModelSpec> {
        self.check_data(data)?;
        let [channels, _, _] = data.image_shape();
        Ok(self.model.with_io(channels, data.num_classes() as i64))
    }

    /// The recipe with the weight decay `wd` in place of its own, renamed (`-wd<wd>`) so
    /// that its runs never continue, or pass for, the recipe's, and with the change stated
    /// among its deviations. The same decay as the recipe's changes nothing.
    pub fn with_weight_decay(mut self, wd: f64) -> Result<Recipe> {
        check_weight_decay(wd)?;
        if wd == self.fit.weight_decay {
            return Ok(self);
        }
        if matches!(self.fit.optimizer, Optimizer::Sdlm { .. }) {
            bail!(
                "recipe {} trains with SDLM, which takes no weight decay; drop --weight-decay \
                 (or use lecun-1998, which trains with AdamW)",
                self.name
            );
        }
        self.deviations.push(format!(
            "Weight decay {wd} in place of the recipe's {} (--weight-decay).",
            self.fit.weight_decay
        ));
        self.name = format!("{}-wd{wd}", self.name);
        self.fit.weight_decay = wd;
        Ok(self)
    }

    /// Fails unless `data` is of the recipe's family (MNIST-like or CIFAR-10).
    fn check_data(&self, data: &Dataset) -> Result<()> {
        self.check_dataset(data.loaded.as_ref().map_or(data.name.as_str(), |l| &l.name))
    }

    /// Fails unless the data set called `name` is of the recipe's family: the check to
    /// make before loading it, so that a wrong `--dataset` is said even where that data
    /// set is not installed.
    /// The recipe with its whole learning-rate schedule run within `epochs` (faster decay,
    /// shorter steps): a quicker look, renamed `-compressed<epochs>` and said so among its
    /// deviations, so that it never passes for the recipe.
    pub fn compressed(mut self, epochs: usize) -> Recipe {
        self.fit.schedule = self.fit.schedule.compressed(self.fit.epochs, epochs);
        self.deviations.push(format!(
            "Compressed: the {}-epoch schedule run in {epochs} epochs ({}).",
            self.fit.epochs, self.fit.schedule
        ));
        self.name = format!("{}-compressed{epochs}", self.name);
        self.fit.epochs = epochs;
        self
    }

    pub fn check_dataset(&self, name: &str) -> Result<()> {
        if !self.family.accepts(name) {
            bail!(
                "recipe {} is for {} data, not {}; use --dataset {} (or another recipe)",
                self.name,
                self.family.default_dataset(),
                name,
                self.family.default_dataset()
            );
        }
        Ok(())
    }
}

/// Graham (2014), MNIST: the FMP net of his code with SGD, his schedule and dropout.
fn graham_mnist(regions: Regions) -> Recipe {
    let (name, published) = match regions {
        Regions::RandomOverlapping => ("graham-mnist-random", (0.50, 0.32)),
        _ => ("graham-mnist", (0.44, 0.34)),
    };
    Recipe {
        name: name.into(),
        source: "Graham, Fractional Max-Pooling (arXiv:1412.6071), MNIST, and his \
                 SparseConvNet code: (32n C2 - FMP sqrt 2)_6 - C2 - C1, leaky ReLU 1/3, \
                 dropout 0,0,0,0.1,0.2,0.3,0.4,0.5, SGD with momentum, \
                 lr 0.003 exp(-0.01 epoch), batch 100, affine distortions"
            .into(),
        deviations: vec![
            "Epochs: 100. The paper does not print the MNIST epoch count and the project's \
             notes on his code do not record it."
                .into(),
            "Distortions: random rotation 10 degrees, zoom 10 %, shear 10 degrees and shift \
             10 % per image, standing for his affine distortions, whose ranges the notes \
             do not record."
                .into(),
            "Momentum 0.9, the value his MNIST code is recalled with (0.99 is his CIFAR-10 \
             value)."
                .into(),
            "Initialisation: PyTorch's default draw (models::init), then each layer rescaled \
             to unit variance on noise (FmpConfig::unit_variance_init); the notes do not \
             record his. From Kaiming's draw without the rescaling, the max-pooling grows the \
             activations about 1.7x per block, the first loss is near 53, and SGD diverges at \
             0.01; from PyTorch's, the logits start near 0.05."
                .into(),
            "Learning rate 0.01 exp(-0.01 epoch) instead of 0.003 exp(-0.01 epoch): with \
             the rescaled start, one epoch on an MNIST validation split reached 95.9 % at \
             0.01 against 90.4 % for his 0.003 from Kaiming's start (see LrSchedule::graham_mnist)."
                .into(),
            "The 28x28 digits are normalised by the data set's mean and deviation and \
             padded to 36x36 with zeros; his code reads sparse ink on a zero background."
                .into(),
        ],
        published: Some(Published {
            one_pass: published.0,
            twelve_passes: Some(published.1),
            note: "MNIST test error in the paper's table".into(),
        }),
        family: Family::Mnist,
        model: FmpConfig {
            regions,
            ..FmpConfig::graham_mnist()
        }
        .into(),
        fit: FitConfig {
            epochs: 100,
            augment: Augment::affine_distortion(),
            ..FitConfig::graham_mnist()
        },
        passes: 12,
    }
}

/// LeCun et al. (1998): LeNet-5 on 32x32 inputs with the RBF loss and decreasing
/// per-pass rates over 20 passes.
fn lecun_1998(distorted: bool) -> Recipe {
    let mut deviations = vec![
        "Optimizer: Adam in batches of 64, 0.003, 0.001, 0.0003, 0.0001 and 0.00003 for 4 \
         passes each (chosen on a validation split over the paper's rates times 2), in place \
         of stochastic diagonal Levenberg-Marquardt on single images with the paper's \
         0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4, then 0.00001. \
         Both give each weight its own step: SDLM from the loss's curvature, Adam from the \
         gradient's running size. Plain SGD on single images at the largest step SDLM \
         takes (rate / mu) diverged in its first pass on MNIST (validation accuracy 10 %)."
            .into(),
        "The RBF target bitmaps are this project's own drawings of the digits, after the \
         spirit of the paper's Fig. 3."
            .into(),
    ];
    let (name, augment, published, optimizer, weight_decay) = if distorted {
        deviations.push(
            "Distortions: random rotation 10 degrees, zoom 10 %, shear 10 degrees and shift \
             10 % per image; the paper adds 540,000 distorted copies made once (planar affine \
             transformations) instead."
                .into(),
        );
        (
            "lecun-1998-distorted",
            Augment::affine_distortion(),
            0.8,
            Optimizer::Adam,
            0.0,
        )
    } else {
        deviations.push(
            "Weight decay 0.2, decoupled as in AdamW; the paper has none. Adam alone fits the \
             training digits to 99.7 % and overfits: on 5,000 held-out MNIST training digits \
             (20 passes) it left 1.40, 1.38 and 1.22 % error at seeds 0, 1 and 2, with the \
             decay 1.18, 1.14 and 1.12 % (training accuracy 99.4 %)."
                .into(),
        );
        ("lecun-1998", Augment::none(), 0.95, Optimizer::AdamW, 0.2)
    };
    Recipe {
        name: name.into(),
        source: "LeCun, Bottou, Bengio, Haffner, Gradient-Based Learning Applied to Document \
                 Recognition (1998): LeNet-5 with scaled tanh, trainable subsampling, the C3 \
                 table and Euclidean RBF outputs; U(+-2.4/F) initialisation; background -0.1 \
                 and ink 1.175; 20 passes with rates 0.0005, 0.0002, 0.0001, 0.00005, 0.00001"
            .into(),
        deviations,
        published: Some(Published {
            one_pass: published,
            twelve_passes: None,
            note: "MNIST test error in the paper's results".into(),
        }),
        family: Family::Mnist,
        model: LeNet5Config::classic().into(),
        fit: FitConfig {
            epochs: 20,
            batch_size: 64,
            optimizer,
            weight_decay,
            schedule: LrSchedule::lecun_adam(),
            augment,
            ..FitConfig::default()
        },
        passes: 1,
    }
}

/// `lecun-1998` with the paper's own optimizer, stochastic diagonal Levenberg-Marquardt,
/// and its rates. It trains less well than Adam here, and only with a larger `mu`
/// (docs/recipe-measurements.md): it is the recipe for seeing the 1998 method at work,
/// not for the best LeNet-5.
fn lecun_1998_sdlm() -> Recipe {
    let mut r = lecun_1998(false);
    r.name = "lecun-1998-sdlm".into();
    // The optimizer's deviation changes and the weight decay's goes; the bitmaps' stays.
    r.deviations.truncate(2);
    r.deviations[0] = "SDLM with mu = 1 in batches of 16, in place of the paper's mu = 0.02 on \
         single images. On a validation split (the paper's rates, batches of 16, 20 passes) \
         mu = 0.02 and 0.5 diverged or stalled (validation accuracy 10 % and 97.6 %), mu = 1 \
         reached 98.6 %, and mu = 1 with the rates times 3 or 10 diverged. The paper reports \
         first-pass rates of 7e-5 to 0.016; at the start this estimate of the curvature is far \
         below 0.02 for the lower layers, whose weights start small, so mu alone sets their \
         rates."
        .into();
    r.fit = FitConfig {
        batch_size: 16,
        optimizer: Optimizer::Sdlm {
            mu: 1.0,
            samples: 500,
        },
        weight_decay: 0.0,
        schedule: LrSchedule::lecun(),
        ..r.fit
    };
    r
}

/// The course's training in the notebooks: Adam at 1e-3, batch 64, rotation by up to 10
/// degrees.
fn course_fit(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 64,
        schedule: LrSchedule::Constant(1e-3),
        augment: Augment::mnist_course(),
        ..FitConfig::default()
    }
}

/// Notebook 502's default run.
fn course_502() -> Recipe {
    Recipe {
        name: "course-502".into(),
        source: "Notebook 502: the course's FMP net (BatchNorm, leaky ReLU 0.2, no dropout \
                 for a few epochs, regions drawn per image), 4 epochs of Adam at 0.003, \
                 0.001, 0.0003, 0.0001, batch 64, without the course's rotation by up to \
                 10 degrees (over 4 epochs it cost accuracy on MNIST validation digits)"
            .into(),
        deviations: vec![],
        published: None,
        family: Family::Mnist,
        model: FmpConfig {
            dropout: Dropout::NONE,
            per_image_regions: true,
            ..FmpConfig::course_mnist()
        }
        .into(),
        fit: FitConfig {
            schedule: LrSchedule::course_fmp(),
            augment: Augment::none(),
            ..course_fit(4)
        },
        passes: 12,
    }
}

/// Notebook 503's run of the 1998 net.
fn course_503() -> Recipe {
    Recipe {
        name: "course-503".into(),
        source: "Notebook 503: the 1998 LeNet-5 trained the course's way, 5 epochs of Adam \
                 1e-3, batch 64, rotation 10 degrees"
            .into(),
        deviations: vec![],
        published: None,
        family: Family::Mnist,
        model: LeNet5Config::classic().into(),
        fit: course_fit(5),
        passes: 1,
    }
}

/// Notebook 501's CPU run: the course's CIFAR-10 net cut to 6 blocks of growth 32.
fn course_501() -> Recipe {
    Recipe {
        name: "course-501".into(),
        source: "Notebook 501 on a CPU: the course's CIFAR-10 FMP net with 6 blocks of \
                 growth 32 and ratio sqrt 2, no dropout, 5 epochs of Adam 1e-3, batch 64, \
                 flips, crops and colour jitter (on a GPU the notebook trains the full net)"
            .into(),
        deviations: vec![],
        published: None,
        family: Family::Cifar10,
        model: FmpConfig {
            layers: 6,
            growth: 32,
            alpha: std::f64::consts::SQRT_2,
            dropout: Dropout::NONE,
            ..FmpConfig::course_cifar10()
        }
        .into(),
        fit: FitConfig {
            augment: Augment::cifar10_course(),
            ..course_fit(5)
        },
        passes: 12,
    }
}

/// The course's FMP net with what a longer run on a laptop can afford: the best MNIST
/// accuracy this project found for 30 minutes of training on a 2-core CPU.
fn cpu_30min() -> Recipe {
    Recipe {
        name: "cpu-30min".into(),
        source: "This project: notebook 502's net and per-image regions, 20 epochs of Adam \
                 from 0.003 decaying to 0.00003 (exp(-0.25 epoch)), batch 64, affine \
                 distortions; 20 epochs of this net take about 30 minutes on a 2-core CPU"
            .into(),
        deviations: vec![
            "Not from a paper. The schedule's shape and the per-image draws were chosen on \
             3-epoch runs on an MNIST validation split; 20-epoch runs were too long to tune \
             by, so the epoch count is set by the time budget and dropout stays off."
                .into(),
        ],
        published: None,
        family: Family::Mnist,
        model: course_502().model,
        fit: FitConfig {
            epochs: 20,
            batch_size: 64,
            schedule: LrSchedule::Exponential {
                initial: 0.003,
                decay: 0.25,
            },
            augment: Augment::affine_distortion(),
            ..FitConfig::default()
        },
        passes: 12,
    }
}

/// Graham (2014), CIFAR-10: his big net, for a GPU.
fn graham_cifar10() -> Recipe {
    Recipe {
        name: "graham-cifar10".into(),
        source: "Graham, Fractional Max-Pooling, CIFAR-10: (160n C2 - FMP 2^(1/3))_12 - C2 - \
                 C1, leaky ReLU 1/3, dropout rising linearly to 0.5, affine and colour \
                 augmentation; his code: about 500 epochs, SGD momentum 0.99, \
                 lr 0.003 exp(-0.005 epoch), batch 50"
            .into(),
        deviations: vec![
            "Augmentation: flips, crops of the 4-padded image and colour jitter 0.2 (the \
             course's), standing for his affine and colour distortions."
                .into(),
            "Epochs: 500, his code's 'about 500'.".into(),
            "Initialisation: PyTorch's default draw, then each layer rescaled to unit \
             variance on noise, as in graham-mnist; his rate is kept, since no GPU has trained this recipe yet."
                .into(),
        ],
        published: Some(Published {
            one_pass: 4.50,
            twelve_passes: Some(3.67),
            note: "CIFAR-10 test error in the paper's table".into(),
        }),
        family: Family::Cifar10,
        model: FmpConfig::graham_cifar10().into(),
        fit: FitConfig {
            epochs: 500,
            batch_size: 50,
            optimizer: Optimizer::Sgd {
                momentum: 0.99,
                nesterov: false,
            },
            schedule: LrSchedule::Exponential {
                initial: 0.003,
                decay: 0.005,
            },
            augment: Augment::cifar10_course(),
            ..FitConfig::default()
        },
        passes: 12,
    }
}

impl std::fmt::Display for Recipe {
    /// The recipe as `cnn recipes` lists it: settings, source, published error and every
    /// deviation.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fit = &self.fit;
        writeln!(
            f,
            "{} (for {} data): {} epochs, batch {}, {}, {}, {}, {} test pass(es)",
            self.name,
            self.family.default_dataset(),
            fit.epochs,
            fit.batch_size,
            fit.optimizer,
            fit.schedule,
            fit.augment,
            self.passes
        )?;
        writeln!(f, "  source: {}", self.source)?;
        if let Some(p) = &self.published {
            let twelve = p
                .twelve_passes
                .map_or(String::new(), |e| format!(", {e:.2} % with 12 passes"));
            writeln!(f, "  published: {:.2} %{twelve} ({})", p.one_pass, p.note)?;
        }
        for d in &self.deviations {
            writeln!(f, "  deviation: {d}")?;
        }
        Ok(())
    }
}

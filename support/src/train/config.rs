//! What a training run is told: epochs, batch size, optimizer, learning-rate schedule.
//!
//! A plain struct with `Default` and named presets, saved as `config.json` next to the
//! checkpoints so that a run can be read, repeated and resumed.

use super::adam::Adam;
use super::sdlm::Sdlm;
use crate::data::Augment;
use serde::{Deserialize, Serialize};
use tch::Tensor;
use tch::nn::{self, OptimizerConfig};

/// The optimizer and its constants (the learning rate lives in [`LrSchedule`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// Adam (Kingma & Ba 2015), the course's default: `beta1 = 0.9`, `beta2 = 0.999`.
    Adam,
    /// AdamW (Loshchilov & Hutter 2019): Adam with weight decay applied to the weights
    /// directly, `w <- w - lr * wd * w`, instead of being added to the gradient.
    AdamW,
    /// Stochastic gradient descent with momentum, `v <- m v + g; w <- w - lr v`, and
    /// optionally Nesterov's look-ahead. Graham trains FMP nets with SGD (momentum 0.9,
    /// 0.99 for CIFAR-10).
    Sgd { momentum: f64, nesterov: bool },
    /// Stochastic diagonal Levenberg-Marquardt ([`Sdlm`]), LeCun et al.'s (1998): each
    /// weight's rate divided by `mu` plus its curvature, estimated on `samples` training
    /// images before each epoch. The paper: `mu = 0.02`, 500 images.
    Sdlm { mu: f64, samples: usize },
}

impl Optimizer {
    /// Builds the optimizer over `vs` with rate `lr` and no weight decay, for a training
    /// loop of your own. SDLM is refused: it needs the curvature estimate that `fit` makes
    /// before each epoch.
    pub fn build_for(&self, vs: &nn::VarStore, lr: f64) -> anyhow::Result<Stepper> {
        if let Optimizer::Sdlm { .. } = self {
            anyhow::bail!(
                "SDLM steps by a curvature estimate that `fit` makes before each epoch; train \
                 with `fit`, or build `train::sdlm::Sdlm` and give it `Model::diagonal_curvature`"
            );
        }
        Ok(self.build(vs, lr, 0.0, 1)?)
    }

    /// Builds the optimizer over every trainable variable in `vs`: Adam and AdamW are
    /// [`Adam`] (one fused pass per parameter), SGD is libtorch's, SDLM is [`Sdlm`]
    /// (which scales its step with the batch size and takes the variables from its
    /// curvature estimate).
    pub(crate) fn build(
        &self,
        vs: &nn::VarStore,
        lr: f64,
        weight_decay: f64,
        batch_size: usize,
    ) -> Result<Stepper, tch::TchError> {
        Ok(match *self {
            Optimizer::Adam => Stepper::Adam(Adam::new(vs, lr, weight_decay, false)),
            Optimizer::AdamW => Stepper::Adam(Adam::new(vs, lr, weight_decay, true)),
            Optimizer::Sgd { momentum, nesterov } => Stepper::Torch(
                nn::Sgd {
                    momentum,
                    nesterov,
                    wd: weight_decay,
                    dampening: 0.0,
                }
                .build(vs, lr)?,
            ),
            Optimizer::Sdlm { mu, .. } => Stepper::Sdlm(Sdlm::new(lr, mu, batch_size)),
        })
    }
}

/// A built optimizer: what takes the training steps.
#[derive(Debug)]
pub enum Stepper {
    Adam(Adam),
    Torch(nn::Optimizer),
    Sdlm(Sdlm),
}

impl Stepper {
    pub fn set_lr(&mut self, lr: f64) {
        match self {
            Stepper::Adam(a) => a.set_lr(lr),
            Stepper::Torch(o) => o.set_lr(lr),
            Stepper::Sdlm(s) => s.set_lr(lr),
        }
    }

    /// Backpropagates `loss` and updates the parameters.
    pub fn backward_step(&mut self, loss: &Tensor) {
        match self {
            Stepper::Adam(a) => a.backward_step(loss),
            Stepper::Torch(o) => o.backward_step(loss),
            Stepper::Sdlm(s) => s.backward_step(loss),
        }
    }

    /// Zeroes the gradients that `loss.backward()` accumulates, before [`Stepper::step`].
    pub fn zero_grad(&mut self) {
        match self {
            Stepper::Adam(a) => a.zero_grad(),
            Stepper::Torch(o) => o.zero_grad(),
            Stepper::Sdlm(s) => s.zero_grad(),
        }
    }

    /// Updates the parameters from the gradients `loss.backward()` accumulated.
    pub fn step(&mut self) {
        match self {
            Stepper::Adam(a) => a.step(),
            Stepper::Torch(o) => o.step(),
            Stepper::Sdlm(s) => s.step(),
        }
    }
}

/// The learning rate as a function of the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate every epoch.
    Constant(f64),
    /// `initial * exp(-decay * e)` for the zero-based epoch `e`: Graham's
    /// `0.003 * exp(-0.01 * epoch)` for MNIST is `Exponential { initial: 0.003, decay: 0.01 }`.
    Exponential { initial: f64, decay: f64 },
    /// Piecewise constant: `(epochs, rate)` pairs in order, then `after` for the rest.
    /// [`LrSchedule::lecun`] is LeNet-5's.
    Steps {
        steps: Vec<(usize, f64)>,
        after: f64,
    },
}

impl LrSchedule {
    /// Graham's FMP schedule for MNIST, `exp(-0.01 * epoch)`, from 0.01 instead of his
    /// 0.003: with the unit-variance start
    /// ([`crate::models::FmpConfig::unit_variance_init`]) the larger rate learns faster
    /// without diverging (docs/recipe-measurements.md).
    pub fn graham_mnist() -> Self {
        LrSchedule::Exponential {
            initial: 0.01,
            decay: 0.01,
        }
    }

    /// LeCun et al. (1998): 0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for
    /// 4, then 0.00001. (The paper's rates are for its diagonal Levenberg-Marquardt
    /// method, not plain SGD.)
    pub fn lecun() -> Self {
        LrSchedule::Steps {
            steps: vec![(2, 0.0005), (3, 0.0002), (3, 0.0001), (4, 0.00005)],
            after: 0.00001,
        }
    }

    /// LeNet-5's 20 passes with Adam: five steps of 4 epochs, each rate about a third of
    /// the one before, 0.003, 0.001, 0.0003, 0.0001, 0.00003. At [`LrSchedule::lecun`]'s
    /// smaller rates the net underfitted (docs/recipe-measurements.md).
    pub fn lecun_adam() -> Self {
        LrSchedule::Steps {
            steps: vec![(4, 0.003), (4, 0.001), (4, 0.0003), (4, 0.0001)],
            after: 0.00003,
        }
    }

    /// Notebook 502's four epochs of Adam: 0.003, 0.001, 0.0003, then 0.0001. The large
    /// first steps learn quickly and the small last ones settle the weights; it was ahead
    /// of the alternatives tried at every seed (docs/notebooks.md).
    pub fn course_fmp() -> Self {
        LrSchedule::Steps {
            steps: vec![(1, 0.003), (1, 0.001), (1, 0.0003)],
            after: 0.0001,
        }
    }

    /// The same schedule run `from` epochs' course in `to` epochs: the decay `from / to`
    /// times faster, each step `to / from` as long (at least one epoch). For a quick
    /// look at a long recipe on a fast machine; label its results as compressed.
    pub fn compressed(&self, from: usize, to: usize) -> LrSchedule {
        let factor = from as f64 / to.max(1) as f64;
        match self {
            LrSchedule::Constant(lr) => LrSchedule::Constant(*lr),
            LrSchedule::Exponential { initial, decay } => LrSchedule::Exponential {
                initial: *initial,
                decay: decay * factor,
            },
            LrSchedule::Steps { steps, after } => LrSchedule::Steps {
                steps: steps
                    .iter()
                    .map(|&(n, lr)| (((n as f64 / factor).round() as usize).max(1), lr))
                    .collect(),
                after: *after,
            },
        }
    }

    /// The rate for the one-based `epoch` (as in the history's `epoch` column).
    pub fn lr(&self, epoch: usize) -> f64 {
        let e = epoch.saturating_sub(1);
        match self {
            LrSchedule::Constant(lr) => *lr,
            LrSchedule::Exponential { initial, decay } => initial * (-decay * e as f64).exp(),
            LrSchedule::Steps { steps, after } => {
                let mut start = 0;
                for &(n, lr) in steps {
                    if e < start + n {
                        return lr;
                    }
                    start += n;
                }
                *after
            }
        }
    }
}

impl std::fmt::Display for Optimizer {
    /// `Adam`, `AdamW`, `SGD` or `SGD with momentum 0.9`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Optimizer::Adam => write!(f, "Adam"),
            Optimizer::AdamW => write!(f, "AdamW"),
            Optimizer::Sgd { momentum, nesterov } => {
                write!(f, "SGD")?;
                if momentum != 0.0 {
                    write!(f, " with momentum {momentum}")?;
                }
                if nesterov {
                    write!(f, " (Nesterov)")?;
                }
                Ok(())
            }
            Optimizer::Sdlm { mu, samples } => {
                write!(
                    f,
                    "SDLM (mu {mu}, curvature from {samples} images per epoch)"
                )
            }
        }
    }
}

impl std::fmt::Display for LrSchedule {
    /// `lr 0.001`, `lr 0.003 exp(-0.01 epoch)` or `lr 0.025 for 2 epochs, ..., then 0.0005`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LrSchedule::Constant(lr) => write!(f, "lr {lr}"),
            LrSchedule::Exponential { initial, decay } => {
                write!(f, "lr {initial} exp(-{decay} epoch)")
            }
            LrSchedule::Steps { steps, after } => {
                write!(f, "lr")?;
                for (n, lr) in steps {
                    let epochs = if *n == 1 { "epoch" } else { "epochs" };
                    write!(f, " {lr} for {n} {epochs},")?;
                }
                write!(f, " then {after}")
            }
        }
    }
}

/// Everything `fit` needs besides the model and the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    /// Total epochs of the run (`resume` continues up to this count).
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: Optimizer,
    pub schedule: LrSchedule,
    /// L2 penalty `wd * |w|^2 / 2`, i.e. `wd * w` added to each gradient (AdamW: decoupled).
    pub weight_decay: f64,
    /// Seeds the training's random draws: shuffling, augmentation, dropout and pooling
    /// regions. The initial weights are drawn when the model is built, before `fit`
    /// runs: seed those with [`crate::seed`] just before building the model.
    pub seed: u64,
    /// Random distortions of the training batches (none by default).
    #[serde(default)]
    pub augment: Augment,
    /// The folder under the runs root (`runs/<run>/`); `None` names it after the data
    /// set and the start time.
    pub run: Option<String>,
    /// Evaluate on the data set's validation split after every epoch (if it has one).
    pub validate: bool,
    /// Print the per-epoch progress line (and, in a notebook, draw the training curves
    /// as they grow).
    pub progress: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 10,
            batch_size: 64,
            optimizer: Optimizer::Adam,
            schedule: LrSchedule::Constant(1e-3),
            weight_decay: 0.0,
            seed: 0,
            augment: Augment::default(),
            run: None,
            validate: true,
            progress: true,
        }
    }
}

impl FitConfig {
    /// Graham's MNIST recipe for FMP nets: SGD with momentum 0.9, batch 100,
    /// `0.01 * exp(-0.01 * epoch)` ([`LrSchedule::graham_mnist`]).
    pub fn graham_mnist() -> Self {
        FitConfig {
            batch_size: 100,
            optimizer: Optimizer::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            schedule: LrSchedule::graham_mnist(),
            ..FitConfig::default()
        }
    }
}

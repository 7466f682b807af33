//! The models by name: the one table that every name is read from (the command line's
//! choices and help, the summary, the benchmarks). A preset of an existing kind of net is
//! one line here; a new kind of net is its own file, a `ModelSpec` variant and a line.

use super::{FcnnConfig, FmpConfig, LeNet5Config, ModelSpec};

/// A model's name and its preset configuration, for the data it was designed for.
pub(crate) type Preset = (&'static str, fn() -> ModelSpec);

/// Every named model, in the order help texts list them.
pub(crate) const PRESETS: [Preset; 7] = [
    ("fcnn", || FcnnConfig::cifar10().into()),
    ("lenet5-classic", || LeNet5Config::classic().into()),
    ("lenet5-modern", || LeNet5Config::modern().into()),
    ("fmp-mnist", || FmpConfig::course_mnist().into()),
    ("fmp-cifar10", || FmpConfig::course_cifar10().into()),
    ("fmp-cifar10-large", || {
        FmpConfig::course_cifar10_large().into()
    }),
    ("fmp-tiny", || FmpConfig::tiny().into()),
];

/// The model names used everywhere: CLI, notebooks, run folders.
pub const MODEL_NAMES: [&str; PRESETS.len()] = {
    let mut names = [""; PRESETS.len()];
    let mut i = 0;
    while i < PRESETS.len() {
        names[i] = PRESETS[i].0;
        i += 1;
    }
    names
};

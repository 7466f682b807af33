//! Synthetic data and tiny models shared by the `train_*` tests.

use std::process::Command;
use support::data::{Dataset, Examples};
use support::models::Model;
use support::models::layers::{self, Expects, Layer};
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

pub const SIDE: i64 = 8;
pub const CLASSES: i64 = 3;

/// `n` 1x8x8 images of 3 classes: class `k` has a bright band of rows at `k * 3`, on
/// dim noise drawn from a small LCG seeded with `seed`, so the data is learnable.
pub fn examples(n: usize, seed: u64) -> Examples {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let mut pixels = Vec::with_capacity(n * 64);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i as i64 + (next() % 2) as i64) % CLASSES;
        labels.push(class);
        for row in 0..SIDE {
            for _ in 0..SIDE {
                let bright = row / 3 == class;
                let v = if bright {
                    160 + next() % 96
                } else {
                    next() % 90
                };
                pixels.push(v as u8);
            }
        }
    }
    Examples {
        images: Tensor::from_slice(&pixels).view([n as i64, 1, SIDE, SIDE]),
        labels: Tensor::from_slice(&labels),
    }
}

/// A synthetic data set with train, optional validation and test splits.
pub fn dataset(train: usize, validation: Option<usize>, test: usize) -> Dataset {
    Dataset {
        name: "synthetic-bands".into(),
        classes: vec!["top".into(), "middle".into(), "bottom".into()],
        mean: vec![0.3],
        std: vec![0.3],
        train: examples(train, 1),
        validation: validation.map(|n| examples(n, 2)),
        test: examples(test, 3),
        loaded: None,
    }
}

/// A linear classifier on the flattened image; `noisy` adds test-time dropout so that
/// two evaluation passes differ, as an FMP net's do.
#[derive(Debug)]
pub struct Tiny {
    fc: nn::Linear,
    channels: i64,
    side: i64,
    noisy: bool,
}

impl Tiny {
    pub fn new(p: &nn::Path, channels: i64, side: i64, classes: i64) -> Self {
        let fc = nn::linear(
            p / "fc",
            channels * side * side,
            classes,
            Default::default(),
        );
        Tiny {
            fc,
            channels,
            side,
            noisy: false,
        }
    }

    pub fn noisy(p: &nn::Path) -> Self {
        Tiny {
            noisy: true,
            ..Tiny::new(p, 1, SIDE, CLASSES)
        }
    }

    pub fn standard(p: &nn::Path) -> Self {
        Tiny::new(p, 1, SIDE, CLASSES)
    }
}

impl ModuleT for Tiny {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        layers::run(&self.layers(), xs, train)
    }
}

impl Model for Tiny {
    fn input_shape(&self) -> (i64, i64) {
        (self.channels, self.side)
    }
    fn random_at_test_time(&self) -> bool {
        self.noisy
    }
    fn layers(&self) -> Vec<Layer<'_>> {
        let params = vec![&self.fc.ws];
        vec![Layer::new(
            "flatten + linear",
            Expects::exactly(self.channels, self.side),
            params,
            move |x, _| {
                let x = x.flatten(1, -1);
                let x = if self.noisy { x.dropout(0.5, true) } else { x };
                self.fc.forward(&x)
            },
        )]
    }
}

/// The named model for data of `channels` channels and `classes` classes, built the one
/// way the library has: `ModelSpec::preset(name)?.with_io(..).build(vs)`.
pub fn build(
    name: &str,
    vs: &nn::Path,
    channels: i64,
    classes: i64,
) -> anyhow::Result<Box<dyn Model>> {
    support::models::ModelSpec::preset(name)?
        .with_io(channels, classes)
        .build(vs)
}

/// The channels the named model's preset is designed for.
pub fn preset_channels(name: &str) -> i64 {
    support::models::ModelSpec::preset(name).unwrap().io().0
}

/// A run path inside `dir` (an absolute path is used as the run folder as is).
pub fn run_in(dir: &std::path::Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// Largest absolute difference between two float tensors.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().to_kind(Kind::Double).double_value(&[])
}

/// A quiet, quick training config writing its run into `dir`.
pub fn config(dir: &std::path::Path, epochs: usize) -> support::train::FitConfig {
    support::train::FitConfig {
        epochs,
        batch_size: 16,
        schedule: support::train::LrSchedule::Constant(0.01),
        run: Some(run_in(dir, "run")),
        progress: false,
        ..support::train::FitConfig::default()
    }
}

/// A command that runs one ignored test of this test binary, `name` in the module that
/// `module_path!()` names, alone and with its output shown: the tests that kill, interrupt
/// or refit a training run do it in such a child, so the suite's process is not touched.
pub fn child_test(module: &str, name: &str) -> Command {
    // Test names inside the suite binary are module paths without the crate name.
    let test = format!("{}::{name}", module.trim_start_matches("suite::"));
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([test.as_str(), "--exact", "--ignored", "--nocapture"]);
    command
}

//! `cnn train`, `cnn resume`: headless training runs, as on a GPU server or in a batch job.

use anyhow::{Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use support::data::{self, Augment, Dataset, LoadOpts};
use support::device;
use support::models::{self, Model};
use support::train::{self, FitConfig, History, LrSchedule, Outcome};
use tch::nn;

/// `cnn train`'s options.
#[derive(Args)]
pub struct TrainArgs {
    /// The model: fcnn, lenet5-classic, lenet5-modern, fmp-mnist, fmp-cifar10, ...
    pub model: String,
    /// mnist, fashion-mnist, cifar10, or synthetic-mnist / synthetic-cifar10.
    #[arg(long)]
    pub dataset: String,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// A small subset of the data, to check that everything runs.
    #[arg(long)]
    pub quick: bool,
    /// cpu, cuda or mps (default: the best this machine has).
    #[arg(long)]
    pub device: Option<String>,
    /// The run folder's name under runs/ (default: <dataset>-<time>).
    #[arg(long)]
    pub run_name: Option<String>,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Adam's (constant) learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// A folder holding the data set's files.
    #[arg(long)]
    pub data_path: Option<PathBuf>,
    /// Training images moved into a validation split.
    #[arg(long, default_value_t = 0)]
    pub validation: usize,
    /// The course's augmentation for the data set (rotation for MNIST-like images).
    #[arg(long)]
    pub augment: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// What the CLI needs to rebuild a run's model and data: `cli.json` in the run folder.
#[derive(Serialize, Deserialize)]
pub struct RunSpec {
    pub model: String,
    pub dataset: String,
    pub data_path: Option<PathBuf>,
    pub quick: bool,
    pub validation: usize,
    pub augment: bool,
    pub seed: u64,
}

const SPEC: &str = "cli.json";

impl RunSpec {
    pub fn read(run: &str) -> Result<RunSpec> {
        let path = train::checkpoint::existing_run_dir(run)?.join(SPEC);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}; was this run started by `cnn train`?",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    fn write(&self, dir: &Path) -> Result<()> {
        support::atomic::write(
            &dir.join(SPEC),
            serde_json::to_string_pretty(self)?.as_bytes(),
        )
    }

    /// Loads the data set the spec names.
    pub fn load_data(&self) -> Result<Dataset> {
        data::load(
            &self.dataset,
            &LoadOpts {
                path: self.data_path.clone(),
                validation: self.validation,
                seed: self.seed,
                quick: self.quick,
                ..LoadOpts::default()
            },
        )
    }

    fn augmentation(&self) -> Augment {
        match (self.augment, self.dataset.contains("cifar")) {
            (false, _) => Augment::none(),
            (true, true) => Augment::cifar10_course(),
            (true, false) => Augment::mnist_course(),
        }
    }

    /// Builds the model for `data` on the device (`--device`, or the best one), moving
    /// FMP models off Apple MPS.
    pub fn build(
        &self,
        device: Option<&str>,
        data: &Dataset,
    ) -> Result<(nn::VarStore, Box<dyn Model>)> {
        let choice = device::choose_device(device)?;
        let choice = if self.model.starts_with("fmp") {
            choice.for_fmp()
        } else {
            choice
        };
        // The weights are drawn now, so the run's seed must be set first.
        support::seed(self.seed);
        let vs = nn::VarStore::new(choice.device);
        let [c, _, _] = data.image_shape();
        let model = models::build(&self.model, &vs.root(), c, data.num_classes() as i64)?;
        Ok((vs, model))
    }
}

fn report(history: &History) {
    println!("{}", history.frame);
    match history.outcome {
        Outcome::Finished => println!("run saved in {}", history.run_dir.display()),
        Outcome::Interrupted { .. } => println!(
            "stopped early; `cnn resume {}` continues",
            history.run_dir.display()
        ),
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    if !models::MODEL_NAMES.contains(&args.model.as_str()) {
        anyhow::bail!(
            "unknown model {:?}; the models are: {}",
            args.model,
            models::MODEL_NAMES.join(", ")
        );
    }
    let spec = RunSpec {
        model: args.model.clone(),
        dataset: args.dataset.clone(),
        data_path: args.data_path.clone(),
        quick: args.quick || support::quick_mode(),
        validation: args.validation,
        augment: args.augment,
        seed: args.seed,
    };
    let data = spec.load_data()?;
    let (vs, model) = spec.build(args.device.as_deref(), &data)?;
    let run = args
        .run_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", args.model, args.dataset, unix_secs()));
    let dir = train::run_dir(&run);
    let config = FitConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        schedule: LrSchedule::Constant(args.lr),
        seed: args.seed,
        augment: spec.augmentation(),
        run: Some(run),
        model: Some(args.model.clone()),
        ..FitConfig::default()
    };
    train::check_fit(model.as_ref(), &data, &config)?;
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create {}; set CNN_RUNS_DIR to a writable folder",
            dir.display()
        )
    })?;
    spec.write(&dir)?;
    let history = train::fit(model.as_ref(), &vs, &data, &config)?;
    report(&history);
    Ok(())
}

/// `cnn resume <run> [--epochs N]`.
pub fn resume(run: &str, epochs: Option<usize>, device: Option<&str>) -> Result<()> {
    let spec = RunSpec::read(run)?;
    let record = train::read_record(run)?;
    let data = spec.load_data()?;
    let (mut vs, model) = spec.build(device, &data)?;
    let config = FitConfig {
        epochs: epochs.unwrap_or(record.config.epochs),
        augment: spec.augmentation(),
        run: Some(train::run_dir(run).to_string_lossy().into_owned()),
        ..record.config
    };
    let history = train::resume(model.as_ref(), &mut vs, &data, &config)?;
    report(&history);
    Ok(())
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

//! `cnn train`, `cnn resume`: headless training runs, as on a GPU server or in a batch job.
//!
//! A run's `config.json` (written by `fit`) records the exact net and how the data was
//! loaded, so `cnn eval` and `cnn resume` rebuild both from it, for a notebook's run too.

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use support::data::{self, Augment, Dataset, LoadOpts};
use support::device;
use support::models::{self, Model};
use support::train::checkpoint::RunRecord;
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

/// The data, variables and net run `record` was trained with, rebuilt from what `fit`
/// recorded, on the device `device` names (or the best one).
pub fn rebuild(
    record: &RunRecord,
    device: Option<&str>,
) -> Result<(Dataset, nn::VarStore, Box<dyn Model>)> {
    let Some(load) = &record.data else {
        bail!(
            "the run's config.json does not say how to load its data (a data set made in \
             memory, or a run older than these records), so it cannot be loaded again here; \
             evaluate the run where it was made"
        );
    };
    let Some(spec) = &record.model else {
        bail!(
            "the run's config.json does not describe its net (a model of your own, or a run \
             older than these records), so the command line cannot build it; evaluate it in \
             the notebook that made it"
        );
    };
    let data = load.load()?;
    let choice = device::choose_device(device)?;
    let choice = if spec.is_fmp() {
        choice.for_fmp()
    } else {
        choice
    };
    let vs = nn::VarStore::new(choice.device);
    let model = spec.build(&vs.root())?;
    Ok((data, vs, model))
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
        bail!(
            "unknown model {:?}; the models are: {}",
            args.model,
            models::MODEL_NAMES.join(", ")
        );
    }
    let data = data::load(
        &args.dataset,
        &LoadOpts {
            path: args.data_path.clone(),
            validation: args.validation,
            seed: args.seed,
            quick: args.quick || support::quick_mode(),
            ..LoadOpts::default()
        },
    )?;
    let choice = device::choose_device(args.device.as_deref())?;
    let choice = if args.model.starts_with("fmp") {
        choice.for_fmp()
    } else {
        choice
    };
    // The weights are drawn when the model is built, so the run's seed comes first.
    support::seed(args.seed);
    let vs = nn::VarStore::new(choice.device);
    let [c, _, _] = data.image_shape();
    let model = models::build(&args.model, &vs.root(), c, data.num_classes() as i64)?;
    let augment = match (args.augment, args.dataset.contains("cifar")) {
        (false, _) => Augment::none(),
        (true, true) => Augment::cifar10_course(),
        (true, false) => Augment::mnist_course(),
    };
    let run = args
        .run_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", args.model, args.dataset, unix_secs()));
    let config = FitConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        schedule: LrSchedule::Constant(args.lr),
        seed: args.seed,
        augment,
        run: Some(run),
        ..FitConfig::default()
    };
    let history = train::fit(model.as_ref(), &vs, &data, &config)?;
    report(&history);
    Ok(())
}

/// `cnn resume <run> [--epochs N]`.
pub fn resume(run: &str, epochs: Option<usize>, device: Option<&str>) -> Result<()> {
    let record = train::read_record(run)?;
    let (data, mut vs, model) = rebuild(&record, device)?;
    let config = FitConfig {
        epochs: epochs.unwrap_or(record.config.epochs),
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

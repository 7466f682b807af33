//! `cnn train`, `cnn resume`: headless training runs, as on a GPU server or in a batch job.
//!
//! A run's `config.json` (written by `fit`) records the exact net and how the data was
//! loaded, so `cnn eval` and `cnn resume` rebuild both from it, for a notebook's run too.
//!
//! Unlike a notebook's `fit`, which replaces its own run when its cell runs again, `cnn
//! train` changes a run folder that already holds a run only when told to: `--continue`
//! or `--replace`. It decides holding the folder's lock, and keeps it through training and
//! the test, so no other writer can slip in between.

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use support::data::{self, Augment, Dataset, LoadOpts};
use support::device;
use support::fmp::Regions;
use support::models::{Model, ModelSpec};
use support::recipes::{self, Recipe};
use support::train::checkpoint::{RunRecord, describe_run};
use support::train::{self, FitConfig, History, LrSchedule, Outcome, RunLock, TestRecord};
use tch::nn;

/// `cnn train`'s options. A recipe (`--recipe`) sets the net and the training; the flags
/// that remain then override it where they do not contradict it.
#[derive(Args)]
pub struct TrainArgs {
    /// The model: fcnn, lenet5-classic, lenet5-modern, fmp-mnist, fmp-cifar10, ...
    /// (or --recipe instead).
    pub model: Option<String>,
    /// A named recipe (`cnn recipes` lists them): the net, optimizer, schedule and
    /// distortions of a paper or a notebook.
    #[arg(long)]
    pub recipe: Option<String>,
    /// mnist, fashion-mnist, cifar10, or synthetic-mnist / synthetic-cifar10 (default with
    /// a recipe: the recipe's).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Default 10, or the recipe's (1 in quick mode).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// A small subset of the data, to check that everything runs.
    #[arg(long)]
    pub quick: bool,
    /// cpu, cuda or mps (default: the best this machine has).
    #[arg(long)]
    pub device: Option<String>,
    /// The run folder's name under runs/, or its path (default: <model>-<dataset>-<time>);
    /// one that holds a run needs --continue or --replace.
    #[arg(long)]
    pub run_name: Option<String>,
    /// Default 64, or the recipe's.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam's constant learning rate (default 1e-3); with a recipe, only one that trains
    /// at a constant rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Weight decay (default 0, or the recipe's): an L2 penalty for Adam and SGD,
    /// decoupled from the gradient for AdamW. With a recipe, the run's name says so.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// A folder holding the data set's files.
    #[arg(long)]
    pub data_path: Option<PathBuf>,
    /// Training images moved into a validation split.
    #[arg(long, default_value_t = 0)]
    pub validation: usize,
    /// The course's augmentation for the data set (rotation for MNIST-like images); not
    /// with a recipe, which has its own.
    #[arg(long)]
    pub augment: bool,
    /// Default 0, or the recipe's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The FMP layers' pooling regions: pseudorandom-overlapping, pseudorandom-disjoint,
    /// random-overlapping, random-disjoint or native (FMP nets only; default: the net's).
    #[arg(long)]
    pub regions: Option<Regions>,
    /// If the run folder (--run-name) already holds this run, continue it from its last
    /// checkpoint (else start it); a finished one is left as it is. For jobs that may be
    /// stopped and started again, such as a sweep's tasks.
    #[arg(long = "continue", requires = "run_name")]
    pub continue_run: bool,
    /// If the run folder (--run-name) already holds a run, delete it (checkpoint, history,
    /// test, TensorBoard events) and train afresh. Without --continue or --replace, a run
    /// name that holds a run is an error.
    #[arg(long, requires = "run_name", conflicts_with = "continue_run")]
    pub replace: bool,
    /// When training ends, test the run once (1 pass, and the recipe's passes averaged
    /// for FMP nets, 12 without a recipe) and keep the result in the run's test.json.
    #[arg(long)]
    pub test: bool,
}

/// Test passes averaged for an FMP net trained without a recipe: the notebooks' count.
const FMP_TEST_PASSES: usize = 12;

/// What to train, settled from the flags before any data is loaded, so that a
/// contradiction costs nothing.
pub(crate) struct Plan {
    /// The model's name, or the recipe's.
    label: String,
    recipe: Option<Recipe>,
    /// The net, still with its preset's channels and classes.
    spec: ModelSpec,
    dataset: String,
    config: FitConfig,
    /// Test passes for `--test`.
    passes: usize,
}

impl Plan {
    pub(crate) fn new(args: &TrainArgs, quick: bool) -> Result<Plan> {
        let mut plan = Plan::from_net_flags(args, quick)?;
        if let Some(regions) = args.regions {
            if !plan.spec.is_fmp() {
                bail!(
                    "{} has no fractional max-pooling; drop --regions {regions}",
                    plan.label
                );
            }
            plan.spec = plan.spec.with_regions(regions)?;
        }
        Ok(plan)
    }

    /// The plan from the model or recipe and the training flags, before `--regions`.
    fn from_net_flags(args: &TrainArgs, quick: bool) -> Result<Plan> {
        let Some(name) = &args.recipe else {
            let Some(model) = &args.model else {
                bail!(
                    "name a model (cnn train fmp-mnist --dataset mnist) or a recipe (cnn train \
                     --recipe graham-mnist); `cnn recipes` lists the recipes"
                );
            };
            let spec = ModelSpec::preset(model)?;
            let Some(dataset) = args.dataset.clone() else {
                bail!("name the data set: --dataset mnist (or fashion-mnist, cifar10)");
            };
            let augment = match (args.augment, dataset.contains("cifar")) {
                (false, _) => Augment::none(),
                (true, true) => Augment::cifar10_course(),
                (true, false) => Augment::mnist_course(),
            };
            let config = FitConfig {
                epochs: args.epochs.unwrap_or(10),
                batch_size: args.batch_size.unwrap_or(64),
                schedule: LrSchedule::Constant(args.lr.unwrap_or(1e-3)),
                seed: args.seed.unwrap_or(0),
                weight_decay: args.weight_decay.unwrap_or(0.0),
                augment,
                ..FitConfig::default()
            };
            return Ok(Plan {
                label: model.clone(),
                recipe: None,
                passes: if spec.is_fmp() { FMP_TEST_PASSES } else { 1 },
                spec,
                dataset,
                config,
            });
        };
        let mut recipe = recipes::recipe(name)?;
        if let Some(wd) = args.weight_decay {
            recipe = recipe.with_weight_decay(wd)?;
        }
        if let Some(model) = &args.model {
            bail!(
                "recipe {name} already names its net; drop the model argument {model:?} (or \
                 drop --recipe to train {model} with the plain flags)"
            );
        }
        if args.augment {
            bail!(
                "recipe {name} has its own distortions; drop --augment (`cnn recipes` shows \
                 them)"
            );
        }
        let mut config = recipe.fit.clone();
        if let Some(lr) = args.lr {
            if !matches!(config.schedule, LrSchedule::Constant(_)) {
                bail!(
                    "recipe {name} changes the learning rate by a schedule ({}); drop --lr",
                    config.schedule
                );
            }
            config.schedule = LrSchedule::Constant(lr);
        }
        config.epochs = args.epochs.unwrap_or(if quick { 1 } else { config.epochs });
        config.batch_size = args.batch_size.unwrap_or(config.batch_size);
        config.seed = args.seed.unwrap_or(config.seed);
        Ok(Plan {
            label: recipe.name.clone(),
            dataset: args
                .dataset
                .clone()
                .unwrap_or_else(|| recipe.family.default_dataset().to_string()),
            spec: recipe.model.clone(),
            passes: recipe.passes,
            recipe: Some(recipe),
            config,
        })
    }
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
    let (vs, model) = build(spec, device)?;
    Ok((data, vs, model))
}

/// The net `spec` describes, with fresh weights, on [`device_for`] its kind.
pub fn build(spec: &ModelSpec, device: Option<&str>) -> Result<(nn::VarStore, Box<dyn Model>)> {
    let vs = nn::VarStore::new(device_for(spec.is_fmp(), device)?);
    let model = spec.build(&vs.root())?;
    Ok((vs, model))
}

/// The device `device` names, or the best one; an FMP net stays on the CPU where the best
/// is Apple's MPS (see `Choice::for_fmp`).
pub fn device_for(fmp: bool, device: Option<&str>) -> Result<tch::Device> {
    let choice = device::choose_device(device)?;
    Ok(if fmp { choice.for_fmp() } else { choice }.device)
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
    let quick = args.quick || support::quick_mode();
    let plan = Plan::new(&args, quick)?;
    if let Some(recipe) = &plan.recipe {
        recipe.check_dataset(&plan.dataset)?;
    }
    let data = data::load(
        &plan.dataset,
        &LoadOpts {
            path: args.data_path.clone(),
            validation: args.validation,
            seed: plan.config.seed,
            quick,
            ..LoadOpts::default()
        },
    )?;
    let [channels, _, _] = data.image_shape();
    let spec = plan.spec.with_io(channels, data.num_classes() as i64);
    let device = device_for(spec.is_fmp(), args.device.as_deref())?;
    // The weights are drawn when the model is built, so the run's seed comes first.
    support::seed(plan.config.seed);
    let mut vs = nn::VarStore::new(device);
    let model = spec.build(&vs.root())?;
    let run = args
        .run_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", plan.label, plan.dataset, unix_secs()));
    let config = FitConfig {
        run: Some(run.clone()),
        ..plan.config
    };
    // Bad settings are refused before the run folder is made for its lock.
    train::check_before_fit(model.as_ref(), &data, &config, device)?;
    let lock = RunLock::acquire(&train::run_dir(&run))?;
    if !args.continue_run
        && !args.replace
        && let Some(old) = describe_run(lock.dir())
    {
        bail!(
            "{} holds a run of {old}; add --continue to continue it (a finished run is left \
             as it is), add --replace to delete it and train afresh, or choose another \
             --run-name",
            train::run_dir(&run).display()
        );
    }
    let history = if args.continue_run {
        train::fit_or_resume(model.as_ref(), &mut vs, &data, &config)?
    } else {
        train::fit(model.as_ref(), &vs, &data, &config)?
    };
    report(&history);
    if args.test && history.outcome == Outcome::Finished {
        let test = train::test_once(
            model.as_ref(),
            &data,
            device,
            plan.passes,
            &config,
            &history,
        )?;
        println!("{}", describe_test(&test));
    }
    drop(lock);
    Ok(())
}

/// `test error 1.23 % (1 pass), 0.98 % (12 passes)`.
fn describe_test(test: &TestRecord) -> String {
    let mut line = format!("test error {:.2} % (1 pass)", 100.0 * test.error_one_pass);
    if let Some(e) = test.error_passes {
        line += &format!(", {:.2} % ({} passes)", 100.0 * e, test.passes);
    }
    line
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

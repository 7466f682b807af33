//! `cnn train`, `cnn resume`: headless training runs, as on a GPU server or in a batch job.
//!
//! A run's `config.json` (written by `fit`) records the exact net and how the data was
//! loaded, so `cnn eval` and `cnn resume` rebuild both from it, for a notebook's run too.
//!
//! Unlike a notebook's `fit`, which replaces its own run when its cell runs again, `cnn
//! train` changes a run folder that already holds a run only when told to: `--continue`
//! or `--replace`. It decides holding the folder's lock, and keeps it through training and
//! the test, so no other writer can slip in between.

use crate::args::{DataArgs, run_name};
use anyhow::{Result, bail};
use clap::Args;
use support::data::Augment;
use support::fmp::Regions;
use support::models::ModelSpec;
use support::recipes::{self, Recipe};
use support::train::{self, FitConfig, History, LrSchedule, Outcome, RunLock};

/// `cnn train`'s options. A recipe (`--recipe`) sets the net and the training; the flags
/// that remain then override it where they do not contradict it.
#[derive(Args)]
pub struct TrainArgs {
    /// The model (or --recipe instead).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(support::models::MODEL_NAMES))]
    pub model: Option<String>,
    /// A named recipe (`cnn recipes` lists them): the net, optimizer, schedule and
    /// distortions of a paper or a notebook.
    #[arg(long)]
    pub recipe: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Default 10, or the recipe's (1 in quick mode).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// cpu, cuda or mps (default: the best this machine has).
    #[arg(long)]
    pub device: Option<String>,
    /// The run's name: its folder under the runs folder (default:
    /// <model>-<dataset>-<time>). One that holds a run needs --continue or --replace.
    #[arg(long, value_parser = run_name)]
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
            let Some(dataset) = args.data.dataset.clone() else {
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
                .data
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
    let quick = args.data.quick();
    let plan = Plan::new(&args, quick)?;
    if let Some(recipe) = &plan.recipe {
        recipe.check_dataset(&plan.dataset)?;
    }
    let data = args.data.load(&plan.dataset, plan.config.seed)?;
    let [channels, _, _] = data.image_shape();
    let spec = plan.spec.with_io(channels, data.num_classes() as i64);
    let device = spec.device(args.device.as_deref())?;
    // The weights are drawn when the model is built, so the run's seed comes first.
    support::seed(plan.config.seed);
    let mut vs = tch::nn::VarStore::new(device);
    let model = spec.build(&vs.root())?;
    let run = args
        .run_name
        .clone()
        .unwrap_or_else(|| train::default_run_name(&plan.label, &plan.dataset));
    let config = FitConfig {
        run: Some(run.clone()),
        ..plan.config
    };
    // Bad settings are refused before the run folder is made for its lock.
    train::check_before_fit(model.as_ref(), &data, &config, device)?;
    let lock = RunLock::acquire(&train::run_dir(&run))?;
    if !args.continue_run
        && !args.replace
        && let Some(old) = lock.existing_run()
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
        println!("{test}");
    }
    drop(lock);
    Ok(())
}

/// `cnn resume <run> [--epochs N]`.
pub fn resume(run: &str, epochs: Option<usize>, device: Option<&str>) -> Result<()> {
    let mut rebuilt = train::rebuild(run, device)?;
    let config = FitConfig {
        epochs: epochs.unwrap_or(rebuilt.record.config.epochs),
        run: Some(rebuilt.dir.to_string_lossy().into_owned()),
        ..rebuilt.record.config.clone()
    };
    let history = train::resume(
        rebuilt.model.as_ref(),
        &mut rebuilt.vs,
        &rebuilt.data,
        &config,
    )?;
    report(&history);
    Ok(())
}

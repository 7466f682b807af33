//! `cnn reproduce RECIPE --seeds N`: the recipe trained once per seed, each run tested
//! once, and one table of mean and spread next to the paper's number.
//!
//! Each seed is an ordinary run, `runs/<recipe>-<data>-seed<k>/`. Run again, the
//! command continues an interrupted seed and reuses a finished one, so a long
//! reproduction can be stopped and picked up.

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use support::data::{self, LoadOpts};
use support::recipes;
use support::reproduce;
use support::train::{self, FitConfig, Outcome, test_once};
use tch::nn;

/// `cnn reproduce`'s options.
#[derive(Args)]
pub struct ReproduceArgs {
    /// The recipe (`cnn recipes` lists them).
    pub recipe: String,
    /// How many seeds (0, 1, ...) to train.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// The data set (default: the recipe's).
    #[arg(long)]
    pub dataset: Option<String>,
    #[arg(long)]
    pub data_path: Option<PathBuf>,
    /// Override the recipe's epochs (quick mode: 1).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Run the recipe's whole learning-rate schedule within --epochs (faster decay,
    /// shorter steps): a quick look, labelled as compressed in the run names and the report.
    #[arg(long, requires = "epochs")]
    pub compress: bool,
    /// Override the recipe's weight decay (the runs and the report are named `-wd<WD>`).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Training images held out for validation (0: train on all, as the papers do).
    #[arg(long, default_value_t = 0)]
    pub validation: usize,
    /// A small subset of the data, to check that everything runs.
    #[arg(long)]
    pub quick: bool,
    #[arg(long)]
    pub device: Option<String>,
}

pub fn run(args: ReproduceArgs) -> Result<()> {
    if args.seeds == 0 {
        bail!("--seeds 0 trains nothing; use 1 or more (3 gives a spread)");
    }
    let mut recipe = recipes::recipe(&args.recipe)?;
    if let Some(wd) = args.weight_decay {
        recipe = recipe.with_weight_decay(wd)?;
    }
    let quick = args.quick || support::quick_mode();
    let name = args
        .dataset
        .clone()
        .unwrap_or_else(|| recipe.family.default_dataset().to_string());
    recipe.check_dataset(&name)?;
    // One data split for every seed: the seeds then differ only in the training's draws.
    let data = data::load(
        &name,
        &LoadOpts {
            path: args.data_path.clone(),
            validation: args.validation,
            quick,
            ..LoadOpts::default()
        },
    )?;
    let spec = recipe.model_for(&data)?;
    let device = crate::train::device_for(spec.is_fmp(), args.device.as_deref())?;
    let epochs = args
        .epochs
        .unwrap_or(if quick { 1 } else { recipe.fit.epochs });
    if args.compress {
        recipe.fit.schedule = recipe.fit.schedule.compressed(recipe.fit.epochs, epochs);
        recipe.deviations.push(format!(
            "Compressed: the {}-epoch schedule run in {epochs} epochs ({}).",
            recipe.fit.epochs, recipe.fit.schedule
        ));
        recipe.name = format!("{}-compressed{epochs}", recipe.name);
        recipe.fit.epochs = epochs;
    }
    if quick {
        // A check that it runs, never to be read as the recipe's result.
        recipe.name = format!("{}-quick", recipe.name);
    }
    let mut results = Vec::new();
    for seed in 0..args.seeds {
        let run = format!("{}-{name}-seed{seed}", recipe.name);
        let config = FitConfig {
            epochs,
            seed,
            run: Some(run.clone()),
            ..recipe.fit.clone()
        };
        support::seed(seed);
        let mut vs = nn::VarStore::new(device);
        let model = spec.build(&vs.root())?;
        println!("seed {seed}: {run}");
        let history = train::fit_or_resume(model.as_ref(), &mut vs, &data, &config)?;
        if let Outcome::Interrupted { .. } = history.outcome {
            println!("stopped in seed {seed}; run the same `cnn reproduce` again to continue");
            return Ok(());
        }
        let result = test_once(
            model.as_ref(),
            &data,
            device,
            recipe.passes,
            &config,
            &history,
        )?;
        results.push(result);
    }
    let page = reproduce::write(&recipe, &name, &results)?;
    println!("{}", reproduce::summary_frame(&recipe, &results)?);
    println!("report: {}", page.display());
    Ok(())
}

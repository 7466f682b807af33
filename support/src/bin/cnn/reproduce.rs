//! `cnn reproduce RECIPE --seeds N`: the recipe trained once per seed, each run tested
//! once, and one table of mean and spread next to the paper's number
//! (`support::reproduce`).
//!
//! Each seed is an ordinary run, `runs/<recipe>-<data>-seed<k>/`. Run again, the
//! command continues an interrupted seed and reuses a finished one, so a long
//! reproduction can be stopped and picked up.

use crate::args::DataArgs;
use anyhow::Result;
use clap::Args;
use support::recipes;
use support::reproduce;

/// `cnn reproduce`'s options.
#[derive(Args)]
pub struct ReproduceArgs {
    /// The recipe (`cnn recipes` lists them).
    pub recipe: String,
    /// How many seeds (0, 1, ...) to train.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    #[command(flatten)]
    pub data: DataArgs,
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
    #[arg(long)]
    pub device: Option<String>,
}

pub fn run(args: ReproduceArgs) -> Result<()> {
    let mut recipe = recipes::recipe(&args.recipe)?;
    if let Some(wd) = args.weight_decay {
        recipe = recipe.with_weight_decay(wd)?;
    }
    let quick = args.data.quick();
    let name = args
        .data
        .dataset
        .clone()
        .unwrap_or_else(|| recipe.family.default_dataset().to_string());
    recipe.check_dataset(&name)?;
    // One data split for every seed: the seeds then differ only in the training's draws.
    let data = args.data.load(&name, 0)?;
    let epochs = args
        .epochs
        .unwrap_or(if quick { 1 } else { recipe.fit.epochs });
    if args.compress {
        recipe = recipe.compressed(epochs);
    }
    recipe.fit.epochs = epochs;
    if quick {
        // A check that it runs, never to be read as the recipe's result.
        recipe.name = format!("{}-quick", recipe.name);
    }
    let device = recipe.model.device(args.device.as_deref())?;
    let Some(results) = reproduce::train_seeds(&recipe, &data, args.seeds, device)? else {
        return Ok(());
    };
    let (page, summary) = reproduce::write(&recipe, &name, &results)?;
    println!("{summary}");
    println!("report: {}", page.display());
    Ok(())
}

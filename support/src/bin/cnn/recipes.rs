//! `cnn recipes [--measure]`: the named recipes, and what one epoch of each costs here.

use anyhow::Result;
use std::path::PathBuf;
use support::data::{self, LoadOpts};
use support::device;
use support::recipes;
use support::train::{estimate_epoch_time, timing::human_seconds};

pub fn run(measure: bool, dataset: Option<&str>, data_path: Option<PathBuf>) -> Result<()> {
    for recipe in recipes::all() {
        print!("{recipe}");
        if measure {
            let name = dataset.unwrap_or(recipe.family.default_dataset());
            let opts = LoadOpts {
                path: data_path.clone(),
                ..LoadOpts::default()
            };
            // A recipe of the other family, or data that is not here, is said and skipped.
            let measured = data::load(name, &opts).and_then(|data| {
                let spec = recipe.model_for(&data)?;
                let vs = tch::nn::VarStore::new(spec.device(None)?);
                let model = spec.build(&vs.root())?;
                let estimate =
                    estimate_epoch_time(model.as_ref(), &vs, &data, recipe.fit.batch_size)?;
                Ok((data.name.clone(), estimate))
            });
            match measured {
                Ok((data, e)) => println!(
                    "  one epoch here: {} ({data}, {}, measured now over a few batches); \
                     {} epochs ~ {}",
                    human_seconds(e.epoch_seconds()),
                    device::device_name(e.device),
                    recipe.fit.epochs,
                    human_seconds(e.seconds_for(recipe.fit.epochs)),
                ),
                Err(err) => println!("  one epoch here: not measured ({err:#})"),
            }
        }
        println!();
    }
    Ok(())
}

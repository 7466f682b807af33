//! The options several commands share, defined once and flattened into each.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use support::data::{self, Dataset, LoadOpts};

/// Which data set, from where, and how much of it.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// mnist, fashion-mnist, cifar10, or synthetic-mnist / synthetic-cifar10 (with a
    /// recipe, default: the recipe's).
    #[arg(long)]
    pub dataset: Option<String>,
    /// A folder holding the data set's files: the only place looked at.
    #[arg(long)]
    pub data_path: Option<PathBuf>,
    /// Training images held out for validation: choose settings on it, not on the test.
    #[arg(long, default_value_t = 0)]
    pub validation: usize,
    /// A small subset of the data, to check that everything runs (as CNN_QUICK=1 does).
    #[arg(long)]
    pub quick: bool,
}

impl DataArgs {
    /// `--quick`, or `CNN_QUICK=1`.
    pub fn quick(&self) -> bool {
        self.quick || support::env::quick_mode()
    }

    /// Loads data set `name` as these options say, its validation split drawn from `seed`.
    pub fn load(&self, name: &str, seed: u64) -> Result<Dataset> {
        data::load(
            name,
            &LoadOpts {
                path: self.data_path.clone(),
                validation: self.validation,
                seed,
                quick: self.quick(),
                ..LoadOpts::default()
            },
        )
    }
}

/// A run's name as a user gives it: a plain name, which goes under the runs folder
/// (`CNN_RUNS_DIR`, default `runs/`), never a path that would put it elsewhere.
pub fn run_name(name: &str) -> Result<String> {
    support::diary::check_name("run", name).map_err(|e| {
        anyhow::anyhow!(
            "{e}. A run goes to the runs folder under its name; to keep runs elsewhere, set \
             CNN_RUNS_DIR to that folder"
        )
    })?;
    Ok(name.to_string())
}

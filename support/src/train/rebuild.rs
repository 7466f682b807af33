//! Building a run's net and data again: from a model's description for a new run, or
//! from a finished run's record for `eval`, `resume` and a reproduction.
//!
//! A run's `config.json` (written by `fit`) records the exact net and how its data was
//! loaded, so a run made in a notebook can be evaluated or continued from the command
//! line, and the other way round.

use super::checkpoint::{RunRecord, existing_run_dir, read_record_in};
use crate::data::Dataset;
use crate::models::Model;
use anyhow::{Result, bail};
use tch::nn;

/// A run's net and data, built again: its variables are fresh until a checkpoint is
/// loaded into `vs` (`train::load_checkpoint(&mut r.vs, &r.dir)`).
pub struct Rebuilt {
    /// The run's folder.
    pub dir: std::path::PathBuf,
    /// What `fit` recorded of the run.
    pub record: RunRecord,
    pub data: Dataset,
    pub vs: nn::VarStore,
    pub model: Box<dyn Model>,
}

/// The data, variables and net that run `run` (a name under the runs folder, or a run's
/// folder) was trained with, rebuilt from what `fit` recorded, on the device `device`
/// names (or the best one).
pub fn rebuild(run: &str, device: Option<&str>) -> Result<Rebuilt> {
    let dir = existing_run_dir(run)?;
    let record = read_record_in(&dir)?;
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
    let vs = nn::VarStore::new(spec.device(device)?);
    let model = spec.build(&vs.root())?;
    Ok(Rebuilt {
        dir,
        record,
        data,
        vs,
        model,
    })
}

//! Building a run's net and data again: from a model's description for a new run, or
//! from a finished run's record for `eval`, `resume` and a reproduction.
//!
//! A run's `config.json` (written by `fit`) records the exact net and how its data was
//! loaded, so a run made in a notebook can be evaluated or continued from the command
//! line, and the other way round.

use super::checkpoint::RunRecord;
use crate::data::Dataset;
use crate::device;
use crate::models::{Model, ModelSpec};
use anyhow::{Result, bail};
use tch::{Device, nn};

/// A run's net and data, built again: its variables are fresh until a checkpoint is
/// loaded into `vs`.
pub struct Rebuilt {
    pub data: Dataset,
    pub vs: nn::VarStore,
    pub model: Box<dyn Model>,
}

/// The data, variables and net that run `record` was trained with, rebuilt from what `fit`
/// recorded, on the device `device` names (or the best one).
pub fn rebuild(record: &RunRecord, device: Option<&str>) -> Result<Rebuilt> {
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
    let vs = nn::VarStore::new(device_for(spec, device)?);
    let model = spec.build(&vs.root())?;
    Ok(Rebuilt { data, vs, model })
}

/// The device `device` names, or the best one; an FMP net stays on the CPU where the best
/// is Apple's MPS, which has no fractional max-pooling (see `Choice::for_fmp`).
pub fn device_for(spec: &ModelSpec, device: Option<&str>) -> Result<Device> {
    let choice = device::choose_device(device)?;
    Ok(if spec.is_fmp() {
        choice.for_fmp()
    } else {
        choice
    }
    .device)
}

//! A run's one look at the test set, kept with the run (`test.json`) so that running a
//! reproduction or a sweep task again neither retrains nor retests it.
//!
//! The test set is for the end: choose settings on a validation split, then test each
//! finished run once. `cnn reproduce`, `cnn train --test` and `cnn report` all go through
//! this record.

use super::config::FitConfig;
use super::evaluate::{EvalOpts, ensemble_curve, evaluate};
use super::history::History;
use crate::atomic;
use crate::data::Dataset;
use crate::models::Model;
use anyhow::{Context, Result};
use std::path::Path;
use tch::Device;

/// The file in a run's folder that holds its [`TestRecord`].
pub(crate) const TEST_FILE: &str = "test.json";

/// A finished run's test errors, with what is needed to read them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestRecord {
    pub seed: u64,
    /// The run's name, as `FitConfig::run` gave it.
    pub run: String,
    /// The epochs the tested weights had trained.
    pub epochs: usize,
    pub seconds_per_epoch: f64,
    /// The last epoch's validation accuracy, when the run had a validation split.
    pub val_accuracy: Option<f64>,
    /// Test error (a fraction) with one pass.
    pub error_one_pass: f64,
    /// Test error with `passes` passes averaged (only for nets that differ pass to pass).
    pub error_passes: Option<f64>,
    /// The passes asked for (records older than this field asked for 1).
    #[serde(default = "one")]
    pub passes: usize,
}

fn one() -> usize {
    1
}

/// `test error 1.23 % (1 pass), 0.98 % (12 passes)`.
impl std::fmt::Display for TestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "test error {:.2} % (1 pass)",
            100.0 * self.error_one_pass
        )?;
        if let Some(e) = self.error_passes {
            write!(f, ", {:.2} % ({} passes)", 100.0 * e, self.passes)?;
        }
        Ok(())
    }
}

/// Reads a run folder's test record; `None` when the run was never tested.
pub(crate) fn read_test(dir: &Path) -> Result<Option<TestRecord>> {
    let path = dir.join(TEST_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let record = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a test record; delete it to test the run again",
            path.display()
        )
    })?;
    Ok(Some(record))
}

/// The test errors of the run `history` comes from, trained as `config` says: read back
/// from its [`TEST_FILE`] when it was tested at this epoch count, else measured now (one
/// pass, and `passes` averaged when the net differs pass to pass) and saved there.
///
/// The pooling regions of the test passes are drawn from the run's seed, so a run is
/// tested with the same draws every time.
pub fn test_once(
    model: &dyn Model,
    data: &Dataset,
    device: Device,
    passes: usize,
    config: &FitConfig,
    history: &History,
) -> Result<TestRecord> {
    if let Some(record) = read_test(&history.run_dir)?
        && record.epochs == history.epochs()
        && record.passes == passes
    {
        return Ok(record);
    }
    let opts = EvalOpts::new(device);
    crate::seed(config.seed);
    let (one, many) = if passes > 1 && model.random_at_test_time() {
        let curve = ensemble_curve(model, data, &opts, &[1, passes])?;
        (curve.accuracy(1)?, Some(curve.accuracy(passes)?))
    } else {
        (evaluate(model, data, &opts)?.accuracy, None)
    };
    let record = TestRecord {
        seed: config.seed,
        run: config
            .run
            .clone()
            .unwrap_or_else(|| run_dir_name(&history.run_dir)),
        epochs: history.epochs(),
        seconds_per_epoch: history.seconds_per_epoch(),
        val_accuracy: history.records.last().and_then(|r| r.val_acc),
        error_one_pass: 1.0 - one,
        error_passes: many.map(|a| 1.0 - a),
        passes,
    };
    let path = history.run_dir.join(TEST_FILE);
    atomic::write(&path, serde_json::to_string_pretty(&record)?.as_bytes())?;
    Ok(record)
}

fn run_dir_name(dir: &Path) -> String {
    dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

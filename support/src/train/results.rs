//! A trained model's headline numbers, as one notebook reports them and a later one reads
//! them back: 502 saves the FMP net's, and 503 sets LeNet-5 beside them.
//!
//! Saved as `runs/<notebook>/results.json` (under [`runs_root`]). Numbers from another data
//! set, or from a `CNN_QUICK` run next to a full one, would compare nonsense, so `load`
//! returns them only for the same data set and mode.

use super::checkpoint::runs_root;
use super::history::History;
use crate::atomic;
use crate::data::Dataset;
use crate::models::parameter_count;
use anyhow::{Context, Result};
use polars::prelude::{DataFrame, df};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tch::nn;

const FILE: &str = "results.json";

/// One trained model's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// How tables and figures name the model, e.g. "FMP (pseudorandom overlapping)".
    pub model: String,
    pub dataset: String,
    /// True when the data was a quick subset (`CNN_QUICK`).
    pub quick: bool,
    /// Trainable values.
    pub parameters: i64,
    pub epochs: i64,
    pub seconds_per_epoch: f64,
    /// Test accuracy with one pass.
    pub accuracy: f64,
    /// Test accuracy with 12 passes averaged, for a net that is random at test time.
    pub accuracy_12_passes: Option<f64>,
}

impl Results {
    /// The numbers of a model trained on `data` (its variables in `vs`, its training in
    /// `history`), with one-pass test accuracy `accuracy`; quick when `data` was loaded in
    /// quick mode.
    pub fn new(
        model: &str,
        data: &Dataset,
        vs: &nn::VarStore,
        history: &History,
        accuracy: f64,
    ) -> Results {
        Results {
            model: model.to_string(),
            dataset: data.name.clone(),
            quick: data.loaded.as_ref().is_some_and(|l| l.quick),
            parameters: parameter_count(vs),
            epochs: history.epochs() as i64,
            seconds_per_epoch: history.seconds_per_epoch(),
            accuracy,
            accuracy_12_passes: None,
        }
    }

    fn path(notebook: &str) -> PathBuf {
        runs_root().join(notebook).join(FILE)
    }

    /// Saves these as notebook `notebook`'s results, replacing earlier ones.
    pub fn save(&self, notebook: &str) -> Result<PathBuf> {
        crate::diary::check_name("notebook", notebook)?;
        let path = Self::path(notebook);
        atomic::write(&path, serde_json::to_string_pretty(self)?.as_bytes())?;
        Ok(path)
    }

    /// The results notebook `notebook` saved, if it saved any for `dataset` in the same
    /// mode (quick or full); says which it found instead when they do not match.
    pub fn load(notebook: &str, dataset: &str, quick: bool) -> Result<Option<Results>> {
        let path = Self::path(notebook);
        if !path.exists() {
            println!(
                "notebook {notebook} has saved no results yet ({})",
                path.display()
            );
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let results: Results = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; run notebook {notebook} again to rewrite it",
                path.display()
            )
        })?;
        let mode = |q: bool| if q { "a CNN_QUICK run" } else { "a full run" };
        if results.dataset != dataset || results.quick != quick {
            println!(
                "notebook {notebook}'s results are for {} ({}), not {dataset} ({})",
                results.dataset,
                mode(results.quick),
                mode(quick)
            );
            return Ok(None);
        }
        println!("using notebook {notebook}'s results ({})", path.display());
        Ok(Some(results))
    }

    /// The rows as a table: `model`, `dataset`, `parameters`, `epochs`,
    /// `seconds_per_epoch`, `accuracy`, `accuracy_12_passes` (empty where not measured).
    pub fn frame(rows: &[Results]) -> Result<DataFrame> {
        let column = |f: fn(&Results) -> f64| rows.iter().map(f).collect::<Vec<_>>();
        Ok(df!(
            "model" => rows.iter().map(|r| r.model.as_str()).collect::<Vec<_>>(),
            "dataset" => rows.iter().map(|r| r.dataset.as_str()).collect::<Vec<_>>(),
            "parameters" => rows.iter().map(|r| r.parameters).collect::<Vec<_>>(),
            "epochs" => rows.iter().map(|r| r.epochs).collect::<Vec<_>>(),
            "seconds_per_epoch" => column(|r| r.seconds_per_epoch),
            "accuracy" => column(|r| r.accuracy),
            "accuracy_12_passes" => rows.iter().map(|r| r.accuracy_12_passes).collect::<Vec<_>>(),
        )?)
    }
}

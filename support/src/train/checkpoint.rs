//! Run folders: `runs/<run>/` holds `checkpoint.safetensors` (the weights after the last
//! complete epoch), `history.csv`, `config.json` and TensorBoard's `events.out.tfevents.*`,
//! and `.lock`, whose lock its one writer holds (see [`super::lock`]).
//!
//! The runs root is `$CNN_RUNS_DIR` if set, else `runs/` in the repository (see
//! [`crate::repo`]), else `./runs`. Every
//! file is written to a temporary name and renamed, so Ctrl-C never leaves half a file.

use super::config::FitConfig;
use super::history::{EpochRecord, read_csv, to_csv};
use crate::data::LoadSpec;
use crate::models::ModelSpec;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{Tensor, nn};

/// The checkpoint's file name inside a run folder.
pub(crate) const CHECKPOINT: &str = "checkpoint.safetensors";
/// The history's file name inside a run folder.
pub(crate) const HISTORY: &str = "history.csv";
/// The configuration's file name inside a run folder.
pub(crate) const CONFIG: &str = "config.json";

/// Where run folders live (see the module doc).
pub fn runs_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CNN_RUNS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    crate::repo::root()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
        .join("runs")
}

/// The folder of run `run`: a bare name goes under [`runs_root`], a path is taken as is.
pub fn run_dir(run: &str) -> PathBuf {
    let p = Path::new(run);
    if p.components().count() > 1 || p.is_absolute() {
        p.to_path_buf()
    } else {
        runs_root().join(run)
    }
}

/// `<model>-<data set>-<seconds since 1970>`: the name of a run started without one,
/// unique enough for runs started by hand.
pub fn default_run_name(model: &str, dataset: &str) -> String {
    format!("{model}-{dataset}-{}", unix_secs())
}

/// Seconds since 1970, as run names and lock records give times.
pub(crate) fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Creates the run folder, with an error that says what to do if it can't.
pub(crate) fn create_run_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create the run folder {}: is it writable? Set CNN_RUNS_DIR to a \
             writable folder to keep runs elsewhere",
            dir.display()
        )
    })?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "the run folder {} is not writable; fix its permissions or set CNN_RUNS_DIR \
             to a writable folder",
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// What `config.json` holds: the configuration and what the run was trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The training settings, augmentation included.
    pub config: FitConfig,
    pub dataset: String,
    pub classes: Vec<String>,
    /// The net, exactly (`None` for a model of your own): `cnn eval` and `cnn resume`
    /// build it from this.
    #[serde(default)]
    pub model: Option<ModelSpec>,
    /// How the data was loaded (`None` for a data set built in memory).
    #[serde(default)]
    pub data: Option<LoadSpec>,
}

/// Writes `config.json`.
pub(crate) fn write_record(dir: &Path, record: &RunRecord) -> Result<()> {
    let json = serde_json::to_string_pretty(record)?;
    crate::atomic::write(&dir.join(CONFIG), json.as_bytes())
}

/// Reads a run's `config.json`, with an error naming the folder if the run is not there.
pub fn read_record(run: &str) -> Result<RunRecord> {
    read_record_in(&existing_run_dir(run)?)
}

/// Reads the `config.json` in the run folder `dir`.
pub(crate) fn read_record_in(dir: &Path) -> Result<RunRecord> {
    let path = dir.join(CONFIG);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; was the run started by `fit`?",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a run configuration written by `fit`",
            path.display()
        )
    })
}

/// Reads a run's history rows.
pub fn read_history(run: &str) -> Result<Vec<EpochRecord>> {
    let dir = existing_run_dir(run)?;
    let path = dir.join(HISTORY);
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_csv(&path)
}

/// What the run folder `dir` holds already, as the messages about replacing it name it:
/// `4 epochs (fmp-tiny on fashion-mnist)`, or `2 of 4 epochs (...)` for an unfinished run;
/// `None` when it holds none of a run's files.
pub(crate) fn describe_run(dir: &Path) -> Option<String> {
    if ![CONFIG, HISTORY, CHECKPOINT]
        .iter()
        .any(|f| dir.join(f).exists())
    {
        return None;
    }
    let history = dir.join(HISTORY);
    let done = if history.exists() {
        read_csv(&history).map(|rows| rows.len()).ok()
    } else {
        Some(0)
    };
    let record = read_record_in(dir).ok();
    let epochs = match (done, &record) {
        (None, _) => "epochs whose history.csv cannot be read".to_string(),
        (Some(n), Some(r)) if n < r.config.epochs => format!("{n} of {} epochs", r.config.epochs),
        (Some(n), _) => format!("{n} epochs"),
    };
    let what = record.map_or("its config.json cannot be read".to_string(), |r| {
        format!("{} on {}", crate::report::net_name(&r), r.dataset)
    });
    Some(format!("{epochs} ({what})"))
}

/// The folder of `run`, or an error listing where it looked.
pub(crate) fn existing_run_dir(run: &str) -> Result<PathBuf> {
    let dir = run_dir(run);
    if !dir.is_dir() {
        bail!(
            "there is no run folder {} (runs live in {}; set CNN_RUNS_DIR if yours are elsewhere)",
            dir.display(),
            runs_root().display()
        );
    }
    Ok(dir)
}

/// Writes `history.csv`.
pub(crate) fn write_history(dir: &Path, records: &[EpochRecord]) -> Result<()> {
    crate::atomic::write(&dir.join(HISTORY), to_csv(records).as_bytes())
}

/// Saves every variable of `vs` as `checkpoint.safetensors`, through a temporary file.
pub(crate) fn save_checkpoint(vs: &nn::VarStore, dir: &Path) -> Result<()> {
    let target = dir.join(CHECKPOINT);
    // `VarStore::save` picks the format by extension, so the temporary name keeps it.
    let tmp = dir.join(format!(
        ".checkpoint-{}.tmp.safetensors",
        std::process::id()
    ));
    let result = vs
        .save(&tmp)
        .with_context(|| format!("cannot write the checkpoint {}", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, &target)
                .with_context(|| format!("cannot move the checkpoint into {}", target.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Loads the checkpoint of the run in folder `dir` into `vs` after checking that every
/// variable is there with the same shape, so that a checkpoint of another model is a
/// clear error.
pub fn load_checkpoint(vs: &mut nn::VarStore, dir: &Path) -> Result<()> {
    let path = &dir.join(CHECKPOINT);
    if !path.is_file() {
        bail!(
            "there is no checkpoint {}; a run saves one after its first complete epoch",
            path.display()
        );
    }
    let saved: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .with_context(|| format!("{} is not a safetensors checkpoint", path.display()))?
        .into_iter()
        .collect();
    let mut problems = Vec::new();
    for (name, var) in vs.variables() {
        match saved.get(&name) {
            None => problems.push(format!("`{name}` is missing")),
            Some(t) if t.size() != var.size() => problems.push(format!(
                "`{name}` is {:?} in the checkpoint but {:?} in the model",
                t.size(),
                var.size()
            )),
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        problems.sort();
        problems.truncate(5);
        bail!(
            "the checkpoint {} does not match this model ({}); build the model the run \
             was trained with (see its config.json)",
            path.display(),
            problems.join("; ")
        );
    }
    vs.load(path)
        .with_context(|| format!("cannot load the checkpoint {}", path.display()))
}

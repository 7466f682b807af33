//! Checks of the optional extensions (501.E1, 502.E3, ...). Each extension trains a
//! variant of a notebook's run under a name of its own, and is answered by the two runs'
//! curves side by side. Those compare one thing only if the variant made the extension's
//! change and nothing else, and ran to its end: that is what the check reads off the two
//! runs' folders (`config.json` and `history.csv`), so it checks what was trained, not
//! what a cell says now.

use super::{Passed, verdict};
use crate::fmp::Regions;
use crate::models::{Dropout, ModelSpec};
use crate::train::checkpoint::RunRecord;
use crate::train::{History, Outcome, read_record, run_dir};
use anyhow::{Result, bail};
use serde_json::Value;

/// What an extension changes in its notebook's run.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Dropout on in the FMP net.
    DropoutOn,
    /// At least this many times the run's epochs.
    EpochsTimes(usize),
    /// At least this many epochs.
    EpochsAtLeast(usize),
    /// Pooling with these regions.
    Regions(Regions),
    /// The course's random rotation of the training images.
    Rotation,
    /// Allowed, not asked: the epochs may differ too.
    AnyEpochs,
}

impl Change {
    /// The key in a run's `config.json` that this change may make differ.
    fn key(self) -> &'static str {
        match self {
            Change::DropoutOn => "dropout",
            Change::Regions(_) => "regions",
            Change::Rotation => "rotation_degrees",
            Change::EpochsTimes(_) | Change::EpochsAtLeast(_) | Change::AnyEpochs => "epochs",
        }
    }

    /// What is wrong with the variant's change, if anything.
    fn problem(self, base: &RunRecord, variant: &RunRecord, names: (&str, &str)) -> Option<String> {
        let (base_name, run) = names;
        let epochs = (base.config.epochs, variant.config.epochs);
        match self {
            Change::DropoutOn => match &variant.model {
                Some(ModelSpec::Fmp(c)) if is_off(&c.dropout) => Some(format!(
                    "dropout is still off in {run}: the extension turns it on in the net's \
                     FmpConfig (its `dropout` field)"
                )),
                Some(ModelSpec::Fmp(_)) => None,
                _ => Some(format!("{run} is not an FMP net")),
            },
            Change::EpochsTimes(k) if epochs.1 < k * epochs.0 => Some(format!(
                "{run} trained {} epoch(s) against {base_name}'s {}: the extension asks for \
                 {k} times as many (`epochs` in its FitConfig)",
                epochs.1, epochs.0
            )),
            Change::EpochsAtLeast(n) if epochs.1 < n => Some(format!(
                "{run} trained {} epoch(s); the extension asks for at least {n}",
                epochs.1
            )),
            Change::Regions(want) => match &variant.model {
                Some(ModelSpec::Fmp(c)) if c.regions != want => Some(format!(
                    "{run} pools with {} regions, not the extension's",
                    c.regions
                )),
                Some(ModelSpec::Fmp(_)) => None,
                _ => Some(format!("{run} is not an FMP net")),
            },
            Change::Rotation if variant.config.augment.rotation_degrees <= 0.0 => Some(format!(
                "{run} trained without rotating its images: the extension's augmentation \
                 goes in its FitConfig (`augment`)"
            )),
            _ => None,
        }
    }
}

/// True when a dropout setting drops nothing.
fn is_off(dropout: &Dropout) -> bool {
    match dropout {
        Dropout::Linear(max) => *max <= 0.0,
        Dropout::Rates(rates) => rates.iter().all(|p| *p <= 0.0),
    }
}

/// The extensions with checks: id, the notebook's run it varies, what it changes.
const EXTENSIONS: [(&str, &str, &[Change]); 6] = [
    (
        "501.E1",
        "501-fmp",
        &[Change::DropoutOn, Change::EpochsTimes(2)],
    ),
    (
        "501.E2",
        "501-fmp",
        &[Change::Regions(Regions::RandomOverlapping)],
    ),
    (
        "502.E1",
        "502-fmp",
        &[Change::DropoutOn, Change::EpochsTimes(2)],
    ),
    ("502.E2", "502-fmp", &[Change::Rotation, Change::AnyEpochs]),
    (
        "502.E3",
        "502-fmp",
        &[Change::Regions(Regions::RandomOverlapping)],
    ),
    ("503.E2", "503-lenet5-modern", &[Change::EpochsAtLeast(10)]),
];

/// Keys that differ between any two runs without changing what was trained.
const BOOKKEEPING: [&str; 2] = ["run", "progress"];

/// Extension `exercise` (e.g. "502.E1"), trained as run `run`: the run must be its
/// notebook's run (`502-fmp`, in the same runs folder) with the extension's change, no
/// other change, and every epoch it asked for. Each difference found is named with both
/// runs' values.
pub fn extension(exercise: &str, run: &str) -> Result<Passed> {
    let Some(&(id, base_name, changes)) = EXTENSIONS.iter().find(|e| e.0 == exercise) else {
        let ids: Vec<&str> = EXTENSIONS.iter().map(|e| e.0).collect();
        bail!(
            "no extension {exercise:?} has a check; those that do: {}",
            ids.join(", ")
        );
    };
    // The notebook's run is looked for beside the variant, in the same runs folder.
    let variant_dir = run_dir(run);
    if variant_dir
        .file_name()
        .is_some_and(|name| name == base_name)
    {
        bail!(
            "{run} is the notebook's own run: train the extension as a run of its own \
             (e.g. `run: Some(\"{base_name}-{}\".into())` in its FitConfig) so that the two \
             can be compared",
            id.rsplit('.').next().unwrap_or("x").to_lowercase()
        );
    }
    let base_dir = variant_dir.with_file_name(base_name);
    let base = read_record(&base_dir.to_string_lossy()).map_err(|e| {
        e.context(format!(
            "{id} compares with the notebook's run {base_name}: run its training cell as it is first"
        ))
    })?;
    let variant = read_record(run)?;
    let mut problems: Vec<String> = changes
        .iter()
        .filter_map(|c| c.problem(&base, &variant, (base_name, run)))
        .collect();
    let allowed: Vec<&str> = changes.iter().map(|c| c.key()).chain(BOOKKEEPING).collect();
    let others: Vec<String> = differences(&to_value(&base)?, &to_value(&variant)?, "")
        .into_iter()
        .filter(|(path, _, _)| !path.split('.').any(|key| allowed.contains(&key)))
        .map(|(path, was, is)| format!("{path}: {was} in {base_name}, {is} in {run}"))
        .collect();
    if !others.is_empty() {
        problems.push(format!(
            "{run} also differs from {base_name} where the extension changes nothing, so the \
             curves would not show the extension's effect alone:\n    {}",
            others.join("\n    ")
        ));
    }
    let history = History::of_run(run)?;
    if let Outcome::Interrupted { epoch } = history.outcome {
        problems.push(format!(
            "{run} stopped in epoch {epoch} of {}: `resume` it, or train it again",
            variant.config.epochs
        ));
    }
    verdict(id, problems, || {
        format!(
            "{run} is {base_name} with the extension's change and nothing else, trained to \
             its end ({} epochs): now draw both runs' curves (History::of_run) and compare",
            variant.config.epochs
        )
    })
}

fn to_value(record: &RunRecord) -> Result<Value> {
    Ok(serde_json::to_value(record)?)
}

/// Every leaf where `a` and `b` differ: its dotted path and both values.
fn differences(a: &Value, b: &Value, path: &str) -> Vec<(String, String, String)> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let none = Value::Null;
                    differences(
                        x.get(k).unwrap_or(&none),
                        y.get(k).unwrap_or(&none),
                        &join(k),
                    )
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![(path.to_string(), a.to_string(), b.to_string())],
    }
}

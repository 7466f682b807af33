//! The per-epoch record of a run, as the DataFrame the plots read and as `history.csv`.
//!
//! Columns, in this order: `epoch` (i64, from 1), `lr`, `train_loss`, `train_acc`
//! (a fraction), `val_loss`, `val_acc` (null without validation), `seconds`,
//! `images_per_s`. The CSV is read back by `resume`, so it is parsed here rather than
//! guessed by a CSV reader (a column of nulls has no type to infer).

use anyhow::{Context, Result, bail};
use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The history's column names, in order.
pub(crate) const HISTORY_COLUMNS: [&str; 8] = [
    "epoch",
    "lr",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "seconds",
    "images_per_s",
];

/// One epoch's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: i64,
    pub lr: f64,
    pub train_loss: f64,
    pub train_acc: f64,
    pub val_loss: Option<f64>,
    pub val_acc: Option<f64>,
    pub seconds: f64,
    pub images_per_s: f64,
}

/// How a call to `fit` or `resume` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every requested epoch ran.
    Finished,
    /// Ctrl-C or the notebook's interrupt button stopped it during this (one-based)
    /// epoch; the epochs before it are complete and saved.
    Interrupted { epoch: i64 },
}

/// What a run returns: the per-epoch DataFrame (`history.frame`, or `&history` wherever a
/// `&DataFrame` is expected), where the artifacts are, and how it ended.
#[derive(Debug, Clone)]
pub struct History {
    pub frame: DataFrame,
    pub records: Vec<EpochRecord>,
    pub run_dir: PathBuf,
    pub outcome: Outcome,
}

impl History {
    pub(crate) fn new(records: Vec<EpochRecord>, run_dir: PathBuf, outcome: Outcome) -> Self {
        History {
            frame: to_frame(&records),
            records,
            run_dir,
            outcome,
        }
    }

    /// Mean wall-clock seconds of the complete epochs (0 without any).
    pub fn seconds_per_epoch(&self) -> f64 {
        self.records.iter().map(|r| r.seconds).sum::<f64>() / self.epochs().max(1) as f64
    }

    /// Number of complete epochs.
    pub fn epochs(&self) -> usize {
        self.records.len()
    }

    /// Run `run`'s history as its folder holds it, to draw beside another run's (an
    /// extension's variant beside the notebook's run, or a run of an earlier session):
    /// `Interrupted` when it has fewer epochs than its `config.json` asked for.
    pub fn of_run(run: &str) -> Result<History> {
        let dir = super::checkpoint::existing_run_dir(run)?;
        let asked = super::checkpoint::read_record_in(&dir)?.config.epochs;
        let records = super::checkpoint::read_history(run)?;
        let outcome = if records.len() < asked {
            Outcome::Interrupted {
                epoch: records.len() as i64 + 1,
            }
        } else {
            Outcome::Finished
        };
        Ok(History::new(records, dir, outcome))
    }
}

impl std::ops::Deref for History {
    type Target = DataFrame;
    fn deref(&self) -> &DataFrame {
        &self.frame
    }
}

impl std::fmt::Display for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.frame)
    }
}

/// The history DataFrame of `records` (see the module doc for the columns).
pub fn to_frame(records: &[EpochRecord]) -> DataFrame {
    let f = |g: fn(&EpochRecord) -> f64| records.iter().map(g).collect::<Vec<f64>>();
    let o = |g: fn(&EpochRecord) -> Option<f64>| records.iter().map(g).collect::<Vec<_>>();
    let columns: Vec<Column> = vec![
        Series::new(
            "epoch".into(),
            records.iter().map(|r| r.epoch).collect::<Vec<i64>>(),
        )
        .into(),
        Series::new("lr".into(), f(|r| r.lr)).into(),
        Series::new("train_loss".into(), f(|r| r.train_loss)).into(),
        Series::new("train_acc".into(), f(|r| r.train_acc)).into(),
        Series::new("val_loss".into(), o(|r| r.val_loss)).into(),
        Series::new("val_acc".into(), o(|r| r.val_acc)).into(),
        Series::new("seconds".into(), f(|r| r.seconds)).into(),
        Series::new("images_per_s".into(), f(|r| r.images_per_s)).into(),
    ];
    // Eight columns of the same length: building the frame cannot fail.
    DataFrame::new(records.len(), columns).unwrap_or_default()
}

/// The CSV text of `records`, with a header; missing values are empty fields.
pub(crate) fn to_csv(records: &[EpochRecord]) -> String {
    let mut out = HISTORY_COLUMNS.join(",");
    out.push('\n');
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for r in records {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            r.epoch,
            r.lr,
            r.train_loss,
            r.train_acc,
            opt(r.val_loss),
            opt(r.val_acc),
            r.seconds,
            r.images_per_s
        );
    }
    out
}

/// Reads a `history.csv` written by [`to_csv`].
pub(crate) fn read_csv(path: &Path) -> Result<Vec<EpochRecord>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the history {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    if header != HISTORY_COLUMNS.join(",") {
        bail!(
            "{} does not start with the history header `{}`; it was not written by `fit`",
            path.display(),
            HISTORY_COLUMNS.join(",")
        );
    }
    let mut records = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = || {
            format!(
                "{} line {}: `{line}` is not a history row",
                path.display(),
                i + 2
            )
        };
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != HISTORY_COLUMNS.len() {
            bail!(bad());
        }
        let num = |s: &str| s.parse::<f64>().with_context(bad);
        let opt = |s: &str| -> Result<Option<f64>> {
            if s.is_empty() {
                Ok(None)
            } else {
                num(s).map(Some)
            }
        };
        records.push(EpochRecord {
            epoch: fields[0].parse::<i64>().with_context(bad)?,
            lr: num(fields[1])?,
            train_loss: num(fields[2])?,
            train_acc: num(fields[3])?,
            val_loss: opt(fields[4])?,
            val_acc: opt(fields[5])?,
            seconds: num(fields[6])?,
            images_per_s: num(fields[7])?,
        });
    }
    Ok(records)
}

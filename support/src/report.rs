//! Every run under a folder in one table: what `cnn report` prints and writes after a
//! sweep, and what a notebook loads to compare many runs.
//!
//! A run is a folder holding `config.json` (see [`crate::train::checkpoint`]); the folder
//! is searched at any depth. Each run gives one row, finished or not, and a run whose
//! files cannot be read is listed as corrupt instead of being left out. Runs that differ
//! only in their seed share a setting, and the settings table gives each setting's mean
//! and range over its finished runs.

use crate::diary::{self, Entry};
use crate::plot;
use crate::recipes;
use crate::train::checkpoint::{CONFIG, HISTORY, RunRecord};
use crate::train::history::read_csv;
use crate::train::read_test;
use anyhow::{Context, Result, bail};
use polars::prelude::{DataFrame, df};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The page `write` makes inside the folder: `report.md` and `report/`.
pub(crate) const PAGE: &str = "report";

/// The runs under one folder.
#[derive(Debug, Clone)]
pub struct Report {
    /// One row per run: `run` (its path inside the folder), `status` (`finished`,
    /// `unfinished (k of n epochs)` or `corrupt: why`), `net`, `regions`, `dataset`,
    /// `schedule`, `batch`, `seed`, `epochs`, `planned_epochs`, `final_val_acc`,
    /// `best_val_acc`, `test_acc_1_pass`, `test_acc_passes`, `passes`,
    /// `seconds_per_epoch`. Accuracies are fractions; a value a run lacks is null.
    pub runs: DataFrame,
    /// One row per setting (all but the seed), over its finished runs: `setting`, `label`
    /// (only the parts in which the settings differ), `runs`, then mean, min and max of `test_acc_1_pass` and of `final_val_acc`, and the mean
    /// `seconds_per_epoch`.
    pub settings: DataFrame,
    /// How many runs are unfinished or corrupt.
    pub incomplete: usize,
}

/// What one run folder says; everything but `run` and `status` is missing for a corrupt
/// configuration.
#[derive(Debug, Default)]
struct Row {
    run: String,
    status: String,
    finished: bool,
    net: Option<String>,
    regions: Option<String>,
    dataset: Option<String>,
    schedule: Option<String>,
    batch: Option<u64>,
    seed: Option<u64>,
    epochs: Option<u64>,
    planned: Option<u64>,
    final_val: Option<f64>,
    best_val: Option<f64>,
    test_one: Option<f64>,
    test_passes: Option<f64>,
    passes: Option<u64>,
    seconds_per_epoch: Option<f64>,
}

impl Row {
    /// Everything that makes two runs the same experiment but for the seed, in parts.
    fn setting(&self) -> Vec<String> {
        let mut parts = vec![self.net.clone().unwrap_or_default()];
        parts.extend(self.regions.clone());
        parts.extend(self.schedule.clone());
        parts.extend(self.batch.map(|b| format!("batch {b}")));
        parts.extend(self.planned.map(|e| format!("{e} epochs")));
        parts.extend(self.dataset.clone());
        parts
    }
}

/// Gathers every run under `dir` (see the module docs). A folder without any run is an
/// error that says what a run folder is.
pub fn gather(dir: impl AsRef<Path>) -> Result<Report> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        bail!("there is no folder {}", dir.display());
    }
    let mut folders = Vec::new();
    find_runs(dir, &mut folders)?;
    if folders.is_empty() {
        bail!(
            "no runs under {}: a run is a folder with a {CONFIG}, as `cnn train` and the \
             notebooks write them (runs/<run>/); point `cnn report` at the folder above them",
            dir.display()
        );
    }
    let rows: Vec<Row> = folders.iter().map(|f| read_row(dir, f)).collect();
    Ok(Report {
        runs: runs_frame(&rows)?,
        settings: settings_frame(&rows)?,
        incomplete: rows.iter().filter(|r| !r.finished).count(),
    })
}

/// Run folders under `dir`, depth first in name order; a run's own folder is not
/// searched further, nor are hidden folders.
fn find_runs(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    if dir.join(CONFIG).is_file() {
        found.push(dir.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        find_runs(&entry, found)?;
    }
    Ok(())
}

fn read_row(base: &Path, dir: &Path) -> Row {
    let run = dir
        .strip_prefix(base)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(dir)
        .display()
        .to_string();
    match fill_row(dir, run.clone()) {
        Ok(row) => row,
        Err(err) => Row {
            run,
            status: format!("corrupt: {err:#}"),
            ..Row::default()
        },
    }
}

fn fill_row(dir: &Path, run: String) -> Result<Row> {
    let text = std::fs::read_to_string(dir.join(CONFIG))?;
    let record: RunRecord =
        serde_json::from_str(&text).with_context(|| format!("{CONFIG} cannot be read"))?;
    let history_path = dir.join(HISTORY);
    let history = if history_path.exists() {
        read_csv(&history_path).with_context(|| format!("{HISTORY} cannot be read"))?
    } else {
        Vec::new()
    };
    // A test of weights older than the last epoch does not describe the run.
    let test = read_test(dir)?.filter(|t| t.epochs == history.len());
    let planned = record.config.epochs;
    let finished = history.len() >= planned;
    let val: Vec<f64> = history.iter().filter_map(|r| r.val_acc).collect();
    let seconds = history.iter().map(|r| r.seconds).sum::<f64>();
    Ok(Row {
        run,
        status: if finished {
            "finished".into()
        } else {
            format!("unfinished ({} of {planned} epochs)", history.len())
        },
        finished,
        net: Some(net_name(&record)),
        regions: record
            .model
            .as_ref()
            .and_then(|m| m.regions())
            .map(|r| r.to_string()),
        dataset: Some(record.dataset.clone()),
        schedule: Some(format!(
            "{} {}",
            record.config.optimizer, record.config.schedule
        )),
        batch: Some(record.config.batch_size as u64),
        seed: Some(record.config.seed),
        epochs: Some(history.len() as u64),
        planned: Some(planned as u64),
        final_val: val.last().copied(),
        best_val: val.iter().copied().reduce(f64::max),
        test_one: test.as_ref().map(|t| 1.0 - t.error_one_pass),
        test_passes: test.as_ref().and_then(|t| t.error_passes.map(|e| 1.0 - e)),
        passes: test.as_ref().map(|t| t.passes as u64),
        seconds_per_epoch: (!history.is_empty()).then(|| seconds / history.len() as f64),
    })
}

/// The net's model name (`fmp-mnist`), the recipe whose net it is (`graham-mnist net`),
/// or its kind for a net of its own.
pub(crate) fn net_name(record: &RunRecord) -> String {
    let Some(spec) = &record.model else {
        return "a model of its own".into();
    };
    if let Some(name) = spec.preset_name() {
        return name.into();
    }
    if let Some(recipe) = recipes::all().iter().find(|r| r.model.same_net_as(spec)) {
        return format!("{} net", recipe.name);
    }
    match spec {
        crate::models::ModelSpec::Fmp(_) => "an FMP net of its own".into(),
        crate::models::ModelSpec::Lenet5(_) => "a LeNet-5 of its own".into(),
        crate::models::ModelSpec::Fcnn(_) => "an FCNN of its own".into(),
    }
}

fn runs_frame(rows: &[Row]) -> Result<DataFrame> {
    let text = |f: fn(&Row) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let int = |f: fn(&Row) -> Option<u64>| rows.iter().map(f).collect::<Vec<_>>();
    let float = |f: fn(&Row) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    Ok(df!(
        "run" => text(|r| Some(r.run.clone())),
        "status" => text(|r| Some(r.status.clone())),
        "net" => text(|r| r.net.clone()),
        "regions" => text(|r| r.regions.clone()),
        "dataset" => text(|r| r.dataset.clone()),
        "schedule" => text(|r| r.schedule.clone()),
        "batch" => int(|r| r.batch),
        "seed" => int(|r| r.seed),
        "epochs" => int(|r| r.epochs),
        "planned_epochs" => int(|r| r.planned),
        "final_val_acc" => float(|r| r.final_val),
        "best_val_acc" => float(|r| r.best_val),
        "test_acc_1_pass" => float(|r| r.test_one),
        "test_acc_passes" => float(|r| r.test_passes),
        "passes" => int(|r| r.passes),
        "seconds_per_epoch" => float(|r| r.seconds_per_epoch),
    )?)
}

/// Mean, min and max of the values present; `None` for none.
fn spread(values: &[Option<f64>]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let v: Vec<f64> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return (None, None, None);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (Some(mean), Some(min), Some(max))
}

fn settings_frame(rows: &[Row]) -> Result<DataFrame> {
    // A BTreeMap keeps the settings in name order, so the table is the same every time.
    let mut groups: BTreeMap<Vec<String>, Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.finished) {
        groups.entry(row.setting()).or_default().push(row);
    }
    let (mut setting, mut label, mut runs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut test, mut val, mut seconds) = (Vec::new(), Vec::new(), Vec::new());
    for (parts, group) in &groups {
        setting.push(parts.join(", "));
        label.push(short_label(parts, groups.keys()));
        runs.push(group.len() as u64);
        test.push(spread(
            &group.iter().map(|r| r.test_one).collect::<Vec<_>>(),
        ));
        val.push(spread(
            &group.iter().map(|r| r.final_val).collect::<Vec<_>>(),
        ));
        seconds.push(
            spread(
                &group
                    .iter()
                    .map(|r| r.seconds_per_epoch)
                    .collect::<Vec<_>>(),
            )
            .0,
        );
    }
    type Stat = (Option<f64>, Option<f64>, Option<f64>);
    let pick = |v: &[Stat], k: usize| -> Vec<Option<f64>> {
        v.iter().map(|s| [s.0, s.1, s.2][k]).collect()
    };
    Ok(df!(
        "setting" => setting,
        "label" => label,
        "runs" => runs,
        "test_acc_1_pass_mean" => pick(&test, 0),
        "test_acc_1_pass_min" => pick(&test, 1),
        "test_acc_1_pass_max" => pick(&test, 2),
        "final_val_acc_mean" => pick(&val, 0),
        "final_val_acc_min" => pick(&val, 1),
        "final_val_acc_max" => pick(&val, 2),
        "seconds_per_epoch" => seconds,
    )?)
}

/// The parts of a setting in which the settings differ (`random-overlapping, Adam lr
/// 0.003`), short enough for a figure's labels; the whole setting when it is alone.
fn short_label<'a>(parts: &[String], all: impl Iterator<Item = &'a Vec<String>> + Clone) -> String {
    let differs = |i: usize| all.clone().any(|other| other.get(i) != parts.get(i));
    let varying: Vec<&str> = parts
        .iter()
        .enumerate()
        .filter(|&(i, _)| differs(i))
        .map(|(_, p)| p.as_str())
        .collect();
    if varying.is_empty() {
        parts.join(", ")
    } else {
        varying.join(", ")
    }
}

impl Report {
    /// Writes the report as a page inside `dir`: `report.md`, with `report/runs.csv`,
    /// `report/settings.csv` (and their Markdown) and the figure `report/accuracy.png`
    /// (and `.svg`) when some setting has an accuracy to draw. Returns the page's path.
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<PathBuf> {
        let dir = dir.as_ref();
        let mut page = Entry::new(&format!("Runs under {}", dir.display()));
        if self.incomplete > 0 {
            page = page.text(&format!(
                "{} run(s) are unfinished or corrupt: see their `status` below. They are left \
                 out of the settings table.",
                self.incomplete
            ));
        }
        if self.settings.height() > 0 {
            page = page.table(
                "settings",
                "Each setting over its finished runs (seeds)",
                &self.settings,
            );
            page = match plot::settings_spread(&self.settings)? {
                Some(figure) => page.figure(
                    "accuracy",
                    "Accuracy per setting: mean over the runs, the line from the worst to the best",
                    &figure,
                ),
                None => page.text(
                    "No figure: no run has a test or validation accuracy to draw. Test the runs \
                     (`cnn train --test`), or train with a validation split (`--validation N`).",
                ),
            };
        }
        page = page.table("runs", "Every run", &self.runs);
        diary::write_in(dir, PAGE, &page)
    }
}

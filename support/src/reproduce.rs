//! A recipe trained over several seeds and set next to the paper's number: what
//! `cnn reproduce` measures, and the table a notebook loads into the diary.
//!
//! The tables and the figure are written as a diary page under the runs folder,
//! `runs/reproduce-<recipe>-<data>.md` with `runs/reproduce-<recipe>-<data>/` holding
//! `seeds.csv`, `summary.csv` (and their Markdown) and `errors.png` / `.svg`.

use crate::diary::{self, Entry};
use crate::plot;
use crate::recipes::Recipe;
use crate::train::{TestRecord, runs_root};
use anyhow::{Context, Result};
use polars::prelude::{CsvReadOptions, DataFrame, SerReader, df};
use std::path::PathBuf;

/// The page's name: `reproduce-<recipe>-<data>`, data as `cnn` names it (`mnist`, ...).
pub fn page_name(recipe: &str, data: &str) -> String {
    format!("reproduce-{recipe}-{data}")
}

/// One row per seed, errors in percent.
pub fn seeds_frame(results: &[TestRecord]) -> Result<DataFrame> {
    let col =
        |f: fn(&TestRecord) -> Option<f64>| -> Vec<Option<f64>> { results.iter().map(f).collect() };
    Ok(df!(
        "seed" => results.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "run" => results.iter().map(|r| r.run.clone()).collect::<Vec<_>>(),
        "epochs" => results.iter().map(|r| r.epochs as u64).collect::<Vec<_>>(),
        "seconds_per_epoch" => col(|r| Some(r.seconds_per_epoch)),
        "val_accuracy" => col(|r| r.val_accuracy),
        "error_1_pass_pct" => col(|r| Some(100.0 * r.error_one_pass)),
        "error_passes_pct" => col(|r| r.error_passes.map(|e| 100.0 * e)),
    )?)
}

/// Mean, standard deviation, min and max over the seeds beside the published error, one
/// row per evaluation (one pass; the recipe's passes), in percent.
pub fn summary_frame(recipe: &Recipe, results: &[TestRecord]) -> Result<DataFrame> {
    let published = recipe.published.as_ref();
    let mut rows: Vec<(String, Vec<f64>, Option<f64>)> = vec![(
        "1 pass".into(),
        results.iter().map(|r| 100.0 * r.error_one_pass).collect(),
        published.map(|p| p.one_pass),
    )];
    let many: Vec<f64> = results
        .iter()
        .filter_map(|r| r.error_passes.map(|e| 100.0 * e))
        .collect();
    if !many.is_empty() {
        rows.push((
            format!("{} passes", recipe.passes),
            many,
            published.and_then(|p| p.twelve_passes.filter(|_| recipe.passes == 12)),
        ));
    }
    let stat = |f: fn(&[f64]) -> f64| -> Vec<f64> { rows.iter().map(|r| f(&r.1)).collect() };
    Ok(df!(
        "evaluation" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        "seeds" => rows.iter().map(|r| r.1.len() as u64).collect::<Vec<_>>(),
        "mean_error_pct" => stat(mean),
        "sd_pct" => stat(sample_sd),
        "min_pct" => stat(|v| v.iter().copied().fold(f64::INFINITY, f64::min)),
        "max_pct" => stat(|v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        "published_pct" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    )?)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The sample standard deviation; 0 for a single seed.
fn sample_sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// Writes the page (tables and figure) under the runs root; returns the page's path.
pub fn write(recipe: &Recipe, data: &str, results: &[TestRecord]) -> Result<PathBuf> {
    let seeds = seeds_frame(results)?;
    let summary = summary_frame(recipe, results)?;
    let figure = plot::reproduction(&summary)?;
    let page = Entry::new(&format!(
        "{} on {data}, {} seed(s)",
        recipe.name,
        results.len()
    ))
    .text(&format!("```text\n{recipe}```"))
    .table(
        "summary",
        "Test error over the seeds, next to the paper's",
        &summary,
    )
    .figure(
        "errors",
        "Test error: mean and range over the seeds, and the paper's",
        &figure,
    )
    .table("seeds", "Each seed's run", &seeds);
    diary::write_in(&runs_root(), &page_name(&recipe.name, data), &page)
}

/// The summary table of a finished `cnn reproduce` run, for a notebook's diary.
pub fn load_summary(recipe: &str, data: &str) -> Result<DataFrame> {
    let path = runs_root()
        .join(page_name(recipe, data))
        .join("summary.csv");
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.clone()))
        .and_then(|r| r.finish())
        .with_context(|| {
            format!(
                "no reproduction of {recipe} on {data} at {}; run `cnn reproduce {recipe} \
                 --dataset {data}` first (`cnn recipes` gives its cost)",
                path.display()
            )
        })
}

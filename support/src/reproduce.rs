//! A recipe trained over several seeds and set next to the paper's number: what
//! `cnn reproduce` measures, and the table a notebook loads into the diary.
//!
//! The tables and the figure are written as a diary page under the runs folder,
//! `runs/reproduce-<recipe>-<data>.md` with `runs/reproduce-<recipe>-<data>/` holding
//! `seeds.csv`, `summary.csv` (and their Markdown) and `errors.png` / `.svg`.

use crate::data::Dataset;
use crate::diary::{self, Entry};
use crate::plot;
use crate::recipes::Recipe;
use crate::train::{FitConfig, Outcome, TestRecord, fit_or_resume, runs_root, test_once};
use anyhow::{Context, Result, bail};
use polars::prelude::{CsvReadOptions, DataFrame, SerReader, df};
use std::path::PathBuf;
use tch::Device;

/// The page's name: `reproduce-<recipe>-<data>`, data as `cnn` names it (`mnist`, ...).
pub(crate) fn page_name(recipe: &str, data: &str) -> String {
    format!("reproduce-{recipe}-{data}")
}

/// Trains `recipe` on `data` once per seed `0..seeds`, each run
/// `runs/<recipe>-<data>-seed<k>/`, and tests each finished run once. A seed's run that
/// exists continues (a finished one is reused), so a reproduction stopped half way picks
/// up where it was. `None` when training was interrupted (the stop button, Ctrl-C).
pub fn train_seeds(
    recipe: &Recipe,
    data: &Dataset,
    seeds: u64,
    device: Device,
) -> Result<Option<Vec<TestRecord>>> {
    if seeds == 0 {
        bail!("0 seeds train nothing; use 1 or more (3 give a spread)");
    }
    let spec = recipe.model_for(data)?;
    let mut results = Vec::new();
    for seed in 0..seeds {
        let run = format!("{}-{}-seed{seed}", recipe.name, data.name);
        let config = FitConfig {
            seed,
            run: Some(run.clone()),
            ..recipe.fit.clone()
        };
        crate::seed(seed);
        let mut vs = tch::nn::VarStore::new(device);
        let model = spec.build(&vs.root())?;
        println!("seed {seed}: {run}");
        let history = fit_or_resume(model.as_ref(), &mut vs, data, &config)?;
        if let Outcome::Interrupted { .. } = history.outcome {
            println!("stopped in seed {seed}; run the same reproduction again to continue");
            return Ok(None);
        }
        results.push(test_once(
            model.as_ref(),
            data,
            device,
            recipe.passes,
            &config,
            &history,
        )?);
    }
    Ok(Some(results))
}

/// One row per seed, errors in percent.
pub(crate) fn seeds_frame(results: &[TestRecord]) -> Result<DataFrame> {
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
pub(crate) fn summary_frame(recipe: &Recipe, results: &[TestRecord]) -> Result<DataFrame> {
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

/// Writes the page (tables and figure) under the runs root; returns the page's path and
/// the summary table (mean and spread over the seeds beside the paper's error).
pub fn write(recipe: &Recipe, data: &str, results: &[TestRecord]) -> Result<(PathBuf, DataFrame)> {
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
    let path = diary::write_in(&runs_root(), &page_name(&recipe.name, data), &page)?;
    Ok((path, summary))
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

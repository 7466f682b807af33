//! `cnn report DIR`: every run under a folder in one table, written next to the runs.

use anyhow::Result;
use polars::prelude::DataFrame;
use std::path::Path;
use support::report;
use support::show::table;

/// The columns printed, as Markdown tables (a terminal is too narrow for the rest); the
/// CSV files have them all.
const RUN_COLUMNS: [&str; 8] = [
    "run",
    "status",
    "seed",
    "epochs",
    "final_val_acc",
    "test_acc_1_pass",
    "test_acc_passes",
    "seconds_per_epoch",
];
const SETTING_COLUMNS: [&str; 6] = [
    "setting",
    "runs",
    "test_acc_1_pass_mean",
    "test_acc_1_pass_min",
    "test_acc_1_pass_max",
    "final_val_acc_mean",
];

pub fn run(dir: &Path) -> Result<()> {
    let report = report::gather(dir)?;
    println!(
        "{}",
        table(&pick(&report.runs, &RUN_COLUMNS)?).to_markdown()
    );
    if report.settings.height() > 0 {
        println!(
            "{}",
            table(&pick(&report.settings, &SETTING_COLUMNS)?).to_markdown()
        );
    }
    if report.incomplete > 0 {
        println!(
            "{} run(s) unfinished or corrupt (see `status`); a sweep's unfinished tasks \
             continue when submitted again",
            report.incomplete
        );
    }
    let page = report.write(dir)?;
    println!("report: {}", page.display());
    Ok(())
}

fn pick(df: &DataFrame, columns: &[&str]) -> Result<DataFrame> {
    Ok(df.select(columns.iter().copied())?)
}

//! `cnn data check`: where a data set was found, and whether it reads cleanly.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use std::path::PathBuf;
use support::data::{self, Examples, LoadOpts, Source, locate, synthetic};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Find, read and validate a data set; print counts, class histogram, pixel mean/std.
    Check {
        /// mnist, fashion-mnist or cifar10 (default: $CNN_DATASET, else mnist).
        #[arg(long)]
        dataset: Option<String>,
        /// A folder with the data set's files, searched first.
        #[arg(long)]
        path: Option<PathBuf>,
        /// Download the data set when no folder has it.
        #[arg(long)]
        download: bool,
    },
}

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Check {
            dataset,
            path,
            download,
        } => check(
            &dataset.unwrap_or_else(data::mnist_like_from_env),
            path,
            download,
        ),
    }
}

fn check(name: &str, path: Option<PathBuf>, download: bool) -> Result<()> {
    let source = Source::from_name(name)?;
    let found = match locate::find(source, path.as_deref()) {
        Some(dir) => dir,
        None => locate::find_or_download(source, path.as_deref(), download)?,
    };
    println!("{}: found in {}", source.name(), found.display());
    let opts = LoadOpts {
        path: Some(found),
        download: false,
        quick: false,
        ..LoadOpts::default()
    };
    let data = data::load(source.name(), &opts)?;
    let [c, h, w] = data.image_shape();
    println!("images: {c} x {h} x {w}, {} classes", data.num_classes());
    for (part, examples) in [("train", &data.train), ("test", &data.test)] {
        report(part, examples, &data.classes)?;
    }
    println!("normalising with mean {:?}, std {:?}", data.mean, data.std);
    Ok(())
}

fn report(part: &str, examples: &Examples, classes: &[String]) -> Result<()> {
    let counts = examples.class_counts(classes.len());
    if counts.len() != classes.len() {
        return Err(anyhow!("cannot count the {part} labels per class"));
    }
    let (mean, std) = synthetic::pixel_mean_std(examples);
    println!(
        "{part}: {} examples, pixel mean {mean:.4?}, std {std:.4?}",
        examples.len()
    );
    for (class, n) in classes.iter().zip(counts) {
        println!("  {class:>12}: {n}");
    }
    Ok(())
}

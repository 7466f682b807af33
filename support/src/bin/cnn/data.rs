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
    /// Write a small synthetic data set in the real file format (IDX or CIFAR binary),
    /// with learnable classes: for tests and offline quick runs.
    Synthetic {
        /// mnist, fashion-mnist or cifar10: which format and class names to imitate.
        #[arg(long)]
        dataset: String,
        /// The folder to write, e.g. $CNN_DATA_DIR/cifar10.
        #[arg(long)]
        out: PathBuf,
        /// Training images.
        #[arg(long, default_value_t = 6000)]
        train: usize,
        /// Test images.
        #[arg(long, default_value_t = 1000)]
        test: usize,
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
        DataCommand::Synthetic {
            dataset,
            out,
            train,
            test,
        } => write_synthetic(&dataset, &out, train, test),
    }
}

fn write_synthetic(name: &str, out: &std::path::Path, train: usize, test: usize) -> Result<()> {
    synthetic::write(name, out, train, test)?;
    println!(
        "wrote a synthetic {name} ({train} train, {test} test images) to {}",
        out.display()
    );
    Ok(())
}

fn check(name: &str, path: Option<PathBuf>, download: bool) -> Result<()> {
    let source = Source::from_name(name)?;
    let found = locate::find_or_download(source, path.as_deref(), download)?;
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
    let (mean, std) = examples.pixel_mean_std();
    println!(
        "{part}: {} examples, pixel mean {mean:.4?}, std {std:.4?}",
        examples.len()
    );
    for (class, n) in classes.iter().zip(counts) {
        println!("  {class:>12}: {n}");
    }
    Ok(())
}

//! `cnn`: the course's command line, a thin layer over the `support` library.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod args;
mod data;
mod env;
mod eval;
mod fmp;
mod recipes;
mod report;
mod reproduce;
mod summary;
mod sweep;
mod train;

#[derive(Parser)]
#[command(
    name = "cnn",
    version,
    about = "The cnn-notebooks command line: data, models, training, runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the libtorch version, the chosen device, CUDA and MPS availability, threads.
    Env,
    /// Print an FMP net's sizes, computed backwards from the 2x2 its head needs.
    FmpSizes {
        /// Pooling ratio in (1, 2]: a number, `sqrt2`, or a power like `2^(1/3)`.
        #[arg(long)]
        alpha: String,
        /// Number of (C2 - FMP) blocks (MNIST: 6, CIFAR: 12).
        #[arg(long)]
        layers: usize,
    },
    /// Train a model on a data set; artifacts go to runs/<run-name>/.
    Train(train::TrainArgs),
    /// Evaluate a run's checkpoint on the test set (and repeated passes).
    Eval {
        /// The run's name under runs/, or its folder.
        run: String,
        /// Average up to this many test-time passes (FMP nets differ pass to pass); 1 or more.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        repeats: u32,
        #[arg(long)]
        device: Option<String>,
    },
    /// List the named recipes (`cnn train --recipe NAME`): settings, source, published
    /// error and deviations.
    Recipes {
        /// Also time one epoch of each on this machine (a few batches, extrapolated).
        #[arg(long)]
        measure: bool,
        /// The data to time on (default: each recipe's own: mnist or cifar10).
        #[arg(long)]
        dataset: Option<String>,
        #[arg(long)]
        data_path: Option<std::path::PathBuf>,
    },
    /// Train a recipe once per seed, test each run once, and write one table of mean and
    /// spread next to the paper's number (runs/reproduce-<recipe>-<data>.md).
    Reproduce(reproduce::ReproduceArgs),
    /// Write a grid of runs (models or recipes x regions x learning rates x seeds) as a
    /// Slurm job array and a plain shell script, under runs/NAME/.
    Sweep(sweep::SweepArgs),
    /// Gather every run under a folder into one table (CSV, Markdown and a figure in
    /// <folder>/report/), finished, unfinished or corrupt.
    Report {
        /// The folder holding the runs, at any depth (a sweep's runs/NAME, or runs).
        dir: std::path::PathBuf,
    },
    /// Continue a run from its last checkpoint.
    Resume {
        run: String,
        /// New total number of epochs (default: the run's own).
        #[arg(long)]
        epochs: Option<usize>,
        #[arg(long)]
        device: Option<String>,
    },
    /// Check the data sets: where they are, counts, class histogram, pixel statistics.
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
    /// Print a model's layers with their output shapes and parameter counts.
    Summary {
        /// The model.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(support::models::MODEL_NAMES))]
        model: String,
        /// Input channels (default: 3 for the CIFAR-10 models, 1 for the MNIST ones).
        #[arg(long)]
        channels: Option<i64>,
        /// Number of classes.
        #[arg(long, default_value_t = 10)]
        classes: i64,
    },
}

fn main() {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`cnn data check | head`), instead of panicking on a broken pipe.
    // SAFETY: resetting a signal to its default disposition before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Env => env::run(),
        Command::FmpSizes { alpha, layers } => fmp::run(&alpha, layers),
        Command::Train(args) => train::run(args),
        Command::Eval {
            run,
            repeats,
            device,
        } => eval::run(&run, repeats as usize, device.as_deref()),
        Command::Resume {
            run,
            epochs,
            device,
        } => train::resume(&run, epochs, device.as_deref()),
        Command::Recipes {
            measure,
            dataset,
            data_path,
        } => recipes::run(measure, dataset.as_deref(), data_path),
        Command::Reproduce(args) => reproduce::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Report { dir } => report::run(&dir),
        Command::Data { command } => data::run(command),
        Command::Summary {
            model,
            channels,
            classes,
        } => summary::run(&model, channels, classes),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

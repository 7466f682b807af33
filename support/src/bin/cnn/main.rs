//! `cnn`: the course's command line, a thin layer over the `support` library.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod env;
mod fmp;
mod summary;

#[derive(Parser)]
#[command(
    name = "cnn",
    version,
    about = "The cnn-notebooks command line: data, models, training, benchmarks"
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
    /// Print a model's layers with their output shapes and parameter counts.
    Summary {
        /// One of: fcnn, lenet5-classic, lenet5-modern, fmp-mnist, fmp-cifar10,
        /// fmp-cifar10-large, fmp-tiny.
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
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Env => env::run(),
        Command::FmpSizes { alpha, layers } => fmp::run(&alpha, layers),
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

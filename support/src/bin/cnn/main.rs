//! `cnn`: the course's command line, a thin layer over the `support` library.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod env;
mod fmp;

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
}

fn main() {
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Env => env::run(),
        Command::FmpSizes { alpha, layers } => fmp::run(&alpha, layers),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

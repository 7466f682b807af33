//! `cnn`: the course's command line, a thin layer over the `support` library.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod data;
mod env;

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
    /// Check the data sets: where they are, counts, class histogram, pixel statistics.
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
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
        Command::Data { command } => data::run(command),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

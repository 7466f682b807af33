//! Running the `cnn` binary as a user would, for the `cli_*` tests.

use std::path::Path;
use std::process::{Command, Output};

/// `cnn args...` with its runs under `runs` and quick mode only where the args ask for it.
pub fn cnn(args: &[&str], runs: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cnn"))
        .args(args)
        .env("CNN_RUNS_DIR", runs)
        .env_remove("CNN_QUICK")
        .output()
        .expect("cannot start the cnn binary")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

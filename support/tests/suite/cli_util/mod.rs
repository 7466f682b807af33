//! Running the `cnn` binary as a user would, for the `cli_*` tests.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `cnn args...` with its runs under `runs` and quick mode only where the args ask for it.
pub fn cnn(args: &[&str], runs: &Path) -> Output {
    command(args, runs)
        .output()
        .expect("cannot start the cnn binary")
}

/// [`cnn`] started in the background, its output piped, for tests of two at once.
pub fn spawn_cnn(args: &[&str], runs: &Path) -> Child {
    command(args, runs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the cnn binary")
}

fn command(args: &[&str], runs: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cnn"));
    command
        .args(args)
        .env("CNN_RUNS_DIR", runs)
        .env_remove("CNN_QUICK");
    command
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

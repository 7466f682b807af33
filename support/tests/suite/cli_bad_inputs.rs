//! Hostile inputs to the `cnn` command line: each one is refused with a message that says
//! what was wrong, and nothing is written or silently replaced.

use crate::cli_util::{cnn, stderr};
use std::path::Path;
use support::data::synthetic;

/// A Fashion-MNIST folder whose test images are a directory, not a file.
fn damaged_fashion_mnist(dir: &Path) {
    synthetic::write("fashion-mnist", dir, 20, 20).unwrap();
    let images = dir.join("t10k-images-idx3-ubyte.gz");
    std::fs::remove_file(&images).unwrap();
    std::fs::create_dir(&images).unwrap();
}

#[test]
fn data_check_on_a_damaged_path_refuses_it_instead_of_using_another_copy() {
    let dir = tempfile::tempdir().unwrap();
    damaged_fashion_mnist(dir.path());
    let out = cnn(
        &[
            "data",
            "check",
            "--dataset",
            "fashion-mnist",
            "--path",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    let (msg, stdout) = (stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert!(!out.status.success(), "exit 0; printed:\n{stdout}");
    assert!(
        !stdout.contains("found in") && !msg.contains("/usr/share/datasets"),
        "another copy was used or offered:\n{stdout}\n{msg}"
    );
    assert!(
        msg.contains(&dir.path().display().to_string()) && msg.contains("To fix"),
        "{msg}"
    );
}

#[test]
fn load_with_a_damaged_path_refuses_it_instead_of_using_another_copy() {
    let dir = tempfile::tempdir().unwrap();
    damaged_fashion_mnist(dir.path());
    let opts = support::data::LoadOpts {
        path: Some(dir.path().to_path_buf()),
        download: false,
        quick: false,
        ..support::data::LoadOpts::default()
    };
    let msg = format!(
        "{:#}",
        support::data::load("fashion-mnist", &opts).unwrap_err()
    );
    assert!(
        msg.contains(&dir.path().display().to_string()) && !msg.contains("/usr/share/datasets"),
        "{msg}"
    );
}

#[test]
fn train_for_zero_epochs_is_refused_before_a_run_is_written() {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(
        &[
            "train",
            "fmp-tiny",
            "--dataset",
            "synthetic-mnist",
            "--quick",
            "--epochs",
            "0",
            "--device",
            "cpu",
            "--run-name",
            "zero",
        ],
        runs.path(),
    );
    let msg = stderr(&out);
    assert!(!out.status.success(), "exit 0:\n{msg}");
    assert!(msg.contains("epochs is 0"), "{msg}");
    assert!(
        !runs.path().join("zero").exists(),
        "a run folder was written"
    );
}

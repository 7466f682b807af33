//! A run made in a notebook, with a preset's settings changed, is rebuilt exactly by the
//! command line: `cnn eval` loads its checkpoint into the same net and the same data.

use crate::cli_util::{cnn, stderr};
use std::process::Command;
use support::data::{LoadOpts, load};
use support::fmp::Regions;
use support::models::{Dropout, FmpConfig, FmpNet};
use support::train::{EvalOpts, FitConfig, evaluate, fit, read_record};
use tch::{Device, nn};

#[test]
fn a_notebook_run_with_other_regions_evaluates_to_the_same_accuracy_through_cnn_eval() {
    let runs = tempfile::tempdir().unwrap();
    let opts = LoadOpts {
        quick: true,
        validation: 100,
        ..LoadOpts::default()
    };
    let data = load("synthetic-mnist", &opts).unwrap();
    let config = FmpConfig {
        regions: Regions::RandomDisjoint,
        regions_seed: Some(7), // fixed regions, so that every evaluation pass is the same
        dropout: Dropout::NONE,
        ..FmpConfig::tiny()
    };
    let vs = nn::VarStore::new(Device::Cpu);
    let model = FmpNet::new(&vs.root(), config.clone()).unwrap();
    let run = runs.path().join("notebook-run");
    let run = run.to_str().unwrap();
    let fit_config = FitConfig {
        epochs: 1,
        run: Some(run.into()),
        progress: false,
        ..FitConfig::default()
    };
    fit(&model, &vs, &data, &fit_config).unwrap();
    let accuracy = evaluate(&model, &data, &EvalOpts::new(Device::Cpu))
        .unwrap()
        .accuracy;
    let record = read_record(run).unwrap();
    assert_eq!(
        record.model,
        Some(support::models::ModelSpec::Fmp(config)),
        "the run records the net as built, not the preset"
    );

    let out = cnn(&["eval", run, "--device", "cpu"], runs.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!("accuracy {accuracy:.4}");
    assert!(
        stdout.contains(&expected),
        "expected {expected:?}:\n{stdout}"
    );
}

#[test]
fn a_run_whose_record_cannot_be_rebuilt_is_a_clear_error_from_cnn_eval() {
    use crate::train_util::{Tiny, config, dataset};
    let runs = tempfile::tempdir().unwrap();
    let data = dataset(60, None, 20); // made in memory, with a model of its own
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    fit(&model, &vs, &data, &config(runs.path(), 1)).unwrap();
    let run = runs.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_cnn"))
        .args(["eval", run.to_str().unwrap(), "--device", "cpu"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not say how to load its data")
            && stderr.contains("where it was made"),
        "{stderr}"
    );
}

/// A cluster job's log (stdout to a file) gets whole lines: one per short epoch and no
/// carriage-return redraws, which a terminal would turn into one line but a log keeps.
#[test]
fn train_into_a_log_file_writes_one_plain_line_per_short_epoch() {
    let runs = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "fcnn",
        "--dataset",
        "synthetic-mnist",
        "--quick",
        "--epochs",
        "2",
        "--device",
        "cpu",
    ];
    let out = cnn(&args, runs.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    assert!(!stdout.contains('\r'), "redraws in the log:\n{stdout:?}");
    let epochs: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 2, "{stdout}");
    assert!(epochs[0].starts_with("epoch 1/2 lr "), "{stdout}");
    assert!(epochs[1].starts_with("epoch 2/2 lr "), "{stdout}");
}

#[test]
fn a_run_name_that_is_a_path_is_refused_and_nothing_is_written() {
    let runs = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("abs");
    for name in ["../escaped", absolute.to_str().unwrap(), "a/b"] {
        let out = cnn(
            &[
                "train",
                "fmp-tiny",
                "--dataset",
                "synthetic-mnist",
                "--quick",
                "--epochs",
                "1",
                "--run-name",
                name,
            ],
            runs.path(),
        );
        let err = stderr(&out);
        assert!(!out.status.success(), "--run-name {name} was accepted");
        assert!(
            err.contains("not a plain file name") && err.contains("CNN_RUNS_DIR"),
            "{name}: {err}"
        );
    }
    assert!(!absolute.exists(), "a run was written at the absolute path");
    assert!(
        !runs.path().parent().unwrap().join("escaped").exists(),
        "a run was written beside the runs folder"
    );
}

#[test]
fn eval_with_zero_repeats_is_refused() {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(&["eval", "any-run", "--repeats", "0"], runs.path());
    assert!(!out.status.success(), "--repeats 0 was accepted");
    assert!(stderr(&out).contains("--repeats"), "{}", stderr(&out));
}

#[test]
fn report_over_runs_without_an_accuracy_prints_its_table_and_exits_0() {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(
        &[
            "train",
            "fmp-tiny",
            "--dataset",
            "synthetic-mnist",
            "--quick",
            "--epochs",
            "1",
            "--run-name",
            "untested",
        ],
        runs.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cnn(&["report", runs.path().to_str().unwrap()], runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("untested"));
    let page = std::fs::read_to_string(runs.path().join("report.md")).unwrap();
    assert!(
        page.contains("No figure: no run has a test or validation accuracy"),
        "{page}"
    );
}

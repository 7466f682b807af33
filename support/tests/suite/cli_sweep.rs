//! `cnn sweep`, `cnn report` and `cnn train --continue --test` through the binary: a bad
//! grid is refused before anything is written, the scripts hold one `cnn train` line per
//! task, and the report lists finished, unfinished and corrupt runs alike. The real
//! Slurm run is `scripts/cluster-test.sh` (make test-cluster).

use crate::cli_util::{cnn, stderr};
use std::fs;
use std::path::Path;

const QUICK_DATA: [&str; 3] = ["--dataset", "synthetic-mnist", "--quick"];

fn refused(args: &[&str], wanted: &[&str]) {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(args, runs.path());
    let msg = stderr(&out);
    assert!(!out.status.success(), "{args:?} ran");
    for w in wanted {
        assert!(msg.contains(w), "{args:?}: {w:?} not in {msg}");
    }
    assert_eq!(
        fs::read_dir(runs.path()).unwrap().count(),
        0,
        "{args:?} wrote something"
    );
}

#[test]
fn a_bad_grid_is_refused_before_anything_is_written() {
    fn sweep<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["sweep", "s", "--dataset", "fashion-mnist"];
        args.extend(extra);
        args
    }
    refused(
        &sweep(&["--models", "fmp-tiny,lenet6"]),
        &["lenet6", "fmp-tiny"],
    );
    refused(&sweep(&["--recipes", "graham"]), &["unknown recipe"]);
    refused(
        &sweep(&["--models", "fmp-tiny", "--regions", "random-overlaping"]),
        &["random-overlapping"],
    );
    refused(
        &sweep(&[
            "--models",
            "lenet5-modern",
            "--regions",
            "random-overlapping",
        ]),
        &["no fractional max-pooling", "drop --regions"],
    );
    refused(
        &sweep(&["--recipes", "graham-mnist", "--lrs", "0.01"]),
        &["drop --lr"],
    );
    refused(
        &sweep(&["--models", "fmp-tiny", "--seeds", "1001"]),
        &["--yes"],
    );
    refused(&sweep(&[]), &["--models"]);
    refused(
        &[
            "sweep",
            "../up",
            "--models",
            "fmp-tiny",
            "--dataset",
            "mnist",
        ],
        &["not a plain file name"],
    );
}

#[test]
fn the_scripts_run_each_task_as_one_cnn_train_line() {
    let runs = tempfile::tempdir().unwrap();
    let args = [
        "sweep",
        "grid",
        "--models",
        "fmp-tiny",
        "--regions",
        "random-overlapping,pseudorandom-disjoint",
        "--lrs",
        "0.001,0.003",
        "--seeds",
        "2",
        "--dataset",
        "fashion-mnist",
        "--gpu",
        "--time",
        "1:00:00",
    ];
    let out = cnn(&args, runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = runs.path().join("grid");
    let sbatch = fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-7",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --time=1:00:00",
        "#SBATCH --requeue",
    ] {
        assert!(sbatch.contains(line), "{line:?} not in\n{sbatch}");
    }
    let tasks: Vec<&str> = sbatch.lines().filter(|l| l.contains(" train ")).collect();
    assert_eq!(tasks.len(), 8, "{sbatch}");
    let last = tasks[7];
    for part in [
        "7) exec \"$cnn\" train fmp-tiny --regions pseudorandom-disjoint --lr 0.003 --seed 1",
        "--device cuda",
        "--continue --test",
        "pseudorandom-disjoint-lr0.003-seed1",
    ] {
        assert!(last.contains(part), "{part:?} not in {last}");
    }
    let shell = fs::read_to_string(dir.join("run-all.sh")).unwrap();
    assert_eq!(shell.lines().filter(|l| l.contains(" train ")).count(), 8);
    // The same sweep again is fine (a resubmission); another grid under its name is not.
    assert!(cnn(&args, runs.path()).status.success());
    let mut other = args.to_vec();
    other[9] = "3";
    let out = cnn(&other, runs.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("other tasks"), "{}", stderr(&out));
}

/// A finished, tested run of fmp-tiny on synthetic digits in `dir`: the run named as the
/// folder, in its parent as the runs folder.
fn train_tested(dir: &Path, extra: &[&str]) {
    let name = dir.file_name().unwrap().to_str().unwrap();
    let mut args = vec![
        "train",
        "fmp-tiny",
        "--run-name",
        name,
        "--test",
        "--continue",
    ];
    args.extend(QUICK_DATA);
    args.extend(extra);
    let out = cnn(&args, dir.parent().unwrap());
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn continue_picks_a_run_up_and_refuses_another_runs_folder() {
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("r");
    train_tested(&run, &["--epochs", "1"]);
    assert!(run.join("test.json").exists());
    train_tested(&run, &["--epochs", "2"]);
    let history = fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");
    let test = fs::read_to_string(run.join("test.json")).unwrap();
    assert!(test.contains("\"epochs\": 2"), "tested at 2 epochs: {test}");
    let out = cnn(
        &[
            "train",
            "fmp-tiny",
            "--run-name",
            "r",
            "--continue",
            "--seed",
            "5",
            "--dataset",
            "synthetic-mnist",
            "--quick",
        ],
        runs.path(),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("other settings"), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(run.join("history.csv")).unwrap(),
        history,
        "the other run's history was touched"
    );
}

#[test]
fn the_report_lists_finished_unfinished_and_corrupt_runs() {
    let runs = tempfile::tempdir().unwrap();
    let sweep = runs.path().join("sweep");
    for seed in ["0", "1"] {
        train_tested(
            &sweep.join(format!("seed{seed}")),
            &["--epochs", "1", "--seed", seed, "--validation", "200"],
        );
    }
    // An unfinished run: one of three epochs done.
    let unfinished = sweep.join("more/unfinished");
    fs::create_dir_all(&unfinished).unwrap();
    for file in ["config.json", "history.csv"] {
        fs::copy(sweep.join("seed0").join(file), unfinished.join(file)).unwrap();
    }
    let config = fs::read_to_string(unfinished.join("config.json")).unwrap();
    let config = config.replace("\"epochs\": 1", "\"epochs\": 3");
    fs::write(unfinished.join("config.json"), config).unwrap();
    // A corrupt one: its history is not a history.
    let corrupt = sweep.join("corrupt");
    fs::create_dir_all(&corrupt).unwrap();
    fs::copy(sweep.join("seed0/config.json"), corrupt.join("config.json")).unwrap();
    fs::write(corrupt.join("history.csv"), "not,a\nhistory").unwrap();

    let out = cnn(&["report", sweep.to_str().unwrap()], runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for row in [
        "| seed0 | finished | 0 | 1 |",
        "| seed1 | finished | 1 | 1 |",
        "| more/unfinished | unfinished (1 of 3 epochs) |",
        "| corrupt | corrupt: history.csv cannot be read",
        "2 run(s) unfinished or corrupt",
    ] {
        assert!(text.contains(row), "{row:?} not in\n{text}");
    }
    let settings = fs::read_to_string(sweep.join("report/settings.csv")).unwrap();
    assert_eq!(settings.lines().count(), 2, "one setting: {settings}");
    assert!(
        settings.contains("fmp-tiny,") && settings.contains(",2,"),
        "{settings}"
    );
    for file in ["report.md", "report/runs.csv", "report/accuracy.png"] {
        assert!(sweep.join(file).exists(), "{file} missing");
    }

    let empty = tempfile::tempdir().unwrap();
    let out = cnn(&["report", empty.path().to_str().unwrap()], runs.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no runs under"), "{}", stderr(&out));
}

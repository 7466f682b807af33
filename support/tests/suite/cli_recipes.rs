//! `cnn train --recipe` and `cnn recipes` through the binary: contradictions refused
//! before anything is loaded or written, and every MNIST recipe run end to end in quick
//! mode on the real Fashion-MNIST.

use crate::cli_util::{cnn, stderr};
use std::path::Path;

const FASHION: &str = "/usr/share/datasets/fashion-mnist";

fn refused(args: &[&str], wanted: &[&str]) {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(args, runs.path());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} ran");
    for w in wanted {
        assert!(msg.contains(w), "{args:?}: {w:?} not in {msg}");
    }
    assert_eq!(
        std::fs::read_dir(runs.path()).unwrap().count(),
        0,
        "{args:?} wrote a run"
    );
}

fn fashion_installed() -> bool {
    let present = support::data::Source::FashionMnist.present_in(Path::new(FASHION));
    if !present {
        eprintln!("SKIPPED: {FASHION} is absent; install Debian's dataset-fashion-mnist");
    }
    present
}

#[test]
fn contradicting_flags_say_which_to_drop() {
    refused(
        &["train", "--recipe", "lecun-1998", "fmp-mnist"],
        &["drop the model argument"],
    );
    refused(
        &["train", "--recipe", "graham-mnist", "--lr", "0.1"],
        &["schedule", "drop --lr"],
    );
    refused(
        &["train", "--recipe", "course-502", "--augment"],
        &["drop --augment"],
    );
    refused(
        &[
            "train",
            "--recipe",
            "graham-cifar10",
            "--dataset",
            "fashion-mnist",
        ],
        &["for cifar10 data", "--dataset cifar10"],
    );
    // Said before any loading: CIFAR-10 is not on this machine.
    refused(
        &["reproduce", "lecun-1998", "--dataset", "cifar10"],
        &["for mnist data", "--dataset mnist"],
    );
    refused(
        &["train", "--recipe", "graham"],
        &["unknown recipe", "graham-mnist, graham-mnist-random"],
    );
    refused(&["train"], &["name a model", "--recipe"]);
    refused(
        &[
            "train",
            "--recipe",
            "lecun-1998-sdlm",
            "--weight-decay",
            "0.1",
        ],
        &["SDLM", "drop --weight-decay"],
    );
    // Without a recipe, said after the (synthetic) data is made, before any run is written.
    refused(
        &[
            "train",
            "lenet5-modern",
            "--dataset",
            "synthetic-mnist",
            "--quick",
            "--weight-decay=-1",
        ],
        &["the weight decay is -1", "5e-4"],
    );
}

#[test]
fn a_recipe_trains_with_an_overridden_weight_decay_under_its_own_name() {
    let runs = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--recipe",
        "lecun-1998",
        "--dataset",
        "synthetic-mnist",
        "--quick",
        "--weight-decay",
        "0",
    ];
    let out = cnn(&args, runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let run: Vec<_> = std::fs::read_dir(runs.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(run.len(), 1);
    let name = run[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("lecun-1998-wd0-synthetic-mnist-"),
        "{name}"
    );
    let record = support::train::read_record(run[0].to_str().unwrap()).unwrap();
    assert_eq!(record.config.weight_decay, 0.0);
    assert_eq!(record.config.optimizer, support::train::Optimizer::AdamW);
}

#[test]
fn cnn_recipes_lists_every_recipe_with_its_source() {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(&["recipes"], runs.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for recipe in support::recipes::all() {
        let name = &recipe.name;
        assert!(
            text.contains(&format!("{name} (")),
            "{name} missing:\n{text}"
        );
    }
    assert!(
        text.contains("published: 0.44 %, 0.34 % with 12 passes"),
        "{text}"
    );
}

#[test]
fn every_mnist_recipe_trains_in_quick_mode_on_fashion_mnist() {
    if !fashion_installed() {
        return;
    }
    let runs = tempfile::tempdir().unwrap();
    for recipe in support::recipes::all() {
        if recipe.family != support::recipes::Family::Mnist {
            continue;
        }
        let name = recipe.name.as_str();
        let out = cnn(
            &[
                "train",
                "--recipe",
                name,
                "--dataset",
                "fashion-mnist",
                "--data-path",
                FASHION,
                "--quick",
                "--run-name",
                name,
            ],
            runs.path(),
        );
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{name}:\n{stdout}\n{stderr}");
        // Quick mode trains one epoch, with the recipe's own settings recorded.
        let record = support::train::read_record(runs.path().join(name).to_str().unwrap()).unwrap();
        assert_eq!(record.config.epochs, 1, "{name}");
        assert_eq!(record.config.optimizer, recipe.fit.optimizer, "{name}");
        assert_eq!(record.config.schedule, recipe.fit.schedule, "{name}");
        assert_eq!(record.config.augment, recipe.fit.augment, "{name}");
        assert_eq!(record.model.as_ref(), Some(&recipe.model), "{name}");
        let history =
            support::train::read_history(runs.path().join(name).to_str().unwrap()).unwrap();
        assert_eq!(history.len(), 1, "{name}");
    }
}

#[test]
fn reproduce_tests_each_seed_once_and_writes_one_table_beside_the_paper() {
    if !fashion_installed() {
        return;
    }
    let runs = tempfile::tempdir().unwrap();
    let args = [
        "reproduce",
        "lecun-1998",
        "--seeds",
        "2",
        "--dataset",
        "fashion-mnist",
        "--data-path",
        FASHION,
        "--quick",
        "--epochs",
        "1",
        "--compress",
    ];
    let first = cnn(&args, runs.path());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Quick and compressed runs say so in their names, never passing for the recipe.
    let page = runs
        .path()
        .join("reproduce-lecun-1998-compressed1-quick-fashion-mnist");
    let summary = std::fs::read_to_string(page.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(
        rows.len(),
        2,
        "one row for the one pass of a deterministic net:\n{summary}"
    );
    assert!(
        rows[0].starts_with("evaluation,seeds,mean_error_pct"),
        "{summary}"
    );
    assert!(
        rows[1].starts_with("1 pass,2,") && rows[1].ends_with(",0.95"),
        "{summary}"
    );
    assert!(page.join("errors.png").exists() && page.with_extension("md").exists());
    // Run again: both seeds are finished and tested, so nothing is trained or tested anew.
    let seed0 = runs
        .path()
        .join("lecun-1998-compressed1-quick-fashion-mnist-seed0");
    let tested = std::fs::metadata(seed0.join("test.json"))
        .unwrap()
        .modified()
        .unwrap();
    let again = cnn(&args, runs.path());
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success() && text.contains("already has 1 of 1 epochs"),
        "{text}"
    );
    let retested = std::fs::metadata(seed0.join("test.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(tested, retested, "seed 0 was tested a second time");
    assert_eq!(
        std::fs::read_to_string(page.join("summary.csv")).unwrap(),
        summary
    );
}

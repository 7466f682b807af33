//! A notebook's `fit` run again on its run name replaces the run, and says so in the
//! cell's output; nothing of the old run (its test included) is left to pass for the new.
//!
//! The output is checked in a child process of this binary, where the test's stdout can
//! be read (inside the test harness it is captured).

use crate::train_util::{Tiny, child_test, config, dataset};
use support::train::{fit, read_history};

/// A run's test record, by its name on disk.
const TEST_FILE: &str = "test.json";
use tch::{Device, nn};

const CHILD_ENV: &str = "CNN_REPLACE_TEST_CHILD_DIR";

#[test]
#[ignore = "the child half of fit_again_on_a_run_name_replaces_the_run_and_says_so"]
fn child_fits_one_run_name_twice() {
    let dir = std::env::var(CHILD_ENV).expect("started by the parent test");
    let data = dataset(60, None, 20);
    for epochs in [2, 1] {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = Tiny::standard(&vs.root());
        fit(&model, &vs, &data, &config(dir.as_ref(), epochs)).unwrap();
    }
}

#[test]
fn fit_again_on_a_run_name_replaces_the_run_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let output = child_test(module_path!(), "child_fits_one_run_name_twice")
        .env(CHILD_ENV, tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = tmp.path().join("run");
    let said = format!(
        "replacing run {}: 2 epochs (a model of its own on synthetic-bands)",
        run.display()
    );
    assert_eq!(stdout.matches("replacing run").count(), 1, "{stdout}");
    assert!(stdout.contains(&said), "expected {said:?}:\n{stdout}");
    let records = read_history(&run.to_string_lossy()).unwrap();
    assert_eq!(records.len(), 1, "the second run's one epoch");
}

#[test]
fn fit_on_a_run_name_removes_the_old_runs_test() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(60, None, 20);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let first = fit(&model, &vs, &data, &config(tmp.path(), 1)).unwrap();
    std::fs::write(first.run_dir.join(TEST_FILE), "{}").unwrap();
    let second = fit(&model, &vs, &data, &config(tmp.path(), 1)).unwrap();
    assert!(
        !second.run_dir.join(TEST_FILE).exists(),
        "the replaced run's test would pass for the new run's"
    );
}

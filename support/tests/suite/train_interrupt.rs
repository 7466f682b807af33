//! Ctrl-C (SIGINT) during training keeps the last complete epoch.
//!
//! The test re-runs its own binary as a child that trains for many epochs; once the
//! child has written a history row, the parent sends it SIGINT, as Jupyter's interrupt
//! button does to the kernel, and then reads what the child left.

use crate::train_util::{Tiny, child_test, dataset};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::train::{FitConfig, LrSchedule, fit, load_checkpoint, read_history};
use tch::{Device, nn};

const CHILD_ENV: &str = "CNN_TRAIN_TEST_CHILD_RUN";
const EPOCHS: usize = 100_000;

#[test]
#[ignore = "the child half of a_run_interrupted_mid_epoch_keeps_its_last_complete_epoch"]
fn child_trains_until_interrupted() {
    let run = std::env::var(CHILD_ENV).expect("started by the parent test");
    let data = dataset(4000, None, 20);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let cfg = FitConfig {
        epochs: EPOCHS,
        batch_size: 8,
        schedule: LrSchedule::Constant(0.001),
        run: Some(run),
        progress: false,
        ..FitConfig::default()
    };
    let history = fit(&model, &vs, &data, &cfg).unwrap();
    println!("outcome: {:?}", history.outcome);
}

#[test]
fn a_run_interrupted_mid_epoch_keeps_its_last_complete_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("interrupted");
    let child = child_test(module_path!(), "child_trains_until_interrupted")
        .env(CHILD_ENV, &run)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let history = run.join("history.csv");
    while !history.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(history.exists(), "the child wrote no epoch within a minute");
    // SAFETY: sends SIGINT to our own child process by its id.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("outcome: Interrupted"),
        "child output: {stdout}"
    );

    let records = read_history(&run.to_string_lossy()).unwrap();
    assert!(!records.is_empty() && records.len() < EPOCHS);
    let epochs: Vec<i64> = records.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, (1..=records.len() as i64).collect::<Vec<_>>());
    let mut vs = nn::VarStore::new(Device::Cpu);
    let _model = Tiny::standard(&vs.root());
    load_checkpoint(&mut vs, &run).unwrap();
}

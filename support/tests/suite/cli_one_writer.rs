//! One writer per run folder, through the binary: a second training of a run in progress
//! stops at once and names the first, which finishes intact; a trainer killed with
//! SIGKILL leaves no stale lock; `cnn train` changes a run folder that holds a run only
//! with `--continue` or `--replace`.

use crate::cli_util::{cnn, spawn_cnn, stderr};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};
use support::train::read_history;

/// The files of a run folder this test looks at, by their names on disk.
const HISTORY: &str = "history.csv";
const HOLDER_FILE: &str = ".lock-holder";
const TEST_FILE: &str = "test.json";

/// Epochs of the first training in the two-at-once tests: enough that it still runs
/// when the second, started once the first holds the lock, has loaded its data.
const LONG: &str = "5";

/// `cnn train fmp-tiny` on quick synthetic digits into the run folder `run`.
fn train<'a>(run: &'a str, epochs: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "fmp-tiny",
        "--dataset",
        "synthetic-mnist",
        "--quick",
        "--device",
        "cpu",
        "--epochs",
        epochs,
        "--run-name",
        run,
    ];
    args.extend(extra);
    args
}

/// A `cnn` in the background, killed if the test ends before it does.
struct Background(Option<Child>);

impl Background {
    fn start(args: &[&str], runs: &Path) -> Background {
        Background(Some(spawn_cnn(args, runs)))
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("still running")
    }

    fn finish(mut self) -> Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no {what} within 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The complete epochs the run's history lists.
fn epochs_in(run: &Path) -> usize {
    read_history(&run.to_string_lossy()).map_or(0, |rows| rows.len())
}

/// Every file in the run folder, with its bytes.
fn snapshot(run: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(run)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).unwrap())
        })
        .collect()
}

fn event_files(run: &Path) -> usize {
    fs::read_dir(run)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("events.out.tfevents.")
        })
        .count()
}

/// Starts `cnn train ... extra` twice on one run, the second once the first holds the
/// run; checks that the second stops at once naming the first, and that the first
/// finishes a whole run. Returns the run folder's parent and the run.
fn two_at_once(extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("same");
    let r = "same"; // the run name; its folder is `run`
    let mut first = Background::start(&train(r, LONG, extra), runs.path());
    wait_until("lock record from the first", || {
        run.join(HOLDER_FILE).exists()
    });
    let second = cnn(&train(r, LONG, extra), runs.path());
    assert!(
        first.child().try_wait().unwrap().is_none(),
        "the first finished before the second tried the run; raise LONG"
    );
    let msg = stderr(&second);
    assert!(!second.status.success(), "the second ran too:\n{msg}");
    let pid = first.child().id();
    for part in [
        format!(
            "the run {} is being trained by process {pid} on host ",
            run.display()
        ),
        "choose another run name".to_string(),
    ] {
        assert!(msg.contains(&part), "{part:?} not in {msg}");
    }
    let out = first.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    assert!(stdout.contains("run saved in"), "{stdout}");
    let epochs: Vec<i64> = read_history(&run.to_string_lossy())
        .unwrap()
        .iter()
        .map(|e| e.epoch)
        .collect();
    let long: i64 = LONG.parse().unwrap();
    assert_eq!(epochs, (1..=long).collect::<Vec<_>>());
    assert_eq!(event_files(&run), 1, "one writer's TensorBoard events");
    assert!(
        !run.join(HOLDER_FILE).exists(),
        "the lock record outlived its run"
    );
    (runs, run)
}

#[test]
fn a_second_training_of_a_run_in_progress_stops_at_once_and_the_first_finishes() {
    two_at_once(&[]);
}

#[test]
fn a_sweep_task_started_twice_fails_in_its_second_copy_and_the_first_finishes_tested() {
    let (_runs, run) = two_at_once(&["--continue", "--test"]);
    let test = fs::read_to_string(run.join(TEST_FILE)).unwrap();
    assert!(test.contains(&format!("\"epochs\": {LONG}")), "{test}");
}

#[test]
fn a_trainer_killed_with_sigkill_leaves_no_stale_lock_and_its_run_resumes() {
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("killed");
    let r = "killed"; // the run name; its folder is `run`
    let mut trainer = Background::start(&train(r, "1000", &[]), runs.path());
    wait_until("epoch saved", || epochs_in(&run) >= 1);
    trainer.child().kill().unwrap(); // SIGKILL: no handler, no cleanup runs
    trainer.child().wait().unwrap();
    assert!(
        run.join(HOLDER_FILE).exists(),
        "the killed trainer's lock record should be left behind, stale"
    );
    let done = epochs_in(&run);
    let target = (done + 1).to_string();
    let out = cnn(
        &["resume", r, "--epochs", &target, "--device", "cpu"],
        runs.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    assert!(
        stdout.contains(&format!("after epoch {done}")),
        "did not resume: {stdout}"
    );
    assert_eq!(epochs_in(&run), done + 1);
}

#[test]
fn train_on_a_run_name_that_holds_a_run_is_refused_and_changes_nothing() {
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("kept");
    let r = "kept"; // the run name; its folder is `run`
    let out = cnn(&train(r, "2", &[]), runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    for (planned, held) in [("2", "2 epochs"), ("3", "2 of 3 epochs")] {
        // An unfinished run: its config asks for more epochs than its history lists.
        let config = fs::read_to_string(run.join("config.json")).unwrap();
        let config = config.replace("\"epochs\": 2", &format!("\"epochs\": {planned}"));
        fs::write(run.join("config.json"), config).unwrap();
        let before = snapshot(&run);
        let out = cnn(&train(r, "1", &[]), runs.path());
        let msg = stderr(&out);
        assert!(!out.status.success(), "it trained:\n{msg}");
        for part in [
            format!(
                "{} holds a run of {held} (fmp-tiny on synthetic-mnist)",
                run.display()
            ),
            "--continue".into(),
            "--replace".into(),
        ] {
            assert!(msg.contains(&part), "{part:?} not in {msg}");
        }
        assert!(snapshot(&run) == before, "the refused train changed {r}");
    }
}

#[test]
fn train_with_replace_trains_the_run_afresh_and_says_so() {
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("replaced");
    let r = "replaced"; // the run name; its folder is `run`
    let out = cnn(&train(r, "2", &["--test"]), runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cnn(&train(r, "1", &["--replace", "--test"]), runs.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let said = format!("replacing run {r}: 2 epochs (fmp-tiny on synthetic-mnist)");
    assert!(stdout.contains(&said), "expected {said:?}:\n{stdout}");
    assert_eq!(epochs_in(&run), 1);
    assert_eq!(event_files(&run), 1, "the old run's events are gone");
    let test = fs::read_to_string(run.join(TEST_FILE)).unwrap();
    assert!(test.contains("\"epochs\": 1"), "the new run's test: {test}");
    assert!(run.join(HISTORY).is_file());
}

#[test]
fn replace_with_continue_is_refused_before_anything_is_written() {
    let runs = tempfile::tempdir().unwrap();
    let out = cnn(
        &train("both", "1", &["--replace", "--continue"]),
        runs.path(),
    );
    let msg = stderr(&out);
    assert!(!out.status.success(), "it trained:\n{msg}");
    assert!(
        msg.contains("--replace") && msg.contains("--continue") && msg.contains("cannot be used"),
        "{msg}"
    );
    assert_eq!(fs::read_dir(runs.path()).unwrap().count(), 0, "it wrote");
}

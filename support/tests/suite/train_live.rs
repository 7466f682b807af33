//! In a notebook, `fit` draws the training curves as they grow: behind the kernel's relay
//! it prints a figure line per drawing (the format is in support/src/train/live.rs, and
//! scripts/iopub_relay.py reads it), and an end line when it returns; anywhere else it
//! prints none.
//!
//! The lines are read from a child process of this binary: whether the relay is there is
//! an environment variable, which is process-wide, and the child's stdout is not captured.

use crate::plot_figures::check_renders;
use crate::train_util::{Tiny, child_test, config, dataset};
use base64::Engine;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::plot::training_curves;
use support::train::history::to_frame;
use support::train::{FitConfig, LrSchedule, Optimizer, fit, read_history};
use tch::{Device, Kind, Tensor, nn};

const CHILD_DIR: &str = "CNN_LIVE_TEST_CHILD_DIR";
const CHILD_MODE: &str = "CNN_LIVE_TEST_CHILD_MODE";
/// The start of a figure line, the contract between the crate and the relay.
const MARKER: &str = "\x1b_cnn-figure ";
/// 1,700 images in batches of 4: 425 batches, so the first epoch draws at batches 1, 200
/// and 400, and every epoch at its end.
const TRAIN: usize = 1700;
const BATCH: usize = 4;
const EPOCHS: usize = 2;

#[test]
#[ignore = "the child half of the train_live tests"]
fn child_trains_with_progress() {
    let dir = std::path::PathBuf::from(std::env::var(CHILD_DIR).expect("started by a parent test"));
    let mode = std::env::var(CHILD_MODE).expect("started by a parent test");
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let cfg = FitConfig {
        batch_size: BATCH,
        progress: mode != "quiet",
        ..config(&dir, EPOCHS)
    };
    match mode.as_str() {
        "diverge" => {
            // As in train_fit: labels no weights fit, and huge steps.
            let mut data = dataset(200, None, 30);
            data.train.labels =
                (&data.train.labels + Tensor::arange(200, (Kind::Int64, Device::Cpu))).remainder(3);
            let cfg = FitConfig {
                optimizer: Optimizer::Sgd {
                    momentum: 0.9,
                    nesterov: true,
                },
                schedule: LrSchedule::Constant(1e6),
                ..cfg
            };
            let err = fit(&model, &vs, &data, &cfg).unwrap_err();
            println!("fit returned: {err}");
        }
        "interrupt" => {
            let cfg = FitConfig {
                epochs: 100_000,
                ..cfg
            };
            let history = fit(&model, &vs, &dataset(400, None, 20), &cfg).unwrap();
            println!("outcome: {:?}", history.outcome);
        }
        _ => {
            fit(&model, &vs, &dataset(TRAIN, Some(60), 20), &cfg).unwrap();
        }
    }
}

/// What a child printed, and the folder its run is in.
struct Child {
    stdout: String,
    dir: tempfile::TempDir,
}

impl Child {
    /// Runs the child in `mode` (`fit`, `quiet`, `diverge`, or `interrupt`, which gets
    /// SIGINT once it has written an epoch), behind the relay or not.
    fn run(mode: &str, relay: bool) -> Child {
        let dir = tempfile::tempdir().unwrap();
        let mut command = child_test(module_path!(), "child_trains_with_progress");
        command
            .env(CHILD_DIR, dir.path())
            .env(CHILD_MODE, mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if relay {
            // What a cell sees in the project's kernel: evcxr's variable and the launcher's.
            command
                .env("EVCXR_IS_RUNTIME", "1")
                .env("CNN_KERNEL_REDRAW", "1");
        } else {
            command
                .env_remove("EVCXR_IS_RUNTIME")
                .env_remove("CNN_KERNEL_REDRAW");
        }
        let mut child = command.spawn().unwrap();
        // Read as it comes: a drawing is larger than a pipe holds.
        let mut pipe = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes)
        });
        if mode == "interrupt" {
            let history = dir.path().join("run").join("history.csv");
            let start = Instant::now();
            while !history.exists() && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(history.exists(), "the child wrote no epoch within a minute");
            // SAFETY: sends SIGINT to our own child process by its id.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        }
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&reader.join().unwrap().unwrap()).into_owned();
        assert!(
            output.status.success(),
            "child failed: {}\n{}",
            shorten(&stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Child { stdout, dir }
    }

    /// The figure lines, in order, as (verb, id, rest).
    fn figure_lines(&self) -> Vec<(String, String, String)> {
        self.stdout
            .lines()
            .filter_map(|line| line.strip_prefix(MARKER))
            .map(|line| {
                let mut fields = line.splitn(3, ' ').map(str::to_string);
                let mut next = || fields.next().unwrap_or_default();
                (next(), next(), next())
            })
            .collect()
    }

    /// The drawings' PNG files, in order.
    fn drawings(&self) -> Vec<Vec<u8>> {
        self.figure_lines()
            .into_iter()
            .filter(|(verb, _, _)| verb == "show")
            .map(|(_, _, png)| {
                base64::engine::general_purpose::STANDARD
                    .decode(png)
                    .expect("a drawing is base64")
            })
            .collect()
    }
}

/// The output without the drawings' base64, short enough for a failure message.
fn shorten(stdout: &str) -> String {
    stdout
        .lines()
        .map(|line| line.chars().take(120).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn behind_the_relay_fit_draws_every_200_batches_of_its_first_epoch_and_after_each_epoch() {
    let child = Child::run("fit", true);
    let lines = child.figure_lines();
    let shows = lines.iter().filter(|(verb, _, _)| verb == "show").count();
    assert_eq!(
        shows,
        3 + EPOCHS,
        "batches 1, 200 and 400 of the first epoch, then each epoch:\n{}",
        shorten(&child.stdout)
    );
    assert!(
        lines.iter().all(|(_, id, _)| *id == lines[0].1),
        "one figure, one id: {:?}",
        lines.iter().map(|(v, id, _)| (v, id)).collect::<Vec<_>>()
    );
}

#[test]
fn every_live_drawing_is_a_png() {
    let drawings = Child::run("fit", true).drawings();
    assert!(!drawings.is_empty(), "no drawing");
    for png in drawings {
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "a drawing does not start with the PNG signature"
        );
    }
}

#[test]
fn the_last_live_drawing_is_the_training_curves_figure_of_the_history() {
    let child = Child::run("fit", true);
    let run = child.dir.path().join("run");
    let records = read_history(&run.to_string_lossy()).unwrap();
    let figure = training_curves(&[("run", &to_frame(&records))]).unwrap();
    let last = child.drawings().pop().expect("a drawing");
    assert!(
        last == figure.to_png().unwrap(),
        "the drawing after the last epoch differs from the notebook's figure of the history"
    );
}

#[test]
fn the_live_figure_ends_when_fit_returns() {
    let child = Child::run("fit", true);
    let lines = child.figure_lines();
    let ends: Vec<_> = lines.iter().filter(|(verb, _, _)| verb == "end").collect();
    assert_eq!(ends.len(), 1, "{}", shorten(&child.stdout));
    assert_eq!(lines.last(), Some(ends[0]), "the end line comes last");
    assert_eq!(ends[0].1, lines[0].1, "it ends the figure that was drawn");
}

/// A fit that stops early (`mode`), saying `said`, still ends the figure it drew.
fn ends_its_live_figure(mode: &str, said: &str) {
    let child = Child::run(mode, true);
    assert!(child.stdout.contains(said), "{}", shorten(&child.stdout));
    let lines = child.figure_lines();
    assert!(lines.len() >= 2, "{}", shorten(&child.stdout));
    assert_eq!(lines.last().map(|(verb, _, _)| verb.as_str()), Some("end"));
}

#[test]
fn a_diverging_fit_ends_its_live_figure() {
    ends_its_live_figure("diverge", "diverged");
}

#[test]
fn an_interrupted_fit_ends_its_live_figure() {
    ends_its_live_figure("interrupt", "outcome: Interrupted");
}

#[test]
fn without_the_relay_fit_prints_no_figure_line() {
    let child = Child::run("fit", false);
    assert!(
        child.stdout.contains("epoch 2/2"),
        "the progress lines are printed: {}",
        shorten(&child.stdout)
    );
    assert!(
        !child.stdout.contains("cnn-figure"),
        "{}",
        shorten(&child.stdout)
    );
}

#[test]
fn with_progress_off_fit_prints_no_figure_line_even_behind_the_relay() {
    let child = Child::run("quiet", true);
    assert!(
        !child.stdout.contains("cnn-figure"),
        "{}",
        shorten(&child.stdout)
    );
}

/// A first-epoch drawing: the means after these batches of 425, at fractional epochs.
fn first_epoch(batches: &[f64]) -> polars::prelude::DataFrame {
    let n = batches.len();
    polars::df!(
        "epoch" => batches.iter().map(|b| b / 425.0).collect::<Vec<_>>(),
        "train_loss" => vec![0.8; n],
        "train_acc" => vec![0.6; n],
    )
    .unwrap()
}

#[test]
fn a_first_epoch_drawing_labels_its_epoch_axis_with_tidy_fractions() {
    let figure = training_curves(&[("run", &first_epoch(&[1.0, 200.0, 400.0]))]).unwrap();
    let texts = check_renders(&figure, &["0.3", "0.9"]);
    assert!(
        !texts.contains("00000"),
        "an epoch tick shows the step's rounding:\n{texts}"
    );
}

#[test]
fn the_drawing_after_the_first_batch_shows_no_negative_epoch() {
    let figure = training_curves(&[("run", &first_epoch(&[1.0]))]).unwrap();
    let texts = check_renders(&figure, &["epoch"]);
    assert!(
        !texts.lines().any(|t| t.starts_with('-')),
        "the lone first point's axis reaches below epoch 0:\n{texts}"
    );
}

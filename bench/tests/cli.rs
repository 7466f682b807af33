//! `cnn-bench` as a developer runs it: bad options refused with the way out, CUDA skipped
//! aloud where there is none, and the crate's side measuring and printing its JSON line.
//! (The table and the JSON document are unit tests of the binary, with fake measurements;
//! a full comparison takes too long for a test.)

use std::path::Path;
use std::process::{Command, Output};

const FASHION: &str = "/usr/share/datasets/fashion-mnist";

/// `cnn-bench args...`, with any runs it makes under `runs`.
fn bench(args: &[&str], runs: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cnn-bench"))
        .args(args)
        .env("CNN_RUNS_DIR", runs)
        .output()
        .expect("cannot start the cnn-bench binary")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bench_refuses_bad_options_saying_what_to_use() {
    let runs = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (&["--repeats", "0"][..], "--repeats must be at least 1"),
        (&["--device", "mps"], "cpu or cuda"),
        (&["--model", "lenet5-classic"], "lenet5-modern, fmp-mnist"),
        (&["--batch", "16"], "--batch goes with --profile or --model"),
        (
            &["--course", "--device", "cuda"],
            "drop --course or --device cuda",
        ),
        (&["--course", "--model", "fmp-mnist"], "cannot be used with"),
        (
            &["--data-path", "/nonexistent"],
            "no Fashion-MNIST in /nonexistent",
        ),
    ] {
        let out = bench(args, runs.path());
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn bench_on_cuda_without_a_gpu_says_it_skipped() {
    if tch::Cuda::is_available() {
        eprintln!("SKIPPED: this machine has a CUDA GPU, so cnn-bench --device cuda would run");
        return;
    }
    let runs = tempfile::tempdir().unwrap();
    let out = bench(&["--device", "cuda"], runs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("skipped CUDA"));
}

#[test]
fn the_crates_side_trains_evaluates_and_prints_one_json_line() {
    if !Path::new(FASHION)
        .join("train-images-idx3-ubyte.gz")
        .exists()
    {
        eprintln!("SKIPPED: {FASHION} is absent (Debian package dataset-fashion-mnist)");
        return;
    }
    let runs = tempfile::tempdir().unwrap();
    let out = bench(
        &[
            "side",
            "--model",
            "fmp-mnist",
            "--regions",
            "native",
            "--batch",
            "16",
            "--seconds",
            "1",
            "--test-images",
            "50",
            "--passes",
            "2",
            "--data-path",
            FASHION,
        ],
        runs.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    for key in [
        "images_per_s",
        "eval_images_per_s",
        "peak_rss_mb",
        "warmup_s",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {stdout}");
    }
    assert!(
        v["test_acc"]
            .as_f64()
            .is_some_and(|a| (0.0..=1.0).contains(&a))
    );
    assert_eq!(v["eval_batch"], 64);
}

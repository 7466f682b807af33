//! `cnn bench`: training speed on Fashion-MNIST against PyTorch peers run in the same
//! invocation, at the same CPU thread count, reported as ratios.
//!
//! Peers (in `bench/`, run with `<repo>/.venv/bin/python`): `pytorch_idiomatic.py`
//! (in-memory tensors, same model, batch and optimizer) and `pytorch_course.py` (the
//! course's pipeline: per-sample transforms, a DataLoader with workers, batch 32).

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::data::{self, Augment, BatchOpts, Dataset, Examples, LoadOpts};
use support::models::{self, FmpConfig};
use support::train::{EvalOpts, Optimizer, checkpoint::repo_root, evaluate};
use tch::{Device, nn};

/// `cnn bench`'s options.
#[derive(Args)]
pub struct BenchArgs {
    /// Time-boxed runs (a few seconds each) instead of full epochs: under 5 minutes.
    #[arg(long)]
    pub quick: bool,
    /// The Fashion-MNIST folder (IDX .gz files).
    #[arg(long, default_value = "/usr/share/datasets/fashion-mnist")]
    pub data_path: PathBuf,
    /// The Python with torch for the peers (default: <repo>/.venv/bin/python).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Instead of the comparison, print where one fmp-mnist training step spends its time,
    /// per op kind, at batches 32, 64 and 128 (or `--batch`).
    #[arg(long)]
    pub profile: bool,
    /// With `--profile`: profile only this batch size.
    #[arg(long, requires = "profile")]
    pub batch: Option<i64>,
}

/// One measured training run.
struct Measure {
    label: String,
    images_per_s: f64,
    test_acc: f64,
    peak_rss_mb: f64,
}

/// Seconds per time-boxed run in quick mode, and test images scored.
const QUICK_SECONDS: f64 = 10.0;
const QUICK_TEST: i64 = 1000;

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn first_test(data: &Dataset, n: i64) -> Dataset {
    let n = n.min(data.test.len() as i64);
    Dataset {
        name: data.name.clone(),
        classes: data.classes.clone(),
        mean: data.mean.clone(),
        std: data.std.clone(),
        train: Examples {
            images: data.train.images.narrow(0, 0, 1),
            labels: data.train.labels.narrow(0, 0, 1),
        },
        validation: None,
        test: Examples {
            images: data.test.images.narrow(0, 0, n),
            labels: data.test.labels.narrow(0, 0, n),
        },
    }
}

/// Trains `model` with Adam 1e-3 for one epoch (or `seconds`), timing after 3 warm-up
/// steps, then scores the test set.
fn ours(model: &str, batch: usize, data: &Dataset, seconds: Option<f64>) -> Result<Measure> {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = models::build(model, &vs.root(), 1, 10)?;
    let mut opt = Optimizer::Adam.build_for(&vs, 1e-3)?;
    let opts = BatchOpts {
        shuffle_seed: Some(0),
        pad_to: Some(net.input_shape().1),
        ..BatchOpts::new(data, batch, Device::Cpu)
    };
    let (mut images, mut start) = (0usize, None);
    for (i, (x, y)) in data.train.batches(&opts).enumerate() {
        let loss = net.loss(&net.forward_t(&x, true), &y);
        opt.backward_step(&loss);
        if i < 3 {
            start = Some(Instant::now());
            continue;
        }
        images += y.size()[0] as usize;
        if seconds.is_some_and(|s| start.is_some_and(|t| t.elapsed().as_secs_f64() > s)) {
            break;
        }
    }
    let elapsed = start.map_or(f64::NAN, |t| t.elapsed().as_secs_f64());
    let test = first_test(
        data,
        if seconds.is_some() {
            QUICK_TEST
        } else {
            10_000
        },
    );
    let eval = evaluate(net.as_ref(), &test, &EvalOpts::new(Device::Cpu))?;
    Ok(Measure {
        label: format!("{model} (batch {batch}, this crate)"),
        images_per_s: images as f64 / elapsed,
        test_acc: eval.accuracy,
        peak_rss_mb: peak_rss_mb(),
    })
}

/// Runs a peer script and reads its JSON line.
fn peer(
    python: &Path,
    script: &Path,
    model: &str,
    batch: usize,
    args: &BenchArgs,
    threads: i32,
) -> Result<Measure> {
    let sizes = FmpConfig::mnist_paper().sizes()?;
    let pooled: Vec<String> = sizes.pooled.iter().map(i64::to_string).collect();
    let seconds = if args.quick { QUICK_SECONDS } else { 0.0 };
    let limit = if args.quick { QUICK_TEST } else { 10_000 };
    // The peers run with OpenMP's default wait policy, as a PyTorch user gets it; `cnn`
    // itself restarts with PASSIVE (see main.rs), which measured a few % slower for them.
    let out = Command::new(python)
        .env_remove("OMP_WAIT_POLICY")
        .arg(script)
        .args(["--model", model, "--batch-size", &batch.to_string()])
        .arg("--data")
        .arg(&args.data_path)
        .args([
            "--threads",
            &threads.to_string(),
            "--seconds",
            &seconds.to_string(),
        ])
        .args(["--test-limit", &limit.to_string()])
        .args([
            "--fmp-input",
            &sizes.input.to_string(),
            "--fmp-pooled",
            &pooled.join(","),
        ])
        .current_dir(script.parent().unwrap_or(Path::new(".")))
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let line = stdout.lines().last().unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(line)
        .with_context(|| format!("{} printed no JSON result: {line}", script.display()))?;
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    Ok(Measure {
        label: format!(
            "{model} (batch {batch}, {})",
            v["peer"].as_str().unwrap_or("peer")
        ),
        images_per_s: num("images_per_s"),
        test_acc: num("test_acc"),
        peak_rss_mb: num("peak_rss_mb") + num("workers_peak_rss_mb"),
    })
}

/// Seconds for one epoch of input batches alone (batch 64, rotation on, no model).
fn pipeline_epoch_seconds(data: &Dataset, quick: bool) -> f64 {
    let opts = BatchOpts {
        shuffle_seed: Some(0),
        augment: Augment {
            rotation_degrees: 10.0,
            ..Augment::none()
        },
        ..BatchOpts::new(data, 64, Device::Cpu)
    };
    let batches = data.train.batches(&opts);
    let total = batches.num_batches();
    let limit = if quick { total.min(200) } else { total };
    let start = Instant::now();
    let done = batches.take(limit).count();
    start.elapsed().as_secs_f64() * total as f64 / done.max(1) as f64
}

fn print(m: &Measure) {
    println!(
        "{:<48} {:>8.0} images/s  test acc {:.4}  peak RSS {:.0} MiB",
        m.label, m.images_per_s, m.test_acc, m.peak_rss_mb
    );
}

pub fn run(args: BenchArgs) -> Result<()> {
    if args.profile {
        let batches = args.batch.map_or(vec![32, 64, 128], |b| vec![b]);
        return crate::profile::run(&batches);
    }
    let threads = support::device::device_by_name("cpu")?.threads;
    let root = repo_root(&std::env::current_dir()?)
        .context("run `cnn bench` inside the repository (it needs bench/ and .venv/)")?;
    let python = args
        .python
        .clone()
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    if !python.exists() {
        bail!(
            "no Python at {}; run `make setup` or pass --python",
            python.display()
        );
    }
    let idiomatic = root.join("bench/pytorch_idiomatic.py");
    let course = root.join("bench/pytorch_course.py");
    let data = data::load(
        "fashion-mnist",
        &LoadOpts {
            path: Some(args.data_path.clone()),
            download: false,
            quick: false,
            ..LoadOpts::default()
        },
    )?;
    let seconds = args.quick.then_some(QUICK_SECONDS);
    println!(
        "cnn bench on Fashion-MNIST, CPU, {threads} thread(s), Adam 1e-3, {}",
        if args.quick {
            "time-boxed runs (--quick)"
        } else {
            "one epoch each"
        }
    );
    let mut ratios = Vec::new();
    let lenet = ours("lenet5-modern", 64, &data, seconds)?;
    print(&lenet);
    for (script, batch, name) in [
        (&idiomatic, 64, "pytorch-idiomatic"),
        (&course, 32, "pytorch-course"),
    ] {
        let p = peer(&python, script, "lenet5-modern", batch, &args, threads)?;
        print(&p);
        ratios.push((
            "lenet5-modern".to_string(),
            name,
            lenet.images_per_s / p.images_per_s,
        ));
    }
    for batch in [32, 64] {
        let fmp = ours("fmp-mnist", batch, &data, seconds)?;
        print(&fmp);
        let label = format!("fmp-mnist-b{batch}");
        let p = peer(&python, &idiomatic, "fmp-mnist", batch, &args, threads)?;
        print(&p);
        ratios.push((
            label.clone(),
            "pytorch-idiomatic",
            fmp.images_per_s / p.images_per_s,
        ));
        if batch == 32 {
            let p = peer(&python, &course, "fmp-mnist", 32, &args, threads)?;
            print(&p);
            ratios.push((label, "pytorch-course", fmp.images_per_s / p.images_per_s));
        }
    }
    let pipeline = pipeline_epoch_seconds(&data, args.quick);
    let step = data.train.len() as f64 / lenet.images_per_s;
    println!(
        "input pipeline: {:.1} s per epoch of batches (64, rotation on) vs {:.1} s of LeNet \
         training steps: {:.1} % of the step time",
        pipeline,
        step,
        100.0 * pipeline / step
    );
    for (model, peer, r) in ratios {
        println!("ratio {model} vs {peer}: {r:.2}");
    }
    Ok(())
}

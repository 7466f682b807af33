//! `cnn bench`: training and evaluation speed on Fashion-MNIST against PyTorch peers run
//! in the same invocation, at the same CPU thread count, reported as ratios.
//!
//! Peers (in `bench/`, run with `<repo>/.venv/bin/python`): `pytorch_idiomatic.py`
//! (in-memory tensors, same model, batch and optimizer) and `pytorch_course.py` (the
//! course's pipeline: per-sample transforms, a DataLoader with workers, batch 32).
//! `--model` compares one model with the idiomatic peer; the CIFAR-10 FMP nets run there
//! on Fashion-MNIST padded to their 94x94 input, with a 1-channel first layer.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::data::{self, Augment, BatchOpts, Dataset, Examples, LoadOpts};
use support::models;
use support::train::{EvalOpts, Optimizer, evaluate};
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
    /// Instead of the comparison, print where one training step of an FMP net (fmp-mnist,
    /// or `--model`) spends its time, per op kind, at batches 32, 64 and 128 (or `--batch`).
    #[arg(long)]
    pub profile: bool,
    /// Compare only this model with the idiomatic peer: lenet5-modern, fmp-mnist,
    /// fmp-cifar10 or fmp-cifar10-large. The CIFAR-10 nets train for 60 s (one epoch takes
    /// hours on a CPU) and score 500 test images. With `--profile`: the FMP net to profile.
    #[arg(long)]
    pub model: Option<String>,
    /// The batch size: with `--profile` the only one profiled; with `--model` the one
    /// compared (default 32 for the FMP nets, as in the course, 64 for LeNet-5).
    #[arg(long)]
    pub batch: Option<i64>,
}

/// The models `--model` can compare: those the PyTorch peers build too.
const PEER_MODELS: [&str; 4] = [
    "lenet5-modern",
    "fmp-mnist",
    "fmp-cifar10",
    "fmp-cifar10-large",
];

/// One measured run: training, then scoring the test images.
struct Measure {
    label: String,
    images_per_s: f64,
    test_acc: f64,
    eval_images_per_s: f64,
    peak_rss_mb: f64,
}

/// How long each side trains (`None`: one epoch) and how many test images it scores.
#[derive(Clone, Copy)]
struct Budget {
    seconds: Option<f64>,
    test_images: i64,
}

/// Full epochs and the whole test set.
const FULL: Budget = Budget {
    seconds: None,
    test_images: 10_000,
};
/// `--quick`: a few seconds per run.
const QUICK: Budget = Budget {
    seconds: Some(10.0),
    test_images: 1000,
};
/// The CIFAR-10 nets, which take hours per epoch on a CPU, with and without `--quick`.
const CIFAR: Budget = Budget {
    seconds: Some(60.0),
    test_images: 500,
};
const CIFAR_QUICK: Budget = Budget {
    seconds: Some(10.0),
    test_images: 100,
};

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
        loaded: None,
    }
}

/// Trains `model` with Adam 1e-3 for one epoch (or the budget's seconds), timing after 3
/// warm-up steps, then scores the budget's test images.
fn ours(model: &str, batch: usize, data: &Dataset, budget: Budget) -> Result<Measure> {
    let seconds = budget.seconds;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = models::build(model, &vs.root(), 1, 10)?;
    let mut opt = Optimizer::Adam.build_for(&vs, 1e-3)?;
    let opts = BatchOpts {
        shuffle_seed: Some(0),
        ..net.batch_opts(data, batch, Device::Cpu)
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
    let test = first_test(data, budget.test_images);
    let start = Instant::now();
    let eval = evaluate(net.as_ref(), &test, &EvalOpts::new(Device::Cpu))?;
    Ok(Measure {
        label: format!("{model} (batch {batch}, this crate)"),
        images_per_s: images as f64 / elapsed,
        test_acc: eval.accuracy,
        eval_images_per_s: test.test.len() as f64 / start.elapsed().as_secs_f64(),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// Runs a peer script and reads its JSON line.
fn peer(
    python: &Path,
    script: &Path,
    model: &str,
    batch: usize,
    data_path: &Path,
    threads: i32,
    budget: Budget,
) -> Result<Measure> {
    let mut command = Command::new(python);
    // The peers run with OpenMP's default wait policy, as a PyTorch user gets it; `cnn`
    // itself restarts with PASSIVE (see main.rs), which measured a few % slower for them.
    command
        .env_remove("OMP_WAIT_POLICY")
        .arg(script)
        .args(["--model", model, "--batch-size", &batch.to_string()])
        .arg("--data")
        .arg(data_path)
        .args([
            "--threads",
            &threads.to_string(),
            "--seconds",
            &budget.seconds.unwrap_or(0.0).to_string(),
        ])
        .args(["--test-limit", &budget.test_images.to_string()])
        .current_dir(script.parent().unwrap_or(Path::new(".")));
    if let Some(config) = models::fmp_preset(model) {
        let sizes = config.sizes()?;
        let pooled: Vec<String> = sizes.pooled.iter().map(i64::to_string).collect();
        command.args([
            "--fmp-input",
            &sizes.input.to_string(),
            "--fmp-pooled",
            &pooled.join(","),
            "--fmp-growth",
            &config.growth.to_string(),
        ]);
    }
    let out = command
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
        eval_images_per_s: num("eval_images_per_s"),
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
        "{:<48} {:>8.1} images/s  test acc {:.4}  evaluation {:>7.1} images/s  peak RSS {:.0} MiB",
        m.label, m.images_per_s, m.test_acc, m.eval_images_per_s, m.peak_rss_mb
    );
}

/// A comparison line's name, peer, and the ratios of training and evaluation speed.
type Ratio = (String, &'static str, f64, f64);

fn ratio(label: &str, peer: &'static str, ours: &Measure, theirs: &Measure) -> Ratio {
    (
        label.to_string(),
        peer,
        ours.images_per_s / theirs.images_per_s,
        ours.eval_images_per_s / theirs.eval_images_per_s,
    )
}

pub fn run(args: BenchArgs) -> Result<()> {
    if args.profile {
        let batches = args.batch.map_or(vec![32, 64, 128], |b| vec![b]);
        return crate::profile::run(args.model.as_deref().unwrap_or("fmp-mnist"), &batches);
    }
    if let Some(model) = &args.model
        && !PEER_MODELS.contains(&model.as_str())
    {
        bail!(
            "cnn bench --model compares {} (the models the PyTorch peers build), not {model:?}",
            PEER_MODELS.join(", ")
        );
    }
    match args.batch {
        Some(b) if b < 1 => bail!("--batch must be positive, got {b}"),
        Some(_) if args.model.is_none() => {
            bail!(
                "--batch goes with --profile or --model; the full comparison uses batches 32 and 64"
            )
        }
        _ => {}
    }
    let threads = support::device::choose_device(Some("cpu"))?.threads;
    let root = support::repo::root()
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
    let budget = if args.quick { QUICK } else { FULL };
    println!(
        "cnn bench on Fashion-MNIST, CPU, {threads} thread(s), Adam 1e-3, {}",
        if args.quick {
            "time-boxed runs (--quick)"
        } else {
            "one epoch each"
        }
    );
    let peer_of = |script: &Path, model: &str, batch: usize, budget: Budget| {
        peer(
            &python,
            script,
            model,
            batch,
            &args.data_path,
            threads,
            budget,
        )
    };
    let mut ratios = Vec::new();
    if let Some(model) = &args.model {
        let budget = match (model.starts_with("fmp-cifar10"), args.quick) {
            (true, true) => CIFAR_QUICK,
            (true, false) => CIFAR,
            (false, _) => budget,
        };
        let batch = args
            .batch
            .map_or(if model == "lenet5-modern" { 64 } else { 32 }, |b| {
                b as usize
            });
        if let Some(seconds) = budget.seconds {
            println!(
                "{model}: {seconds} s of training per side, {} test images",
                budget.test_images
            );
        }
        let ours = ours(model, batch, &data, budget)?;
        print(&ours);
        let p = peer_of(&idiomatic, model, batch, budget)?;
        print(&p);
        ratios.push(ratio(
            &format!("{model}-b{batch}"),
            "pytorch-idiomatic",
            &ours,
            &p,
        ));
    } else {
        let lenet = ours("lenet5-modern", 64, &data, budget)?;
        print(&lenet);
        for (script, batch, name) in [
            (&idiomatic, 64, "pytorch-idiomatic"),
            (&course, 32, "pytorch-course"),
        ] {
            let p = peer_of(script, "lenet5-modern", batch, budget)?;
            print(&p);
            ratios.push(ratio("lenet5-modern", name, &lenet, &p));
        }
        for batch in [32, 64] {
            let fmp = ours("fmp-mnist", batch, &data, budget)?;
            print(&fmp);
            let label = format!("fmp-mnist-b{batch}");
            let p = peer_of(&idiomatic, "fmp-mnist", batch, budget)?;
            print(&p);
            ratios.push(ratio(&label, "pytorch-idiomatic", &fmp, &p));
            if batch == 32 {
                let p = peer_of(&course, "fmp-mnist", 32, budget)?;
                print(&p);
                ratios.push(ratio(&label, "pytorch-course", &fmp, &p));
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
    }
    for (model, peer, train, eval) in ratios {
        println!("ratio {model} vs {peer}: {train:.2}");
        println!("ratio {model} evaluation vs {peer}: {eval:.2}");
    }
    Ok(())
}

//! `cnn-bench side` (hidden): the support crate's side of one comparison, run in a
//! process of its own like each PyTorch peer, printing one JSON line (a [`Run`]).
//!
//! The work inside the clocks matches the peers': training turns uint8 images into
//! normalised, padded (and, for the course rows, rotated) float batches as it goes, after
//! 3 untimed warm-up steps; evaluation, after one untimed pass over the first 1,000 test
//! images, makes each test batch once and averages the softmax of `passes` test-mode
//! passes over it.

use crate::summary::Run;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;
use support::data::{self, Augment, BatchOpts, Dataset, Examples, LoadOpts};
use support::fmp::Regions;
use support::models::ModelSpec;
use support::train::{EvalOpts, Optimizer, predict_repeated};
use tch::{Device, Kind, nn};

#[derive(Args)]
pub struct SideArgs {
    #[arg(long)]
    model: String,
    /// Pooling regions of an FMP net (default: the preset's).
    #[arg(long)]
    regions: Option<Regions>,
    #[arg(long)]
    batch: usize,
    /// Random rotation of each training image, degrees either way.
    #[arg(long, default_value_t = 0.0)]
    rotation: f64,
    /// Seconds of timed training; 0 trains one epoch.
    #[arg(long, default_value_t = 0.0)]
    seconds: f64,
    #[arg(long)]
    test_images: usize,
    #[arg(long, default_value_t = 1)]
    passes: usize,
    #[arg(long, default_value = "cpu")]
    device: String,
    #[arg(long)]
    data_path: PathBuf,
}

/// Test images evaluated in one untimed pass before the evaluation clock starts, as the peers
/// do (`WARM_UP_IMAGES` in `bench/common.py`): the first calls of a shape build oneDNN's
/// kernels, and the tuned peer's choice of batch has evaluated these images already.
const WARM_UP_IMAGES: usize = 1000;

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

/// Waits for the GPU's queued work, so that a clock read after it counts that work.
fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// The first `n` test images of `data` as its test split (and a token training split).
fn first_test(data: &Dataset, n: usize) -> Dataset {
    let n = n.min(data.test.len()) as i64;
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

pub fn run(args: SideArgs) -> Result<()> {
    let device = support::device::choose_device(Some(&args.device))?.device;
    let data = data::load(
        "fashion-mnist",
        &LoadOpts {
            path: Some(args.data_path.clone()),
            download: false,
            quick: false,
            ..LoadOpts::default()
        },
    )?;
    let mut spec = ModelSpec::preset(&args.model)?.with_io(1, 10);
    if let Some(regions) = args.regions {
        spec = spec.with_regions(regions)?;
    }
    support::seed(0);
    let vs = nn::VarStore::new(device);
    let net = spec.build(&vs.root())?;
    let mut opt = Optimizer::Adam.build_for(&vs, 1e-3)?;
    let opts = BatchOpts {
        shuffle_seed: Some(0),
        augment: Augment {
            rotation_degrees: args.rotation,
            ..Augment::none()
        },
        ..net.batch_opts(&data, args.batch, device)
    };
    let begin = Instant::now();
    let (mut images, mut start, mut warmup_s) = (0usize, None, f64::NAN);
    for (i, (x, y)) in data.train.batches(&opts).enumerate() {
        let loss = net.loss(&net.forward_t(&x, true), &y);
        opt.backward_step(&loss);
        if i < 3 {
            if i == 2 {
                sync(device);
                warmup_s = begin.elapsed().as_secs_f64();
                start = Some(Instant::now());
            }
            continue;
        }
        images += y.size()[0] as usize;
        if args.seconds > 0.0 && start.is_some_and(|t| t.elapsed().as_secs_f64() > args.seconds) {
            break;
        }
    }
    sync(device);
    let train_s = start.map_or(f64::NAN, |t| t.elapsed().as_secs_f64());

    let test = first_test(&data, args.test_images);
    let eval = EvalOpts::new(device);
    let warm_up = first_test(&data, WARM_UP_IMAGES.min(args.test_images));
    let _ = predict_repeated(net.as_ref(), &warm_up, &eval, 1)?;
    sync(device);
    let start = Instant::now();
    let probs = predict_repeated(net.as_ref(), &test, &eval, args.passes)?;
    let right = probs
        .argmax(-1, false)
        .eq_tensor(&test.test.labels)
        .sum(Kind::Int64)
        .int64_value(&[]);
    let eval_s = start.elapsed().as_secs_f64();
    let n = test.test.len() as f64;
    let run = Run {
        images_per_s: images as f64 / train_s,
        eval_images_per_s: n / eval_s,
        test_acc: right as f64 / n,
        peak_rss_mb: peak_rss_mb(),
        eval_batch: eval.batch_size,
        warmup_s,
        layout: None,
    };
    println!("{}", serde_json::to_string(&run)?);
    Ok(())
}

//! `cnn-bench`: the developers' benchmarks, kept out of the students' `cnn`. Training and
//! evaluation speed of the `support` crate against PyTorch peers on Fashion-MNIST, as
//! ratios of medians over interleaved repeats; `--profile`, where one training step
//! spends its time (`profile.rs`).
//!
//! A *group* is one piece of work (model, batch, augmentation, test passes) done by
//! several *sides*: this crate (with native or Graham pooling regions for an FMP net) and
//! the peers in `bench/` (`pytorch_idiomatic.py`, `pytorch_tuned.py`,
//! `pytorch_course.py`). Each side runs in a process of its own (the crate's through the
//! hidden `cnn-bench side`), so peak memory is per side and one side's caches do not warm
//! the next. A group's sides run in turn, A B C A B C, `--repeats` times, so the machine's
//! drift over minutes lands on every side alike. Every side builds its batches from uint8
//! images inside its clocks, and evaluates by averaging the softmax of the same number of
//! passes.

mod launch;
mod profile;
mod side;
mod summary;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use summary::{Document, GroupResult};
use support::fmp::Regions;

#[derive(Parser)]
#[command(
    name = "cnn-bench",
    version,
    about = "The support crate's speed against PyTorch peers (developers' tool)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    bench: BenchArgs,
    #[command(subcommand)]
    side: Option<SideCommand>,
}

#[derive(Subcommand)]
enum SideCommand {
    /// One side of a comparison, run by `cnn-bench` in a process of its own.
    #[command(hide = true)]
    Side(side::SideArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.side {
        Some(SideCommand::Side(args)) => side::run(args),
        None => run(cli.bench),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// `cnn-bench`'s options.
#[derive(Args)]
pub struct BenchArgs {
    /// Time-boxed runs (10 s of training, 1,000 test images per side) instead of full
    /// epochs and the whole test set.
    #[arg(long)]
    pub quick: bool,
    /// How many times each side runs, interleaved with the others of its group.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// cpu, or cuda (the crate and the peers on the GPU; without one, says so and skips).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Also write every measurement, median, spread and ratio to this JSON file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// torch.compile the tuned peer (its compilation is reported as warm-up, untimed).
    #[arg(long)]
    pub compile: bool,
    /// The Fashion-MNIST folder (IDX .gz files); default: where the notebooks find it
    /// (`$CNN_DATA_DIR/fashion-mnist`, `data/fashion-mnist`, `/usr/share/datasets/...`).
    #[arg(long)]
    pub data_path: Option<PathBuf>,
    /// The Python with torch for the peers (default: <repo>/.venv/bin/python).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The folder with the peer scripts (default: <repo>/bench).
    #[arg(long)]
    pub peers: Option<PathBuf>,
    /// Instead of the comparison, print where one training step of a model (fmp-mnist, or
    /// `--model`) spends its time, layer by layer, at batches 32, 64 and 128 (or `--batch`).
    #[arg(long)]
    pub profile: bool,
    /// Compare only this model: lenet5-modern, fmp-mnist, fmp-cifar10 or
    /// fmp-cifar10-large, against the idiomatic and tuned peers. The CIFAR-10 nets train
    /// for 60 s (an epoch takes hours on a CPU) and score 500 test images.
    /// With `--profile`: the FMP net to profile.
    #[arg(long)]
    pub model: Option<String>,
    /// Compare only the course rows: the course's rotation on both sides, against
    /// `pytorch-course` (on the CPU).
    #[arg(long, conflicts_with_all = ["model", "profile"])]
    pub course: bool,
    /// The batch size: with `--profile` the only one profiled; with `--model` the one
    /// compared (default 32 for the FMP nets, as in the course, 64 for LeNet-5).
    #[arg(long)]
    pub batch: Option<usize>,
}

/// The models the PyTorch peers build too.
const PEER_MODELS: [&str; 4] = [
    "lenet5-modern",
    "fmp-mnist",
    "fmp-cifar10",
    "fmp-cifar10-large",
];

/// The course's training augmentation for MNIST-like digits: `RandomRotation(10)`.
const COURSE_ROTATION: f64 = 10.0;
/// Graham averages 12 test-time passes of an FMP net; LeNet-5 has one answer.
const FMP_PASSES: usize = 12;

/// Who does the work of a side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Side {
    /// This crate, with these pooling regions for an FMP net.
    Crate(Option<Regions>),
    /// `bench/pytorch_idiomatic.py`: PyTorch's defaults.
    Idiomatic,
    /// `bench/pytorch_tuned.py`: channels-last, fused Adam, inference_mode, best eval batch.
    Tuned,
    /// `bench/pytorch_course.py`: the course's per-sample transforms and DataLoader.
    Course,
}

impl Side {
    /// The side's name in tables and JSON: `cnn`, `cnn (native)`, `pytorch-tuned`, ...
    pub fn name(&self) -> String {
        match self {
            Side::Crate(None) => "cnn".into(),
            Side::Crate(Some(Regions::Native)) => "cnn (native)".into(),
            Side::Crate(Some(r)) => format!("cnn (graham: {r})"),
            Side::Idiomatic => "pytorch-idiomatic".into(),
            Side::Tuned => "pytorch-tuned".into(),
            Side::Course => "pytorch-course".into(),
        }
    }

    /// The peer's script in the peers folder; `None` for the crate.
    fn script(&self) -> Option<&'static str> {
        match self {
            Side::Crate(_) => None,
            Side::Idiomatic => Some("pytorch_idiomatic.py"),
            Side::Tuned => Some("pytorch_tuned.py"),
            Side::Course => Some("pytorch_course.py"),
        }
    }
}

/// How long each side trains and how many test images it scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// `None`: one full epoch.
    pub seconds: Option<f64>,
    pub test_images: usize,
}

/// One piece of work and the sides that do it.
#[derive(Debug, Clone)]
pub struct Group {
    pub model: String,
    pub batch: usize,
    /// Random rotation of each training image, in degrees either way (0: none).
    pub rotation: f64,
    /// Test-mode passes averaged per test image.
    pub passes: usize,
    pub budget: Budget,
    pub sides: Vec<Side>,
}

impl Group {
    fn new(model: &str, batch: usize, budget: Budget, sides: Vec<Side>) -> Group {
        let fmp = model.starts_with("fmp");
        Group {
            model: model.into(),
            batch,
            rotation: 0.0,
            passes: if fmp { FMP_PASSES } else { 1 },
            budget,
            sides,
        }
    }

    fn with_course_rotation(self) -> Group {
        Group {
            rotation: COURSE_ROTATION,
            ..self
        }
    }

    /// The row name of a crate side, such as `fmp-mnist-native-b32` or
    /// `lenet5-modern-b32-course`.
    pub fn row(&self, side: Side) -> String {
        let pooling = match side {
            Side::Crate(Some(Regions::Native)) => "-native",
            Side::Crate(Some(_)) => "-graham",
            _ => "",
        };
        let course = if self.rotation > 0.0 { "-course" } else { "" };
        format!("{}{pooling}-b{}{course}", self.model, self.batch)
    }
}

/// An FMP net's crate sides: libtorch's op (the peers' op) and the preset's own regions.
fn crate_sides(model: &str) -> Result<Vec<Side>> {
    Ok(match support::models::ModelSpec::preset(model)?.regions() {
        Some(Regions::Native) => vec![Side::Crate(Some(Regions::Native))],
        Some(own) => vec![Side::Crate(Some(Regions::Native)), Side::Crate(Some(own))],
        None => vec![Side::Crate(None)],
    })
}

/// `model`'s crate sides against the idiomatic and tuned peers.
fn against_pytorch(model: &str, batch: usize, budget: Budget) -> Result<Group> {
    let mut sides = crate_sides(model)?;
    sides.extend([Side::Idiomatic, Side::Tuned]);
    Ok(Group::new(model, batch, budget, sides))
}

/// The course rows: LeNet-5 and the FMP net at the course's batch 32 with its rotation,
/// the crate against `pytorch-course`.
fn course_groups(budget: Budget) -> Vec<Group> {
    vec![
        Group::new(
            "lenet5-modern",
            32,
            budget,
            vec![Side::Crate(None), Side::Course],
        )
        .with_course_rotation(),
        Group::new(
            "fmp-mnist",
            32,
            budget,
            vec![Side::Crate(Some(Regions::Native)), Side::Course],
        )
        .with_course_rotation(),
    ]
}

/// The comparisons to run: one model's (`--model`), the course rows (`--course`), or the
/// standard set. On CUDA the course rows are left out: the course's DataLoader feeds a GPU
/// from CPU workers, which measures the host rather than the crate.
fn plan(args: &BenchArgs, cuda: bool) -> Result<Vec<Group>> {
    let quick = args.quick;
    let budget = |cifar: bool| Budget {
        seconds: match (cifar && !cuda, quick) {
            (_, true) => Some(10.0),
            (true, false) => Some(60.0),
            (false, false) => None,
        },
        test_images: match (cifar && !cuda, quick) {
            (true, true) => 100,
            (true, false) => 500,
            (false, true) => 1000,
            (false, false) => 10_000,
        },
    };
    if let Some(model) = &args.model {
        let batch = args
            .batch
            .unwrap_or(if model == "lenet5-modern" { 64 } else { 32 });
        let budget = budget(model.starts_with("fmp-cifar10"));
        return Ok(vec![against_pytorch(model, batch, budget)?]);
    }
    if args.course {
        return Ok(course_groups(budget(false)));
    }
    let mut groups = vec![
        against_pytorch("lenet5-modern", 64, budget(false))?,
        against_pytorch("fmp-mnist", 32, budget(false))?,
    ];
    if !cuda {
        groups.extend(course_groups(budget(false)));
    }
    Ok(groups)
}

fn check(args: &BenchArgs) -> Result<()> {
    if let Some(model) = &args.model
        && !args.profile
        && !PEER_MODELS.contains(&model.as_str())
    {
        bail!(
            "cnn-bench --model compares {} (the models the PyTorch peers build), not {model:?}",
            PEER_MODELS.join(", ")
        );
    }
    match args.batch {
        Some(0) => bail!("--batch must be positive, got 0"),
        Some(_) if args.model.is_none() && !args.profile => bail!(
            "--batch goes with --profile or --model; the full comparison uses batches 32 and 64"
        ),
        _ => {}
    }
    if args.repeats == 0 {
        bail!("--repeats must be at least 1 (3 gives a median and a spread)");
    }
    if args.course && args.device == "cuda" {
        bail!(
            "the course rows run on the CPU only (the course's DataLoader feeds a GPU from CPU \
             workers, which measures the host); drop --course or --device cuda"
        );
    }
    if !matches!(args.device.as_str(), "cpu" | "cuda") {
        bail!(
            "cnn-bench --device is cpu or cuda, not {:?} (the peers' FMP op has no MPS kernel)",
            args.device
        );
    }
    Ok(())
}

fn run(args: BenchArgs) -> Result<()> {
    check(&args)?;
    if args.profile {
        let batches = args.batch.map_or(vec![32, 64, 128], |b| vec![b as i64]);
        return profile::run(args.model.as_deref().unwrap_or("fmp-mnist"), &batches);
    }
    let cuda = args.device == "cuda";
    if cuda && !tch::Cuda::is_available() {
        println!(
            "skipped CUDA: libtorch sees no CUDA GPU on this machine, so nothing was \
             measured. Run `cnn-bench` for the CPU comparison."
        );
        return Ok(());
    }
    let threads = support::device::choose_device(Some(&args.device))?.threads;
    let root = support::repo::root();
    let in_repo = |rel: &str, what: &str, flag: &str| -> Result<PathBuf> {
        root.as_ref()
            .map(|r| r.join(rel))
            .with_context(|| format!("outside the repository, pass {what} with {flag}"))
    };
    let python = match &args.python {
        Some(p) => p.clone(),
        None => in_repo(".venv/bin/python", "the Python with torch", "--python")?,
    };
    let peers = match &args.peers {
        Some(p) => p.clone(),
        None => in_repo("bench", "the folder of the peer scripts", "--peers")?,
    };
    if !python.exists() {
        bail!(
            "no Python at {}; run `make setup` or pass --python",
            python.display()
        );
    }
    for script in ["common.py", "pytorch_idiomatic.py", "pytorch_tuned.py"] {
        if !peers.join(script).is_file() {
            bail!(
                "no {script} in {}; pass --peers with the repository's bench folder",
                peers.display()
            );
        }
    }
    let data_path = match &args.data_path {
        Some(path) => path.clone(),
        None => support::data::locate::find_or_download(
            support::data::Source::FashionMnist,
            None,
            false,
        )?,
    };
    if !data_path.join("train-images-idx3-ubyte.gz").is_file() {
        bail!(
            "no Fashion-MNIST in {} (train-images-idx3-ubyte.gz and the other IDX files); \
             on Debian: apt-get install dataset-fashion-mnist, or pass --data-path",
            data_path.display()
        );
    }
    let launcher = launch::Launcher {
        exe: std::env::current_exe().context("cannot find the cnn-bench binary itself")?,
        python,
        peers,
        data_path,
        device: args.device.clone(),
        threads,
        compile: args.compile,
    };
    let groups = plan(&args, cuda)?;
    let mut doc = Document {
        device: args.device.clone(),
        threads,
        quick: args.quick,
        repeats: args.repeats,
        compile: args.compile,
        groups: Vec::new(),
    };
    println!(
        "cnn-bench on Fashion-MNIST, {}, {threads} thread(s), Adam 1e-3, {} interleaved \
         repeat(s) per side",
        args.device, args.repeats
    );
    for group in &groups {
        println!("\n{}", summary::describe(group));
        let mut runs = vec![Vec::new(); group.sides.len()];
        for repeat in 1..=args.repeats {
            for (side, runs) in group.sides.iter().zip(&mut runs) {
                let run = launcher.run(group, *side)?;
                println!(
                    "  repeat {repeat}: {:<40} {:>8.1} training images/s, {:>8.1} evaluation images/s",
                    side.name(),
                    run.images_per_s,
                    run.eval_images_per_s
                );
                runs.push(run);
            }
        }
        let result = GroupResult::new(group, runs);
        print!("{}", result.table());
        doc.groups.push(result);
        if let Some(path) = &args.json {
            doc.write(path)?;
        }
    }
    println!();
    for group in &doc.groups {
        for ratio in &group.ratios {
            println!("{ratio}");
        }
    }
    if let Some(path) = &args.json {
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn rows(args: &[&str], cuda: bool) -> Vec<String> {
        let cli = Cli::parse_from(std::iter::once("bench").chain(args.iter().copied()));
        plan(&cli.bench, cuda)
            .unwrap()
            .iter()
            .flat_map(|g| {
                g.sides
                    .iter()
                    .map(|s| format!("{} {}", g.row(*s), s.name()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn the_plans_hold_the_rows_their_options_name() {
        let course = [
            "lenet5-modern-b32-course cnn",
            "lenet5-modern-b32-course pytorch-course",
            "fmp-mnist-native-b32-course cnn (native)",
            "fmp-mnist-b32-course pytorch-course",
        ];
        assert_eq!(rows(&["--course"], false), course);
        let all = rows(&[], false);
        assert_eq!(all.len(), 3 + 4 + course.len(), "{all:?}");
        assert!(all.ends_with(&course.map(String::from)), "{all:?}");
        assert!(
            rows(&[], true).iter().all(|r| !r.contains("course")),
            "CUDA runs no course row"
        );
        assert_eq!(
            rows(&["--model", "lenet5-modern"], false),
            [
                "lenet5-modern-b64 cnn",
                "lenet5-modern-b64 pytorch-idiomatic",
                "lenet5-modern-b64 pytorch-tuned"
            ]
        );
    }
}

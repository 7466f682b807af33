//! `cnn sweep NAME --models ... --regions ... --seeds N --lrs ...`: a grid of runs, written
//! as a Slurm job array and as a plain shell script, for a cluster or one machine.
//!
//! Each task is one `cnn train` command line into its own run folder,
//! `runs/NAME/<task>/` (the scripts set `CNN_RUNS_DIR` to `runs/NAME`, and each task's
//! `--run-name` is the task's name), with `--continue` (a re-queued task picks its run up from the last
//! checkpoint; a copy started while another still runs stops at once on the run's lock)
//! and `--test` (the finished run is tested once, for `cnn report`). Every
//! task is checked as `cnn train` would check it before anything is written, so a typo in
//! the grid costs nothing.

use crate::args::DataArgs;
use crate::train::{Plan, TrainArgs};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use std::path::Path;
use support::fmp::Regions;
use support::train::runs_root;

/// `cnn sweep`'s options.
#[derive(Args)]
pub struct SweepArgs {
    /// The sweep's name: its runs and scripts go to runs/NAME/.
    pub name: String,
    /// Models to train (comma-separated): fmp-tiny,fmp-mnist,...
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Recipes to train (comma-separated; `cnn recipes` lists them).
    #[arg(long, value_delimiter = ',')]
    pub recipes: Vec<String>,
    /// FMP region variants (comma-separated): pseudorandom-overlapping,
    /// pseudorandom-disjoint, random-overlapping, random-disjoint, native.
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<Regions>,
    /// Seeds 0, 1, ..., N-1 for every setting.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// Adam's constant learning rates (comma-separated), for models and for recipes that
    /// train at a constant rate.
    #[arg(long, value_delimiter = ',')]
    pub lrs: Vec<f64>,
    /// The data (--dataset is needed with --models; a recipe has its own).
    #[command(flatten)]
    pub data: DataArgs,
    /// Epochs per run (default: cnn train's, or the recipe's).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// One GPU per task (`#SBATCH --gres=gpu:1`, and `--device cuda`).
    #[arg(long)]
    pub gpu: bool,
    /// CPU cores per task (`#SBATCH --cpus-per-task`; the task's CNN_THREADS).
    #[arg(long, default_value_t = 2)]
    pub cpus_per_task: u32,
    /// The Slurm partition (default: the cluster's).
    #[arg(long)]
    pub partition: Option<String>,
    /// The wall-clock limit per task, as Slurm writes it (`4:00:00`).
    #[arg(long)]
    pub time: Option<String>,
    /// Write a grid of more than 1,000 runs.
    #[arg(long)]
    pub yes: bool,
}

/// Grids larger than this need `--yes`.
const LARGE: usize = 1000;

/// One run of the grid: its folder's name and its `cnn train` arguments.
struct Task {
    name: String,
    args: Vec<String>,
}

/// Parses a task's arguments exactly as `cnn train` does.
#[derive(Parser)]
#[command(name = "cnn train")]
struct TrainCommand {
    #[command(flatten)]
    args: TrainArgs,
}

pub fn run(args: SweepArgs) -> Result<()> {
    support::diary::check_name("sweep", &args.name)?;
    if args.models.is_empty() && args.recipes.is_empty() {
        bail!("name what to train: --models fmp-tiny,fmp-mnist and/or --recipes course-502");
    }
    if args.seeds == 0 {
        bail!("--seeds 0 trains nothing; use 1 or more");
    }
    let dir = std::path::absolute(runs_root().join(&args.name))?;
    let tasks = grid(&args);
    if tasks.len() > LARGE && !args.yes {
        bail!(
            "this grid has {} runs (more than {LARGE}); add --yes if that is what you want",
            tasks.len()
        );
    }
    // Each task is checked as `cnn train` will run it, before anything is written.
    for task in &tasks {
        let parsed = TrainCommand::try_parse_from(
            std::iter::once("cnn train".to_string()).chain(task.args.iter().cloned()),
        )
        .with_context(|| format!("task {} would not start", task.name))?;
        Plan::new(&parsed.args, parsed.args.data.quick())
            .with_context(|| format!("task {} would not start", task.name))?;
    }
    let cnn = std::env::current_exe().context("cannot find the cnn program's own path")?;
    let sbatch = slurm_script(&args, &dir, &cnn, &tasks);
    let shell = shell_script(&args.name, &dir, &cnn, &tasks);
    let sbatch_path = dir.join("sweep.sbatch");
    if let Ok(existing) = std::fs::read_to_string(&sbatch_path)
        && existing != sbatch
    {
        bail!(
            "{} already holds a sweep with other tasks; choose another name, or delete the \
             folder to start it afresh",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.join("logs").display()))?;
    support::atomic::write(&sbatch_path, sbatch.as_bytes())?;
    support::atomic::write(&dir.join("run-all.sh"), shell.as_bytes())?;
    println!("{} runs in {}", tasks.len(), dir.display());
    for (i, task) in tasks.iter().enumerate() {
        println!("  {i:>4}  {}", task.name);
    }
    println!(
        "on a Slurm cluster:  sbatch {}\nwithout Slurm:       bash {}\nthen:                cnn report {}",
        sbatch_path.display(),
        dir.join("run-all.sh").display(),
        dir.display()
    );
    Ok(())
}

/// The grid's runs: (models, then recipes) x regions x learning rates x seeds.
fn grid(args: &SweepArgs) -> Vec<Task> {
    let nets = args
        .models
        .iter()
        .map(|m| (m.clone(), vec![m.clone()]))
        .chain(
            args.recipes
                .iter()
                .map(|r| (r.clone(), vec!["--recipe".into(), r.clone()])),
        );
    // An empty list leaves that setting to the model or recipe.
    let regions: Vec<Option<Regions>> = optional(&args.regions);
    let lrs: Vec<Option<f64>> = optional(&args.lrs);
    let mut common = Vec::new();
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            common.extend([format!("--{name}"), value]);
        }
    };
    flag("dataset", args.data.dataset.clone());
    flag(
        "data-path",
        args.data.data_path.as_ref().map(|p| {
            std::path::absolute(p)
                .unwrap_or(p.clone())
                .display()
                .to_string()
        }),
    );
    flag("epochs", args.epochs.map(|e| e.to_string()));
    flag("batch-size", args.batch_size.map(|b| b.to_string()));
    flag(
        "validation",
        (args.data.validation > 0).then(|| args.data.validation.to_string()),
    );
    flag("device", args.gpu.then(|| "cuda".to_string()));
    if args.data.quick {
        common.push("--quick".into());
    }
    let mut tasks = Vec::new();
    for (label, net) in nets {
        for region in &regions {
            for lr in &lrs {
                for seed in 0..args.seeds {
                    let mut name = label.clone();
                    let mut task = net.clone();
                    if let Some(r) = region {
                        name += &format!("-{r}");
                        task.extend(["--regions".into(), r.to_string()]);
                    }
                    if let Some(lr) = lr {
                        name += &format!("-lr{lr}");
                        task.extend(["--lr".into(), lr.to_string()]);
                    }
                    name += &format!("-seed{seed}");
                    task.extend(["--seed".into(), seed.to_string()]);
                    task.extend(common.iter().cloned());
                    task.extend([
                        "--run-name".into(),
                        name.clone(),
                        "--continue".into(),
                        "--test".into(),
                    ]);
                    tasks.push(Task { name, args: task });
                }
            }
        }
    }
    tasks
}

fn optional<T: Clone>(values: &[T]) -> Vec<Option<T>> {
    if values.is_empty() {
        vec![None]
    } else {
        values.iter().cloned().map(Some).collect()
    }
}

/// `word` as one shell word: as is when it is plain, else in single quotes.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn command_line(task: &Task) -> String {
    let words: Vec<String> = task.args.iter().map(|a| quote(a)).collect();
    format!("\"$cnn\" train {}", words.join(" "))
}

/// The job array: task i runs line i of the `case`, so each command reads as typed.
fn slurm_script(args: &SweepArgs, dir: &Path, cnn: &Path, tasks: &[Task]) -> String {
    let mut s = format!(
        "#!/bin/bash\n\
         # cnn sweep {name}: {n} runs as one Slurm job array, written by `cnn sweep`.\n\
         #   submit:         sbatch {script}\n\
         #   one task again: sbatch --array=K {script}\n\
         #   results:        cnn report {dir}\n\
         # A task that is re-queued or submitted again continues its run from the last\n\
         # checkpoint (--continue); a finished run is only tested, once (--test).\n\
         #SBATCH --job-name=cnn-{name}\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --output={dir}/logs/task-%a.out\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --requeue\n",
        name = args.name,
        n = tasks.len(),
        script = quote(&dir.join("sweep.sbatch").display().to_string()),
        dir = dir.display(),
        last = tasks.len() - 1,
        cpus = args.cpus_per_task,
    );
    if args.gpu {
        s += "#SBATCH --gres=gpu:1\n";
    }
    if let Some(partition) = &args.partition {
        s += &format!("#SBATCH --partition={partition}\n");
    }
    if let Some(time) = &args.time {
        s += &format!("#SBATCH --time={time}\n");
    }
    s += &format!(
        "set -euo pipefail\n\
         cnn=${{CNN:-{}}}\n\
         # Use the cores Slurm gave the task, not every core of the node.\n\
         export CNN_THREADS=${{CNN_THREADS:-${{SLURM_CPUS_PER_TASK:-{}}}}}\n\
         # Each task's run goes into the sweep's folder, under the task's name.\n\
         export CNN_RUNS_DIR={}\n\
         case \"$SLURM_ARRAY_TASK_ID\" in\n",
        quote(&cnn.display().to_string()),
        args.cpus_per_task,
        quote(&dir.display().to_string()),
    );
    for (i, task) in tasks.iter().enumerate() {
        s += &format!("  {i}) exec {} ;;\n", command_line(task));
    }
    s += "  *) echo \"this sweep has no task $SLURM_ARRAY_TASK_ID\" >&2; exit 1 ;;\nesac\n";
    s
}

/// The same runs one after the other, for a machine without Slurm.
fn shell_script(name: &str, dir: &Path, cnn: &Path, tasks: &[Task]) -> String {
    let mut s = format!(
        "#!/bin/bash\n\
         # cnn sweep {name}: {n} runs one after the other, for a machine without Slurm.\n\
         # Stopped, run it again: each run continues from its last checkpoint.\n\
         set -euo pipefail\n\
         cnn=${{CNN:-{cnn}}}\n\
         # Each run goes into the sweep's folder, under the task's name.\n\
         export CNN_RUNS_DIR={dir}\n",
        n = tasks.len(),
        cnn = quote(&cnn.display().to_string()),
        dir = quote(&dir.display().to_string()),
    );
    for (i, task) in tasks.iter().enumerate() {
        s += &format!(
            "echo '== task {i}: {}'\n{}\n",
            task.name,
            command_line(task)
        );
    }
    s += &format!(
        "echo 'all {} runs done; see them with: cnn report {}'\n",
        tasks.len(),
        dir.display()
    );
    s
}

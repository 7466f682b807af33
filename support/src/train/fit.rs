//! The training loop: `fit` starts a run, `resume` continues one.
//!
//! Per epoch: set the scheduled learning rate, make shuffled, normalised, padded (and
//! augmented) batches on the model's device, take one optimizer step per batch, then
//! evaluate on the validation split, save the checkpoint, the history and the TensorBoard
//! scalars. The history is the commit point: what it lists is saved.
//!
//! Each holds its run folder's lock (see [`super::lock`]) while it writes, so a second
//! writer of the same run stops at once with an error instead of mixing into it.

use super::checkpoint::{
    CHECKPOINT, CONFIG, HISTORY, RunRecord, describe_run, load_checkpoint, run_dir,
    save_checkpoint, write_history, write_record,
};
use super::checks::{check_before_fit, check_fit, check_output};
use super::config::{FitConfig, Optimizer, Stepper};
use super::evaluate::{EvalOpts, Split, correct, loss_and_accuracy};
use super::history::{EpochRecord, History, Outcome, read_csv};
use super::interrupt::InterruptGuard;
use super::live::LiveCurves;
use super::lock::RunLock;
use super::progress::Progress;
use super::sdlm::Sdlm;
use super::tensorboard::EventWriter;
use super::test_record::TEST_FILE;
use crate::data::{BatchOpts, Dataset};
use crate::models::Model;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::nn;

/// Training stopped because the loss became NaN or infinite, or exploded. The complete
/// epochs before it are saved and kept in `history`; branch on it with
/// `err.downcast_ref::<Diverged>()`.
#[derive(Debug, thiserror::Error)]
#[error(
    "training diverged in epoch {epoch}, batch {batch}: the loss is {loss} (it started near \
     {start:.3}). The steps are too large for this loss surface, so the weights ran off to \
     huge values. Try a learning rate 3 to 10 times lower, or add BatchNorm after the \
     convolutions. The {} complete epoch(s) before it are kept in {}",
    history.epochs(),
    history.run_dir.display()
)]
pub struct Diverged {
    pub epoch: i64,
    pub batch: usize,
    pub loss: f64,
    pub start: f64,
    pub history: History,
}

/// A loss this many times the first batch's (or `ln(classes)`, if larger) is an explosion.
const EXPLOSION: f64 = 10.0;

/// Trains `model` (whose variables are in `vs`) on `data` as `config` says, saving every
/// epoch under `runs/<run>/`, and returns the per-epoch history.
///
/// In this project's notebooks the progress line is redrawn in place, and so is the loss
/// and accuracy figure, which grows after every epoch; the figure is removed when `fit`
/// returns, as the notebook then draws the history's own (see `train/live.rs`).
///
/// Ctrl-C or the notebook's interrupt button stops it between batches and returns the
/// complete epochs (`history.outcome` says so). A diverging loss returns the error
/// [`Diverged`], which holds the history so far. An existing run of the same name is
/// replaced, and the output says so (as when a notebook's cell runs again; use [`resume`]
/// to continue one). Another writer of the same run, in this process or another, is an
/// error.
pub fn fit(
    model: &dyn Model,
    vs: &nn::VarStore,
    data: &Dataset,
    config: &FitConfig,
) -> Result<History> {
    check_before_fit(model, data, config, vs.device())?;
    let run = config.run.clone().unwrap_or_else(|| {
        let label = model
            .spec()
            .and_then(|s| s.preset_name())
            .unwrap_or("model");
        super::checkpoint::default_run_name(label, &data.name)
    });
    let dir = run_dir(&run);
    let _lock = RunLock::acquire(&dir)?;
    if let Some(old) = describe_run(&dir) {
        println!("replacing run {run}: {old}");
    }
    clear_run(&dir)?;
    write_record(
        &dir,
        &RunRecord {
            config: FitConfig {
                run: Some(run),
                ..config.clone()
            },
            dataset: data.name.clone(),
            classes: data.classes.clone(),
            model: model.spec(),
            data: data.loaded.clone(),
        },
    )?;
    crate::seed(config.seed);
    train_epochs(model, vs, data, config, dir, Vec::new())
}

/// Continues run `config.run` from its last checkpoint up to `config.epochs` epochs.
///
/// The weights and the epoch count come back; the optimizer's running averages (Adam's
/// moments, SGD's momentum) start afresh, which costs a few batches of settling.
pub fn resume(
    model: &dyn Model,
    vs: &mut nn::VarStore,
    data: &Dataset,
    config: &FitConfig,
) -> Result<History> {
    let run = named_run(config, "resume")?;
    let dir = super::checkpoint::existing_run_dir(run)?;
    check_fit(model, data, config, vs.device())?;
    let _lock = RunLock::acquire(&dir)?;
    let history_path = dir.join(HISTORY);
    let records = if history_path.exists() {
        read_csv(&history_path)?
    } else {
        Vec::new()
    };
    if !records.is_empty() {
        load_checkpoint(vs, &dir)?;
    }
    check_output(model, data, vs.device())?;
    if records.len() >= config.epochs {
        println!(
            "run {run} already has {} of {} epochs; raise `epochs` to train further",
            records.len(),
            config.epochs
        );
        return Ok(History::new(records, dir, Outcome::Finished));
    }
    println!("resuming run {run} after epoch {}", records.len());
    crate::seed(config.seed.wrapping_add(records.len() as u64));
    train_epochs(model, vs, data, config, dir, records)
}

/// Continues run `config.run` when its folder already holds it (the same net, data and
/// settings, whatever its epoch count), else starts it with [`fit`]: what a job that may
/// be stopped and started again calls (`cnn reproduce`, a sweep's task). A folder that
/// holds a different run is an error, never overwritten. The choice is made holding the
/// run's lock, so that two copies of one job cannot both start the run afresh.
pub fn fit_or_resume(
    model: &dyn Model,
    vs: &mut nn::VarStore,
    data: &Dataset,
    config: &FitConfig,
) -> Result<History> {
    let run = named_run(config, "fit_or_resume")?;
    check_before_fit(model, data, config, vs.device())?;
    let dir = run_dir(run);
    let _lock = RunLock::acquire(&dir)?;
    if !dir.join(CONFIG).exists() {
        return fit(model, vs, data, config);
    }
    let record = super::checkpoint::read_record(run)?;
    let recorded = FitConfig {
        epochs: config.epochs,
        run: config.run.clone(),
        ..record.config
    };
    if record.model != model.spec() || record.dataset != data.name || recorded != *config {
        bail!(
            "{} holds a run with other settings (net, data or training) than this one; move \
             it away or delete it to start this run afresh, or choose another run name",
            dir.display()
        );
    }
    resume(model, vs, data, config)
}

/// The run `config` names; `caller`, which cannot work without one, says so otherwise.
fn named_run<'a>(config: &'a FitConfig, caller: &str) -> Result<&'a str> {
    match config.run.as_deref() {
        Some(run) => Ok(run),
        None => bail!(
            "{caller} needs the run's name: set `run: Some(\"<name>\".into())` in the FitConfig"
        ),
    }
}

/// Removes a previous run's checkpoint, history, test and event files from `dir`.
fn clear_run(dir: &Path) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if [CHECKPOINT, HISTORY, TEST_FILE].contains(&name.as_str())
            || name.starts_with("events.out.tfevents.")
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove the old {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Sums over one epoch's batches.
#[derive(Default)]
struct Totals {
    loss: f64,
    correct: i64,
    seen: usize,
}

fn train_epochs(
    model: &dyn Model,
    vs: &nn::VarStore,
    data: &Dataset,
    config: &FitConfig,
    dir: PathBuf,
    mut records: Vec<EpochRecord>,
) -> Result<History> {
    let device = vs.device();
    let mut opt = config
        .optimizer
        .build(
            vs,
            config.schedule.lr(records.len() + 1),
            config.weight_decay,
            config.batch_size,
        )
        .context("cannot build the optimizer")?;
    let mut events = EventWriter::new(&dir);
    let guard = InterruptGuard::install();
    let classes_floor = (data.num_classes().max(2) as f64).ln();
    let mut start_loss: Option<f64> = None;
    let validation = data.validation.as_ref().filter(|_| config.validate);
    // Ends its figure when this returns, by any path.
    let mut live = LiveCurves::new(config.progress);
    for epoch in records.len() + 1..=config.epochs {
        let lr = config.schedule.lr(epoch);
        opt.set_lr(lr);
        let e = epoch as u64;
        let opts = BatchOpts {
            shuffle_seed: Some(config.seed.wrapping_add(e)),
            augment: config.augment.clone(),
            augment_seed: config.seed ^ e.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ..model.batch_opts(data, config.batch_size, device)
        };
        if let (Stepper::Sdlm(sdlm), Optimizer::Sdlm { samples, .. }) =
            (&mut opt, &config.optimizer)
        {
            estimate_curvature(model, vs, data, &opts, *samples, sdlm)?;
        }
        let batches = data.train.batches(&opts);
        let count = batches.num_batches();
        let mut progress = Progress::new(config.progress, epoch, config.epochs, count);
        let started = Instant::now();
        let mut t = Totals::default();
        for (i, (x, y)) in batches.enumerate() {
            if guard.interrupted() {
                progress.abandon();
                println!(
                    "interrupted in epoch {epoch}: kept the {} complete epoch(s) in {}; \
                     `resume` continues from there",
                    records.len(),
                    dir.display()
                );
                let outcome = Outcome::Interrupted {
                    epoch: epoch as i64,
                };
                return Ok(History::new(records, dir, outcome));
            }
            let out = model.forward_t(&x, true);
            let loss = model.loss(&out, &y);
            opt.backward_step(&loss);
            let l = loss.double_value(&[]);
            let reference = *start_loss.get_or_insert(l);
            if !l.is_finite() || l > EXPLOSION * reference.max(classes_floor) {
                progress.abandon();
                let history = History::new(records, dir, Outcome::Finished);
                return Err(Diverged {
                    epoch: epoch as i64,
                    batch: i + 1,
                    loss: l,
                    start: reference,
                    history,
                }
                .into());
            }
            let n = y.size()[0] as usize;
            t.loss += l * n as f64;
            t.correct += correct(model, &out, &y);
            t.seen += n;
            let (mean_loss, mean_acc) = (t.loss / t.seen as f64, t.correct as f64 / t.seen as f64);
            live.batch(&records, i + 1, count, mean_loss, mean_acc);
            progress.update(i + 1, mean_loss, mean_acc, t.seen);
        }
        let seconds = started.elapsed().as_secs_f64();
        let (val_loss, val_acc) = match validation {
            Some(v) => {
                let eval = EvalOpts {
                    split: Split::Validation,
                    ..EvalOpts::new(device)
                };
                let (l, a) = loss_and_accuracy(model, data, v, &eval)?;
                (Some(l), Some(a))
            }
            None => (None, None),
        };
        let record = EpochRecord {
            epoch: epoch as i64,
            lr,
            train_loss: t.loss / t.seen.max(1) as f64,
            train_acc: t.correct as f64 / t.seen.max(1) as f64,
            val_loss,
            val_acc,
            seconds,
            images_per_s: t.seen as f64 / seconds.max(1e-9),
        };
        progress.finish(&epoch_line(&record));
        save_checkpoint(vs, &dir)?;
        records.push(record);
        write_history(&dir, &records)?;
        let r = &records[records.len() - 1];
        let mut scalars = vec![
            ("lr", r.lr),
            ("loss/train", r.train_loss),
            ("accuracy/train", r.train_acc),
            ("images_per_s", r.images_per_s),
        ];
        if let (Some(l), Some(a)) = (r.val_loss, r.val_acc) {
            scalars.extend([("loss/validation", l), ("accuracy/validation", a)]);
        }
        events.scalars(r.epoch, &scalars)?;
        live.epoch(&records);
    }
    Ok(History::new(records, dir, Outcome::Finished))
}

/// Gives SDLM its curvature for the coming epoch, estimated on the first `samples`
/// images of the epoch's shuffled (and augmented) training batches, as the paper
/// re-estimates it on 500 patterns before each pass.
fn estimate_curvature(
    model: &dyn Model,
    vs: &nn::VarStore,
    data: &Dataset,
    opts: &BatchOpts,
    samples: usize,
    sdlm: &mut Sdlm,
) -> Result<()> {
    let opts = BatchOpts {
        batch_size: samples.min(data.train.len()),
        ..opts.clone()
    };
    let Some((x, _)) = data.train.batches(&opts).next() else {
        bail!(
            "{} has no training images to estimate SDLM's curvature on",
            data.name
        );
    };
    sdlm.set_curvature(
        model.diagonal_curvature(&x)?,
        vs.trainable_variables().len(),
    )
}

/// The finished epoch's line: loss and accuracy, the validation's if any, its time and speed.
fn epoch_line(r: &EpochRecord) -> String {
    let val = match (r.val_loss, r.val_acc) {
        (Some(l), Some(a)) => format!(" | val loss {l:.4} acc {a:.4}"),
        _ => String::new(),
    };
    format!(
        "lr {:.2e} loss {:.4} acc {:.4}{val} | {:.1}s, {:.0} img/s",
        r.lr, r.train_loss, r.train_acc, r.seconds, r.images_per_s
    )
}

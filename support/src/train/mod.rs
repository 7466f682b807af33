//! Training, evaluation, repeated passes, timing and run folders.
//!
//! A notebook trains in one call and gets a DataFrame back:
//! ```ignore
//! let history = fit(&model, &vs, &data, &FitConfig { epochs: 10, ..FitConfig::default() })?;
//! let eval = evaluate(&model, &data, &EvalOpts::new(vs.device()))?;
//! let ensemble = ensemble_curve(&model, &data, &EvalOpts::new(vs.device()), &[1, 2, 4, 8, 12])?;
//! ```
//! `config.rs` holds the configuration, `adam.rs` the fused Adam, `sdlm.rs` the 1998
//! LeNet-5's optimizer, `fit.rs` the loop,
//! `checks.rs` what is checked before it starts, `history.rs` the per-epoch record,
//! `checkpoint.rs` the run folders, `lock.rs` their one writer at a time, `rebuild.rs`
//! a run's net and data built again,
//! `evaluate.rs` evaluation and repeated passes,
//! `timing.rs` epoch-time estimates, `progress.rs` the progress line, `live.rs` the
//! training curves drawn as they grow in a notebook, `results.rs` a
//! model's numbers passed between notebooks, `test_record.rs` a finished run's one test,
//! `interrupt.rs` Ctrl-C handling and `tensorboard.rs` the event files.

pub mod adam;
pub mod checkpoint;
mod checks;
pub mod config;
pub mod evaluate;
pub mod fit;
pub mod history;
mod interrupt;
mod live;
pub mod lock;
mod progress;
pub mod rebuild;
pub mod results;
pub mod sdlm;
pub mod tensorboard;
pub mod test_record;
pub mod timing;

pub use checkpoint::{
    default_run_name, load_checkpoint, read_history, read_record, run_dir, runs_root,
};
pub use checks::check_before_fit;
pub(crate) use checks::check_weight_decay;
pub use config::{FitConfig, LrSchedule, Optimizer, Stepper};
pub use evaluate::{
    Ensemble, EvalOpts, Evaluation, Split, ensemble_curve, evaluate, predict_repeated,
};
pub use fit::{Diverged, fit, fit_or_resume, resume};
pub use history::{EpochRecord, History, Outcome};
pub use lock::RunLock;
pub use rebuild::{Rebuilt, rebuild};
pub use results::Results;
pub(crate) use test_record::read_test;
pub use test_record::{TestRecord, test_once};
pub use timing::{EpochEstimate, compare_devices, estimate_epoch_time};

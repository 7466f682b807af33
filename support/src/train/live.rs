//! The training curves, redrawn in place in a notebook while `fit` runs.
//!
//! Students expect to watch the curves grow, as fastai's and Keras's callbacks draw them,
//! rather than wait for the last epoch. A notebook cell cannot redraw an image by itself;
//! the kernel launcher's relay can (`scripts/iopub_relay.py`), so the figure is drawn only
//! behind it (as [`super::progress`] decides) and only when the progress line is on.
//! Anywhere else (a terminal, `cnn train`, a log, the tests) nothing is drawn or printed.
//!
//! Each drawing is one line on stdout, which the relay turns into a display the first time
//! and into an update of that display after:
//!
//! ```text
//! ESC "_cnn-figure show " <id> " " <the PNG in base64>
//! ESC "_cnn-figure end " <id>
//! ```
//!
//! `<id>` names one call's figure. The escape character keeps the line from being mistaken
//! for anything a cell prints. `end` empties the display when `fit` returns, however it
//! returns (finished, interrupted, diverged, failed), so that the cell shows the curves
//! once, where the notebook draws them after `fit`.
//!
//! A drawing is [`training_curves`] of the complete epochs, the figure the notebooks draw
//! afterwards. In the run's first epoch, which can take minutes, the figure also gets a
//! point every [`PARTIAL_EVERY`] batches: the means of the epoch so far, at the fraction
//! of the epoch done. Those points are only drawn; the history holds complete epochs.

use super::history::{EpochRecord, to_frame};
use super::progress::behind_relay;
use crate::plot::training_curves;
use base64::Engine;
use polars::prelude::{Column, DataFrame, NamedFrom, Series};
use std::sync::atomic::{AtomicU64, Ordering};

/// What starts a line of the live figure; `scripts/iopub_relay.py` reads the same.
const MARKER: &str = "\x1b_cnn-figure ";

/// Batches between two points of the first epoch: a handful of points in an MNIST epoch at
/// the notebooks' batch sizes (938 batches of 64), each the mean of enough batches to be
/// steady, and far enough apart that drawing them costs next to nothing.
const PARTIAL_EVERY: usize = 200;

/// The figure of one `fit` or `resume` call, drawn behind the relay.
pub(super) struct LiveCurves {
    /// The figure's id in its lines; `None` where nothing is drawn.
    id: Option<String>,
    /// The first epoch's points so far: fraction of the epoch, mean loss, accuracy.
    partial: Vec<[f64; 3]>,
    /// Whether a drawing was printed, which the relay then shows until `end`.
    shown: bool,
}

impl LiveCurves {
    /// A figure that draws itself only if `progress` is on and the relay is there.
    pub(super) fn new(progress: bool) -> Self {
        static FIGURES: AtomicU64 = AtomicU64::new(0);
        LiveCurves {
            id: (progress && behind_relay())
                .then(|| FIGURES.fetch_add(1, Ordering::Relaxed).to_string()),
            partial: Vec::new(),
            shown: false,
        }
    }

    /// After `done` of an epoch's `batches`, whose means so far are `loss` and `acc`.
    /// The call's first batch opens the figure, so that it stands above the progress
    /// lines; in the run's first epoch (no complete `records` yet) a point is added every
    /// [`PARTIAL_EVERY`] batches, until the epoch's own point replaces them.
    pub(super) fn batch(
        &mut self,
        records: &[EpochRecord],
        done: usize,
        batches: usize,
        loss: f64,
        acc: f64,
    ) {
        if self.id.is_none() {
            return;
        }
        if !records.is_empty() {
            if !self.shown {
                self.draw(&to_frame(records));
            }
        } else if (done == 1 || done.is_multiple_of(PARTIAL_EVERY)) && done < batches {
            self.partial.push([done as f64 / batches as f64, loss, acc]);
            self.draw(&partial_frame(&self.partial));
        }
    }

    /// After an epoch: the complete epochs, as the notebook will draw them.
    pub(super) fn epoch(&mut self, records: &[EpochRecord]) {
        if self.id.is_some() {
            self.partial.clear();
            self.draw(&to_frame(records));
        }
    }

    fn draw(&mut self, frame: &DataFrame) {
        let Some(id) = &self.id else {
            return;
        };
        match training_curves(&[("training", frame)]).and_then(|f| f.to_png()) {
            Ok(png) => {
                let png = base64::engine::general_purpose::STANDARD.encode(png);
                println!("{MARKER}show {id} {png}");
                self.shown = true;
            }
            Err(e) => {
                println!("the training curves cannot be drawn during training: {e:#}");
                self.end();
            }
        }
    }

    /// Empties the display, and draws no more.
    fn end(&mut self) {
        if let Some(id) = self.id.take()
            && self.shown
        {
            println!("{MARKER}end {id}");
        }
    }
}

impl Drop for LiveCurves {
    /// `fit` returning by any path ends the figure.
    fn drop(&mut self) {
        self.end();
    }
}

/// The first epoch's points as the columns [`training_curves`] reads, the epoch a fraction.
fn partial_frame(points: &[[f64; 3]]) -> DataFrame {
    let column = |name: &str, i: usize| -> Column {
        Series::new(
            name.into(),
            points.iter().map(|p| p[i]).collect::<Vec<f64>>(),
        )
        .into()
    };
    let columns = vec![
        column("epoch", 0),
        column("train_loss", 1),
        column("train_acc", 2),
    ];
    // Three columns of the same length: building the frame cannot fail.
    DataFrame::new(points.len(), columns).unwrap_or_default()
}

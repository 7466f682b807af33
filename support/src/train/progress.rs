//! One progress line per epoch, redrawn in place with `\r`.
//!
//! A carriage return moves back to the start of the line in a terminal and in
//! JupyterLab's output area alike, so each epoch leaves exactly one line: no flood of
//! output, and the finished line keeps the epoch's numbers. Redraws are throttled to a
//! few per second.

use std::io::Write;
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(250);
const BAR: usize = 20;

/// The progress line of one epoch.
pub(crate) struct Progress {
    enabled: bool,
    epoch: usize,
    epochs: usize,
    batches: usize,
    start: Instant,
    last: Option<Instant>,
    width: usize,
}

/// `1m05s` or `42s`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Progress {
    pub(crate) fn new(enabled: bool, epoch: usize, epochs: usize, batches: usize) -> Self {
        Progress {
            enabled,
            epoch,
            epochs,
            batches,
            start: Instant::now(),
            last: None,
            width: 0,
        }
    }

    fn draw(&mut self, text: &str, end: &str) {
        // Pad with spaces so a shorter line fully covers the previous one.
        let pad = self.width.saturating_sub(text.len());
        self.width = text.len();
        print!("\r{text}{}{end}", " ".repeat(pad));
        let _ = std::io::stdout().flush();
    }

    /// Redraws after `done` batches, if the last redraw is old enough.
    pub(crate) fn update(&mut self, done: usize, loss: f64, acc: f64, images: usize) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed() < REDRAW) {
            return;
        }
        self.last = Some(Instant::now());
        let elapsed = self.start.elapsed().as_secs_f64();
        let frac = done as f64 / self.batches.max(1) as f64;
        let filled = (frac * BAR as f64).round() as usize;
        let eta = if done > 0 {
            elapsed / done as f64 * (self.batches - done.min(self.batches)) as f64
        } else {
            0.0
        };
        let text = format!(
            "epoch {}/{} [{}{}] {:>3.0}% loss {loss:.4} acc {acc:.4} {:.0} img/s ETA {}",
            self.epoch,
            self.epochs,
            "#".repeat(filled.min(BAR)),
            ".".repeat(BAR - filled.min(BAR)),
            frac * 100.0,
            images as f64 / elapsed.max(1e-9),
            duration(eta)
        );
        self.draw(&text, "");
    }

    /// Draws the epoch's final line and moves to the next line.
    pub(crate) fn finish(&mut self, summary: &str) {
        if self.enabled {
            let text = format!("epoch {}/{} {summary}", self.epoch, self.epochs);
            self.draw(&text, "\n");
        }
    }

    /// Ends an unfinished line (interruption, divergence) so later output starts fresh.
    pub(crate) fn abandon(&mut self) {
        if self.enabled && self.last.is_some() {
            println!();
        }
    }
}

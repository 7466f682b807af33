//! One progress line per epoch, redrawn in place.
//!
//! A carriage return moves back to the start of the line in a terminal, so each epoch
//! leaves exactly one line: no flood of output, and the finished line keeps the epoch's
//! numbers. Redraws are throttled to a few per second.
//!
//! Inside the evcxr kernel a bare `\r` cannot work: evcxr forwards the notebook's output
//! to JupyterLab one complete line at a time. The project's kernel launcher relays that
//! output and turns lines that start with `\r` into a display redrawn in place, the next
//! plain line becoming its final text (`scripts/iopub_relay.py`); it says so with
//! `CNN_KERNEL_REDRAW`. Under a kernel without the relay, and when the output goes to a
//! file (a cluster job's log, `cnn train > log`), the progress is a new line at most every
//! [`LINE_EVERY`], so a long epoch still shows that it is alive, a short one prints only
//! its final line, and the log holds no carriage-return redraws.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(250);
/// How often a progress line is printed where lines cannot be redrawn.
const LINE_EVERY: Duration = Duration::from_secs(30);
const BAR: usize = 20;

/// Where the progress line goes, which decides how it is redrawn.
#[derive(Clone, Copy, PartialEq)]
enum Screen {
    /// A terminal: `\r` and padding redraw the line.
    Terminal,
    /// evcxr behind the launcher's relay: each redraw is a line starting with `\r`.
    Relay,
    /// evcxr alone, or not a terminal (a file, a pipe): only new lines, so few of them.
    Lines,
}

/// Whether the output goes through the kernel launcher's relay, which can redraw a
/// display in place (the progress line, and the live training curves of `super::live`).
pub(super) fn behind_relay() -> bool {
    // evcxr sets EVCXR_IS_RUNTIME in the process running cells; the launcher sets
    // CNN_KERNEL_REDRAW for the kernel, whose cells inherit it.
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
        && std::env::var_os("CNN_KERNEL_REDRAW").is_some()
}

impl Screen {
    fn detect() -> Self {
        if behind_relay() {
            Screen::Relay
        } else if std::env::var_os("EVCXR_IS_RUNTIME").is_none() && std::io::stdout().is_terminal()
        {
            Screen::Terminal
        } else {
            Screen::Lines
        }
    }
}

/// The progress line of one epoch.
pub(crate) struct Progress {
    enabled: bool,
    epoch: usize,
    epochs: usize,
    batches: usize,
    start: Instant,
    last: Option<Instant>,
    width: usize,
    /// The last line drawn, which the relay keeps as the line's final text on `abandon`.
    shown: String,
    screen: Screen,
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
            shown: String::new(),
            screen: Screen::detect(),
        }
    }

    /// Redraws the line; `last` ends it.
    fn draw(&mut self, text: &str, last: bool) {
        match self.screen {
            Screen::Terminal => {
                // Pad with spaces so a shorter line fully covers the previous one.
                let pad = self.width.saturating_sub(text.len());
                self.width = text.len();
                let end = if last { "\n" } else { "" };
                print!("\r{text}{}{end}", " ".repeat(pad));
                let _ = std::io::stdout().flush();
            }
            // A plain line closes the relay's display with this text.
            Screen::Relay if !last => println!("\r{text}"),
            Screen::Relay | Screen::Lines => println!("{text}"),
        }
        self.shown = text.to_string();
    }

    /// Redraws after `done` batches, if the last redraw is old enough.
    pub(crate) fn update(&mut self, done: usize, loss: f64, acc: f64, images: usize) {
        let lines = self.screen == Screen::Lines;
        let every = if lines { LINE_EVERY } else { REDRAW };
        // The first redraw comes at once, except where only new lines can be printed: there
        // it waits `every`, so a short epoch prints only its final line.
        let due = match self.last {
            Some(t) => t.elapsed() >= every,
            None => !lines || self.start.elapsed() >= every,
        };
        if !self.enabled || !due {
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
        self.draw(&text, false);
    }

    /// Draws the epoch's final line and moves to the next line.
    pub(crate) fn finish(&mut self, summary: &str) {
        if self.enabled {
            let text = format!("epoch {}/{} {summary}", self.epoch, self.epochs);
            self.draw(&text, true);
        }
    }

    /// Ends an unfinished line (interruption, divergence) so later output starts fresh,
    /// keeping what it showed.
    pub(crate) fn abandon(&mut self) {
        if !self.enabled || self.last.is_none() {
            return;
        }
        match self.screen {
            Screen::Terminal => println!(),
            Screen::Relay => println!("{}", self.shown),
            Screen::Lines => {}
        }
    }
}

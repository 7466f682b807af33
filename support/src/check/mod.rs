//! The exercises' gaps and checks.
//!
//! A student's notebook has blanks written as [`gap!`]: a cell with one does not compile,
//! and the compiler's message names the exercise and what to fill in, so Run All stops
//! there and nothing else is lost. After each exercise a check takes what the student
//! built and answers in a sentence or two: what a right answer gives ([`Passed`], shown
//! as `✓ Exercise 502.1: ...`), or what is wrong and where to look, never the value it
//! wants (an error, so that Run All stops at it too).
//!
//! `basics.rs` checks notebook 500's counting exercises, `convolution.rs` its convolution
//! by hand, `fmp.rs` the FMP exercises (501, 502), `lenet.rs` the LeNet-5 ones (503),
//! `extensions.rs` the optional extensions' runs.

pub mod basics;
pub mod convolution;
pub mod extensions;
pub mod fmp;
pub mod lenet;

pub use basics::{conv_parameters, dense_weights, hog_length, output_side};
pub use convolution::sliding_window;
pub use extensions::extension;
pub use fmp::{mnist_adaptation, size_chain};
pub use lenet::{lenet_layers, training_step};

use std::fmt;

/// A blank in an exercise: `gap!("502.1", "the channels of an MNIST image")`. It stands
/// for a value or a statement, and stops the cell from compiling with a message that
/// names the exercise and what goes there. Replace the whole `gap!(...)` with your code.
#[macro_export]
macro_rules! gap {
    ($exercise:literal, $what:literal) => {
        compile_error!(concat!(
            "Exercise ",
            $exercise,
            ": fill in ",
            $what,
            " (replace this gap!(...) with your code)"
        ))
    };
}

/// A check that passed: what the student's answer gives, shown as
/// `✓ Exercise 502.1: sizes 36 -> 2, ...` (the grader looks for that mark).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    pub exercise: &'static str,
    pub summary: String,
}

impl fmt::Display for Passed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "✓ Exercise {}: {}", self.exercise, self.summary)
    }
}

impl Passed {
    /// Shows the line as a cell's result.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

/// A check that failed: every problem found, one per line, under
/// `✗ Exercise 502.1: ...` (the grader looks for that mark). Returned through `?`, it
/// stops Run All at the check's cell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("✗ Exercise {exercise}: {}", problems.join("\n  "))]
pub(crate) struct Failed {
    pub exercise: &'static str,
    pub problems: Vec<String>,
}

/// Tries the student's answer on each case in turn and keeps the first problem:
/// `judge(case)` says what is wrong with that case, if anything. A panic in the student's
/// code (a shape libtorch rejects, an index out of range) is a problem too.
fn first_problem<C: Copy>(cases: &[C], judge: impl Fn(C) -> Option<String>) -> Vec<String> {
    cases
        .iter()
        .find_map(|&case| {
            crate::models::own::catch_torch_panic(|| judge(case))
                .unwrap_or_else(|message| Some(format!("your function panicked: {message}")))
        })
        .into_iter()
        .collect()
}

/// `Ok(Passed)` when no problem was found, else the [`Failed`] error listing them.
fn verdict(
    exercise: &'static str,
    problems: Vec<String>,
    summary: impl FnOnce() -> String,
) -> anyhow::Result<Passed> {
    if problems.is_empty() {
        Ok(Passed {
            exercise,
            summary: summary(),
        })
    } else {
        Err(Failed { exercise, problems }.into())
    }
}

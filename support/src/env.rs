//! What the user sets in the environment, read in one place at the bottom of the crate:
//! the other modules take these values as arguments (a data set is loaded `quick` because
//! its caller says so), so nothing deep inside reads a variable behind its caller's back.
//!
//! `CNN_QUICK=1`: tiny subsets and sizes, so that every notebook runs in seconds.
//! `CNN_THREADS=N`: libtorch's CPU threads (default: every core).
//! `CNN_DEVICE` and `CNN_DATASET` are read where the choice is made (`device`, `data`).

use anyhow::{Result, bail};

/// True when `CNN_QUICK=1` (or `true`).
pub fn quick_mode() -> bool {
    std::env::var("CNN_QUICK").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The CPU thread count to use: `CNN_THREADS` if set, else every core the OS gives us.
pub fn threads() -> Result<i32> {
    match std::env::var("CNN_THREADS") {
        Ok(v) => match v.trim().parse::<i32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!(
                "CNN_THREADS={v:?} is not a positive whole number; unset it or set e.g. CNN_THREADS=2"
            ),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get() as i32)),
    }
}

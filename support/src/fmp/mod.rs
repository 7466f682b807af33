//! Graham's fractional max-pooling (arXiv:1412.6071): the net's sizes (`sizes.rs`), the
//! pooling regions of all four variants (`regions.rs`) and the layer itself (`layer.rs`).
//!
//! Pooling maps `N_in x N_in` to `N_out x N_out` with `1 < N_in / N_out <= 2`; a ratio of
//! `2^(1/n)` shrinks the grid n times more slowly than 2x2 max-pooling, so a small image
//! passes through many more layers. A new set of regions is drawn on every pass, so the
//! network is its own ensemble at test time.

mod channels_last;
mod cpu;
mod layer;
mod native;
mod regions;
mod sizes;
// The regions' internals are tested from inside the crate, with the tests under
// support/tests/unit/.
#[cfg(test)]
#[path = "../../tests/unit/fmp.rs"]
mod tests;

pub(crate) use layer::torch_seed;
pub use layer::{Fmp, repeated_pooling};
pub use regions::{Interval, Regions};
pub use sizes::{FmpSizes, FmpStep, fmp_size_table, fmp_sizes, parse_alpha};

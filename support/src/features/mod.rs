//! Hand-made image descriptors, the features that came before learned ones: what a
//! convolutional net's first layers replace. `hog.rs` is the histogram of oriented
//! gradients.

pub mod hog;

pub use hog::{Hog, HogConfig, hog};

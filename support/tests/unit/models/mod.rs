//! The models' building blocks, tested from inside the crate: the initialisation, the
//! fused leaky ReLU-dropout and the unit-variance start are internals of the nets.

mod init;
mod leaky_dropout;
mod unit_variance;

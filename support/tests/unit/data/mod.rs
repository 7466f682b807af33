//! The data formats' readers and writers, tested from inside the crate: the parsers and
//! the download are internals, checked here rather than made public for the tests.

mod bad_inputs;
mod download;
mod formats;

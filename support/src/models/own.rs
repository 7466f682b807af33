//! A net of your own, written as the tch-rs examples write one (a struct with
//! `impl ModuleT`, or `nn::seq_t()`), made ready for `fit`, `evaluate`, `summary` and
//! `debug_forward` by one line that states the input it takes:
//!
//! ```ignore
//! let model = OwnNet::new(LeNet::new(&vs.root()), &vs, [1, 28, 28])?;
//! let history = fit(&model, &vs, &data, &FitConfig::default())?;
//! ```
//!
//! The library cannot see inside a net of your own, so its parameter table and debug
//! pass show it as one layer: its `forward_t`, with all of its parameters.

use super::Model;
use super::layers::{Expects, Layer};
use anyhow::{Result, anyhow, ensure};
use std::panic::{AssertUnwindSafe, catch_unwind};
use tch::Tensor;
use tch::nn::{self, ModuleT};

/// Your net `M` with the input it takes; see the module docs.
#[derive(Debug)]
pub struct OwnNet<M> {
    net: M,
    channels: i64,
    side: i64,
    parameters: Vec<Tensor>,
}

impl<M: ModuleT> OwnNet<M> {
    /// Wraps `net`, whose variables are in `vs`, for images of `[channels, height, width]`
    /// (square: the data sets here are). Smaller images are zero-padded up to that size.
    pub fn new(net: M, vs: &nn::VarStore, input: [i64; 3]) -> Result<Self> {
        let [channels, height, width] = input;
        ensure!(
            channels > 0 && height > 0 && height == width,
            "OwnNet::new needs the input of one image as [channels, side, side], e.g. \
             [1, 28, 28] for MNIST; got {input:?}"
        );
        Ok(OwnNet {
            net,
            channels,
            side: height,
            parameters: vs.trainable_variables(),
        })
    }

    /// The net itself, e.g. to look at one of its layers.
    pub fn net(&self) -> &M {
        &self.net
    }
}

impl<M: ModuleT> ModuleT for OwnNet<M> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.net.forward_t(xs, train)
    }
}

impl<M: ModuleT> Model for OwnNet<M> {
    fn input_shape(&self) -> (i64, i64) {
        (self.channels, self.side)
    }

    fn layers(&self) -> Vec<Layer<'_>> {
        let name = std::any::type_name::<M>()
            .rsplit("::")
            .next()
            .unwrap_or("your net");
        vec![Layer::new(
            format!("{name}: your forward_t"),
            Expects::exactly(self.channels, self.side),
            self.parameters.iter().collect(),
            |x, train| self.net.forward_t(x, train),
        )]
    }

    /// Your `forward_t`, with a libtorch error in it (a layer that does not fit the
    /// previous one's output) returned as an error that says so, instead of a panic.
    fn try_forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        Expects::exactly(self.channels, self.side).check("your net's input", &xs.size())?;
        catch_torch_panic(|| self.net.forward_t(xs, train)).map_err(|message| {
            anyhow!(
                "your net's forward_t failed on a batch of shape {:?}: {message}. Check that \
                 each layer takes the previous one's output (print the shapes with \
                 debug_forward, or x.size() in forward_t)",
                xs.size()
            )
        })
    }
}

/// Runs `f`, turning a panic (tch panics when libtorch rejects an op, e.g. a layer fed
/// the wrong shape) into its message's first line. The panic hook is silenced meanwhile,
/// so the message is not printed twice.
pub(crate) fn catch_torch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    out.map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("a panic without a message");
        message.lines().next().unwrap_or(message).to_string()
    })
}

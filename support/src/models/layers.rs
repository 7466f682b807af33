//! A model as a list of named layers: the one description that the forward pass, the
//! parameter table ([`super::summary`]) and the debug pass all run, so they cannot disagree.
//!
//! Each [`Layer`] says what input it expects ([`Expects`]), which trainable tensors it owns,
//! and how to compute its output. Checking the expectation before calling libtorch is what
//! turns "wrong shape" into a message naming the layer instead of a C++ backtrace.

use anyhow::{Result, bail};
use tch::Tensor;

/// The input shape a layer accepts, checked before its forward pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expects {
    /// Images `[B, channels, H, W]` with `min_side <= H, W <= max_side`.
    Image {
        channels: i64,
        min_side: i64,
        max_side: i64,
    },
    /// Feature vectors `[B, features]`.
    Features(i64),
}

impl Expects {
    /// Images of exactly `side x side`, e.g. a pooling layer sized for one grid.
    pub fn exactly(channels: i64, side: i64) -> Self {
        Expects::Image {
            channels,
            min_side: side,
            max_side: side,
        }
    }

    /// Images up to `side x side`, e.g. the zero-padding that grows them to `side`.
    pub fn at_most(channels: i64, side: i64) -> Self {
        Expects::Image {
            channels,
            min_side: 1,
            max_side: side,
        }
    }

    /// Checks `shape` (batch first) and says what was expected when it does not fit.
    pub fn check(&self, layer: &str, shape: &[i64]) -> Result<()> {
        match *self {
            Expects::Image {
                channels,
                min_side,
                max_side,
            } => {
                let sides = if min_side == max_side {
                    format!("{min_side}x{min_side}")
                } else if max_side == i64::MAX {
                    format!("at least {min_side}x{min_side}")
                } else {
                    format!("at most {max_side}x{max_side}")
                };
                let fits = shape.len() == 4
                    && shape[1] == channels
                    && shape[2..]
                        .iter()
                        .all(|&s| (min_side..=max_side).contains(&s));
                if !fits {
                    bail!(
                        "layer `{layer}` expects images [batch, {channels}, H, W] with H and W \
                         {sides}, but got {shape:?}; check the previous layer's output or the \
                         input's channels and padding"
                    );
                }
            }
            Expects::Features(n) => {
                if shape.len() != 2 || shape[1] != n {
                    bail!(
                        "layer `{layer}` expects features [batch, {n}], but got {shape:?}; \
                         check the previous layer's output size"
                    );
                }
            }
        }
        Ok(())
    }
}

type Forward<'a> = Box<dyn Fn(&Tensor, bool) -> Tensor + 'a>;

/// One named step of a model: its expected input, its trainable tensors, its forward pass.
pub struct Layer<'a> {
    /// Name shown in the parameter table and in error messages, e.g. `C3 conv 5x5 (partial)`.
    pub name: String,
    /// What input it accepts.
    pub expects: Expects,
    /// The trainable tensors this layer owns (fixed buffers are left out).
    pub parameters: Vec<&'a Tensor>,
    forward: Forward<'a>,
}

impl<'a> Layer<'a> {
    /// A layer from its parts; `forward(x, train)` gets the input and the training flag.
    pub fn new(
        name: impl Into<String>,
        expects: Expects,
        parameters: Vec<&'a Tensor>,
        forward: impl Fn(&Tensor, bool) -> Tensor + 'a,
    ) -> Self {
        Layer {
            name: name.into(),
            expects,
            parameters,
            forward: Box::new(forward),
        }
    }

    /// The layer's output, unchecked (the fast path used in training).
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        (self.forward)(x, train)
    }

    /// Number of trainable values: the sum of the parameter tensors' element counts.
    pub fn parameter_count(&self) -> i64 {
        self.parameters.iter().map(|t| t.numel() as i64).sum()
    }
}

/// `impl ModuleT` for a model whose forward pass is its [`super::Model::layers`] run in
/// order: one description of the net, so that the forward pass, the parameter table and
/// the debug pass cannot disagree.
macro_rules! forward_by_layers {
    ($model:ty) => {
        impl tch::nn::ModuleT for $model {
            fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
                $crate::models::layers::run(&$crate::models::Model::layers(self), xs, train)
            }
        }
    };
}
pub(crate) use forward_by_layers;

/// Runs `layers` in order: the forward pass of every model in this crate.
pub fn run(layers: &[Layer<'_>], x: &Tensor, train: bool) -> Tensor {
    layers
        .iter()
        .fold(x.shallow_clone(), |x, layer| layer.forward(&x, train))
}

/// Runs `layers` in order, checking each layer's input first: a wrong shape is an error
/// naming the layer instead of a libtorch panic. The checks cost a `size()` per layer.
pub(crate) fn try_run(layers: &[Layer<'_>], x: &Tensor, train: bool) -> Result<Tensor> {
    let mut x = x.shallow_clone();
    for layer in layers {
        layer.expects.check(&layer.name, &x.size())?;
        x = layer.forward(&x, train);
    }
    Ok(x)
}

/// The trainable tensors of an optional-bias layer, for [`Layer::parameters`].
pub(crate) fn weights_and_bias<'a>(ws: &'a Tensor, bs: &'a Option<Tensor>) -> Vec<&'a Tensor> {
    std::iter::once(ws).chain(bs.iter()).collect()
}

//! Batched augmentation on the training device (work in progress).

use rand::rngs::StdRng;
use tch::Tensor;

/// Which random distortions to apply to each training batch. The default applies none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Augment {
    /// Random rotation of up to this many degrees either way (the course uses 10 for MNIST).
    pub rotation_degrees: f64,
}

impl Augment {
    /// True when no distortion is switched on.
    pub fn is_none(&self) -> bool {
        *self == Augment::default()
    }

    /// Distorts a float batch `[B, C, H, W]` of pixels in [0, 1], drawing from `rng`.
    pub fn apply(&self, batch: &Tensor, _rng: &mut StdRng) -> Tensor {
        batch.shallow_clone()
    }
}

//! Stochastic diagonal Levenberg-Marquardt (LeCun et al. 1998, appendix C), the 1998
//! LeNet-5's optimizer: plain gradient steps in which each weight `w_k` gets its own rate
//! `ε_k = η / (μ + h_kk)`, `h_kk` the loss's Gauss-Newton second derivative for that
//! weight, estimated on a few hundred training images before each pass
//! ([`crate::models::Model::diagonal_curvature`]). A weight shared by many connections
//! (C1's 25 weights serve 784 positions each) has a large `h_kk` and so a small step; `μ`
//! caps the step where the curvature is near zero.
//!
//! The paper updates after every image. A batch of `B` images here takes one step of
//! `B` times the rate along the batch's mean gradient: to first order the same as `B`
//! single-image steps, and much faster on libtorch.

use anyhow::{Result, bail};
use tch::Tensor;

/// SDLM over the parameters a curvature estimate names.
#[derive(Debug)]
pub struct Sdlm {
    /// `(parameter, ε_k / η)` for each trainable tensor, from the last estimate.
    rates: Vec<(Tensor, Tensor)>,
    lr: f64,
    mu: f64,
    batch_size: usize,
}

impl Sdlm {
    /// SDLM with global rate `lr` and `mu`, for batches of `batch_size` images. Give it an
    /// estimate with [`Sdlm::set_curvature`] before the first step: until then it knows
    /// no parameters, and a step changes nothing.
    pub fn new(lr: f64, mu: f64, batch_size: usize) -> Sdlm {
        Sdlm {
            rates: Vec::new(),
            lr,
            mu,
            batch_size,
        }
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Takes `(parameter, h)` pairs covering all `trainable` parameters: each weight's
    /// step becomes `1 / (μ + h)` times the global rate.
    pub fn set_curvature(
        &mut self,
        curvature: Vec<(Tensor, Tensor)>,
        trainable: usize,
    ) -> Result<()> {
        if curvature.len() != trainable {
            bail!(
                "the curvature estimate covers {} parameter tensors but the model trains {}; \
                 SDLM needs an estimate for every trainable tensor",
                curvature.len(),
                trainable
            );
        }
        let mu = self.mu;
        self.rates = curvature
            .into_iter()
            .map(|(p, h)| (p, (h + mu).reciprocal()))
            .collect();
        Ok(())
    }

    /// Backpropagates `loss` (a batch mean) and takes one step.
    pub fn backward_step(&mut self, loss: &Tensor) {
        let params: Vec<&Tensor> = self.rates.iter().map(|(p, _)| p).collect();
        let grads = Tensor::run_backward(&[loss], &params, false, false);
        self.update(&grads);
    }

    /// One step from the gradients that `backward` accumulated in `.grad`.
    pub fn step(&mut self) {
        let grads: Vec<Tensor> = self.rates.iter().map(|(p, _)| p.grad()).collect();
        self.update(&grads);
    }

    /// Zeroes the `.grad` that `backward` accumulates into (for [`Sdlm::step`]).
    pub fn zero_grad(&mut self) {
        for (p, _) in &mut self.rates {
            p.zero_grad();
        }
    }

    /// `w_k -= η B (ε_k/η) g_k`; a parameter without a gradient stays as it is.
    fn update(&self, grads: &[Tensor]) {
        let scale = self.lr * self.batch_size as f64;
        tch::no_grad(|| {
            for ((p, rate), g) in self.rates.iter().zip(grads) {
                if g.defined() {
                    let _ = p.shallow_clone().g_sub_(&(g * rate * scale));
                }
            }
        });
    }
}

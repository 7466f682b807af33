//! Adam and AdamW as one pass over each parameter.
//!
//! libtorch's Adam updates a parameter with about ten tensor ops (scale the first moment,
//! add the gradient, the same for the second moment, square root, divide, add epsilon,
//! add to the weights), each a full pass over memory. Here each `f32` CPU parameter is
//! updated in one Rust loop that reads the weight, gradient and both moments once, split
//! over libtorch's threads, several times faster than libtorch's step. Other devices and
//! kinds run the same formulas as tensor ops.
//!
//! The calling thread updates one share itself: right after the backward pass libtorch's
//! OpenMP workers still spin on the other cores, so threads of ours that only wait there
//! would double the step. The crate's other CPU kernels (the dropout mask, the FMP region
//! maxima) keep the caller waiting: with it working, the FMP net trained slower. The
//! measurements: docs/speed-history.md, "Measurements behind the code's comments".
//!
//! The gradients come from `autograd.grad` rather than `backward`, so they are fresh
//! tensors: nothing accumulates into `.grad`, and nothing has to zero it between steps.

use tch::{Device, Kind, Tensor, nn};

/// Adam's constants, as in PyTorch.
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// Adam (or AdamW) over every trainable variable of a var store.
#[derive(Debug)]
pub struct Adam {
    params: Vec<Tensor>,
    /// First and second moments, one pair per parameter.
    moments: Vec<(Tensor, Tensor)>,
    lr: f64,
    weight_decay: f64,
    /// AdamW: weight decay shrinks the weights directly instead of adding to the gradient.
    decoupled: bool,
    steps: i32,
}

impl Adam {
    /// Adam over `vs`'s trainable variables; `decoupled` makes it AdamW.
    pub fn new(vs: &nn::VarStore, lr: f64, weight_decay: f64, decoupled: bool) -> Adam {
        let params = vs.trainable_variables();
        let moments = params
            .iter()
            .map(|p| (p.zeros_like(), p.zeros_like()))
            .collect();
        Adam {
            params,
            moments,
            lr,
            weight_decay,
            decoupled,
            steps: 0,
        }
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Backpropagates `loss` to the parameters and takes one step.
    pub fn backward_step(&mut self, loss: &Tensor) {
        let grads = Tensor::run_backward(&[loss], &self.params, false, false);
        self.update(&grads);
    }

    /// One step from the gradients that `backward` accumulated in `.grad`.
    pub fn step(&mut self) {
        let grads: Vec<Tensor> = self.params.iter().map(Tensor::grad).collect();
        self.update(&grads);
    }

    /// Zeroes the `.grad` that `backward` accumulates into (for [`Adam::step`]).
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.zero_grad();
        }
    }

    /// One Adam step; a parameter without a gradient (unused by the loss) stays as it is.
    fn update(&mut self, grads: &[Tensor]) {
        self.steps += 1;
        let c = Coefficients::new(self, self.steps);
        let mut fused = Vec::new();
        tch::no_grad(|| {
            let triples = self.params.iter().zip(grads).zip(&self.moments);
            for ((p, g), (m, v)) in triples {
                if !g.defined() {
                    continue;
                }
                match Slices::of(p, g, m, v) {
                    Some(s) => fused.push(s),
                    None => c.tensor_step(p, g, m, v),
                }
            }
        });
        c.fused_step(fused);
    }
}

/// The scalars of step `t`.
#[derive(Clone, Copy)]
struct Coefficients {
    /// Added to the gradient (Adam's L2 penalty) ...
    l2: f64,
    /// ... or multiplied into the weights first (AdamW): `1 - lr wd`.
    shrink: f64,
    /// `lr / (1 - beta1^t)`.
    step_size: f64,
    /// `sqrt(1 - beta2^t)`.
    correction2: f64,
}

impl Coefficients {
    fn new(adam: &Adam, t: i32) -> Coefficients {
        let (l2, shrink) = if adam.decoupled {
            (0.0, 1.0 - adam.lr * adam.weight_decay)
        } else {
            (adam.weight_decay, 1.0)
        };
        Coefficients {
            l2,
            shrink,
            step_size: adam.lr / (1.0 - BETA1.powi(t)),
            correction2: (1.0 - BETA2.powi(t)).sqrt(),
        }
    }

    /// The step with tensor ops, for any device and kind (libtorch's own formulas).
    fn tensor_step(&self, p: &Tensor, g: &Tensor, m: &Tensor, v: &Tensor) {
        let (mut p, mut m, mut v) = (p.shallow_clone(), m.shallow_clone(), v.shallow_clone());
        let g = if self.l2 != 0.0 {
            g + &p * self.l2
        } else {
            g.shallow_clone()
        };
        if self.shrink != 1.0 {
            let _ = p.g_mul_scalar_(self.shrink);
        }
        let _ = m.g_mul_scalar_(BETA1).g_add_(&(&g * (1.0 - BETA1)));
        let _ = v.g_mul_scalar_(BETA2).g_add_(&(&g * &g * (1.0 - BETA2)));
        let denom = v.sqrt() / self.correction2 + EPS;
        let _ = p.g_sub_(&(&m / denom * self.step_size));
    }

    /// The step in Rust over all `f32` CPU parameters at once, split into equal shares of
    /// elements over libtorch's threads ([`crate::parallel::run_parts`]).
    fn fused_step(&self, params: Vec<Slices<'_>>) {
        let total: usize = params.iter().map(|s| s.p.len()).sum();
        let threads = (tch::get_num_threads().max(1) as usize).min(total.div_ceil(32_768));
        if threads == 0 {
            return;
        }
        let mut shares: Vec<Vec<Slices<'_>>> = (0..threads).map(|_| Vec::new()).collect();
        let per = total.div_ceil(threads);
        let (mut share, mut room) = (0, per);
        for mut s in params {
            while s.p.len() > room && share + 1 < threads {
                if room > 0 {
                    let (head, tail) = s.split_at(room);
                    shares[share].push(head);
                    s = tail;
                }
                share += 1;
                room = per;
            }
            room = room.saturating_sub(s.p.len());
            shares[share].push(s);
        }
        let c = *self;
        crate::parallel::run_parts(shares, |share| {
            share.into_iter().for_each(|s| c.fused_slices(s))
        });
    }

    fn fused_slices(&self, s: Slices<'_>) {
        let (b1, b2, eps) = (BETA1 as f32, BETA2 as f32, EPS as f32);
        let (l2, shrink) = (self.l2 as f32, self.shrink as f32);
        let (step_size, correction2) = (self.step_size as f32, self.correction2 as f32);
        let values =
            s.p.iter_mut()
                .zip(s.g)
                .zip(s.m.iter_mut().zip(s.v.iter_mut()));
        for ((p, &g), (m, v)) in values {
            let g = g + l2 * *p;
            *p *= shrink;
            *m = flush(b1 * *m + (1.0 - b1) * g);
            *v = flush(b2 * *v + (1.0 - b2) * g * g);
            *p -= step_size * *m / (v.sqrt() / correction2 + eps);
        }
    }
}

/// Moments below this are set to zero.
///
/// A weight whose gradient is zero (one that feeds a dead ReLU unit, as many of
/// LeNet-5's do) keeps a first moment that shrinks by `BETA1` every step. After about 700
/// steps it falls below `f32::MIN_POSITIVE` into the subnormal numbers, and every multiply
/// that reads or makes one costs an Intel core about a hundred cycles, which slowed
/// LeNet-5's training by about a third (docs/speed-history.md). A first moment under
/// 1e-30 moves its weight by at most `step_size * 1e-30 / EPS` (1e-25 at a rate of
/// 0.001), far below a weight's `f32` precision, and a second moment under 1e-30 adds less
/// than 1e-15 to the step's denominator, whose `EPS` is 1e-8: zero takes the same step.
/// The tensor-op step for other devices and kinds leaves its moments as they are: NVIDIA
/// GPUs are said to handle subnormal `f32` numbers at full speed.
const NEGLIGIBLE: f32 = 1e-30;

fn flush(x: f32) -> f32 {
    if x.abs() < NEGLIGIBLE { 0.0 } else { x }
}

/// A parameter, its gradient and its moments as `f32` slices.
struct Slices<'a> {
    p: &'a mut [f32],
    g: &'a [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
}

impl<'a> Slices<'a> {
    /// The slices of contiguous `f32` CPU tensors; `None` for anything else.
    fn of(p: &'a Tensor, g: &'a Tensor, m: &'a Tensor, v: &'a Tensor) -> Option<Slices<'a>> {
        let n = p.numel();
        let ok = [p, g, m, v].iter().all(|t| {
            t.device() == Device::Cpu
                && t.kind() == Kind::Float
                && t.is_contiguous()
                && t.numel() == n
        });
        if !ok {
            return None;
        }
        // SAFETY: four contiguous `f32` CPU tensors of `n` elements that outlive the
        // slices. The parameter and the moments are distinct allocations written only
        // here; the gradient is a separate tensor that is only read.
        unsafe {
            Some(Slices {
                p: std::slice::from_raw_parts_mut(p.data_ptr() as *mut f32, n),
                g: std::slice::from_raw_parts(g.data_ptr() as *const f32, n),
                m: std::slice::from_raw_parts_mut(m.data_ptr() as *mut f32, n),
                v: std::slice::from_raw_parts_mut(v.data_ptr() as *mut f32, n),
            })
        }
    }

    fn split_at(self, k: usize) -> (Slices<'a>, Slices<'a>) {
        let (p0, p1) = self.p.split_at_mut(k);
        let (g0, g1) = self.g.split_at(k);
        let (m0, m1) = self.m.split_at_mut(k);
        let (v0, v1) = self.v.split_at_mut(k);
        (
            Slices {
                p: p0,
                g: g0,
                m: m0,
                v: v0,
            },
            Slices {
                p: p1,
                g: g1,
                m: m1,
                v: v1,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a gradient for 900 steps, a first moment of 0.1 would shrink to 0.1 * 0.9^900,
    /// about 7e-43: a subnormal number.
    #[test]
    fn moments_of_weights_without_gradient_reach_zero_not_subnormal_numbers() {
        let vs = nn::VarStore::new(Device::Cpu);
        let p = vs.root().var("p", &[1000], nn::Init::Const(1.0));
        let mut adam = Adam::new(&vs, 1e-3, 0.0, false);
        adam.backward_step(&p.sum(Kind::Float));
        for _ in 0..900 {
            adam.backward_step(&(&p * 0.0).sum(Kind::Float));
        }
        let (m, v) = &adam.moments[0];
        assert_eq!(
            m.abs().max().double_value(&[]),
            0.0,
            "first moment not flushed"
        );
        let v = v.min().double_value(&[]);
        assert!(v > 1e-4, "second moment (0.001 * 0.999^900) lost: {v:e}");
    }
}

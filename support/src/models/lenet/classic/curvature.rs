//! The 1998 LeNet-5's curvature estimate for stochastic diagonal Levenberg-Marquardt
//! (LeCun et al. 1998, appendix C, after Becker and LeCun 1989): for each weight, the
//! Gauss-Newton second derivative of the loss, with every off-diagonal term dropped.
//!
//! The paper backpropagates second derivatives as gradients are backpropagated, but with
//! squares: `∂²E/∂a² = f'(a)² Σ w² ∂²E/∂a'²` from a layer's outputs `a'` down to its
//! pre-activations `a`, and `∂²E/∂w² = Σ x² ∂²E/∂a²` over the connections a shared weight
//! `w` makes, `x` the connection's input. Here autograd does it: the net is copied as a
//! linear "squared" net in which each layer `a = A(x; w) + b` becomes
//! `z = A(u; w²) + A(x²; p) + q`, for the layer's recorded input `x` and zero-valued
//! probes `p` and `q` of the weights' shapes, and each squashing becomes a product with
//! `f'(a)²`. Backpropagating the output's second derivatives through that copy leaves in
//! each probe's gradient exactly the sum above, for that weight.
//!
//! At the output the paper's loss is `y_D + log(exp(-j) + Σ exp(-y_i))`, `y_i` the squared
//! distance from F6 to bitmap `i`. Its first term's second derivative for each F6 output
//! is 2; the second term, which only pushes away wrong classes that are close, is left
//! out, as the Gauss-Newton estimate must stay positive.

use super::{Classic, squash, sum_2x2};
use tch::{Kind, Tensor};

/// `∂²y_D/∂x²` for each F6 output `x`: `y_D = Σ (x - c)²`.
const OUTPUT_SECOND_DERIVATIVE: f64 = 2.0;

/// `f'(a)²` for the squashing `f(a) = 1.7159 tanh(2a/3)`.
fn slope_squared(a: &Tensor) -> Tensor {
    let t = (a * (2.0 / 3.0)).tanh();
    ((-t.square() + 1.0) * (1.7159 * 2.0 / 3.0)).square()
}

/// The probes, each paired with the parameter it stands for.
#[derive(Default)]
struct Probes(Vec<(Tensor, Tensor)>);

impl Probes {
    /// A zero tensor shaped like `parameter` whose gradient collects its second derivative.
    fn add(&mut self, parameter: &Tensor) -> Tensor {
        let p = parameter.zeros_like().detach().set_requires_grad(true);
        self.0.push((parameter.shallow_clone(), p.shallow_clone()));
        p
    }

    /// One layer `a = op(x; w) + b` of the squared net: `op(u; w²) + op(x²; p) + q`, with
    /// no `u` term for the first layer (nothing below it has weights). `op` must be
    /// linear in each argument; the bias is broadcast as `bias_shape`.
    fn layer(
        &mut self,
        u: Option<&Tensor>,
        x: &Tensor,
        (weights, bias): (&Tensor, Option<&Tensor>),
        bias_shape: &[i64],
        op: impl Fn(&Tensor, &Tensor) -> Tensor,
    ) -> Tensor {
        let mut z = op(&x.square(), &self.add(weights));
        if let Some(u) = u {
            z += op(u, &weights.detach().square());
        }
        if let Some(b) = bias {
            z += self.add(b).view(bias_shape);
        }
        z
    }
}

fn conv(x: &Tensor, w: &Tensor, groups: i64) -> Tensor {
    x.conv2d(w, None::<&Tensor>, [1], [0], [1], groups)
}

impl Classic {
    /// `(parameter, ∂²E/∂w²)` for every trainable tensor, each second derivative averaged
    /// over the images of `x` (a batch already padded to 32x32, as training feeds it).
    pub(in crate::models::lenet) fn diagonal_curvature(&self, x: &Tensor) -> Vec<(Tensor, Tensor)> {
        let map = [1, -1, 1, 1];
        let pooled = |x: &Tensor, w: &Tensor| sum_2x2(x) * w.view(map);
        // The forward pass, keeping each layer's input and pre-activation.
        let (a1, x1, a2, x2, a3, x3, a4, x4, a5, x5, a6) = tch::no_grad(|| {
            let a1 = x.apply(&self.c1);
            let x1 = squash(&a1);
            let a2 = self.s2.pre_activation(&x1);
            let x2 = squash(&a2);
            let a3 = self.c3.forward(&x2);
            let x3 = squash(&a3);
            let a4 = self.s4.pre_activation(&x3);
            let x4 = squash(&a4);
            let a5 = x4.apply(&self.c5);
            let x5 = squash(&a5).flatten(1, -1);
            let a6 = x5.apply(&self.f6);
            (a1, x1, a2, x2, a3, x3, a4, x4, a5, x5, a6)
        });
        let mut p = Probes::default();
        let c1 = (&self.c1.ws, self.c1.bs.as_ref());
        let u = p.layer(None, x, c1, &map, |x, w| conv(x, w, 1)) * slope_squared(&a1);
        let s2 = (&self.s2.coefficient, Some(&self.s2.bias));
        let u = p.layer(Some(&u), &x1, s2, &map, pooled) * slope_squared(&a2);
        let maps: Vec<Tensor> = self
            .c3
            .groups
            .iter()
            .map(|(index, c)| {
                let groups = c.ws.size()[0];
                let op = |x: &Tensor, w: &Tensor| conv(&x.index_select(1, index), w, groups);
                p.layer(Some(&u), &x2, (&c.ws, c.bs.as_ref()), &map, op)
            })
            .collect();
        let u = Tensor::cat(&maps, 1) * slope_squared(&a3);
        let s4 = (&self.s4.coefficient, Some(&self.s4.bias));
        let u = p.layer(Some(&u), &x3, s4, &map, pooled) * slope_squared(&a4);
        let c5 = (&self.c5.ws, self.c5.bs.as_ref());
        let u = p.layer(Some(&u), &x4, c5, &map, |x, w| conv(x, w, 1)) * slope_squared(&a5);
        let u = u.flatten(1, -1);
        let f6 = (&self.f6.ws, self.f6.bs.as_ref());
        let u = p.layer(Some(&u), &x5, f6, &[1, -1], |x, w| x.matmul(&w.tr())) * slope_squared(&a6);
        let images = x.size()[0] as f64;
        (u.sum(Kind::Float) * (OUTPUT_SECOND_DERIVATIVE / images)).backward();
        p.0.into_iter()
            .map(|(parameter, probe)| (parameter, probe.grad()))
            .collect()
    }
}

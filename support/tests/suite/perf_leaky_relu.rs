//! The fast leaky ReLU (libtorch's `prelu` with a constant slope) computes the same
//! function and gradient as the straightforward `max(x, slope x)`.

use support::models::fmp_net::leaky_relu;
use tch::{Device, Kind, Tensor};

fn straightforward(x: &Tensor, slope: f64) -> Tensor {
    x.maximum(&(x * slope))
}

/// Output and input gradient of `f` at `x` for the upstream gradient `g`.
fn value_and_grad(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, g: &Tensor) -> (Tensor, Tensor) {
    let leaf = x.detach().set_requires_grad(true);
    let y = f(&leaf);
    let s = (&y * g).sum(Kind::Float);
    let grad = Tensor::run_backward(&[&s], &[&leaf], false, false).remove(0);
    (y.detach(), grad)
}

#[test]
fn prelu_leaky_relu_matches_max_of_x_and_slope_x_with_gradients() {
    tch::manual_seed(1);
    let x = Tensor::randn([4, 8, 7, 7], (Kind::Float, Device::Cpu));
    let g = Tensor::randn([4, 8, 7, 7], (Kind::Float, Device::Cpu));
    for slope in [0.2, 1.0 / 3.0, 0.0] {
        let (y0, g0) = value_and_grad(|t| straightforward(t, slope), &x, &g);
        let (y1, g1) = value_and_grad(|t| leaky_relu(t, slope), &x, &g);
        assert!(
            y0.allclose(&y1, 1e-6, 1e-7, false),
            "outputs differ at slope {slope}"
        );
        assert!(
            g0.allclose(&g1, 1e-6, 1e-7, false),
            "gradients differ at slope {slope}"
        );
    }
}

#[test]
fn prelu_leaky_relu_keeps_the_input_kind() {
    let x = Tensor::randn([2, 3], (Kind::Double, Device::Cpu));
    let y = leaky_relu(&x, 0.2);
    assert_eq!(y.kind(), Kind::Double);
    assert!(y.allclose(&straightforward(&x, 0.2), 1e-12, 1e-12, false));
}

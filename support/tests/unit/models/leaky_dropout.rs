//! The leaky ReLU and dropout of the FMP net: libtorch's `prelu` with a constant slope, and
//! in training one multiplication by a mask, compute the same function and gradient as the
//! straightforward `max(x, slope x)` followed by dropout; and pooling before the activation,
//! as the net does, gives what pooling after it gives.

use crate::fmp::{Fmp, Regions};
use crate::layout::{is_channels_last, to_channels_last_on_cpu};
use crate::models::leaky_dropout::{leaky_relu, leaky_relu_dropout};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor};

fn straightforward(x: &Tensor, slope: f64) -> Tensor {
    x.maximum(&(x * slope))
}

/// Output and input gradient of `f` at `x` for the upstream gradient `g`.
fn value_and_grad(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, g: &Tensor) -> (Tensor, Tensor) {
    let leaf = x.detach().set_requires_grad(true);
    let y = f(&leaf);
    let s = (&y * g).sum(y.kind());
    let grad = Tensor::run_backward(&[&s], &[&leaf], false, false).remove(0);
    (y.detach(), grad)
}

fn randn(shape: &[i64], kind: Kind) -> Tensor {
    Tensor::randn(shape, (kind, Device::Cpu))
}

#[test]
fn prelu_leaky_relu_matches_max_of_x_and_slope_x_with_gradients() {
    tch::manual_seed(1);
    let x = randn(&[4, 8, 7, 7], Kind::Float);
    let g = randn(&[4, 8, 7, 7], Kind::Float);
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
    let x = randn(&[2, 3], Kind::Double);
    let y = leaky_relu(&x, 0.2);
    assert_eq!(y.kind(), Kind::Double);
    assert!(y.allclose(&straightforward(&x, 0.2), 1e-12, 1e-12, false));
}

/// `f32` takes the Rust mask, `f64` the tensor-op mask that other devices use.
const KINDS: [Kind; 2] = [Kind::Float, Kind::Double];

#[test]
fn without_dropout_the_training_mask_is_the_leaky_relu_with_its_gradient() {
    tch::manual_seed(2);
    for kind in KINDS {
        // 1,155 elements: not a whole number of the kernel's 64-element blocks.
        let x = randn(&[3, 5, 7, 11], kind);
        let g = randn(&[3, 5, 7, 11], kind);
        for slope in [0.2, 1.0 / 3.0, 0.0] {
            let (y0, g0) = value_and_grad(|t| straightforward(t, slope), &x, &g);
            let (y1, g1) = value_and_grad(|t| leaky_relu_dropout(t, slope, 0.0, true), &x, &g);
            assert_eq!(y1.kind(), kind);
            assert!(
                y0.allclose(&y1, 1e-6, 1e-7, false),
                "{kind:?} slope {slope}"
            );
            assert!(
                g0.allclose(&g1, 1e-6, 1e-7, false),
                "{kind:?} slope {slope}"
            );
        }
    }
}

#[test]
fn dropout_zeroes_a_fraction_p_and_scales_the_rest_with_matching_gradients() {
    tch::manual_seed(3);
    let (slope, shape) = (0.2, [8, 16, 25, 25]);
    for kind in KINDS {
        for p in [0.1, 0.5] {
            let x = randn(&shape, kind);
            let g = randn(&shape, kind);
            let (y, grad) = value_and_grad(|t| leaky_relu_dropout(t, slope, p, true), &x, &g);
            // randn never gives an exact zero, so a zero output is a dropped element.
            let kept = y.ne(0.0).to_kind(kind);
            let dropped = 1.0 - kept.mean(Kind::Double).double_value(&[]);
            assert!(
                (dropped - p).abs() < 0.01,
                "{kind:?}: dropped {dropped:.4} of 80,000, expected {p}"
            );
            let expected = straightforward(&x, slope) * &kept / (1.0 - p);
            assert!(y.allclose(&expected, 1e-5, 1e-6, false), "{kind:?} p {p}");
            let slope_of = x.gt(0.0).to_kind(kind) * (1.0 - slope) + slope;
            let expected_grad = &g * slope_of * &kept / (1.0 - p);
            assert!(
                grad.allclose(&expected_grad, 1e-5, 1e-6, false),
                "{kind:?} p {p}"
            );
        }
    }
}

#[test]
fn evaluation_applies_no_dropout() {
    let x = randn(&[4, 8, 5, 5], Kind::Float);
    let y = leaky_relu_dropout(&x, 0.2, 0.5, false);
    assert!(y.allclose(&straightforward(&x, 0.2), 1e-6, 1e-7, false));
}

#[test]
fn pooling_then_the_leaky_relu_equals_the_leaky_relu_then_pooling() {
    tch::manual_seed(9);
    let x = randn(&[4, 6, 35, 35], Kind::Float);
    let g = randn(&[4, 6, 25, 25], Kind::Float);
    for regions in [
        Regions::PseudorandomOverlapping,
        Regions::PseudorandomDisjoint,
        Regions::RandomOverlapping,
        Regions::RandomDisjoint,
    ] {
        let pool = Fmp::new(25, regions).with_seed(5);
        let (y0, g0) = value_and_grad(|t| pool.forward_t(&straightforward(t, 0.2), true), &x, &g);
        let (y1, g1) = value_and_grad(
            |t| leaky_relu_dropout(&pool.forward_t(t, true), 0.2, 0.0, true),
            &x,
            &g,
        );
        assert!(y0.allclose(&y1, 1e-6, 1e-7, false), "{regions}");
        assert!(g0.allclose(&g1, 1e-6, 1e-7, false), "{regions}");
    }
}

#[test]
fn a_channels_last_input_keeps_its_layout_and_the_same_function() {
    tch::manual_seed(10);
    let x = to_channels_last_on_cpu(&randn(&[8, 16, 9, 9], Kind::Float));
    let y = leaky_relu_dropout(&x, 0.2, 0.3, true);
    assert!(is_channels_last(&y));
    let kept = y.ne(0.0).to_kind(Kind::Float);
    let expected = straightforward(&x, 0.2) * &kept / 0.7;
    assert!(y.allclose(&expected, 1e-5, 1e-6, false));
    let dropped = 1.0 - kept.mean(Kind::Double).double_value(&[]);
    assert!((dropped - 0.3).abs() < 0.02, "dropped {dropped}");
}

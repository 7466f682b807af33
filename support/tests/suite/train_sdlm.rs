//! Stochastic diagonal Levenberg-Marquardt: the 1998 LeNet-5's curvature estimate against
//! the paper's formulas worked by hand, the step it takes, and training with it.

use crate::train_util::{config, max_diff};
use support::data::{Dataset, synthetic};
use support::models::layers;
use support::models::{FmpConfig, FmpNet, LeNet5, Model};
use support::train::sdlm::Sdlm;
use support::train::{FitConfig, LrSchedule, Optimizer, fit};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

fn classic() -> (nn::VarStore, LeNet5) {
    tch::manual_seed(5);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::classic(&vs.root()).unwrap();
    (vs, net)
}

fn digits() -> Dataset {
    synthetic::dataset("mnist", 96, 16, 0).unwrap()
}

/// A training batch of `n` digits as the net takes them (paper pixels, 32x32).
fn batch(net: &LeNet5, data: &Dataset, n: usize) -> Tensor {
    data.train
        .batches(&net.batch_opts(data, n, Device::Cpu))
        .next()
        .unwrap()
        .0
}

/// `f'(a)²` for the paper's squashing, written out independently of the library.
fn slope_squared(a: &Tensor) -> Tensor {
    let t = (a * (2.0 / 3.0)).tanh();
    ((-t.square() + 1.0) * (1.7159 * 2.0 / 3.0)).square()
}

/// The estimate for the variable called `name`.
fn estimate_of(vs: &nn::VarStore, pairs: &[(Tensor, Tensor)], name: &str) -> Tensor {
    let var = &vs.variables()[name];
    let (_, h) = pairs
        .iter()
        .find(|(p, _)| p.data_ptr() == var.data_ptr())
        .unwrap_or_else(|| panic!("no estimate for {name}"));
    h.shallow_clone()
}

#[test]
fn every_trainable_tensor_gets_a_positive_finite_estimate_of_its_shape() {
    let (vs, net) = classic();
    let data = digits();
    let pairs = net.diagonal_curvature(&batch(&net, &data, 32)).unwrap();
    let trainable = vs.trainable_variables();
    assert_eq!(pairs.len(), trainable.len());
    for t in &trainable {
        let (_, h) = pairs
            .iter()
            .find(|(p, _)| p.data_ptr() == t.data_ptr())
            .expect("every trainable tensor is covered");
        assert_eq!(h.size(), t.size());
        assert!(h.isfinite().all().int64_value(&[]) == 1);
        assert!(h.min().double_value(&[]) >= 0.0);
        assert!(h.max().double_value(&[]) > 0.0);
    }
    // Estimating does not leave gradients on the weights.
    assert!(trainable.iter().all(|t| !t.grad().defined()));
}

#[test]
fn f6_and_c5_estimates_match_the_papers_formulas_worked_by_hand() {
    let (vs, net) = classic();
    let data = digits();
    let x = batch(&net, &data, 24);
    let pairs = net.diagonal_curvature(&x).unwrap();
    let v = vs.variables();
    let (w5, b5, w6, b6) = (
        &v["c5.weight"],
        &v["c5.bias"],
        &v["f6.weight"],
        &v["f6.bias"],
    );
    let all = net.layers();
    // The layers: pad, C1, S2, C3, S4, C5 (+ flatten), F6, RBF.
    let (x4, x5) = tch::no_grad(|| {
        let x4 = layers::run(&all[..5], &x, false);
        (x4.shallow_clone(), layers::run(&all[5..6], &x4, false))
    });
    let (a5, a6) = tch::no_grad(|| {
        let a5 = x4.conv2d(w5, Some(b5), [1], [0], [1], 1).flatten(1, -1);
        (a5, x5.matmul(&w6.tr()) + b6)
    });
    let n = x.size()[0] as f64;
    // F6: d²E/da6² = 2 f'(a6)² (the pull term's 2 at the output), and each weight's
    // estimate is the mean over images of x5² times it.
    let d2_a6 = slope_squared(&a6) * 2.0;
    let want_w6 = d2_a6.tr().matmul(&x5.square()) / n;
    let want_b6 = d2_a6.sum_dim_intlist(0, false, Kind::Float) / n;
    // C5's bias: d²E/da5² = f'(a5)² Σ_k w6[k]² d²E/da6[k]², one connection per unit.
    let d2_a5 = slope_squared(&a5) * d2_a6.matmul(&w6.square());
    let want_b5 = d2_a5.sum_dim_intlist(0, false, Kind::Float) / n;
    for (name, want) in [
        ("f6.weight", want_w6),
        ("f6.bias", want_b6),
        ("c5.bias", want_b5),
    ] {
        let got = estimate_of(&vs, &pairs, name);
        let scale = want.abs().max().double_value(&[]);
        assert!(scale > 0.0, "{name}");
        assert!(
            max_diff(&got, &want) < 1e-4 * scale,
            "{name}: off by {} of {scale}",
            max_diff(&got, &want)
        );
    }
}

#[test]
fn the_estimate_is_the_mean_over_the_images() {
    // A per-image second derivative averaged: two halves' estimates average to the whole's.
    let (_, net) = classic();
    let x = batch(&net, &digits(), 32);
    let whole = net.diagonal_curvature(&x).unwrap();
    let first = net.diagonal_curvature(&x.narrow(0, 0, 16)).unwrap();
    let second = net.diagonal_curvature(&x.narrow(0, 16, 16)).unwrap();
    for (((p, h), (p1, h1)), (_, h2)) in whole.iter().zip(&first).zip(&second) {
        assert_eq!(p.data_ptr(), p1.data_ptr());
        let want = (h1 + h2) / 2.0;
        let scale = want.abs().max().double_value(&[]);
        assert!(max_diff(h, &want) <= 1e-4 * scale, "{:?}", p.size());
    }
}

#[test]
fn models_without_an_estimate_say_so() {
    let vs = nn::VarStore::new(Device::Cpu);
    let modern = LeNet5::modern(&vs.root()).unwrap();
    let fmp = FmpNet::new(&vs.root(), FmpConfig::course_mnist()).unwrap();
    let x = Tensor::zeros([2, 1, 28, 28], (Kind::Float, Device::Cpu));
    for model in [&modern as &dyn Model, &fmp] {
        let err = model.diagonal_curvature(&x).unwrap_err().to_string();
        assert!(err.contains("lenet5-classic"), "{err}");
    }
}

#[test]
fn a_step_divides_each_weights_rate_by_mu_plus_its_curvature() {
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs.root().var("w", &[3], nn::Init::Const(1.0));
    let h = Tensor::from_slice(&[0.0f32, 1.0, 10.0]);
    let mut sdlm = Sdlm::new(0.1, 0.5, 4);
    sdlm.set_curvature(vec![(w.shallow_clone(), h)], 1).unwrap();
    // loss = 2 Σ w, so every gradient is 2; step = 0.1 · 4 · 2 / (0.5 + h).
    sdlm.backward_step(&(w.sum(Kind::Float) * 2.0));
    let want = Tensor::from_slice(&[1.0 - 0.8 / 0.5, 1.0 - 0.8 / 1.5, 1.0 - 0.8 / 10.5]);
    assert!(max_diff(&w, &want) < 1e-6, "{w}");
    let err = sdlm.set_curvature(vec![], 1).unwrap_err().to_string();
    assert!(err.contains("covers 0 parameter tensors"), "{err}");
}

fn sdlm_config(dir: &std::path::Path, epochs: usize) -> FitConfig {
    FitConfig {
        optimizer: Optimizer::Sdlm {
            mu: 1.0,
            samples: 64,
        },
        schedule: LrSchedule::Constant(0.0005),
        ..config(dir, epochs)
    }
}

/// Ten steps on one batch from the paper's start halve the loss (82 -> 41 in the run
/// that set this test): F6 moves towards the mean of the bitmaps. A wrong sign, a zero
/// step or an estimate off by orders of magnitude (steps too small, or diverging) fails.
#[test]
fn lenet5_classic_fits_a_batch_with_sdlm() {
    let (vs, net) = classic();
    let data = digits();
    let x = batch(&net, &data, 32);
    let y = data.train.labels.narrow(0, 0, 32);
    let loss = || net.loss(&net.forward_t(&x, true), &y);
    let mut sdlm = Sdlm::new(0.0001, 1.0, 32);
    let curvature = net.diagonal_curvature(&x).unwrap();
    sdlm.set_curvature(curvature, vs.trainable_variables().len())
        .unwrap();
    let first = tch::no_grad(loss).double_value(&[]);
    for _ in 0..10 {
        sdlm.backward_step(&loss());
    }
    let last = tch::no_grad(loss).double_value(&[]);
    assert!(last < 0.6 * first, "the loss went from {first} to {last}");
}

#[test]
fn sdlm_on_a_model_without_an_estimate_fails_before_writing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::modern(&vs.root()).unwrap();
    let err = fit(&net, &vs, &digits(), &sdlm_config(tmp.path(), 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no curvature estimate for SDLM"), "{err}");
    assert!(!tmp.path().join("run").exists());
}

#[test]
fn sdlm_with_weight_decay_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (vs, net) = classic();
    let cfg = FitConfig {
        weight_decay: 1e-4,
        ..sdlm_config(tmp.path(), 1)
    };
    let err = fit(&net, &vs, &digits(), &cfg).unwrap_err().to_string();
    assert!(err.contains("SDLM takes no weight decay"), "{err}");
}

#[test]
fn sdlm_outside_fit_is_refused_with_the_way_to_run_it() {
    let vs = nn::VarStore::new(Device::Cpu);
    let sdlm = Optimizer::Sdlm {
        mu: 1.0,
        samples: 500,
    };
    let err = sdlm.build_for(&vs, 0.001).unwrap_err().to_string();
    assert!(err.contains("train with `fit`"), "{err}");
}

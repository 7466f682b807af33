//! The fused Adam and AdamW take the same steps as libtorch's.

use support::train::Optimizer;
use support::train::adam::Adam;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// A var store holding copies of `init`, named `p0`, `p1`, ...
fn store(init: &[Tensor], kind: Kind) -> nn::VarStore {
    let vs = nn::VarStore::new(Device::Cpu);
    for (i, t) in init.iter().enumerate() {
        let _ = vs.root().var_copy(&format!("p{i}"), &t.to_kind(kind));
    }
    vs
}

/// `sum(p_i * g_i)`: its gradient with respect to each `p_i` is `g_i`.
fn loss(vs: &nn::VarStore, grads: &[Tensor]) -> Tensor {
    let vars = vs.variables();
    grads
        .iter()
        .enumerate()
        .map(|(i, g)| {
            (&vars[&format!("p{i}")] * g.to_kind(vars[&format!("p{i}")].kind())).sum(Kind::Double)
        })
        .fold(Tensor::from(0.0).to_kind(Kind::Double), |a, b| a + b)
}

/// Largest relative difference between the two stores' variables (infinite for a NaN).
fn max_difference(a: &nn::VarStore, b: &nn::VarStore) -> f64 {
    let (va, vb) = (a.variables(), b.variables());
    va.iter()
        .map(|(k, t)| {
            let u = &vb[k];
            let d = (t - u).abs().max().double_value(&[]) / u.abs().max().double_value(&[]);
            if d.is_nan() { f64::INFINITY } else { d }
        })
        .fold(0.0, f64::max)
}

/// Parameters of assorted sizes: a large one that the fused step splits across threads,
/// small ones, and a scalar.
fn parameters() -> Vec<Tensor> {
    let opts = (Kind::Float, Device::Cpu);
    vec![
        Tensor::randn([300, 400], opts),
        Tensor::randn([7, 3, 2, 2], opts),
        Tensor::randn([5], opts),
        Tensor::randn([1], opts),
    ]
}

/// The largest difference after six steps (the rate changes after three) between the
/// fused Adam that `decoupled` and `wd` describe and libtorch's `theirs`.
fn compare(decoupled: bool, wd: f64, theirs: impl OptimizerConfig, kind: Kind) -> f64 {
    tch::manual_seed(5);
    let init = parameters();
    let (vs_ours, vs_theirs) = (store(&init, kind), store(&init, kind));
    let mut a = Adam::new(&vs_ours, 1e-2, wd, decoupled);
    let mut b = theirs.build(&vs_theirs, 1e-2).unwrap();
    for step in 0..6 {
        let grads: Vec<Tensor> = init.iter().map(|t| t.randn_like()).collect();
        if step == 3 {
            a.set_lr(3e-3);
            b.set_lr(3e-3);
        }
        a.backward_step(&loss(&vs_ours, &grads));
        b.backward_step(&loss(&vs_theirs, &grads));
    }
    max_difference(&vs_ours, &vs_theirs)
}

#[test]
fn adam_takes_libtorchs_steps_for_f32_and_f64() {
    for kind in [Kind::Float, Kind::Double] {
        let d = compare(false, 0.0, nn::Adam::default(), kind);
        assert!(d < 1e-5, "{kind:?}: differs by {d:e}");
    }
}

#[test]
fn adam_with_weight_decay_adds_it_to_the_gradient_as_libtorch_does() {
    for kind in [Kind::Float, Kind::Double] {
        let theirs = nn::Adam {
            wd: 0.1,
            ..Default::default()
        };
        let d = compare(false, 0.1, theirs, kind);
        assert!(d < 1e-5, "{kind:?}: differs by {d:e}");
    }
}

#[test]
fn adamw_decays_the_weights_as_libtorch_does() {
    for kind in [Kind::Float, Kind::Double] {
        let theirs = nn::AdamW {
            wd: 0.1,
            ..Default::default()
        };
        let d = compare(true, 0.1, theirs, kind);
        assert!(d < 1e-5, "{kind:?}: differs by {d:e}");
    }
}

#[test]
fn step_after_backward_equals_backward_step_and_unused_parameters_stay() {
    tch::manual_seed(6);
    let init = parameters();
    let (vs1, vs2) = (store(&init, Kind::Float), store(&init, Kind::Float));
    let (mut a, mut b) = (
        Optimizer::Adam.build_for(&vs1, 1e-2).unwrap(),
        Optimizer::Adam.build_for(&vs2, 1e-2).unwrap(),
    );
    for _ in 0..3 {
        // Only the first two parameters enter the loss.
        let grads: Vec<Tensor> = init[..2].iter().map(|t| t.randn_like()).collect();
        a.backward_step(&loss(&vs1, &grads));
        b.zero_grad();
        loss(&vs2, &grads).backward();
        b.step();
    }
    assert!(max_difference(&vs1, &vs2) < 1e-6);
    let vars = vs1.variables();
    assert!(vars["p2"].equal(&init[2]) && vars["p3"].equal(&init[3]));
    assert!(!vars["p0"].equal(&init[0]));
}

//! Every model can fit a tiny synthetic batch: its loss falls well below where it started.

use crate::train_util::build;
use support::models::{Dropout, FmpConfig, FmpNet, Model};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// Ten classes, each a fixed random picture, plus a little noise per example.
fn synthetic_batch(channels: i64, side: i64, per_class: i64) -> (Tensor, Tensor) {
    tch::manual_seed(0);
    let opts = (Kind::Float, Device::Cpu);
    let templates = Tensor::randn([10, channels, side, side], opts);
    let labels = Tensor::arange(10, (Kind::Int64, Device::Cpu)).repeat([per_class]);
    let images = templates.index_select(0, &labels)
        + Tensor::randn([10 * per_class, channels, side, side], opts) * 0.1;
    (images, labels)
}

/// Trains the model `name` with Adam for `steps` on the batch; returns (first loss, last loss).
fn fit(name: &str, channels: i64, side: i64, steps: usize, lr: f64) -> (f64, f64) {
    fit_built(name, channels, side, steps, lr, |vs| {
        build(name, vs, channels, 10).expect("model builds")
    })
}

/// As [`fit`], for a model that `make` builds.
fn fit_built(
    name: &str,
    channels: i64,
    side: i64,
    steps: usize,
    lr: f64,
    make: impl FnOnce(&nn::Path) -> Box<dyn Model>,
) -> (f64, f64) {
    // The batch first: it seeds libtorch, so the weights drawn next are the same on every
    // run (they came from whatever the tests running before had left, and a LeNet-5
    // classic fitted too slowly from some of those draws).
    let (x, y) = synthetic_batch(channels, side, 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = make(&vs.root());
    let mut opt = nn::Adam::default().build(&vs, lr).expect("optimizer");
    let loss_of = |model: &dyn Model| {
        let out = model.forward_t(&x, true);
        model.loss(&out, &y)
    };
    let first = loss_of(model.as_ref()).double_value(&[]);
    for _ in 0..steps {
        let loss = loss_of(model.as_ref());
        opt.backward_step(&loss);
    }
    let last = tch::no_grad(|| loss_of(model.as_ref())).double_value(&[]);
    eprintln!("{name}: {first} -> {last}");
    (first, last)
}

fn assert_fits(name: &str, (first, last): (f64, f64)) {
    assert!(
        last < 0.3 * first,
        "{name}: loss went from {first:.4} to {last:.4}, not below 30 % of its start"
    );
}

#[test]
fn fcnn_overfits_a_tiny_batch() {
    assert_fits("fcnn", fit("fcnn", 3, 32, 10, 1e-3));
}

/// LeCun's small initial weights (`U(±2.4/F)`) start in the squashing's linear range,
/// where the loss falls slowly at first: 60 steps, where 25 sufficed with tch's wider default.
#[test]
fn lenet_classic_overfits_a_tiny_batch() {
    assert_fits("lenet5-classic", fit("lenet5-classic", 1, 28, 60, 1e-2));
}

#[test]
fn lenet_modern_overfits_a_tiny_batch() {
    assert_fits("lenet5-modern", fit("lenet5-modern", 1, 28, 10, 1e-3));
}

/// Without dropout: the question is capacity, and with dropout after each pooling the
/// training-mode loss of so small a net stays noisy however well it has fitted.
#[test]
fn fmp_tiny_overfits_a_tiny_batch() {
    let config = FmpConfig {
        dropout: Dropout::NONE,
        ..FmpConfig::tiny()
    };
    let fitted = fit_built("fmp-tiny", 1, 28, 30, 1e-2, |vs| {
        Box::new(FmpNet::new(vs, config).expect("model builds"))
    });
    assert_fits("fmp-tiny", fitted);
}

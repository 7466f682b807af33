//! The LeNet-5 exercises' checks (503.1, 503.2): they pass on the answer and say what is
//! wrong with typical wrong answers.

use support::check::{lenet_layers, training_step};
use tch::nn::{self, ModuleT};
use tch::{Device, Tensor};

struct Layers {
    c1: nn::Conv2D,
    c2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

/// Rosebrock's LeNet-5's layers with the given C1 filters, padding and F5 inputs.
fn layers(vs: &nn::Path, filters: i64, padding: i64, fc1_inputs: i64) -> Layers {
    let conv = nn::ConvConfig {
        padding,
        ..Default::default()
    };
    Layers {
        c1: nn::conv2d(vs / "c1", 1, filters, 5, conv),
        c2: nn::conv2d(vs / "c2", filters, 50, 5, conv),
        fc1: nn::linear(vs / "fc1", fc1_inputs, 500, Default::default()),
        fc2: nn::linear(vs / "fc2", 500, 10, Default::default()),
    }
}

fn check(l: &Layers) -> anyhow::Result<support::check::Passed> {
    lenet_layers(&l.c1, &l.c2, &l.fc1, &l.fc2)
}

#[test]
fn the_lenet_check_passes_rosebrocks_layers() {
    let vs = nn::VarStore::new(Device::Cpu);
    let passed = check(&layers(&vs.root(), 20, 2, 2450)).unwrap();
    assert!(
        passed.to_string().contains("1,256,080 parameters"),
        "{passed}"
    );
}

#[test]
fn the_lenet_check_names_c1_with_six_filters() {
    let vs = nn::VarStore::new(Device::Cpu);
    let msg = check(&layers(&vs.root(), 6, 2, 2450))
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("✗ Exercise 503.1: C1"), "{msg}");
    assert!(msg.contains("[6, 28, 28]"), "{msg}");
}

#[test]
fn the_lenet_check_explains_missing_padding() {
    let vs = nn::VarStore::new(Device::Cpu);
    let msg = check(&layers(&vs.root(), 20, 0, 800))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("C1") && msg.contains("[20, 24, 24]"), "{msg}");
    assert!(msg.contains("'same' padding"), "{msg}");
}

#[test]
fn the_lenet_check_catches_f5_reading_the_wrong_number_of_values() {
    let vs = nn::VarStore::new(Device::Cpu);
    let msg = check(&layers(&vs.root(), 20, 2, 800))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("F5") && msg.contains("cannot take"), "{msg}");
}

type Step = fn(&dyn ModuleT, &mut nn::Optimizer, &Tensor, &Tensor) -> Tensor;

fn loss(net: &dyn ModuleT, images: &Tensor, labels: &Tensor) -> Tensor {
    net.forward_t(images, true).cross_entropy_for_logits(labels)
}

fn message(step: Step) -> String {
    training_step(step).unwrap_err().to_string()
}

#[test]
fn the_step_check_passes_zero_grad_backward_step() {
    let passed = training_step(|net, opt, x, y| {
        let loss = loss(net, x, y);
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss
    })
    .unwrap();
    assert!(
        passed.to_string().starts_with("✓ Exercise 503.2"),
        "{passed}"
    );
}

#[test]
fn the_step_check_passes_tchs_backward_step() {
    training_step(|net, opt, x, y| {
        let loss = loss(net, x, y);
        opt.backward_step(&loss);
        loss
    })
    .unwrap();
}

#[test]
fn the_step_check_wants_a_backward_pass() {
    let msg = message(|net, opt, x, y| {
        let loss = loss(net, x, y);
        opt.zero_grad();
        opt.step();
        loss
    });
    assert!(msg.contains("needs a backward pass"), "{msg}");
}

#[test]
fn the_step_check_wants_the_optimizers_step() {
    let msg = message(|net, opt, x, y| {
        let loss = loss(net, x, y);
        opt.zero_grad();
        loss.backward();
        loss
    });
    assert!(msg.contains("takes no step"), "{msg}");
}

#[test]
fn the_step_check_catches_gradients_zeroed_after_the_backward_pass() {
    let msg = message(|net, opt, x, y| {
        let loss = loss(net, x, y);
        loss.backward();
        opt.zero_grad();
        opt.step();
        loss
    });
    assert!(msg.contains("not between it and the step"), "{msg}");
}

#[test]
fn the_step_check_catches_gradients_that_add_up() {
    let msg = message(|net, opt, x, y| {
        let loss = loss(net, x, y);
        loss.backward();
        opt.step();
        loss
    });
    assert!(msg.contains("add up") && msg.contains("step 2"), "{msg}");
}

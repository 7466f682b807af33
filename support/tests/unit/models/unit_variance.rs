//! The unit-variance start of the FMP nets without BatchNorm (`models::unit_variance`).

use crate::models::unit_variance::rescale_to_unit_variance;
use crate::models::{Dropout, FmpConfig, FmpNet, Model};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

fn default_start(config: FmpConfig) -> FmpConfig {
    FmpConfig {
        unit_variance_init: false,
        ..config
    }
}

/// The standard deviation of a freshly built net's training-mode logits on noise digits.
fn logits_std(config: FmpConfig) -> f64 {
    tch::manual_seed(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = FmpNet::new(&vs.root(), config).unwrap();
    let digits = Tensor::randn([64, 1, 28, 28], (Kind::Float, Device::Cpu));
    let logits = tch::no_grad(|| net.forward_t(&digits, true));
    logits.std(true).double_value(&[])
}

#[test]
fn grahams_mnist_net_starts_with_logits_near_unit_deviation() {
    let default = logits_std(default_start(FmpConfig::graham_mnist()));
    let rescaled = logits_std(FmpConfig::graham_mnist());
    assert!(
        !(0.2..5.0).contains(&default),
        "the layers' default start alone gave logits of deviation {default}: the test no \
         longer shows why the rescaling is needed"
    );
    assert!(
        (0.5..2.0).contains(&rescaled),
        "rescaled start: logits of deviation {rescaled}"
    );
}

#[test]
fn every_layer_with_weights_gives_unit_deviation_on_the_calibration_batch() {
    // Fixed regions and no dropout, so that a second pass draws nothing new.
    let config = FmpConfig {
        regions_seed: Some(7),
        dropout: Dropout::NONE,
        ..default_start(FmpConfig::graham_mnist())
    };
    let vs = nn::VarStore::new(Device::Cpu);
    let net = FmpNet::new(&vs.root(), config).unwrap();
    let batch = Tensor::randn([16, 1, 36, 36], (Kind::Float, Device::Cpu));
    rescale_to_unit_variance(&net, &batch).unwrap();
    let mut x = batch;
    let mut checked = 0;
    for layer in net.layers() {
        x = tch::no_grad(|| layer.forward(&x, true));
        if !layer.parameters.is_empty() {
            let std = x.std(true).double_value(&[]);
            assert!((std - 1.0).abs() < 1e-3, "{}: deviation {std}", layer.name);
            checked += 1;
        }
    }
    assert_eq!(checked, 8, "six blocks, C2 and C1");
}

#[test]
fn a_layer_with_constant_output_is_an_error_naming_it() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = FmpNet::new(&vs.root(), default_start(FmpConfig::graham_mnist())).unwrap();
    tch::no_grad(|| {
        for mut v in vs.trainable_variables() {
            let _ = v.zero_();
        }
    });
    let batch = Tensor::randn([4, 1, 36, 36], (Kind::Float, Device::Cpu));
    let err = rescale_to_unit_variance(&net, &batch)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("block 1 conv") && err.contains("standard deviation is 0"),
        "{err}"
    );
}

#[test]
fn only_the_nets_without_batch_norm_rescale_and_old_runs_did_not() {
    assert!(FmpConfig::graham_mnist().unit_variance_init);
    assert!(FmpConfig::graham_cifar10().unit_variance_init);
    assert!(!FmpConfig::course_mnist().unit_variance_init);
    assert!(!FmpConfig::course_cifar10().unit_variance_init);
    let mut recorded = serde_json::to_value(FmpConfig::graham_mnist()).unwrap();
    recorded
        .as_object_mut()
        .unwrap()
        .remove("unit_variance_init");
    let read: FmpConfig = serde_json::from_value(recorded).unwrap();
    assert!(!read.unit_variance_init);
}

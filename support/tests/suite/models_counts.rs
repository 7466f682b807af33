//! Parameter counts: the known figures of the chapter, and the FMP nets against a formula.

use crate::train_util::build;
use support::models::{
    Dropout, Fcnn, FcnnConfig, FmpConfig, FmpNet, LeNet5, LeNet5Config, Model, summary,
};
use tch::nn;

fn trainable(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// The summary's `parameters` column for the rows whose name starts with `prefix`.
fn layer_count(model: &dyn Model, input: &[i64], prefix: &str) -> i64 {
    let table = summary(model, input).expect("summary runs");
    let names = table.column("layer").unwrap().str().unwrap();
    let counts = table.column("parameters").unwrap().i64().unwrap();
    (0..table.height())
        .filter(|&i| names.get(i).is_some_and(|n| n.starts_with(prefix)))
        .map(|i| counts.get(i).unwrap_or(0))
        .sum()
}

/// The independent formula of Graham's net: block n is a 2x2 conv `F(n-1) -> F n`
/// (block 1 reads the image), C2 is a 2x2 conv `L F -> (L+1) F`, C1 a 1x1 conv to the
/// classes; BatchNorm adds a scale and a shift per channel.
fn fmp_formula(c: &FmpConfig) -> i64 {
    let f = c.growth;
    let l = c.layers as i64;
    let bn = i64::from(c.batch_norm);
    let conv = |cin: i64, cout: i64, k: i64| k * k * cin * cout + cout;
    let mut total = 0;
    let mut cin = c.in_channels;
    for n in 1..=l {
        total += conv(cin, f * n, 2) + bn * 2 * f * n;
        cin = f * n;
    }
    total += conv(l * f, (l + 1) * f, 2) + bn * 2 * (l + 1) * f;
    total + conv((l + 1) * f, c.classes, 1)
}

fn fmp_count(config: FmpConfig) -> (i64, i64) {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let expected = fmp_formula(&config);
    let _net = FmpNet::new(&vs.root(), config).expect("preset builds");
    (trainable(&vs), expected)
}

#[test]
fn fcnn_has_3_676_682_parameters() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let _net = Fcnn::new(&vs.root(), FcnnConfig::cifar10()).unwrap();
    assert_eq!(trainable(&vs), 3_676_682);
}

#[test]
fn lenet_classic_layers_have_the_1998_counts() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let net = LeNet5::new(&vs.root(), LeNet5Config::classic()).unwrap();
    let input = [1, 32, 32];
    let expected = [
        ("C1", 156),
        ("S2", 12),
        ("C3", 1_516),
        ("S4", 32),
        ("C5", 48_120),
        ("F6", 10_164),
        ("RBF", 0),
    ];
    for (layer, count) in expected {
        assert_eq!(layer_count(&net, &input, layer), count, "layer {layer}");
    }
}

#[test]
fn lenet_c3_has_1516_parameters() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let _net = LeNet5::classic(&vs.root()).unwrap();
    let c3: i64 = vs
        .variables()
        .iter()
        .filter(|(name, t)| name.starts_with("c3.") && t.requires_grad())
        .map(|(_, t)| t.numel() as i64)
        .sum();
    assert_eq!(c3, 1_516);
}

#[test]
fn lenet_classic_total_is_the_sum_of_its_layers() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let _net = LeNet5::classic(&vs.root()).unwrap();
    assert_eq!(trainable(&vs), 156 + 12 + 1_516 + 32 + 48_120 + 10_164);
}

#[test]
fn lenet_modern_has_1_256_080_parameters() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let _net = LeNet5::modern(&vs.root()).unwrap();
    assert_eq!(trainable(&vs), 1_256_080);
}

#[test]
fn fmp_mnist_count_matches_the_formula() {
    let (got, expected) = fmp_count(FmpConfig::course_mnist());
    assert_eq!(got, expected);
}

#[test]
fn fmp_cifar10_count_matches_the_formula() {
    let (got, expected) = fmp_count(FmpConfig::course_cifar10());
    assert_eq!(got, expected);
}

#[test]
fn fmp_cifar10_large_count_matches_the_formula() {
    let (got, expected) = fmp_count(FmpConfig::course_cifar10_large());
    assert_eq!(got, expected);
}

#[test]
fn fmp_tiny_count_matches_the_formula() {
    let (got, expected) = fmp_count(FmpConfig::tiny());
    assert_eq!(got, expected);
}

#[test]
fn graham_mnist_without_batch_norm_count_matches_the_formula() {
    let (got, expected) = fmp_count(FmpConfig::graham_mnist());
    assert_eq!(got, expected);
}

#[test]
fn graham_cifar10_count_matches_the_formula() {
    let (got, expected) = fmp_count(FmpConfig::graham_cifar10());
    assert_eq!(got, expected);
}

#[test]
fn the_course_presets_depart_from_graham_only_in_batch_norm_slope_dropout_and_start() {
    let (graham, course) = (FmpConfig::graham_mnist(), FmpConfig::course_mnist());
    assert!(!graham.batch_norm && course.batch_norm);
    assert_eq!((graham.leaky_slope, course.leaky_slope), (1.0 / 3.0, 0.2));
    assert_eq!(
        graham.dropout.rates(6).unwrap(),
        [0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
        "Graham's MNIST code, per block then C2"
    );
    let departed = FmpConfig {
        batch_norm: true,
        leaky_slope: 0.2,
        dropout: course.dropout.clone(),
        unit_variance_init: false,
        ..graham
    };
    assert_eq!(departed, course);
    let cifar = FmpConfig::graham_cifar10();
    assert_eq!(
        (cifar.layers, cifar.growth, cifar.batch_norm),
        (12, 160, false)
    );
    assert_eq!(
        FmpConfig {
            growth: 64,
            batch_norm: true,
            leaky_slope: 0.2,
            unit_variance_init: false,
            ..cifar
        },
        FmpConfig::course_cifar10()
    );
}

#[test]
fn dropout_rates_follow_the_blocks_or_are_a_clear_error() {
    let linear = Dropout::Linear(0.5).rates(4).unwrap();
    assert_eq!(linear, [0.0, 0.125, 0.25, 0.375, 0.5]);
    let err = Dropout::graham_mnist().rates(12).unwrap_err().to_string();
    assert!(err.contains("7 rates") && err.contains("needs 13"), "{err}");
    let err = Dropout::Rates(vec![0.0, 1.0])
        .rates(1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("[0, 1)"), "{err}");
}

#[test]
fn summary_total_equals_the_var_store_count_for_every_model() {
    for name in support::models::MODEL_NAMES {
        if name == "fmp-cifar10-large" {
            continue; // 74 M parameters: covered by the formula test above
        }
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let channels = crate::train_util::preset_channels(name);
        let model = build(name, &vs.root(), channels, 10).unwrap();
        let (c, side) = model.input_shape();
        let table = summary(model.as_ref(), &[c, side, side]).unwrap();
        let counts = table.column("parameters").unwrap().i64().unwrap().clone();
        let total = counts.get(counts.len() - 1).unwrap();
        assert_eq!(total, trainable(&vs), "model {name}");
    }
}

#[test]
fn every_fmp_name_has_a_preset_and_build_makes_that_net() {
    for name in support::models::MODEL_NAMES {
        let preset = match support::models::ModelSpec::preset(name).unwrap() {
            support::models::ModelSpec::Fmp(config) => Some(config),
            _ => None,
        };
        assert_eq!(preset.is_some(), name.starts_with("fmp-"), "model {name}");
        let Some(config) = preset else { continue };
        let channels = crate::train_util::preset_channels(name);
        assert_eq!(config.in_channels, channels, "model {name}");
        if name == "fmp-cifar10-large" {
            continue; // 74 M parameters: its preset's count is checked above
        }
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let _model = build(name, &vs.root(), 2, 7).unwrap();
        let expected = fmp_formula(&FmpConfig {
            in_channels: 2,
            classes: 7,
            ..config
        });
        assert_eq!(trainable(&vs), expected, "model {name}");
    }
}

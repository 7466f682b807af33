//! Forward passes, `build`, the summary table and the debug pass.

use crate::train_util::{build, max_diff, preset_channels};
use support::fmp::Fmp;
use support::models::lenet::C3_TABLE;
use support::models::{
    Dropout, FmpConfig, FmpNet, LeNet5, MODEL_NAMES, Model, debug_forward, summary,
};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

fn output_shape(name: &str, channels: i64, side: i64, batch: i64) -> Vec<i64> {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = build(name, &vs.root(), channels, 10).expect("known model builds");
    let x = Tensor::randn([batch, channels, side, side], (Kind::Float, Device::Cpu));
    model.forward_t(&x, true).size()
}

#[test]
fn fcnn_maps_cifar_batches_to_ten_scores() {
    assert_eq!(output_shape("fcnn", 3, 32, 4), [4, 10]);
}

#[test]
fn lenet_classic_pads_mnist_and_gives_ten_distances() {
    assert_eq!(output_shape("lenet5-classic", 1, 28, 4), [4, 10]);
}

#[test]
fn lenet_modern_maps_mnist_to_ten_logits() {
    assert_eq!(output_shape("lenet5-modern", 1, 28, 4), [4, 10]);
}

/// The modern LeNet-5 pools before its ReLUs (and runs channels-last); its outputs and
/// gradients are those of the textbook chain conv - ReLU - pool, written out here.
#[test]
fn lenet_modern_equals_the_textbook_chain_with_relu_before_pooling() {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = LeNet5::modern(&vs.root()).unwrap();
    let x = Tensor::randn([5, 1, 28, 28], (Kind::Float, Device::Cpu));
    let v = vs.variables();
    let pool = |t: Tensor| t.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
    let conv = |t: &Tensor, name: &str| {
        let (w, b) = (&v[&format!("{name}.weight")], &v[&format!("{name}.bias")]);
        t.conv2d(w, Some(b), [1, 1], [2, 2], [1, 1], 1)
    };
    let h = pool(conv(&pool(conv(&x, "conv1").relu()), "conv2").relu()).flatten(1, -1);
    let h = h.linear(&v["fc1.weight"], Some(&v["fc1.bias"])).relu();
    let textbook = h.linear(&v["fc2.weight"], Some(&v["fc2.bias"]));
    let ours = model.forward_t(&x, true);
    assert!(ours.allclose(&textbook, 1e-5, 1e-5, false));
    let grads = |out: &Tensor| {
        let mut names: Vec<&String> = v.keys().collect();
        names.sort();
        let params: Vec<&Tensor> = names.iter().map(|n| &v[*n]).collect();
        Tensor::run_backward(&[(out * out).sum(Kind::Float)], &params, false, false)
    };
    // Up to rounding: the two chains convolve in different layouts.
    for (a, b) in grads(&ours).iter().zip(grads(&textbook).iter()) {
        let scale = b.abs().max().double_value(&[]);
        let diff = max_diff(a, b);
        assert!(
            diff <= 1e-5 * scale,
            "a gradient differs by {diff} (largest {scale})"
        );
    }
}

/// A one-channel image is both layouts at once and libtorch reads it as planes; made
/// channels-last (a view, no copy), the convolution reading it writes channels-last.
#[test]
fn a_one_channel_input_made_channels_last_makes_a_convolution_write_channels_last() {
    use support::layout::{is_channels_last, to_channels_last_on_cpu};
    let x = Tensor::randn([4, 1, 12, 12], (Kind::Float, Device::Cpu));
    let w = Tensor::randn([6, 1, 3, 3], (Kind::Float, Device::Cpu));
    let conv = |t: &Tensor| t.conv2d(&w, None::<Tensor>, [1, 1], [0, 0], [1, 1], 1);
    let y = to_channels_last_on_cpu(&x);
    assert_eq!(
        y.data_ptr(),
        x.data_ptr(),
        "a one-channel tensor needs no copy"
    );
    assert!(y.equal(&x));
    assert!(!is_channels_last(&conv(&x)));
    assert!(is_channels_last(&conv(&y)));
    assert!(conv(&y).allclose(&conv(&x), 1e-5, 1e-5, false));
}

#[test]
fn fmp_mnist_pads_mnist_and_gives_ten_logits() {
    assert_eq!(output_shape("fmp-mnist", 1, 28, 2), [2, 10]);
}

#[test]
fn fmp_tiny_takes_mnist_and_cifar_sizes() {
    assert_eq!(output_shape("fmp-tiny", 1, 28, 3), [3, 10]);
    assert_eq!(output_shape("fmp-tiny", 3, 32, 3), [3, 10]);
}

#[test]
fn fmp_cifar10_maps_one_image_to_ten_logits() {
    assert_eq!(output_shape("fmp-cifar10", 3, 32, 1), [1, 10]);
}

#[test]
fn fmp_input_sizes_come_from_fmp_sizes() {
    let vs = nn::VarStore::new(Device::Cpu);
    let mnist = FmpNet::new(&vs.root(), FmpConfig::course_mnist()).unwrap();
    let cifar = FmpNet::new(&(vs.root() / "c"), FmpConfig::course_cifar10()).unwrap();
    assert_eq!(mnist.input_shape(), (1, 36));
    assert_eq!(cifar.input_shape(), (3, 94));
}

#[test]
fn every_model_name_builds() {
    for name in MODEL_NAMES {
        if name == "fmp-cifar10-large" {
            continue; // 74 M parameters; its count test builds it
        }
        let vs = nn::VarStore::new(Device::Cpu);
        let channels = preset_channels(name);
        assert!(build(name, &vs.root(), channels, 10).is_ok(), "{name}");
    }
}

#[test]
fn unknown_model_name_lists_the_valid_ones() {
    let vs = nn::VarStore::new(Device::Cpu);
    let err = build("resnet", &vs.root(), 3, 10).unwrap_err().to_string();
    assert!(err.contains("resnet") && err.contains("fmp-mnist"), "{err}");
}

#[test]
fn cifar_preset_on_one_channel_gets_a_one_channel_first_layer() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = build("fmp-cifar10", &vs.root(), 1, 10).unwrap();
    assert_eq!(model.input_shape(), (1, 94));
}

#[test]
fn classic_lenet_refuses_more_classes_than_bitmaps() {
    let vs = nn::VarStore::new(Device::Cpu);
    let err = build("lenet5-classic", &vs.root(), 1, 100)
        .unwrap_err()
        .to_string();
    assert!(err.contains("10 digits"), "{err}");
}

#[test]
fn fmp_net_rejects_an_alpha_above_two() {
    let vs = nn::VarStore::new(Device::Cpu);
    let config = FmpConfig {
        alpha: 2.5,
        ..FmpConfig::tiny()
    };
    assert!(FmpNet::new(&vs.root(), config).is_err());
}

#[test]
fn summary_lists_fmp_mnist_shapes_from_36_down_to_1() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = FmpNet::new(&vs.root(), FmpConfig::course_mnist()).unwrap();
    let table = summary(&net, &[1, 28, 28]).unwrap();
    let shapes = table.column("output_shape").unwrap().str().unwrap();
    let sides: Vec<String> = (0..table.height() - 1)
        .map(|i| shapes.get(i).unwrap().to_string())
        .collect();
    let expected_sides = [36, 35, 25, 24, 17, 16, 11, 10, 7, 6, 4, 3, 2, 1];
    for (shape, side) in sides.iter().zip(expected_sides) {
        assert!(
            shape.ends_with(&format!("{side}, {side}]")),
            "{shape} vs {side}"
        );
    }
    assert_eq!(sides.last().unwrap(), "[10]");
}

#[test]
fn summary_ends_with_a_total_row() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::modern(&vs.root()).unwrap();
    let table = summary(&net, &[1, 28, 28]).unwrap();
    let names = table.column("layer").unwrap().str().unwrap();
    assert_eq!(names.get(table.height() - 1), Some("total"));
}

#[test]
fn debug_pass_names_the_layer_a_wrong_channel_count_reaches() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::modern(&vs.root()).unwrap();
    let x = Tensor::zeros([2, 3, 28, 28], (Kind::Float, Device::Cpu));
    let err = debug_forward(&net, &x).unwrap_err().to_string();
    assert!(
        err.contains("pad to 28x28") && err.contains("[2, 3, 28, 28]"),
        "{err}"
    );
}

#[test]
fn debug_pass_rejects_an_image_larger_than_the_input() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = FmpNet::new(&vs.root(), FmpConfig::tiny()).unwrap();
    let x = Tensor::zeros([1, 1, 40, 40], (Kind::Float, Device::Cpu));
    let err = debug_forward(&net, &x).unwrap_err().to_string();
    assert!(err.contains("at most 33x33"), "{err}");
}

#[test]
fn debug_pass_returns_the_forward_output() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::classic(&vs.root()).unwrap();
    let x = Tensor::randn([2, 1, 28, 28], (Kind::Float, Device::Cpu));
    let y = debug_forward(&net, &x).unwrap();
    let direct = tch::no_grad(|| net.forward_t(&x, false));
    assert!(y.allclose(&direct, 1e-6, 1e-6, false));
}

#[test]
fn summary_rejects_a_shape_with_a_batch_dimension() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::modern(&vs.root()).unwrap();
    assert!(summary(&net, &[8, 1, 28, 28]).is_err());
}

#[test]
fn c3_table_reads_60_s2_maps() {
    let reads: usize = C3_TABLE.iter().map(|r| r.len()).sum();
    assert_eq!(reads, 6 * 3 + 9 * 4 + 6);
}

#[test]
fn fixed_regions_make_the_fmp_net_deterministic() {
    let vs = nn::VarStore::new(Device::Cpu);
    let config = FmpConfig {
        regions_seed: Some(7),
        ..FmpConfig::tiny()
    };
    let net = FmpNet::new(&vs.root(), config).unwrap();
    assert!(!net.random_at_test_time());
    let x = Tensor::randn([2, 1, 28, 28], (Kind::Float, Device::Cpu));
    let (a, b) = (net.forward_t(&x, false), net.forward_t(&x, false));
    assert!(a.equal(&b));
}

#[test]
fn fresh_regions_make_test_passes_differ() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = FmpNet::new(&vs.root(), FmpConfig::tiny()).unwrap();
    assert!(net.random_at_test_time());
    let x = Tensor::randn([2, 1, 28, 28], (Kind::Float, Device::Cpu));
    let passes: Vec<Tensor> = (0..5).map(|_| net.forward_t(&x, false)).collect();
    assert!(passes.iter().any(|p| !p.equal(&passes[0])));
}

#[test]
fn checked_forward_refuses_cifar_images_in_the_28_pixel_lenet() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::modern(&vs.root()).unwrap();
    let x = Tensor::zeros([2, 1, 32, 32], (Kind::Float, Device::Cpu));
    let err = net.try_forward_t(&x, true).unwrap_err().to_string();
    assert!(err.contains("at most 28x28"), "{err}");
}

#[test]
fn checked_forward_equals_forward_in_evaluation() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = LeNet5::modern(&vs.root()).unwrap();
    let x = Tensor::randn([2, 1, 28, 28], (Kind::Float, Device::Cpu));
    let checked = net.try_forward_t(&x, false).unwrap();
    assert!(checked.equal(&net.forward_t(&x, false)));
}

/// `out` detached, and the gradients of `sum(out * g)` with respect to `params`.
fn value_and_grads(out: Tensor, g: &Tensor, params: &[Tensor]) -> (Tensor, Vec<Tensor>) {
    let s = (&out * g).sum(Kind::Float);
    (
        out.detach(),
        Tensor::run_backward(&[&s], params, false, false),
    )
}

/// Graham's net without dropout, written out op by op in the textbook order and layout:
/// convolution, BatchNorm (batch statistics in training, running ones in evaluation),
/// leaky ReLU, then pooling.
fn fmp_reference(
    vs: &nn::VarStore,
    config: &FmpConfig,
    seed: u64,
    x: &Tensor,
    train: bool,
) -> Tensor {
    let vars = vs.variables();
    let var = |name: String| vars[&name].shallow_clone();
    let conv = |x: &Tensor, name: &str| {
        x.conv2d(
            &var(format!("{name}.weight")),
            Some(&var(format!("{name}.bias"))),
            [1, 1],
            [0, 0],
            [1, 1],
            1,
        )
    };
    let norm = |x: &Tensor, name: &str| {
        x.batch_norm(
            Some(&var(format!("{name}.norm.weight"))),
            Some(&var(format!("{name}.norm.bias"))),
            Some(&var(format!("{name}.norm.running_mean"))),
            Some(&var(format!("{name}.norm.running_var"))),
            train,
            0.1,
            1e-5,
            false,
        )
    };
    let leaky = |x: &Tensor| x.maximum(&(x * config.leaky_slope));
    let sizes = config.sizes().unwrap();
    let mut x = x.shallow_clone();
    for (i, &pooled) in sizes.pooled.iter().enumerate() {
        let name = format!("block{}", i + 1);
        let pool = Fmp::new(pooled, config.regions).with_seed(seed + i as u64 + 1);
        x = pool.forward_t(
            &leaky(&norm(&conv(&x, &format!("{name}.conv")), &name)),
            false,
        );
    }
    let x = leaky(&norm(&conv(&x, "c2.conv"), "c2"));
    conv(&x, "c1").flatten(1, -1)
}

#[test]
fn fmp_net_evaluation_equals_the_textbook_order_of_its_ops() {
    tch::manual_seed(4);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = FmpConfig {
        regions_seed: Some(11),
        ..FmpConfig::course_mnist()
    };
    let net = FmpNet::new(&vs.root(), config.clone()).unwrap();
    // Trained-looking BatchNorm statistics and affine parameters, not the initial 0 and 1.
    tch::no_grad(|| {
        for (name, mut t) in vs.variables() {
            if name.contains(".norm.") {
                let noise = Tensor::rand(t.size(), (Kind::Float, Device::Cpu));
                let shift = if name.ends_with("running_var") || name.ends_with("weight") {
                    0.5
                } else {
                    -0.5
                };
                t.copy_(&(noise + shift));
            }
        }
    });
    let x = Tensor::randn([3, 1, 36, 36], (Kind::Float, Device::Cpu));
    let ours = tch::no_grad(|| net.forward_t(&x, false));
    let reference = tch::no_grad(|| fmp_reference(&vs, &config, 11, &x, false));
    let diff = (&ours - &reference).abs().max().double_value(&[]);
    // Folding BatchNorm rounds differently; the error is relative to the logits' scale,
    // not to each logit (one near 0 would otherwise need an absolute tolerance that the
    // random draws of parallel tests sometimes exceeded).
    let scale = reference.abs().max().double_value(&[]);
    assert!(
        diff <= 1e-4 * scale,
        "largest difference {diff}, logits up to {scale}"
    );
}

#[test]
fn fmp_net_training_step_equals_the_textbook_order_with_gradients() {
    tch::manual_seed(12);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = FmpConfig {
        regions_seed: Some(13),
        dropout: Dropout::NONE,
        ..FmpConfig::course_mnist()
    };
    let net = FmpNet::new(&vs.root(), config.clone()).unwrap();
    let x = Tensor::randn([4, 1, 36, 36], (Kind::Float, Device::Cpu));
    let g = Tensor::randn([4, 10], (Kind::Float, Device::Cpu));
    let params = vs.trainable_variables();
    let value_and_grads = |out: Tensor| value_and_grads(out, &g, &params);
    let (ours, ours_grads) = value_and_grads(net.forward_t(&x, true));
    let (reference, grads) = value_and_grads(fmp_reference(&vs, &config, 13, &x, true));
    assert!(
        ours.allclose(&reference, 1e-4, 1e-5, false),
        "outputs differ"
    );
    // A convolution's bias right before BatchNorm has a zero gradient in exact arithmetic
    // (the normalisation removes it), so its float gradient is rounding noise: hence a
    // floor relative to the largest gradient of the whole net.
    let largest = |t: &Tensor| t.abs().max().double_value(&[]);
    let floor = 1e-4 * grads.iter().map(largest).fold(0.0, f64::max);
    for ((p, a), b) in params.iter().zip(&ours_grads).zip(&grads) {
        let (diff, largest) = (largest(&(a - b)), largest(b));
        assert!(
            diff <= 1e-4 * largest + floor,
            "gradient of a {:?} parameter differs by {diff:e} (largest {largest:e})",
            p.size()
        );
    }
}

#[test]
fn lenet_modern_step_equals_the_plane_by_plane_ops_with_gradients() {
    tch::manual_seed(14);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = build("lenet5-modern", &vs.root(), 1, 10).unwrap();
    let vars = vs.variables();
    let var = |name: &str| vars[name].shallow_clone();
    let reference = |x: &Tensor| {
        let pool = |t: Tensor| t.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let conv = |t: &Tensor, n: &str| {
            t.conv2d(
                &var(&format!("{n}.weight")),
                Some(&var(&format!("{n}.bias"))),
                [1, 1],
                [2, 2],
                [1, 1],
                1,
            )
        };
        let t = pool(conv(x, "conv1").relu());
        let t = pool(conv(&t, "conv2").relu()).flatten(1, -1);
        t.linear(&var("fc1.weight"), Some(&var("fc1.bias")))
            .relu()
            .linear(&var("fc2.weight"), Some(&var("fc2.bias")))
    };
    let x = Tensor::randn([5, 1, 28, 28], (Kind::Float, Device::Cpu));
    let g = Tensor::randn([5, 10], (Kind::Float, Device::Cpu));
    let params = vs.trainable_variables();
    let value_and_grads = |out: Tensor| value_and_grads(out, &g, &params);
    let (ours, ours_grads) = value_and_grads(net.forward_t(&x, true));
    let (expected, grads) = value_and_grads(reference(&x));
    // Channels-last convolutions add in another order, so compare with a tolerance
    // relative to each tensor's largest value.
    let largest = |t: &Tensor| t.abs().max().double_value(&[]);
    let diff = |a: &Tensor, b: &Tensor| largest(&(a - b)) / largest(b);
    assert!(
        diff(&ours, &expected) < 1e-5,
        "outputs differ by {:e}",
        diff(&ours, &expected)
    );
    for (a, b) in ours_grads.iter().zip(&grads) {
        let d = diff(a, b);
        assert!(
            d < 1e-5,
            "gradients of a {:?} tensor differ by {d:e}",
            b.size()
        );
    }
}

#[test]
fn every_models_layer_list_computes_what_its_forward_pass_does() {
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let fmp = FmpConfig {
        regions_seed: Some(3),
        ..FmpConfig::course_mnist()
    };
    let models: Vec<(&str, Box<dyn Model>)> = vec![
        ("fmp", Box::new(FmpNet::new(&(&root / "fmp"), fmp).unwrap())),
        (
            "classic",
            Box::new(LeNet5::classic(&(&root / "c")).unwrap()),
        ),
        ("modern", Box::new(LeNet5::modern(&(&root / "m")).unwrap())),
        ("fcnn", build("fcnn", &(&root / "f"), 1, 10).unwrap()),
    ];
    for (name, model) in models {
        let (c, side) = model.input_shape();
        let x = Tensor::randn(
            [2, c, side.min(28), side.min(28)],
            (Kind::Float, Device::Cpu),
        );
        let by_layers = support::models::layers::run(&model.layers(), &x, false);
        let forward = model.forward_t(&x, false);
        assert!(by_layers.allclose(&forward, 1e-5, 1e-6, false), "{name}");
    }
}

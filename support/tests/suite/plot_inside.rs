//! The chapter's images and what a trained net sees: a row of images, HOG's cells, a
//! layer's feature maps, every layer's maps, a convolution's filters. Each renders with
//! the panels it should have, and bad input is a clear error.

use crate::plot_figures::{check_renders, decode_png};
use support::data::synthetic;
use support::features::{HogConfig, hog};
use support::models::{FmpConfig, FmpNet, OwnNet};
use support::plot;
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

fn rand(shape: &[i64]) -> Tensor {
    tch::manual_seed(0);
    Tensor::rand(shape, (Kind::Float, Device::Cpu))
}

#[test]
fn images_show_each_image_with_its_caption_and_size() {
    let (digit, pooled) = (rand(&[28, 28]), rand(&[1, 14, 14]));
    let fig = plot::images("Pooling", &[("digit", &digit), ("2x2 max", &pooled)]).unwrap();
    check_renders(&fig, &["Pooling", "digit (28x28)", "2x2 max (14x14)"]);
}

#[test]
fn a_signed_image_shows_its_sign_in_colour() {
    let kernel = Tensor::from_slice(&[-1f32, 0., 1., -2., 0., 2., -1., 0., 1.]).view([3, 3]);
    let fig = plot::images("Sobel", &[("kernel", &kernel)]).unwrap();
    let (_, _, pixels) = decode_png(&fig.to_png().unwrap());
    let red = pixels.chunks(3).any(|p| p[0] > 150 && p[2] < 80);
    let blue = pixels.chunks(3).any(|p| p[2] > 150 && p[0] < 80);
    assert!(red && blue, "positive weights red, negative blue");
}

#[test]
fn images_of_nothing_is_a_clear_error() {
    let err = plot::images("none", &[]).unwrap_err().to_string();
    assert!(err.contains("1 to 8 images"), "{err}");
}

#[test]
fn the_hog_figure_draws_the_cell_grid_and_its_histograms() {
    let digit = rand(&[28, 28]);
    let config = HogConfig {
        pixels_per_cell: 7,
        ..HogConfig::default()
    };
    let fig = plot::hog(&digit, &hog(&digit, &config).unwrap()).unwrap();
    check_renders(&fig, &["4x4 cells of 7x7 pixels", "9 bins of 20°"]);
}

#[test]
fn the_hog_figure_of_a_flat_image_draws_its_cells_without_segments() {
    let flat = Tensor::zeros([16, 16], (Kind::Float, Device::Cpu));
    let fig = plot::hog(&flat, &hog(&flat, &HogConfig::default()).unwrap()).unwrap();
    check_renders(&fig, &["2x2 cells of 8x8 pixels"]);
}

#[test]
fn the_hog_figure_of_another_image_is_a_clear_error() {
    let h = hog(&rand(&[28, 28]), &HogConfig::default()).unwrap();
    let err = plot::hog(&rand(&[20, 20]), &h).unwrap_err().to_string();
    assert!(err.contains("the image the HOG was computed from"), "{err}");
}

#[test]
fn feature_maps_show_the_first_channels_asked_for() {
    let maps = Tensor::randn([6, 12, 12], (Kind::Float, Device::Cpu));
    let texts = check_renders(
        &plot::feature_maps("conv1", &maps, 4).unwrap(),
        &["conv1 (first 4 of 6 channels)", "channel 3"],
    );
    assert!(!texts.contains("channel 4"), "only 4 maps are drawn");
    let all = plot::feature_maps("conv1", &maps.unsqueeze(0), 10).unwrap();
    check_renders(&all, &["conv1 (6 channels)", "channel 5"]);
}

#[test]
fn feature_maps_of_nan_activations_render_without_panicking() {
    let maps = Tensor::full([2, 4, 4], f64::NAN, (Kind::Float, Device::Cpu));
    let fig = plot::feature_maps("diverged", &maps, 2).unwrap();
    fig.to_png().unwrap();
    fig.to_svg().unwrap();
}

#[test]
fn feature_maps_of_zero_channels_is_a_clear_error() {
    let err = plot::feature_maps("none", &rand(&[2, 4, 4]), 0).unwrap_err();
    assert!(err.to_string().contains("1 or more"), "{err}");
}

#[test]
fn filters_draw_one_panel_per_filter() {
    let weights = Tensor::randn([20, 1, 5, 5], (Kind::Float, Device::Cpu));
    let fig = plot::filters("C1", &weights).unwrap();
    let texts = check_renders(&fig, &["C1 (20 of 5x5", "filter 0", "filter 19"]);
    assert!(!texts.contains("filter 20"), "20 filters, 20 panels");
}

#[test]
fn filters_of_many_input_channels_show_the_first() {
    let weights = Tensor::randn([8, 6, 3, 3], (Kind::Float, Device::Cpu));
    check_renders(
        &plot::filters("C3", &weights).unwrap(),
        &["input channel 0 of 6"],
    );
}

#[test]
fn filters_of_a_dense_layer_is_a_clear_error() {
    let weights = Tensor::randn([10, 84], (Kind::Float, Device::Cpu));
    let err = plot::filters("F6", &weights).unwrap_err().to_string();
    assert!(err.contains("[out, in, k, k]"), "{err}");
}

/// An FMP net of 5 blocks on one MNIST-sized digit.
fn fmp_net(vs: &nn::VarStore) -> FmpNet {
    tch::manual_seed(0);
    FmpNet::new(&vs.root(), FmpConfig::tiny()).unwrap()
}

fn digit() -> Tensor {
    let images = synthetic::examples(1, 1, 28, 10, 0).images;
    images.to_kind(Kind::Float) / 255.0
}

#[test]
fn activations_draw_a_row_for_every_layer_that_gives_maps() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = fmp_net(&vs);
    let fig = plot::activations(&model, &digit(), 3).unwrap();
    // The padded input, then each block's convolution and pooling; C2's 1x1 and the
    // head's scores are no maps.
    let texts = check_renders(&fig, &["pad to", "block 1 conv", "block 5 FMP"]);
    let rows = texts.matches(" maps of ").count() + texts.matches(" map of ").count();
    assert_eq!(rows, 1 + 2 * 5, "{texts}");
    assert!(!texts.contains("C2"), "{texts}");
    assert!(texts.contains("channel 2") && !texts.contains("channel 3"));
}

#[test]
fn activations_run_in_evaluation_mode_leaving_batchnorms_statistics_alone() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = fmp_net(&vs);
    let before: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(name, t)| (name, t.copy()))
        .collect();
    plot::activations(&model, &digit(), 1).unwrap();
    let after = vs.variables();
    for (name, was) in &before {
        assert!(
            after[name].equal(was),
            "{name} changed: a training-mode pass"
        );
    }
}

#[derive(Debug)]
struct Own {
    c1: nn::Conv2D,
    fc: nn::Linear,
}

impl ModuleT for Own {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.apply(&self.c1).relu().flatten(1, -1).apply(&self.fc)
    }
}

#[test]
fn activations_of_a_net_of_ones_own_say_to_draw_its_maps_with_feature_maps() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Own {
        c1: nn::conv2d(vs.root() / "c1", 1, 4, 5, Default::default()),
        fc: nn::linear(vs.root() / "fc", 4 * 24 * 24, 10, Default::default()),
    };
    let model = OwnNet::new(net, &vs, [1, 28, 28]).unwrap();
    let err = plot::activations(&model, &digit(), 4)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("OwnNet") && err.contains("plot::feature_maps"),
        "{err}"
    );
    let maps = digit().apply(&model.net().c1).relu();
    check_renders(&plot::feature_maps("c1", &maps, 4).unwrap(), &["c1"]);
}

#[test]
fn activations_of_a_byte_image_say_how_to_make_the_models_input() {
    let vs = nn::VarStore::new(Device::Cpu);
    let bytes = synthetic::examples(1, 1, 28, 10, 0).images;
    let err = plot::activations(&fmp_net(&vs), &bytes, 4).unwrap_err();
    assert!(err.to_string().contains("batch_of_one"), "{err}");
}

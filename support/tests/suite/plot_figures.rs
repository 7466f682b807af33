//! Every figure renders, from synthetic inputs, a valid PNG (decoded: right size, not one
//! flat colour) and a valid SVG (parsed: the expected labels are there), and bad or empty
//! data gives a clear error or an "empty" figure, never a panic.

use anyhow::Result;
use polars::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use support::plot::{self, Figure, RegionPanel};
use tch::{Device, Kind, Tensor};

/// Decodes a PNG: width, height and the pixel bytes.
pub(crate) fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("the PNG header must decode");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .expect("the PNG pixels must decode");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Parses an SVG (fails on malformed XML) and returns the text of its text nodes.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut reader = Reader::from_str(svg);
    let mut texts = Vec::new();
    let mut root_seen = false;
    loop {
        match reader
            .read_event()
            .expect("the SVG must be well-formed XML")
        {
            Event::Start(e) if !root_seen => {
                assert_eq!(e.name().as_ref(), b"svg", "the root element must be <svg>");
                root_seen = true;
            }
            Event::Text(t) => texts.push(t.decode().expect("UTF-8 text").into_owned()),
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(root_seen, "the SVG has no <svg> root");
    texts
}

/// Renders both ways and checks PNG size and contrast, SVG structure and `labels`.
pub(crate) fn check_renders(figure: &Figure, labels: &[&str]) -> String {
    let png = figure.to_png().expect("PNG rendering must succeed");
    let (w, h, pixels) = decode_png(&png);
    assert_eq!((w, h), figure.size(), "the PNG must have the figure's size");
    let first = &pixels[..3];
    assert!(
        pixels.chunks(3).any(|p| p != first),
        "the PNG must not be one flat colour"
    );
    let svg = figure.to_svg().expect("SVG rendering must succeed");
    let texts = svg_texts(&svg).join("\n");
    for label in labels {
        assert!(
            texts.contains(label),
            "the SVG must show `{label}`; its texts are:\n{texts}"
        );
    }
    texts
}

fn history(epochs: i64, val: bool) -> DataFrame {
    let e: Vec<i64> = (1..=epochs).collect();
    let loss: Vec<f64> = e.iter().map(|&x| 2.0 / x as f64).collect();
    let acc: Vec<f64> = e.iter().map(|&x| 1.0 - 0.5 / x as f64).collect();
    let val_loss: Vec<Option<f64>> = loss.iter().map(|&l| val.then_some(l * 1.1)).collect();
    let val_acc: Vec<Option<f64>> = acc.iter().map(|&a| val.then_some(a * 0.98)).collect();
    let n = e.len();
    df!(
        "epoch" => e, "lr" => vec![1e-3; n], "train_loss" => loss, "train_acc" => acc,
        "val_loss" => val_loss, "val_acc" => val_acc, "seconds" => vec![3.5; n],
        "images_per_s" => vec![1000.0; n]
    )
    .expect("a valid history")
}

#[test]
fn training_curves_show_loss_and_accuracy_train_and_validation() {
    let h = history(5, true);
    let fig = plot::training_curves(&[("fmp", &h)]).unwrap();
    check_renders(&fig, &["Loss", "Accuracy", "epoch", "train", "validation"]);
}

#[test]
fn training_curves_overlay_several_runs_with_a_legend() {
    let (a, b) = (history(4, true), history(6, false));
    let fig = plot::training_curves(&[("fmp", &a), ("lenet", &b)]).unwrap();
    let texts = check_renders(&fig, &["fmp train", "fmp validation", "lenet train"]);
    assert!(
        !texts.contains("lenet validation"),
        "a run without validation has no validation line"
    );
}

#[test]
fn training_curves_of_nan_losses_say_so_instead_of_panicking() {
    let nan = vec![f64::NAN; 3];
    let h = df!("epoch" => [1i64, 2, 3], "train_loss" => nan.clone(), "train_acc" => nan).unwrap();
    let fig = plot::training_curves(&[("diverged", &h)]).unwrap();
    check_renders(&fig, &["no finite values"]);
}

#[test]
fn training_curves_of_an_empty_history_is_a_clear_error() {
    let h = history(0, true);
    let err = plot::training_curves(&[("run", &h)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no rows"), "{err}");
}

#[test]
fn training_curves_name_a_missing_column() {
    let h = df!("epoch" => [1i64], "train_loss" => [0.5]).unwrap();
    let err = plot::training_curves(&[("run", &h)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("train_acc"), "{err}");
}

#[test]
fn confusion_matrix_shows_counts_and_class_names() {
    let df = df!(
        "class" => ["T-shirt/top", "Sneaker", "Bag"],
        "T-shirt/top" => [917i64, 3, 12],
        "Sneaker" => [0i64, 961, 4],
        "Bag" => [83i64, 36, 984]
    )
    .unwrap();
    let fig = plot::confusion_matrix(&df).unwrap();
    check_renders(
        &fig,
        &[
            "T-shirt/top",
            "Sneaker",
            "917",
            "36",
            "true class",
            "predicted class",
        ],
    );
}

#[test]
fn confusion_matrix_without_count_columns_is_a_clear_error() {
    let df = df!("class" => ["a", "b"]).unwrap();
    let err = plot::confusion_matrix(&df).unwrap_err().to_string();
    assert!(err.contains("count column"), "{err}");
}

fn images(n: i64) -> Tensor {
    tch::manual_seed(0);
    Tensor::rand([n, 1, 28, 28], (Kind::Float, Device::Cpu))
}

#[test]
fn errors_grid_shows_only_the_errors() {
    let labels = Tensor::from_slice(&[0i64, 1, 2, 1, 0]);
    let predicted = Tensor::from_slice(&[0i64, 2, 2, 0, 0]);
    let fig = plot::errors_grid(&images(5), &labels, &predicted, &["a", "b", "c"], 16).unwrap();
    let texts = check_renders(&fig, &["Errors: 2 shown of 2 misclassified", "pred: c"]);
    assert!(
        !texts.contains("true: c"),
        "a correctly classified image is not shown"
    );
}

#[test]
fn errors_grid_without_errors_is_an_empty_figure() {
    let labels = Tensor::from_slice(&[0i64, 1]);
    let fig = plot::errors_grid(&images(2), &labels, &labels, &["a", "b"], 8).unwrap();
    check_renders(&fig, &["no misclassified images"]);
}

fn panel(title: &str, overlap: i64) -> RegionPanel {
    // 28 -> 20 regions: steps of 1 and 2 (8 twos), as FMP with alpha = 1.4.
    let mut starts = vec![0i64];
    for i in 0..19 {
        starts.push(starts[i] + if i % 5 < 2 { 2 } else { 1 });
    }
    let ends: Vec<i64> = (0..20)
        .map(|i| {
            if i < 19 {
                starts[i + 1] - 1 + overlap
            } else {
                27
            }
        })
        .collect();
    let intervals: Vec<(i64, i64)> = starts.into_iter().zip(ends).collect();
    RegionPanel {
        title: title.to_string(),
        rows: intervals.clone(),
        cols: intervals,
        pooled: Tensor::rand([20, 20], (Kind::Float, Device::Cpu)),
    }
}

#[test]
fn fmp_regions_draw_every_variant_and_its_pooled_image() {
    let image = images(1).squeeze_dim(0);
    let panels = [
        panel("random disjoint", 0),
        panel("random overlapping", 1),
        panel("pseudorandom disjoint", 0),
        panel("pseudorandom overlapping", 1),
    ];
    let fig = plot::fmp_regions(&image, &panels).unwrap();
    check_renders(
        &fig,
        &[
            "random disjoint",
            "pseudorandom overlapping",
            "pooled",
            "20x20",
        ],
    );
}

#[test]
fn fmp_regions_reject_an_interval_outside_the_image() {
    let mut p = panel("bad", 0);
    p.rows[19] = (26, 28);
    let err = plot::fmp_regions(&images(1).squeeze_dim(0), &[p]).unwrap_err();
    assert!(err.to_string().contains("(26, 28)"), "{err}");
}

#[test]
fn fmp_regions_reject_a_pooled_image_of_the_wrong_size() {
    let mut p = panel("bad", 0);
    p.pooled = Tensor::zeros([19, 20], (Kind::Float, Device::Cpu));
    let err = plot::fmp_regions(&images(1).squeeze_dim(0), &[p]).unwrap_err();
    assert!(err.to_string().contains("19x20"), "{err}");
}

#[test]
fn repeated_fmp_draws_a_row_per_variant() {
    let steps = |n: i64| -> Vec<Tensor> {
        [28i64, 20, 14, 10]
            .iter()
            .take(n as usize)
            .map(|&s| Tensor::rand([s, s], (Kind::Float, Device::Cpu)))
            .collect()
    };
    let rows = vec![
        ("pseudorandom".to_string(), steps(4)),
        ("random".to_string(), steps(3)),
    ];
    let fig = plot::repeated_fmp(&rows).unwrap();
    check_renders(&fig, &["pseudorandom", "random", "28x28", "10x10"]);
}

#[test]
fn repeated_fmp_without_images_is_a_clear_error() {
    let err = plot::repeated_fmp(&[("random".to_string(), vec![])]).unwrap_err();
    assert!(err.to_string().contains("no images"), "{err}");
}

#[test]
fn error_vs_passes_shows_error_against_passes() {
    let df = df!("passes" => [1i64, 2, 5, 12, 50, 100], "error" => [0.0060, 0.0050, 0.0042, 0.0036, 0.0034, 0.0033]).unwrap();
    let fig = plot::error_vs_passes(&df).unwrap();
    check_renders(&fig, &["passes averaged", "test error (%)"]);
}

#[test]
fn error_vs_passes_with_zero_passes_is_a_clear_error() {
    let df = df!("passes" => [0i64, 1], "error" => [0.1, 0.05]).unwrap();
    let err = plot::error_vs_passes(&df).unwrap_err().to_string();
    assert!(err.contains("1 or more"), "{err}");
}

#[test]
fn model_comparison_has_a_bar_panel_per_metric() {
    let df = df!(
        "model" => ["fmp_net", "lenet5", "fcnn"],
        "accuracy" => [0.9951, 0.9890, 0.9790],
        "parameters" => [1_236_000i64, 61_706, 266_610],
        "seconds_per_epoch" => [41.0, 6.2, 2.1]
    )
    .unwrap();
    let fig = plot::model_comparison(&df).unwrap();
    check_renders(
        &fig,
        &[
            "Test accuracy",
            "Parameters",
            "Seconds per epoch",
            "lenet5",
            "61.7K",
        ],
    );
}

#[test]
fn matrix_figure_draws_a_boolean_connection_table() {
    let table: Vec<Vec<bool>> = (0..6)
        .map(|r| (0..16).map(|c| (r + c) % 3 != 0).collect())
        .collect();
    let rows: Vec<String> = (0..6).map(|i| format!("S2-{i}")).collect();
    let cols: Vec<String> = (0..16).map(|i| i.to_string()).collect();
    let fig = plot::matrix_figure("C3 connections", &rows, &cols, &table).unwrap();
    check_renders(&fig, &["C3 connections", "S2-5", "15"]);
}

#[test]
fn matrix_figure_with_mismatched_labels_is_a_clear_error() {
    let err = plot::matrix_figure(
        "m",
        &["a".to_string()],
        &["x".to_string()],
        &[vec![1.0, 2.0]],
    )
    .unwrap_err();
    assert!(err.to_string().contains("1 x 2"), "{err}");
}

#[test]
fn bitmap_grid_draws_labelled_bitmaps() {
    let bitmaps = Tensor::rand([10, 12, 7], (Kind::Float, Device::Cpu)).sign() * 2.0 - 1.0;
    let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let fig = plot::bitmap_grid("RBF centres", &digits, &bitmaps).unwrap();
    check_renders(&fig, &["RBF centres", "9"]);
}

#[test]
fn a_row_of_figures_is_one_picture_as_wide_as_its_parts() {
    let a = Figure::empty("left", "first");
    let maps = Tensor::rand([4, 8, 8], (Kind::Float, Device::Cpu));
    let b = plot::feature_maps("maps", &maps, 4).unwrap();
    let row = Figure::row(vec![a.clone(), b.clone()]);
    assert_eq!(row.size().0, a.size().0 + b.size().0);
    assert_eq!(row.size().1, a.size().1.max(b.size().1));
    check_renders(&row, &["left", "first", "maps"]);
}

#[test]
fn a_grid_of_no_figures_is_an_empty_figure() {
    check_renders(&Figure::grid(3, vec![]), &["no figures"]);
}

#[test]
fn png_text_is_drawn_with_the_embedded_font() -> Result<()> {
    // A figure of text only: if no font were available, its PNG would be blank.
    let (_, _, pixels) = decode_png(&Figure::empty("Title", "text needs no system font").to_png()?);
    let dark = pixels
        .chunks(3)
        .filter(|p| p.iter().all(|&v| v < 128))
        .count();
    assert!(dark > 100, "text must leave dark pixels, found {dark}");
    Ok(())
}

#[test]
fn lines_draw_each_series_with_its_label() {
    let relu: Vec<(f64, f64)> = (-20..=20)
        .map(|i| (i as f64 / 5.0, (i as f64 / 5.0).max(0.0)))
        .collect();
    let tanh: Vec<(f64, f64)> = (-20..=20)
        .map(|i| (i as f64 / 5.0, 1.7159 * (2.0 * i as f64 / 15.0).tanh()))
        .collect();
    let fig = plot::lines(
        "Activations",
        "a",
        "f(a)",
        &[("ReLU", relu), ("scaled tanh", tanh)],
    )
    .unwrap();
    check_renders(&fig, &["Activations", "ReLU", "scaled tanh"]);
}

#[test]
fn lines_without_points_is_an_empty_figure() {
    let fig = plot::lines("Nothing", "x", "y", &[("none", vec![])]).unwrap();
    check_renders(&fig, &["Nothing"]);
}

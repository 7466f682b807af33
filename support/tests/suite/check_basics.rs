//! Notebook 500's checks (500.1-500.5): they pass on the answer, and say what is wrong
//! with typical wrong answers without printing the value they want.

use support::check::{
    Passed, conv_parameters, dense_weights, hog_length, output_side, sliding_window,
};
use support::features::HogConfig;
use tch::{Device, Kind, Tensor};

fn failure(result: anyhow::Result<Passed>) -> String {
    result.expect_err("a wrong answer must fail").to_string()
}

#[test]
fn the_conv_count_check_passes_weights_and_bias() {
    let passed = conv_parameters(|i, o, k| (i * k * k + 1) * o).unwrap();
    let text = passed.to_string();
    assert!(text.starts_with("✓ Exercise 500.1"), "{text}");
    assert!(
        text.contains("1,792") && text.contains("3,146,752"),
        "{text}"
    );
}

#[test]
fn the_conv_count_check_names_a_forgotten_bias() {
    let msg = failure(conv_parameters(|i, o, k| i * k * k * o));
    assert!(msg.starts_with("✗ Exercise 500.1"), "{msg}");
    assert!(msg.contains("bias"), "{msg}");
    assert!(
        !msg.contains("156"),
        "LeNet's C1 has 156 values: not to be printed\n{msg}"
    );
}

#[test]
fn the_conv_count_check_names_forgotten_input_channels() {
    // LeNet's C1 has one input channel, so the slip shows from C3 on.
    let msg = failure(conv_parameters(|_, o, k| (k * k + 1) * o));
    assert!(msg.contains("6 to 16 channels"), "{msg}");
    assert!(msg.contains("all input channels"), "{msg}");
}

#[test]
fn the_conv_count_check_wants_the_kernel_squared() {
    let msg = failure(conv_parameters(|i, o, k| (i * k + 1) * o));
    assert!(msg.contains("k x k square"), "{msg}");
}

#[test]
fn the_dense_count_check_passes_the_chapters_617_million() {
    let text = dense_weights(|h, w, c, u| h * w * c * u)
        .unwrap()
        .to_string();
    assert!(text.contains("616,562,688"), "{text}");
}

#[test]
fn the_dense_count_check_wants_the_weights_without_biases() {
    let msg = failure(dense_weights(|h, w, c, u| h * w * c * u + u));
    assert!(msg.contains("biases"), "{msg}");
    assert!(!msg.contains("616,562,688"), "{msg}");
}

#[test]
fn the_dense_count_check_names_forgotten_channels() {
    let msg = failure(dense_weights(|h, w, _, u| h * w * u));
    assert!(msg.contains("a value per channel"), "{msg}");
}

/// A right sliding window, written as a student would: one window at a time.
fn slide(image: &Tensor, kernel: &Tensor) -> Tensor {
    window_sums(image, kernel, 0)
}

/// The sliding window over an image padded by `pad` (0: the right answer).
fn window_sums(image: &Tensor, kernel: &Tensor, pad: i64) -> Tensor {
    let image = image.constant_pad_nd([pad, pad, pad, pad]);
    let (h, w, k) = (image.size()[0], image.size()[1], kernel.size()[0]);
    let mut values = Vec::new();
    for i in 0..=h - k {
        for j in 0..=w - k {
            let window = image.narrow(0, i, k).narrow(1, j, k);
            values.push((window * kernel).sum(Kind::Float).double_value(&[]) as f32);
        }
    }
    Tensor::from_slice(&values).view([h - k + 1, w - k + 1])
}

fn digit() -> Tensor {
    tch::manual_seed(7);
    Tensor::rand([28, 28], (Kind::Float, Device::Cpu))
}

#[test]
fn the_sliding_window_check_passes_a_window_by_window_sum() {
    let text = sliding_window(&digit(), slide).unwrap().to_string();
    assert!(text.starts_with("✓ Exercise 500.3"), "{text}");
}

#[test]
fn the_sliding_window_check_explains_a_flipped_kernel() {
    let msg = failure(sliding_window(&digit(), |x, k| slide(x, &k.flip([0, 1]))));
    assert!(
        msg.contains("flipped the kernel") && msg.contains("cross-correlation"),
        "{msg}"
    );
}

#[test]
fn the_sliding_window_check_explains_an_output_as_large_as_the_image() {
    let msg = failure(sliding_window(&digit(), |x, k| window_sums(x, k, 1)));
    assert!(msg.contains("as large as the image"), "{msg}");
}

#[test]
fn the_sliding_window_check_points_at_the_first_wrong_window() {
    // Sums the window without the kernel's weights.
    let msg = failure(sliding_window(&digit(), |x, k| {
        window_sums(x, &k.ones_like(), 0)
    }));
    assert!(msg.contains("first at row 0, column 0"), "{msg}");
}

#[test]
fn the_sliding_window_check_reports_a_panic_instead_of_panicking() {
    let msg = failure(sliding_window(&digit(), |x, k| {
        x.narrow(0, 0, x.size()[0] + 1) * k.sum(Kind::Float)
    }));
    assert!(msg.contains("panicked"), "{msg}");
}

#[test]
fn the_sliding_window_check_needs_one_digit() {
    let batch = Tensor::zeros([3, 28, 28], (Kind::Float, Device::Cpu));
    let err = sliding_window(&batch, slide).unwrap_err().to_string();
    assert!(err.contains("one digit as [H, W]"), "{err}");
}

#[test]
fn the_output_side_check_passes_the_formula() {
    let text = output_side(|n, k, p, s| (n + 2 * p - k) / s + 1)
        .unwrap()
        .to_string();
    assert!(text.starts_with("✓ Exercise 500.4"), "{text}");
}

#[test]
fn the_output_side_check_says_padding_counts_on_both_sides() {
    let msg = failure(output_side(|n, k, p, s| (n + p - k) / s + 1));
    assert!(msg.contains("both sides"), "{msg}");
}

#[test]
fn the_output_side_check_says_the_first_position_counts() {
    let msg = failure(output_side(|n, k, p, s| (n + 2 * p - k) / s));
    assert!(msg.contains("the first one"), "{msg}");
}

#[test]
fn the_output_side_check_says_to_round_down() {
    let msg = failure(output_side(|n, k, p, s| {
        ((n + 2 * p - k) as f64 / s as f64).ceil() as i64 + 1
    }));
    assert!(msg.contains("round down"), "{msg}");
}

#[test]
fn the_output_side_check_explains_the_stride() {
    let msg = failure(output_side(|n, k, p, _| n + 2 * p - k + 1));
    assert!(msg.contains("jumps s pixels"), "{msg}");
}

fn seven_pixel_cells() -> HogConfig {
    HogConfig {
        pixels_per_cell: 7,
        ..HogConfig::default()
    }
}

#[test]
fn the_hog_length_check_passes_324_values_for_a_digit() {
    let text = hog_length(&seven_pixel_cells(), 28, 4, 3, 324)
        .unwrap()
        .to_string();
    assert!(text.contains("324 values"), "{text}");
}

#[test]
fn the_hog_length_check_says_blocks_overlap() {
    let msg = failure(hog_length(&seven_pixel_cells(), 28, 4, 2, 144));
    assert!(msg.contains("blocks overlap"), "{msg}");
    assert!(!msg.contains("324"), "{msg}");
}

#[test]
fn the_hog_length_check_says_a_cell_is_in_several_blocks() {
    let msg = failure(hog_length(&seven_pixel_cells(), 28, 4, 3, 4 * 4 * 9));
    assert!(msg.contains("every block that covers it"), "{msg}");
}

#[test]
fn the_hog_length_check_counts_only_whole_cells() {
    let eight = HogConfig::default();
    let msg = failure(hog_length(&eight, 28, 4, 2, 144));
    assert!(
        msg.contains("cells = 4") && msg.contains("whole cells"),
        "{msg}"
    );
}

//! HOG's steps give the values worked out by hand on tiny images, and its descriptor has
//! the length its formula says.

use std::f32::consts::SQRT_2;
use support::features::{HogConfig, hog};
use tch::Tensor;

/// An `h x w` image from a function of (row, column), rows counted from the top.
fn image(h: usize, w: usize, f: impl Fn(usize, usize) -> f32) -> Tensor {
    let pixels: Vec<f32> = (0..h * w).map(|i| f(i / w, i % w)).collect();
    Tensor::from_slice(&pixels).view([h as i64, w as i64])
}

/// One cell of the whole 8x8 image, one block of one cell, 9 bins of 20°.
fn one_cell() -> HogConfig {
    HogConfig {
        pixels_per_cell: 8,
        cells_per_block: 1,
        bins: 9,
    }
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 1e-5,
            "{what}: value {i} is {g}, not {w}\n{got:?}"
        );
    }
}

#[test]
fn a_vertical_edge_puts_all_its_magnitude_in_the_0_degree_bin() {
    // Columns 3 and 4 straddle the edge: gx = 1 on each of their 8 rows.
    let edge = image(8, 8, |_, x| if x >= 4 { 1.0 } else { 0.0 });
    let h = hog(&edge, &one_cell()).unwrap();
    let mut want = vec![0.0; 9];
    want[0] = 16.0;
    assert_close(&h.cells[0][0], &want, "the cell's histogram");
}

#[test]
fn a_horizontal_edge_puts_all_its_magnitude_in_the_90_degree_bin() {
    let edge = image(8, 8, |y, _| if y < 4 { 1.0 } else { 0.0 });
    let h = hog(&edge, &one_cell()).unwrap();
    let mut want = vec![0.0; 9];
    want[4] = 16.0; // the bin of 80°-100°
    assert_close(&h.cells[0][0], &want, "the cell's histogram");
}

#[test]
fn a_ramp_rising_to_the_upper_right_points_at_45_degrees_not_135() {
    // Inside the border gx = gy = 2 (y up): 36 pixels of magnitude 2·√2 at 45°.
    let ramp = image(8, 8, |y, x| (x + 7 - y) as f32);
    let h = hog(&ramp, &one_cell()).unwrap();
    let cell = &h.cells[0][0];
    assert!(
        (cell[2] - 36.0 * 2.0 * SQRT_2).abs() < 1e-3,
        "the 40°-60° bin holds {}",
        cell[2]
    );
    assert_eq!(cell[6], 0.0, "the 120°-140° bin must stay empty: {cell:?}");
}

#[test]
fn a_bright_top_right_quarter_gives_the_descriptor_worked_out_on_paper() {
    // 8x8, 2x2 cells of 4 pixels, one block of all four. By hand:
    // top left: column 3, rows 0-3, gx = 1 at 0°              -> bin 0: 4
    // top right: column 4, rows 0-2 at 0° (3); pixel (3, 4) has gx = gy = 1, √2 at 45°;
    //            row 3, columns 5-7 at 90° (3)                 -> bins 0, 2, 4: 3, √2, 3
    // bottom left: nothing
    // bottom right: row 4, columns 4-7, gy = 1 at 90°          -> bin 4: 4
    // The block is divided by its sum, 14 + √2.
    let quarter = image(8, 8, |y, x| if y < 4 && x >= 4 { 1.0 } else { 0.0 });
    let config = HogConfig {
        pixels_per_cell: 4,
        cells_per_block: 2,
        bins: 9,
    };
    let h = hog(&quarter, &config).unwrap();
    let mut want = [0f32; 36];
    want[0] = 4.0;
    want[9] = 3.0;
    want[9 + 2] = SQRT_2;
    want[9 + 4] = 3.0;
    want[27 + 4] = 4.0;
    let total = 14.0 + SQRT_2;
    let want: Vec<f32> = want.iter().map(|v| v / total).collect();
    assert_close(&h.descriptor, &want, "the descriptor");
}

#[test]
fn the_descriptor_has_blocks_times_cells_per_block_times_bins_values() {
    let digit = image(28, 28, |y, x| ((x * 7 + y * 3) % 11) as f32);
    for (cells_px, want) in [(7, 3 * 3 * 4 * 9), (8, 2 * 2 * 4 * 9), (4, 6 * 6 * 4 * 9)] {
        let config = HogConfig {
            pixels_per_cell: cells_px,
            ..HogConfig::default()
        };
        assert_eq!(
            config.descriptor_len(28, 28),
            want,
            "{cells_px}-pixel cells"
        );
        assert_eq!(hog(&digit, &config).unwrap().descriptor.len(), want);
    }
    let wide = image(20, 28, |y, x| (x * y % 5) as f32);
    let seven = HogConfig {
        pixels_per_cell: 7,
        ..HogConfig::default()
    };
    assert_eq!(hog(&wide, &seven).unwrap().descriptor.len(), 3 * 4 * 9);
}

#[test]
fn the_descriptor_is_the_same_for_a_faint_stroke() {
    let digit = image(16, 16, |y, x| if (x + y) % 7 < 2 { 1.0 } else { 0.0 });
    let config = HogConfig::default();
    let strong = hog(&digit, &config).unwrap();
    let faint = hog(&(&digit * 0.25), &config).unwrap();
    assert_ne!(strong.cells, faint.cells, "the cells see the contrast");
    assert_close(&faint.descriptor, &strong.descriptor, "L1 blocks remove it");
}

#[test]
fn an_image_too_small_for_one_block_is_a_clear_error() {
    let small = image(10, 10, |_, _| 0.0);
    let err = hog(&small, &HogConfig::default()).unwrap_err().to_string();
    assert!(
        err.contains("1x1 whole cells") && err.contains("too few"),
        "{err}"
    );
}

#[test]
fn a_colour_image_is_a_clear_error() {
    let rgb = Tensor::zeros([3, 8, 8], (tch::Kind::Float, tch::Device::Cpu));
    let err = hog(&rgb, &one_cell()).unwrap_err().to_string();
    assert!(err.contains("one channel"), "{err}");
}

//! LeNet-5's output layer: Euclidean RBF units against fixed, stylised digit bitmaps.
//!
//! Unit `i` outputs `y_i = sum_j (x_j - w_ij)^2`, the squared distance between the 84 F6
//! outputs and a fixed +1/-1 vector `w_i`: a 7x12 picture of digit `i`. The prediction is
//! the nearest picture. Using bitmaps rather than one-hot codes makes similar-looking
//! digits (and so confusable ones) lie close together, which LeCun argued helps reject
//! non-digits. The ±1 targets sit where the squashing `1.7159 tanh(2a/3)` has its
//! steepest useful range, so F6 can reach them without saturating.

use tch::{Device, Kind, Tensor};

/// Width of a digit bitmap (columns).
pub const BITMAP_WIDTH: usize = 7;
/// Height of a digit bitmap (rows); 7 x 12 = 84 = the F6 width.
pub const BITMAP_HEIGHT: usize = 12;

/// Our own stylised 7x12 digits 0-9 side by side (`#` = +1, `.` = -1), after the spirit of
/// the 1998 paper's Fig. 3; drawn here, not copied. Digit `d` is columns `8d..8d + 7` of
/// every row.
const DIGIT_BITMAPS: &str = "\
....... ....... ....... ....... ....... ....... ....... ....... ....... .......
..###.. ...#... .#####. .#####. .....#. ####### ..####. ####### .#####. .#####.
.#...#. ..##... #.....# #.....# ....##. #...... .#..... ......# #.....# #.....#
#.....# .#.#... ......# ......# ...#.#. #...... #...... .....#. #.....# #.....#
#.....# ...#... ......# ......# ..#..#. ######. #...... ....#.. .#####. #.....#
#.....# ...#... .....#. ..####. .#...#. ......# ######. ...#... #.....# .######
#.....# ...#... ...##.. ......# ####### ......# #.....# ...#... #.....# ......#
#.....# ...#... ..#.... ......# .....#. ......# #.....# ..#.... #.....# ......#
#.....# ...#... .#..... ......# .....#. ......# #.....# ..#.... #.....# .....#.
.#...#. ...#... #...... #.....# .....#. #.....# #.....# ..#.... #.....# ....#..
..###.. .#####. ####### .#####. .....#. .#####. .#####. ..#.... .#####. .###...
....... ....... ....... ....... ....... ....... ....... ....... ....... .......
";

/// How many digit bitmaps there are: the most classes the RBF output can tell apart.
pub(crate) const DIGITS: usize = 10;

/// Digit `d`'s bitmap, row by row.
fn digit_rows(d: usize) -> impl Iterator<Item = &'static str> {
    DIGIT_BITMAPS
        .lines()
        .map(move |row| &row[d * (BITMAP_WIDTH + 1)..d * (BITMAP_WIDTH + 1) + BITMAP_WIDTH])
}

/// The first `classes` bitmaps as a `[classes, 84]` float tensor of ±1, row-major.
pub fn bitmap_targets(classes: usize, device: Device) -> Tensor {
    let values: Vec<f32> = (0..classes.min(DIGITS))
        .flat_map(digit_rows)
        .flat_map(str::chars)
        .map(|c| if c == '#' { 1.0 } else { -1.0 })
        .collect();
    Tensor::from_slice(&values)
        .view([classes as i64, (BITMAP_WIDTH * BITMAP_HEIGHT) as i64])
        .to_device(device)
}

/// Squared distances `[B, classes]` from F6 outputs `x: [B, 84]` to the `centres`.
pub(crate) fn distances(x: &Tensor, centres: &Tensor) -> Tensor {
    (x.unsqueeze(1) - centres.unsqueeze(0))
        .square()
        .sum_dim_intlist(-1, false, Kind::Float)
}

/// LeCun's RBF loss (1998, eq. 9), averaged over the batch:
/// `E = y_D + log(exp(-j) + sum_i exp(-y_i))`.
///
/// The first term pulls F6 towards the correct bitmap; the log-sum-exp pushes the wrong
/// classes away, but only while their distance is small compared with `j`, so an already
/// separated class costs nothing.
///
/// Written as `-log(exp(-y_D) / (exp(-j) + sum_i exp(-y_i)))`, this is cross-entropy over
/// the logits `-y_i` plus one constant "rubbish" logit `-j`. A wrong class is pushed with
/// the weight of its softmax probability, as in cross-entropy: strongly while it competes,
/// hardly once it is 18 or more further away than the correct class (the closest bitmaps
/// differ in 9 pixels, so a clean digit sits at least that far from the others). `j` sets
/// how much pull on the correct class remains once it is nearest: `exp(-j) / (1 +
/// exp(-j))`, 0.27 for `j = 1`. A larger `j` changed nothing measurable on held-out
/// digits (docs/recipe-measurements.md), so the library keeps the paper's form with
/// `j = 1`.
pub(crate) fn rbf_loss(distances: &Tensor, labels: &Tensor, j: f64) -> Tensor {
    let correct = distances
        .gather(1, &labels.unsqueeze(1), false)
        .squeeze_dim(1);
    let batch = distances.size()[0];
    let floor = Tensor::full([batch, 1], -j, (distances.kind(), distances.device()));
    let push = Tensor::cat(&[floor, -distances], 1).logsumexp([1], false);
    (correct + push).mean(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_bitmaps_are_7_by_12_and_distinct() {
        assert_eq!(DIGIT_BITMAPS.lines().count(), BITMAP_HEIGHT);
        for d in 0..DIGITS {
            for row in digit_rows(d) {
                assert!(row.len() == BITMAP_WIDTH && row.chars().all(|c| c == '#' || c == '.'));
            }
        }
        let targets = bitmap_targets(10, Device::Cpu);
        assert_eq!(targets.size(), [10, 84]);
        let gram = targets.matmul(&targets.tr());
        let off_diagonal = gram - Tensor::eye(10, (Kind::Float, Device::Cpu)) * 84.0;
        assert!(off_diagonal.max().double_value(&[]) < 84.0 - 1.0);
    }
}

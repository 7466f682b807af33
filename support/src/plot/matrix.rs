//! Labelled heatmaps: the confusion matrix, and any small matrix (LeNet's C3 table).

use super::canvas::{self, anchored, bold, font, shorten};
use super::columns::{floats, require_rows, strings};
use super::{Area, Figure, Paint};
use anyhow::{Result, bail};
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, VPos};
use polars::prelude::DataFrame;

/// A value a matrix figure can show: numbers, and booleans as 0 and 1 (a connection
/// table).
pub trait MatrixValue: Copy {
    /// The value as a number.
    fn to_f64(self) -> f64;
}

impl MatrixValue for bool {
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
}

macro_rules! numeric_matrix_value {
    ($($t:ty),*) => {$(
        impl MatrixValue for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
numeric_matrix_value!(f64, f32, i64, i32, u32, u8, usize);

/// How cell values map to colour intensity.
#[derive(Clone, Copy)]
enum Shade {
    /// From the matrix's minimum (white) to maximum (blue).
    Linear,
    /// The square root of each value's share of its row, so small confusions show.
    RowShare,
}

/// A heatmap with row and column labels, optional numbers in the cells.
struct Heatmap {
    title: String,
    row_axis: String,
    col_axis: String,
    rows: Vec<String>,
    cols: Vec<String>,
    values: Vec<Vec<f64>>,
    shade: Shade,
}

const TITLE_H: i32 = 38;
const AXIS_H: i32 = 22;
const CHAR_W: i32 = 7;

impl Heatmap {
    fn cell(&self) -> i32 {
        let n = self.rows.len().max(self.cols.len()).max(1) as i32;
        (520 / n).clamp(14, 56)
    }
    fn annotate(&self) -> bool {
        self.cell() >= 26
    }
    fn rotate_cols(&self) -> bool {
        let longest = self.cols.iter().map(|c| c.chars().count()).max();
        longest.unwrap_or(0) as i32 * CHAR_W > self.cell() - 4
    }
    /// Left margin (row labels) and bottom margin (column labels).
    fn margins(&self) -> (i32, i32) {
        let chars = |v: &[String]| v.iter().map(|c| c.chars().count()).max().unwrap_or(0) as i32;
        let left = AXIS_H + chars(&self.rows) * CHAR_W + 12;
        let bottom = if self.rotate_cols() {
            chars(&self.cols) * CHAR_W + 12
        } else {
            22
        };
        (left, bottom + AXIS_H)
    }
    fn into_figure(self) -> Figure {
        let (left, bottom) = self.margins();
        let cell = self.cell();
        let width = left + cell * self.cols.len() as i32 + 24;
        let width = width.max(self.title.chars().count() as i32 * 10 + 24);
        let height = TITLE_H + cell * self.rows.len() as i32 + bottom + 8;
        Figure::new(width as u32, height as u32, self)
    }
    /// Colour intensities in [0, 1], `NaN` where the value is not finite.
    fn intensities(&self) -> Vec<Vec<f64>> {
        let finite = self
            .values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        self.values
            .iter()
            .map(|row| {
                let total: f64 = row.iter().filter(|v| v.is_finite()).sum();
                row.iter()
                    .map(|&v| match self.shade {
                        _ if !v.is_finite() => f64::NAN,
                        Shade::Linear if hi > lo => (v - lo) / (hi - lo),
                        Shade::Linear => 0.5,
                        Shade::RowShare if total > 0.0 => (v / total).max(0.0).sqrt(),
                        Shade::RowShare => 0.0,
                    })
                    .collect()
            })
            .collect()
    }
}

/// White to a deep blue.
fn blues(t: f64) -> RGBColor {
    let mix = |a: f64, b: f64| (a + (b - a) * t.clamp(0.0, 1.0)).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

/// A number as short text: integers without decimals, others with up to 2.
fn number(v: f64) -> String {
    if !v.is_finite() {
        "–".to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl Paint for Heatmap {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        canvas::title(area, &self.title, TITLE_H as u32, 17)?;
        let (left, _) = self.margins();
        let cell = self.cell();
        let shades = self.intensities();
        for (r, row) in shades.iter().enumerate() {
            for (c, &t) in row.iter().enumerate() {
                let (x, y) = (left + c as i32 * cell, TITLE_H + r as i32 * cell);
                let fill = if t.is_nan() {
                    RGBColor(200, 200, 200)
                } else {
                    blues(t)
                };
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    WHITE.stroke_width(1),
                ))?;
                if self.annotate() {
                    let ink = if t > 0.55 { WHITE } else { BLACK };
                    let text = number(self.values[r][c]);
                    let at = (x + cell / 2, y + cell / 2);
                    canvas::centered(area, &text, at, font(12).color(&ink))?;
                }
            }
        }
        let grid_bottom = TITLE_H + cell * self.rows.len() as i32;
        for (r, label) in self.rows.iter().enumerate() {
            let style = anchored(font(12), HPos::Right, VPos::Center);
            let at = (left - 6, TITLE_H + r as i32 * cell + cell / 2);
            area.draw(&Text::new(label.clone(), at, style))?;
        }
        let rotate = self.rotate_cols();
        for (c, label) in self.cols.iter().enumerate() {
            let x = left + c as i32 * cell + cell / 2;
            if rotate {
                let style = font(12).transform(FontTransform::Rotate270);
                let style = anchored(style, HPos::Right, VPos::Center);
                area.draw(&Text::new(label.clone(), (x, grid_bottom + 6), style))?;
            } else {
                canvas::centered(area, label, (x, grid_bottom + 11), font(12))?;
            }
        }
        let (_, bottom) = self.margins();
        let grid_mid_x = left + cell * self.cols.len() as i32 / 2;
        let axis_y = grid_bottom + bottom - AXIS_H / 2;
        canvas::centered(area, &self.col_axis, (grid_mid_x, axis_y), bold(13))?;
        let grid_mid_y = TITLE_H + cell * self.rows.len() as i32 / 2;
        let style = bold(13).transform(FontTransform::Rotate270);
        let style = anchored(style, HPos::Center, VPos::Center);
        let at = (AXIS_H / 2 + 2, grid_mid_y);
        if !self.row_axis.is_empty() {
            area.draw(&Text::new(self.row_axis.clone(), at, style))?;
        }
        Ok(())
    }
}

/// A confusion matrix: true classes down, predicted classes across, the count in each
/// cell. Colour shows the square root of each cell's share of its row, so the rare
/// confusions that matter stand out next to the large diagonal.
///
/// The DataFrame has a text column `class` (the true class) and then one numeric column
/// per predicted class, named by the class.
pub fn confusion_matrix(df: &DataFrame) -> Result<Figure> {
    const FIGURE: &str = "confusion_matrix";
    require_rows(df, FIGURE)?;
    let rows = strings(df, "class", FIGURE)?;
    let cols: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| n != "class")
        .collect();
    if cols.is_empty() {
        bail!(
            "{FIGURE}: besides `class`, the DataFrame needs one count column per predicted class"
        );
    }
    let mut values = vec![Vec::with_capacity(cols.len()); rows.len()];
    for col in &cols {
        for (row, v) in values.iter_mut().zip(floats(df, col, FIGURE)?) {
            row.push(v.unwrap_or(0.0));
        }
    }
    let total: f64 = values.iter().flatten().filter(|v| v.is_finite()).sum();
    let right: f64 = (0..rows.len().min(cols.len()))
        .map(|i| values[i][i])
        .filter(|v| v.is_finite())
        .sum();
    let title = if total > 0.0 {
        format!("Confusion matrix ({:.2}% correct)", 100.0 * right / total)
    } else {
        "Confusion matrix".to_string()
    };
    Ok(Heatmap {
        title,
        row_axis: "true class".to_string(),
        col_axis: "predicted class".to_string(),
        rows: rows.iter().map(|r| shorten(r, 16)).collect(),
        cols: cols.iter().map(|c| shorten(c, 16)).collect(),
        values,
        shade: Shade::RowShare,
    }
    .into_figure())
}

/// Any small matrix as a labelled heatmap, white (minimum) to blue (maximum), with the
/// numbers written in when the cells are large enough. LeNet-5's C3 connection table
/// (which S2 maps feed which C3 map) is `matrix_figure(title, &s2, &c3, &table)` with a
/// `bool` table.
pub fn matrix_figure<V: MatrixValue>(
    title: &str,
    row_labels: &[String],
    col_labels: &[String],
    values: &[Vec<V>],
) -> Result<Figure> {
    if values.is_empty() || values[0].is_empty() {
        bail!("matrix_figure `{title}`: the matrix is empty; pass at least one row and column");
    }
    if values.len() != row_labels.len() || values.iter().any(|r| r.len() != col_labels.len()) {
        bail!(
            "matrix_figure `{title}`: {} row labels and {} column labels, but the matrix is {} x {}; pass one label per row and column",
            row_labels.len(),
            col_labels.len(),
            values.len(),
            values[0].len()
        );
    }
    Ok(Heatmap {
        title: title.to_string(),
        row_axis: String::new(),
        col_axis: String::new(),
        rows: row_labels.iter().map(|r| shorten(r, 16)).collect(),
        cols: col_labels.iter().map(|c| shorten(c, 16)).collect(),
        values: values
            .iter()
            .map(|r| r.iter().map(|v| v.to_f64()).collect())
            .collect(),
        shade: Shade::Linear,
    }
    .into_figure())
}

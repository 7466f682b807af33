//! Line figures: training curves (loss and accuracy per epoch) and the ensemble curve.

use super::canvas::{self, bold, font};
use super::columns::{floats_or_nan, optional_floats, require_rows};
use super::{Area, Figure, Paint};
use anyhow::{Result, bail};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use polars::prelude::DataFrame;

/// One line: its legend label, colour, style and points (`NaN` y values leave gaps).
struct Line {
    label: String,
    color: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

/// Whether the x axis is linear or logarithmic.
#[derive(Clone, Copy, PartialEq)]
enum XScale {
    Linear,
    Log,
}

/// One chart of lines sharing axes.
struct LinePanel {
    title: String,
    x_label: String,
    y_label: String,
    /// Start the y axis at 0 (losses, errors) rather than at the data's minimum.
    from_zero: bool,
    x_scale: XScale,
    legend_at: SeriesLabelPosition,
    lines: Vec<Line>,
}

/// Panels side by side.
struct LinePanels {
    panels: Vec<LinePanel>,
}

/// Training curves of one or more runs: loss and accuracy against the epoch, training
/// solid and validation dashed, one colour per run.
///
/// Each run is `(name, history)`; the history has the columns `epoch`, `train_loss`,
/// `train_acc` and, when the run had a validation set, `val_loss` and `val_acc` (nulls
/// allowed). Accuracies are fractions and are drawn in percent. Non-finite values (a
/// diverged run) leave gaps; a panel with no finite value at all says so.
pub fn training_curves(runs: &[(&str, &DataFrame)]) -> Result<Figure> {
    const FIGURE: &str = "training_curves";
    if runs.is_empty() {
        bail!("{FIGURE}: no runs given; pass at least one (name, history) pair");
    }
    let mut loss = Vec::new();
    let mut accuracy = Vec::new();
    for (i, (name, df)) in runs.iter().enumerate() {
        require_rows(df, &format!("{FIGURE} (run `{name}`)"))?;
        let epoch = floats_or_nan(df, "epoch", FIGURE)?;
        let series = [
            ("train", false, "train_loss", "train_acc", true),
            ("validation", true, "val_loss", "val_acc", false),
        ];
        for (part, dashed, loss_col, acc_col, required) in series {
            let read = |col: &str| {
                if required {
                    floats_or_nan(df, col, FIGURE)
                } else {
                    optional_floats(df, col, FIGURE)
                }
            };
            let (l, a) = (read(loss_col)?, read(acc_col)?);
            if !required && l.iter().chain(&a).all(|v| v.is_nan()) {
                continue; // no validation set in this run
            }
            let label = if runs.len() == 1 {
                part.to_string()
            } else {
                format!("{name} {part}")
            };
            let line = |ys: &[f64], scale: f64| Line {
                label: label.clone(),
                color: canvas::color(i),
                dashed,
                points: epoch
                    .iter()
                    .zip(ys)
                    .map(|(&x, &y)| (x, y * scale))
                    .collect(),
            };
            loss.push(line(&l, 1.0));
            accuracy.push(line(&a, 100.0));
        }
    }
    let panel = |title: &str, y_label: &str, from_zero, legend_at, lines| LinePanel {
        title: title.to_string(),
        x_label: "epoch".to_string(),
        y_label: y_label.to_string(),
        from_zero,
        x_scale: XScale::Linear,
        legend_at,
        lines,
    };
    let panels = vec![
        panel(
            "Loss",
            "cross-entropy",
            true,
            SeriesLabelPosition::UpperRight,
            loss,
        ),
        panel(
            "Accuracy",
            "accuracy (%)",
            false,
            SeriesLabelPosition::LowerRight,
            accuracy,
        ),
    ];
    Ok(Figure::new(960, 380, LinePanels { panels }))
}

/// A plain line chart: each series is `(label, points)`. For anything a notebook wants
/// to draw that has no figure of its own (activation functions, learning-rate schedules).
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Result<Figure> {
    if series.iter().all(|(_, points)| points.is_empty()) {
        return Ok(Figure::empty(title, "no points to draw"));
    }
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, (label, points))| Line {
            label: label.to_string(),
            color: canvas::color(i),
            dashed: false,
            points: points.clone(),
        })
        .collect();
    let panel = LinePanel {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        from_zero: false,
        x_scale: XScale::Linear,
        legend_at: SeriesLabelPosition::UpperLeft,
        lines,
    };
    Ok(Figure::new(
        640,
        400,
        LinePanels {
            panels: vec![panel],
        },
    ))
}

/// Test error against the number of repeated test passes whose predictions are
/// averaged (FMP's "the network is its own ensemble": error falls quickly over the first
/// 5-10 passes, then slowly). Columns `passes` (≥ 1) and `error` (a fraction, drawn in
/// percent); the x axis is logarithmic when the passes span a factor of 10 or more.
pub fn error_vs_passes(df: &DataFrame) -> Result<Figure> {
    const FIGURE: &str = "error_vs_passes";
    require_rows(df, FIGURE)?;
    let passes = floats_or_nan(df, "passes", FIGURE)?;
    let error = floats_or_nan(df, "error", FIGURE)?;
    if let Some(p) = passes.iter().find(|p| p.is_nan() || **p < 1.0) {
        bail!("{FIGURE}: `passes` must be 1 or more, but one value is {p}");
    }
    let (lo, hi) = passes
        .iter()
        .fold((f64::INFINITY, 0f64), |(l, h), &p| (l.min(p), h.max(p)));
    let x_scale = if hi / lo >= 10.0 {
        XScale::Log
    } else {
        XScale::Linear
    };
    let line = Line {
        label: "test error".to_string(),
        color: canvas::color(0),
        dashed: false,
        points: passes
            .iter()
            .zip(&error)
            .map(|(&p, &e)| (p, e * 100.0))
            .collect(),
    };
    let panel = LinePanel {
        title: "Test error against repeated passes".to_string(),
        x_label: "passes averaged".to_string(),
        y_label: "test error (%)".to_string(),
        from_zero: false,
        x_scale,
        legend_at: SeriesLabelPosition::UpperRight,
        lines: vec![line],
    };
    let panels = vec![panel];
    Ok(Figure::new(640, 400, LinePanels { panels }))
}

impl Paint for LinePanels {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let cells = area.split_evenly((1, self.panels.len().max(1)));
        for (panel, cell) in self.panels.iter().zip(&cells) {
            draw_panel(cell, panel)?;
        }
        Ok(())
    }
}

/// The finite range of the points, padded so no line sits on the frame.
fn ranges(panel: &LinePanel) -> Option<((f64, f64), (f64, f64))> {
    let finite = || {
        panel
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let fold = |(lo, hi): (f64, f64), v: f64| (lo.min(v), hi.max(v));
    let (x0, x1) = finite()
        .map(|p| p.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), fold);
    let (y0, y1) = finite()
        .map(|p| p.1)
        .fold((f64::INFINITY, f64::NEG_INFINITY), fold);
    if !x0.is_finite() {
        return None;
    }
    let (x0, x1) = match (panel.x_scale, x0 == x1) {
        (XScale::Log, true) => (x0 / 1.5, x1 * 1.5),
        (XScale::Log, false) => (x0 / 1.1, x1 * 1.1),
        // A lone point near 0 (the first batches of a training run) keeps the axis off
        // negative values, which no epoch or count has.
        (XScale::Linear, true) if x0 >= 0.0 => ((x0 - 0.5).max(0.0), x1 + 0.5),
        (XScale::Linear, true) => (x0 - 0.5, x1 + 0.5),
        (XScale::Linear, false) => (x0, x1),
    };
    let pad = if y1 > y0 { (y1 - y0) * 0.08 } else { 1.0 };
    let y0 = if panel.from_zero && y0 >= 0.0 {
        0.0
    } else {
        y0 - pad
    };
    Some(((x0, x1), (y0, y1 + pad)))
}

fn draw_panel<DB: DrawingBackend>(area: &Area<DB>, panel: &LinePanel) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some(((x0, x1), (y0, y1))) = ranges(panel) else {
        let note = canvas::Message {
            title: panel.title.clone(),
            text: "no finite values to draw (did training diverge?)".to_string(),
        };
        return note.paint(area);
    };
    match panel.x_scale {
        XScale::Linear => draw_chart(area, panel, x0..x1, y0..y1),
        XScale::Log => draw_chart(area, panel, (x0..x1).log_scale(), y0..y1),
    }
}

fn draw_chart<DB, X>(
    area: &Area<DB>,
    panel: &LinePanel,
    x: X,
    y: std::ops::Range<f64>,
) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, bold(16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)?;
    let integral_x = panel
        .lines
        .iter()
        .flat_map(|l| &l.points)
        .all(|(x, _)| !x.is_finite() || x.fract() == 0.0);
    let x_fmt = |v: &f64| {
        if integral_x && v.fract().abs() < 1e-9 {
            format!("{v:.0}")
        } else if integral_x {
            String::new() // half-epoch ticks would read as fractional epochs
        } else {
            // Ticks are multiples of a step and carry its rounding (0.30000000000000004);
            // twelve significant digits drop it.
            let tidy = format!("{v:.11e}").parse().unwrap_or(*v);
            format!("{tidy}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .light_line_style(RGBColor(236, 236, 236))
        .bold_line_style(RGBColor(210, 210, 210))
        .x_label_formatter(&x_fmt)
        .draw()?;
    for line in &panel.lines {
        let style = line.color.stroke_width(2);
        let mut labelled = false;
        for run in finite_runs(&line.points) {
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(run.clone(), 7, 4, style))?
            } else {
                chart.draw_series(LineSeries::new(run.clone(), style))?
            };
            if !labelled {
                let (color, dashed) = (line.color, line.dashed);
                drawn.label(&line.label).legend(move |(x, y)| {
                    let pts = vec![(x, y), (x + 22, y)];
                    let s = color.stroke_width(2);
                    if dashed {
                        DashedPathElement::new(pts, 5, 3, s).into_dyn()
                    } else {
                        PathElement::new(pts, s).into_dyn()
                    }
                });
                labelled = true;
            }
            if run.len() <= 40 {
                let marker = |p: (f64, f64)| Circle::new(p, 3, line.color.filled());
                chart.draw_series(run.into_iter().map(marker))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(panel.legend_at.clone())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(font(12))
        .draw()?;
    Ok(())
}

/// The stretches of consecutive finite points (a `NaN` breaks the line).
fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![Vec::new()];
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            if let Some(run) = runs.last_mut() {
                run.push((x, y));
            }
        } else if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

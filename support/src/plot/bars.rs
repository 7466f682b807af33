//! Bars: comparing models on accuracy, size and speed.

use super::canvas::{self, bold, font};
use super::columns::{floats_or_nan, require_rows, strings};
use super::{Area, Figure, Paint};
use anyhow::Result;
use plotters::prelude::*;
use polars::prelude::DataFrame;

/// One metric across the models.
struct BarPanel {
    title: String,
    values: Vec<f64>,
    /// How a bar's value is written at its end.
    format: fn(f64) -> String,
    /// How an axis tick is written (fewer decimals than the values).
    tick: fn(f64) -> String,
    /// Each bar's `(low, high)`, drawn as a line across the bar's end: the range over
    /// runs whose mean the bar is. Empty for plain bars.
    spread: Vec<(f64, f64)>,
}

/// Stacked bar panels sharing the model names.
struct Bars {
    models: Vec<String>,
    panels: Vec<BarPanel>,
}

impl Bars {
    fn panel_height(&self) -> u32 {
        64 + 30 * self.models.len() as u32
    }
    fn label_width(&self) -> u32 {
        let chars = self.models.iter().map(|m| m.chars().count());
        (chars.max().unwrap_or(0) as u32 * 7 + 16).clamp(60, 260)
    }
}

fn percent(v: f64) -> String {
    format!("{v:.2}%")
}

fn percent_tick(v: f64) -> String {
    format!("{v:.0}%")
}

/// A count with a K or M suffix: 61.7K, 1.24M.
fn count(v: f64) -> String {
    match v.abs() {
        a if a >= 1e6 => format!("{:.2}M", v / 1e6),
        a if a >= 1e3 => format!("{:.1}K", v / 1e3),
        _ => format!("{v:.0}"),
    }
}

fn seconds_tick(v: f64) -> String {
    format!("{v} s")
}

fn seconds(v: f64) -> String {
    if v.abs() >= 10.0 {
        format!("{v:.0} s")
    } else {
        format!("{v:.2} s")
    }
}

/// Models side by side: test accuracy, number of parameters and seconds per epoch, one
/// bar panel each (first model at the top), the value written at each bar's end.
///
/// Columns `model` (text), `accuracy` (a fraction, drawn in percent), `parameters` and
/// `seconds_per_epoch`. Missing or non-finite values leave that bar out.
pub fn model_comparison(df: &DataFrame) -> Result<Figure> {
    const FIGURE: &str = "model_comparison";
    require_rows(df, FIGURE)?;
    let models = strings(df, "model", FIGURE)?;
    type Format = fn(f64) -> String;
    let panel = |title: &str, column: &str, scale: f64, format: Format, tick: Format| {
        let values = floats_or_nan(df, column, FIGURE)?;
        Ok::<_, anyhow::Error>(BarPanel {
            title: title.to_string(),
            values: values.into_iter().map(|v| v * scale).collect(),
            format,
            tick,
            spread: Vec::new(),
        })
    };
    let panels = vec![
        panel("Test accuracy", "accuracy", 100.0, percent, percent_tick)?,
        panel("Parameters", "parameters", 1.0, count, count)?,
        panel(
            "Seconds per epoch",
            "seconds_per_epoch",
            1.0,
            seconds,
            seconds_tick,
        )?,
    ];
    let bars = Bars { models, panels };
    let height = bars.panel_height() * bars.panels.len() as u32;
    Ok(Figure::new(760, height, bars))
}

/// A reproduction against its paper (see `crate::reproduce`): for each evaluation (one
/// pass, 12 passes) a panel with the mean test error over the seeds, the best and worst
/// seed, and the published error.
///
/// Columns `evaluation` (text) and `mean_error_pct`, `min_pct`, `max_pct`,
/// `published_pct` (percent; a missing paper number leaves its bar out).
pub fn reproduction(df: &DataFrame) -> Result<Figure> {
    const FIGURE: &str = "reproduction";
    require_rows(df, FIGURE)?;
    let evaluations = strings(df, "evaluation", FIGURE)?;
    let columns = ["mean_error_pct", "min_pct", "max_pct", "published_pct"];
    let values = columns
        .iter()
        .map(|c| floats_or_nan(df, c, FIGURE))
        .collect::<Result<Vec<_>>>()?;
    let panels = evaluations
        .iter()
        .enumerate()
        .map(|(i, evaluation)| BarPanel {
            title: format!("Test error, {evaluation}"),
            values: values.iter().map(|column| column[i]).collect(),
            format: percent,
            tick: |v| format!("{v:.1}%"),
            spread: Vec::new(),
        })
        .collect();
    let labels = ["mean over seeds", "best seed", "worst seed", "paper"];
    let bars = Bars {
        models: labels.iter().map(|s| s.to_string()).collect(),
        panels,
    };
    let height = bars.panel_height() * bars.panels.len() as u32;
    Ok(Figure::new(760, height, bars))
}

/// Settings side by side (see `crate::report`): for the test accuracy with one pass and
/// for the last validation accuracy, a panel with each setting's mean over its runs as a
/// bar and the range from its worst to its best run as a line.
///
/// Columns `label` (text, the setting's name) and, in fractions, `test_acc_1_pass_mean`, `_min`, `_max` and
/// `final_val_acc_mean`, `_min`, `_max`. A metric no setting has is left out; `None` when
/// no setting has either (untested runs without a validation split): nothing to draw.
pub(crate) fn settings_spread(df: &DataFrame) -> Result<Option<Figure>> {
    const FIGURE: &str = "settings_spread";
    require_rows(df, FIGURE)?;
    let settings = strings(df, "label", FIGURE)?;
    let mut panels = Vec::new();
    for (title, metric) in [
        ("Test accuracy, 1 pass", "test_acc_1_pass"),
        ("Validation accuracy, last epoch", "final_val_acc"),
    ] {
        let [mean, min, max] = ["mean", "min", "max"]
            .map(|stat| floats_or_nan(df, &format!("{metric}_{stat}"), FIGURE));
        let (mean, min, max) = (mean?, min?, max?);
        if mean.iter().all(|v| !v.is_finite()) {
            continue;
        }
        panels.push(BarPanel {
            title: title.to_string(),
            values: mean.iter().map(|v| 100.0 * v).collect(),
            format: percent,
            tick: |v| format!("{v:.1}%"),
            spread: min
                .iter()
                .zip(&max)
                .map(|(l, h)| (100.0 * l, 100.0 * h))
                .collect(),
        });
    }
    if panels.is_empty() {
        return Ok(None);
    }
    let bars = Bars {
        models: settings,
        panels,
    };
    let height = bars.panel_height() * bars.panels.len() as u32;
    Ok(Some(Figure::new(860, height, bars)))
}

impl Paint for Bars {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let cells = area.split_evenly((self.panels.len().max(1), 1));
        for (panel, cell) in self.panels.iter().zip(&cells) {
            self.draw_panel(cell, panel)?;
        }
        Ok(())
    }
}

impl Bars {
    fn draw_panel<DB: DrawingBackend>(&self, area: &Area<DB>, panel: &BarPanel) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let highs = panel.spread.iter().map(|&(_, high)| high);
        let finite = panel
            .values
            .iter()
            .copied()
            .chain(highs)
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((0f64, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
        if !hi.is_finite() {
            let note = canvas::Message {
                title: panel.title.clone(),
                text: "no finite values to draw".to_string(),
            };
            return note.paint(area);
        }
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let n = self.models.len() as i32;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, bold(15))
            .margin(8)
            .margin_right(24)
            .x_label_area_size(26)
            .y_label_area_size(self.label_width())
            // An integer range is inclusive for plotters: 0..n-1 gives exactly n slots.
            .build_cartesian_2d(lo..hi * 1.18, (0..n - 1).into_segmented())?;
        let name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                let k = (n - 1 - i) as usize;
                self.models.get(k).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        let (format, tick) = (panel.format, panel.tick);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(self.models.len())
            .y_label_formatter(&name)
            .x_label_formatter(&|v| tick(*v))
            .x_labels(6)
            .label_style(font(12))
            .light_line_style(RGBColor(236, 236, 236))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;
        for (k, &v) in panel.values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let slot = n - 1 - k as i32;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(slot)),
                    (v, SegmentValue::Exact(slot + 1)),
                ],
                canvas::color(k).filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            chart.draw_series(std::iter::once(bar))?;
            if let Some(&(low, high)) = panel.spread.get(k)
                && low.is_finite()
                && high.is_finite()
            {
                let range = PathElement::new(
                    vec![
                        (low, SegmentValue::CenterOf(slot)),
                        (high, SegmentValue::CenterOf(slot)),
                    ],
                    BLACK.stroke_width(2),
                );
                chart.draw_series(std::iter::once(range))?;
            }
            let style = canvas::anchored(
                font(12),
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            );
            // The value is written past the range's line, where there is one.
            let end = panel.spread.get(k).map_or(
                v,
                |&(_, high)| if high.is_finite() { v.max(high) } else { v },
            );
            let label = Text::new(
                format!(" {}", format(v)),
                (end, SegmentValue::CenterOf(slot)),
                style,
            );
            chart.draw_series(std::iter::once(label))?;
        }
        Ok(())
    }
}

//! The figures that teach fractional max-pooling: the pooling regions drawn on an image,
//! and an image pooled again and again.

use super::canvas::{self, GREY, bold, font, shorten};
use super::pixels::{self, Picture, Tone};
use super::{Area, Figure, Paint};
use crate::fmp::{self, Fmp};
use anyhow::{Result, bail};
use plotters::prelude::*;
use tch::Tensor;

/// One FMP variant's pooling regions on an image, and what pooling gave.
///
/// Graham's regions are products of row and column intervals `[a_{i-1}, a_i - 1]`
/// (disjoint) or `[a_{i-1}, a_i]` (overlapping); `rows` and `cols` hold them as inclusive
/// `(first, last)` pixel indices. `pooled` is the pooled image, `[rows.len(), cols.len()]`
/// (or with a channel dimension in front).
#[derive(Debug)]
pub struct RegionPanel {
    /// The variant, e.g. "pseudorandom overlapping".
    pub title: String,
    /// Row intervals, inclusive, top to bottom.
    pub rows: Vec<(i64, i64)>,
    /// Column intervals, inclusive, left to right.
    pub cols: Vec<(i64, i64)>,
    /// The pooled image.
    pub pooled: Tensor,
}

impl RegionPanel {
    /// The regions a seeded layer `pool` uses on `image` (`[C, H, W]`), and the image it
    /// pools them to.
    pub fn new(image: &Tensor, pool: &Fmp) -> Result<RegionPanel> {
        let size = image.size();
        let (h, w) = (size[size.len() - 2], size[size.len() - 1]);
        let (rows, cols) = pool.intervals(h, w)?;
        Ok(RegionPanel {
            title: pool.regions().to_string(),
            rows: rows.iter().map(|r| (r.first, r.last)).collect(),
            cols: cols.iter().map(|c| (c.first, c.last)).collect(),
            pooled: pool.try_forward(image)?,
        })
    }

    /// One panel per Graham variant ([`fmp::Regions::GRAHAM`]), pooling `image` to `out` x
    /// `out` with regions drawn from `seed`.
    pub fn graham(image: &Tensor, out: i64, seed: u64) -> Result<Vec<RegionPanel>> {
        fmp::Regions::GRAHAM
            .iter()
            .map(|&regions| RegionPanel::new(image, &Fmp::new(out, regions).with_seed(seed)))
            .collect()
    }
}

/// A panel checked against the image, with its pixels read.
struct Panel {
    title: String,
    rows: Vec<(i64, i64)>,
    cols: Vec<(i64, i64)>,
    pooled: Picture,
}

/// The image with each variant's grid, side by side, the pooled image under each.
struct Regions {
    image: Picture,
    panels: Vec<Panel>,
}

const PANEL_W: u32 = 264;
const BOX: u32 = 224;
const TITLE_H: u32 = 40;

/// Fails unless the intervals are non-empty, inside `0..size` and in order.
fn check_intervals(what: &str, intervals: &[(i64, i64)], size: usize) -> Result<()> {
    if intervals.is_empty() {
        bail!("{what}: no intervals; pass the pooling intervals along this axis");
    }
    for &(a, b) in intervals {
        if a < 0 || b < a || b >= size as i64 {
            bail!(
                "{what}: interval ({a}, {b}) must satisfy 0 <= first <= last < {size} (inclusive pixel indices)"
            );
        }
    }
    Ok(())
}

/// The lengths of the intervals as "1-2" (or "2" when all are equal).
fn widths(intervals: &[(i64, i64)]) -> String {
    let lens = intervals.iter().map(|(a, b)| b - a + 1);
    let (lo, hi) = lens.fold((i64::MAX, i64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// FMP's pooling regions: the image with each variant's grid of regions drawn on it, side
/// by side (random and pseudorandom, disjoint and overlapping), and the pooled image
/// under each. Each region's first and last rows and columns are outlined: disjoint
/// regions meet on one line, overlapping ones share a row or column of pixels, which
/// shows as a pair of lines one image pixel apart.
///
/// `image` is `[H, W]` or `[C, H, W]` (1 or 3 channels); each panel's intervals must lie
/// inside it and its `pooled` must have one pixel per region.
pub fn fmp_regions(image: &Tensor, panels: &[RegionPanel]) -> Result<Figure> {
    let image = pixels::picture(image, "fmp_regions: image")?;
    if panels.is_empty() {
        bail!("fmp_regions: no panels; pass one RegionPanel per FMP variant");
    }
    let mut checked = Vec::with_capacity(panels.len());
    for p in panels {
        let what = format!("fmp_regions `{}`", p.title);
        check_intervals(&format!("{what} rows"), &p.rows, image.height)?;
        check_intervals(&format!("{what} cols"), &p.cols, image.width)?;
        let pooled = pixels::picture(&p.pooled, &format!("{what} pooled"))?;
        if pooled.height != p.rows.len() || pooled.width != p.cols.len() {
            bail!(
                "{what}: pooled image is {}x{} but there are {}x{} regions; pass the pooled output of these regions",
                pooled.height,
                pooled.width,
                p.rows.len(),
                p.cols.len()
            );
        }
        checked.push(Panel {
            title: p.title.clone(),
            rows: p.rows.clone(),
            cols: p.cols.clone(),
            pooled,
        });
    }
    let width = PANEL_W * checked.len() as u32 + 16;
    let height = TITLE_H + 2 * (28 + BOX + 24) + 8;
    Ok(Figure::new(
        width,
        height,
        Regions {
            image,
            panels: checked,
        },
    ))
}

impl Paint for Regions {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (h, w) = (self.image.height, self.image.width);
        let title = format!("Fractional max-pooling regions on a {h}x{w} image");
        canvas::title(area, &title, TITLE_H, 18)?;
        let grid_color = RGBColor(255, 140, 0).mix(0.8).stroke_width(1);
        for (k, panel) in self.panels.iter().enumerate() {
            let left = 8 + (k as u32 * PANEL_W) as i32;
            let cx = left + PANEL_W as i32 / 2;
            let mut y = TITLE_H as i32;
            canvas::centered(area, &shorten(&panel.title, 30), (cx, y + 12), bold(14))?;
            y += 28;
            let corner = corner_at(left, y);
            let (x0, y0, tw, th) =
                pixels::draw_picture(area, &self.image, corner, (BOX, BOX), Tone::Gray)?;
            let sx = tw as f64 / w as f64;
            let sy = th as f64 / h as f64;
            let px = |c: i64| x0 + (c as f64 * sx).round() as i32;
            let py = |r: i64| y0 + (r as f64 * sy).round() as i32;
            let (x1, y1) = (x0 + tw as i32, y0 + th as i32);
            for &(a, b) in &panel.rows {
                for edge in [py(a), py(b + 1).min(y1 - 1)] {
                    area.draw(&PathElement::new(vec![(x0, edge), (x1, edge)], grid_color))?;
                }
            }
            for &(a, b) in &panel.cols {
                for edge in [px(a), px(b + 1).min(x1 - 1)] {
                    area.draw(&PathElement::new(vec![(edge, y0), (edge, y1)], grid_color))?;
                }
            }
            y += BOX as i32;
            let caption = format!(
                "{}x{} regions, {} x {} px",
                panel.rows.len(),
                panel.cols.len(),
                widths(&panel.rows),
                widths(&panel.cols)
            );
            canvas::centered(area, &caption, (cx, y + 12), font(12).color(&GREY))?;
            y += 28;
            canvas::centered(area, "pooled", (cx, y + 12), bold(13))?;
            y += 28;
            pixels::draw_picture(
                area,
                &panel.pooled,
                corner_at(left, y),
                (BOX, BOX),
                Tone::Gray,
            )?;
            y += BOX as i32;
            let size = format!("{}x{}", panel.pooled.height, panel.pooled.width);
            canvas::centered(area, &size, (cx, y + 12), font(12).color(&GREY))?;
        }
        Ok(())
    }
}

/// The top-left corner of the picture box in a panel starting at `left`.
fn corner_at(left: i32, y: i32) -> (i32, i32) {
    (left + ((PANEL_W - BOX) / 2) as i32, y)
}

/// Each variant's sequence of repeatedly pooled images, one row per variant.
struct Repeated {
    rows: Vec<(String, Vec<Picture>)>,
}

const REP_BOX: u32 = 96;
const REP_CELL: u32 = 112;
const REP_ROW: u32 = REP_BOX + 30;

impl Repeated {
    fn label_width(&self) -> u32 {
        let chars = self.rows.iter().map(|(n, _)| n.chars().count().min(28));
        chars.max().unwrap_or(0) as u32 * 8 + 20
    }
}

/// The same image pooled again and again, one row per FMP variant: pseudorandom regions
/// keep the image's shape (a faithful downscale), random regions distort it, as in
/// Graham's paper. Each entry is `(variant, images)`, the images `[H, W]` or
/// `[C, H, W]` in the order they were produced; each is drawn in the same box, with its
/// size under it.
pub fn repeated_fmp(rows: &[(String, Vec<Tensor>)]) -> Result<Figure> {
    if rows.is_empty() || rows.iter().all(|(_, v)| v.is_empty()) {
        bail!("repeated_fmp: no images; pass (variant, images) pairs with at least one image");
    }
    let mut checked = Vec::with_capacity(rows.len());
    for (name, images) in rows {
        let what = format!("repeated_fmp `{name}`");
        let pictures = images
            .iter()
            .map(|t| pixels::picture(t, &what))
            .collect::<Result<Vec<_>>>()?;
        checked.push((name.clone(), pictures));
    }
    let figure = Repeated { rows: checked };
    let steps = figure.rows.iter().map(|(_, v)| v.len()).max().unwrap_or(1) as u32;
    let width = figure.label_width() + steps * REP_CELL + 16;
    let height = TITLE_H + figure.rows.len() as u32 * REP_ROW + 8;
    Ok(Figure::new(width.max(420), height, figure))
}

impl Paint for Repeated {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        canvas::title(area, "The same image pooled again and again", TITLE_H, 18)?;
        let label_w = self.label_width() as i32;
        for (r, (name, pictures)) in self.rows.iter().enumerate() {
            let y = (TITLE_H + r as u32 * REP_ROW) as i32;
            let style = canvas::anchored(
                bold(13),
                plotters::style::text_anchor::HPos::Right,
                plotters::style::text_anchor::VPos::Center,
            );
            let at = (label_w - 10, y + REP_BOX as i32 / 2);
            area.draw(&Text::new(shorten(name, 28), at, style))?;
            for (c, pic) in pictures.iter().enumerate() {
                let x = label_w + (c as u32 * REP_CELL) as i32;
                let corner = (x + ((REP_CELL - REP_BOX) / 2) as i32, y);
                pixels::draw_picture(area, pic, corner, (REP_BOX, REP_BOX), Tone::Gray)?;
                let size = format!("{}x{}", pic.height, pic.width);
                let at = (x + REP_CELL as i32 / 2, y + REP_BOX as i32 + 12);
                canvas::centered(area, &size, at, font(12).color(&GREY))?;
            }
        }
        Ok(())
    }
}

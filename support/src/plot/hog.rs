//! HOG's picture: the image with its grid of cells, and beside it each cell's histogram
//! drawn as line segments, one per bin, as scikit-image draws it. A bin counts gradients
//! of one orientation; its segment is drawn across that gradient, along the edge that
//! makes it, so a vertical stroke shows as vertical segments.

use super::canvas::{self, GREY, font};
use super::pixels::{self, Picture, Tone};
use super::{Area, Figure, Paint};
use crate::features::{Hog, HogConfig};
use anyhow::{Result, ensure};
use plotters::prelude::*;
use tch::Tensor;

const PANEL: u32 = 280;
const TITLE_H: u32 = 40;
const CAPTION_H: u32 = 34;

/// The image (`[H, W]` or `[1, H, W]`) that `hog` was computed from, with its cell grid,
/// beside each cell's orientation histogram: in every cell one segment per bin, through
/// the cell's centre, along the edges of that bin's orientation, its length proportional
/// to the bin's value (the largest bin of the image fills most of a cell).
pub fn hog(image: &Tensor, hog: &Hog) -> Result<Figure> {
    let picture = pixels::picture(image, "plot::hog: image")?;
    let config = hog.config;
    let (rows, cols) = (hog.cells.len(), hog.cells.first().map_or(0, Vec::len));
    ensure!(
        picture.channels == 1
            && rows > 0
            && rows == config.cells(picture.height)
            && cols == config.cells(picture.width),
        "plot::hog: the HOG has {rows}x{cols} cells, but this {}x{} image of {} channel(s) \
         has other cells of {p}x{p} pixels; pass the image the HOG was computed from",
        picture.height,
        picture.width,
        picture.channels,
        p = config.pixels_per_cell
    );
    ensure!(
        hog.cells
            .iter()
            .flatten()
            .all(|bins| bins.len() == config.bins),
        "plot::hog: every cell needs {} bins, as the HOG's config says",
        config.bins
    );
    let figure = HogPicture {
        picture,
        cells: hog.cells.clone(),
        config,
    };
    Ok(Figure::new(
        2 * PANEL + 32,
        TITLE_H + PANEL + CAPTION_H,
        figure,
    ))
}

/// The painter of [`hog`].
struct HogPicture {
    picture: Picture,
    cells: Vec<Vec<Vec<f32>>>,
    config: HogConfig,
}

impl Paint for HogPicture {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (rows, cols) = (self.cells.len(), self.cells[0].len());
        let HogConfig {
            pixels_per_cell: p,
            bins,
            ..
        } = self.config;
        let title = format!(
            "HOG: {rows}x{cols} cells of {p}x{p} pixels, {bins} bins of {:.0}°",
            180.0 / bins as f64
        );
        canvas::title(area, &title, TITLE_H, 17)?;
        let top = TITLE_H as i32;
        let (x0, y0, w, _) =
            pixels::draw_picture(area, &self.picture, (8, top), (PANEL, PANEL), Tone::Gray)?;
        let scale = w as f64 / self.picture.width as f64;
        let cell = p as f64 * scale;
        let right = x0 + PANEL as i32 + 16;
        let (gw, gh) = (
            (cols as f64 * cell).round() as i32,
            (rows as f64 * cell).round() as i32,
        );
        area.draw(&Rectangle::new(
            [(right, y0), (right + gw, y0 + gh)],
            BLACK.filled(),
        ))?;
        let line = RGBColor(255, 140, 0).mix(0.9).stroke_width(1);
        for left in [x0, right] {
            for r in 0..=rows {
                let y = y0 + (r as f64 * cell).round() as i32;
                area.draw(&PathElement::new(vec![(left, y), (left + gw, y)], line))?;
            }
            for c in 0..=cols {
                let x = left + (c as f64 * cell).round() as i32;
                area.draw(&PathElement::new(vec![(x, y0), (x, y0 + gh)], line))?;
            }
        }
        // Segments scale with the largest bin. Only bins above 0 get one, so a flat image
        // (no gradient anywhere) draws none and divides nothing by 0.
        let largest = self
            .cells
            .iter()
            .flatten()
            .flatten()
            .fold(0f32, |m, &v| m.max(v));
        let segment = WHITE.stroke_width(2);
        for (r, row) in self.cells.iter().enumerate() {
            for (c, histogram) in row.iter().enumerate() {
                let cx = right as f64 + (c as f64 + 0.5) * cell;
                let cy = y0 as f64 + (r as f64 + 0.5) * cell;
                for (b, &value) in histogram.iter().enumerate().filter(|(_, v)| **v > 0.0) {
                    // The bin's middle gradient angle, turned 90° to lie along the edge;
                    // screen y points down, so the sine changes sign.
                    let edge = ((b as f64 + 0.5) * 180.0 / bins as f64 + 90.0).to_radians();
                    let half = 0.45 * cell * (value / largest) as f64;
                    let (dx, dy) = (half * edge.cos(), -half * edge.sin());
                    let ends = vec![
                        ((cx - dx).round() as i32, (cy - dy).round() as i32),
                        ((cx + dx).round() as i32, (cy + dy).round() as i32),
                    ];
                    area.draw(&PathElement::new(ends, segment))?;
                }
            }
        }
        let y = top + PANEL as i32 + CAPTION_H as i32 / 2;
        let style = font(12).color(&GREY);
        let left_middle = 8 + PANEL as i32 / 2;
        canvas::centered(
            area,
            "the image and its cells",
            (left_middle, y),
            style.clone(),
        )?;
        let text = "each cell's histogram: one line per bin, along its edges";
        canvas::centered(area, text, (right + PANEL as i32 / 2, y), style)?;
        Ok(())
    }
}

//! Grids of images: a few images side by side, samples with their labels, the errors,
//! small bitmaps. Feature maps and filters are drawn with these grids in `inside.rs`.

use super::canvas::{self, GREY, RIGHT, WRONG, font, shorten};
use super::pixels::{self, Picture, Tone};
use super::{Area, Figure, Paint};
use anyhow::{Context, Result, bail};
use plotters::prelude::*;
use tch::Tensor;

/// The most images one grid draws; more would be unreadable (and slow to render).
const MAX_IMAGES: usize = 256;

/// One cell of a grid: a picture, how to colour it, and up to two caption lines, the
/// second coloured.
pub(super) struct Cell {
    pub(super) picture: Picture,
    pub(super) tone: Tone,
    pub(super) caption: String,
    pub(super) verdict: Option<(String, bool)>,
}

impl Cell {
    /// A picture with a one-line caption.
    pub(super) fn new(picture: Picture, tone: Tone, caption: String) -> Cell {
        Cell {
            picture,
            tone,
            caption,
            verdict: None,
        }
    }
}

/// A titled grid of pictures with captions.
struct PictureGrid {
    title: String,
    cells: Vec<Cell>,
    columns: usize,
    image_box: u32,
}

const TITLE_H: u32 = 36;
const CELL_PAD: u32 = 8;

impl PictureGrid {
    fn cell_size(&self) -> (u32, u32) {
        let lines = if self.cells.iter().any(|c| c.verdict.is_some()) {
            2
        } else {
            1
        };
        let width = (self.image_box + CELL_PAD).max(116);
        (width, self.image_box + CELL_PAD + 15 * lines + 4)
    }

    fn into_figure(self) -> Figure {
        let (cw, ch) = self.cell_size();
        let rows = self.cells.len().div_ceil(self.columns) as u32;
        let width = (cw * self.columns as u32 + 2 * CELL_PAD).max(320);
        Figure::new(width, TITLE_H + ch * rows + CELL_PAD, self)
    }
}

impl Paint for PictureGrid {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (width, _) = area.dim_in_pixel();
        canvas::title(area, &self.title, TITLE_H, 17)?;
        let (cw, ch) = self.cell_size();
        let left = (width.saturating_sub(cw * self.columns as u32) / 2) as i32;
        for (i, cell) in self.cells.iter().enumerate() {
            let x = left + (i % self.columns) as i32 * cw as i32;
            let y = TITLE_H as i32 + (i / self.columns) as i32 * ch as i32;
            let corner = (x + ((cw - self.image_box) / 2) as i32, y);
            let (x0, y0, w, h) = pixels::draw_picture(
                area,
                &cell.picture,
                corner,
                (self.image_box, self.image_box),
                cell.tone,
            )?;
            if let Some((_, false)) = cell.verdict {
                let frame = WRONG.stroke_width(3);
                let (x1, y1) = (x0 + w as i32, y0 + h as i32);
                area.draw(&Rectangle::new([(x0 - 2, y0 - 2), (x1 + 1, y1 + 1)], frame))?;
            }
            let text_y = y + self.image_box as i32 + 12;
            let cx = x + cw as i32 / 2;
            canvas::centered(area, &cell.caption, (cx, text_y), font(12).color(&GREY))?;
            if let Some((text, right)) = &cell.verdict {
                let color = if *right { RIGHT } else { WRONG };
                canvas::centered(area, text, (cx, text_y + 15), font(12).color(&color))?;
            }
        }
        Ok(())
    }
}

/// Integer labels from a tensor of any integer or float kind.
fn label_values(t: &Tensor, what: &str) -> Result<Vec<i64>> {
    crate::layout::flat_values(t).with_context(|| format!("cannot read {what} as integers"))
}

/// The name of class `k`, or the number itself when no names are given.
fn class_name<S: AsRef<str>>(classes: &[S], k: i64) -> Result<String> {
    if classes.is_empty() {
        return Ok(k.to_string());
    }
    let name = usize::try_from(k).ok().and_then(|i| classes.get(i));
    match name {
        Some(n) => Ok(shorten(n.as_ref(), 14)),
        None => bail!(
            "label {k} is out of range for {} class names; pass the data set's classes",
            classes.len()
        ),
    }
}

/// Captioned cells for images with their labels (and predictions); also counts mistakes.
fn sample_cells<S: AsRef<str>>(
    images: &Tensor,
    truth: &[i64],
    guesses: Option<&[i64]>,
    classes: &[S],
    figure: &str,
) -> Result<(Vec<Cell>, usize)> {
    let pictures = pixels::pictures(images, &format!("{figure}: images"))?;
    let n = pictures.len();
    if n > MAX_IMAGES {
        bail!(
            "{figure} draws at most {MAX_IMAGES} images, got {n}; pass fewer, e.g. images.narrow(0, 0, 64)"
        );
    }
    if truth.len() != n || guesses.is_some_and(|g| g.len() != n) {
        bail!(
            "{figure}: {n} images but {} labels and {} predictions; pass one of each per image",
            truth.len(),
            guesses.map_or(n, <[i64]>::len)
        );
    }
    let mut cells = Vec::with_capacity(n);
    let mut wrong = 0;
    for (i, picture) in pictures.into_iter().enumerate() {
        let verdict = match guesses {
            Some(g) => {
                let right = g[i] == truth[i];
                wrong += usize::from(!right);
                Some((format!("pred: {}", class_name(classes, g[i])?), right))
            }
            None => None,
        };
        let caption = format!("true: {}", class_name(classes, truth[i])?);
        cells.push(Cell {
            picture,
            tone: Tone::Gray,
            caption,
            verdict,
        });
    }
    Ok((cells, wrong))
}

/// The most images [`images`] puts in its one row.
const MAX_ROW: usize = 8;

/// A few images side by side, each in the same box with its caption and size, so that
/// sizes compare at a glance (a digit, its pooled versions). Each is `[H, W]`,
/// `[C, H, W]` or `[1, C, H, W]`. Images with negative values (a convolution's output,
/// an edge kernel) are drawn on a symmetric scale, red positive, blue negative and white
/// zero, so that the sign shows; others in grey, as [`errors_grid`] draws them.
pub fn images(title: &str, images: &[(&str, &Tensor)]) -> Result<Figure> {
    if images.is_empty() || images.len() > MAX_ROW {
        bail!(
            "plot::images draws 1 to {MAX_ROW} images in a row, got {}; pass (caption, image) pairs",
            images.len()
        );
    }
    let mut cells = Vec::with_capacity(images.len());
    for (caption, image) in images {
        let what = format!("plot::images `{caption}`");
        let mut picture = pixels::picture(image, &what)?;
        let mut tone = Tone::Gray;
        if picture.channels == 1 && image.is_floating_point() && image.min().double_value(&[]) < 0.0
        {
            let matrix = image.reshape([1, picture.height as i64, picture.width as i64]);
            picture = pixels::signed_pictures(&matrix, &what)?.remove(0);
            tone = Tone::Diverging;
        }
        let caption = format!("{} ({}x{})", caption, picture.height, picture.width);
        cells.push(Cell::new(picture, tone, shorten(&caption, 24)));
    }
    let columns = cells.len();
    Ok(PictureGrid {
        title: title.to_string(),
        cells,
        columns,
        image_box: 150,
    }
    .into_figure())
}

/// "Show me the errors": the first `max` misclassified images (at most 256) with their
/// true and predicted labels, in one call. No errors gives a figure that says so.
pub fn errors_grid<S: AsRef<str>>(
    images: &Tensor,
    labels: &Tensor,
    predicted: &Tensor,
    classes: &[S],
    max: usize,
) -> Result<Figure> {
    let truth = label_values(labels, "labels")?;
    let guesses = label_values(predicted, "predicted labels")?;
    let n = images.size().first().copied().unwrap_or(0).max(0) as usize;
    if truth.len() != n || guesses.len() != n {
        bail!(
            "errors_grid: {n} images but {} labels and {} predictions; pass one of each per image",
            truth.len(),
            guesses.len()
        );
    }
    let wrong: Vec<i64> = (0..n)
        .filter(|&i| truth[i] != guesses[i])
        .map(|i| i as i64)
        .collect();
    if wrong.is_empty() {
        let text = format!("no misclassified images among the {n} given");
        return Ok(Figure::empty("Errors", &text));
    }
    let shown = &wrong[..wrong.len().min(max.clamp(1, MAX_IMAGES))];
    let index = Tensor::from_slice(shown).to_device(images.device());
    let picked = images.index_select(0, &index);
    let at = |v: &[i64]| -> Vec<i64> { shown.iter().map(|&i| v[i as usize]).collect() };
    let (cells, _) = sample_cells(
        &picked,
        &at(&truth),
        Some(&at(&guesses)),
        classes,
        "errors_grid",
    )?;
    let title = format!(
        "Errors: {} shown of {} misclassified ({} images, {:.2}% error)",
        shown.len(),
        wrong.len(),
        n,
        100.0 * wrong.len() as f64 / n as f64
    );
    Ok(grid(title, cells, 84))
}

/// Small matrices `[N, H, W]` as a grid of bitmaps, one label each: minimum white,
/// maximum black, on one scale for all. LeNet-5's RBF centres (the ±1 7x12 drawings of
/// each digit that the output layer compares against) are
/// `bitmap_grid("RBF centres", &digits, &weights.view([10, 12, 7]))`.
pub fn bitmap_grid<S: AsRef<str>>(title: &str, labels: &[S], bitmaps: &Tensor) -> Result<Figure> {
    let pictures = pixels::matrix_pictures(bitmaps, "bitmap_grid: bitmaps")?;
    if pictures.len() != labels.len() {
        bail!(
            "bitmap_grid: {} bitmaps but {} labels; pass one label per bitmap",
            pictures.len(),
            labels.len()
        );
    }
    if pictures.is_empty() {
        return Ok(Figure::empty(title, "no bitmaps to show"));
    }
    if pictures.len() > MAX_IMAGES {
        bail!(
            "bitmap_grid draws at most {MAX_IMAGES} bitmaps, got {}",
            pictures.len()
        );
    }
    let cells = pictures
        .into_iter()
        .zip(labels)
        .map(|(picture, label)| Cell::new(picture, Tone::Ink, shorten(label.as_ref(), 14)))
        .collect();
    Ok(grid(title.to_string(), cells, 72))
}

/// Lays out cells in a roughly square grid, at most 8 or 10 wide.
pub(super) fn grid(title: String, cells: Vec<Cell>, image_box: u32) -> Figure {
    let max_columns = if image_box > 80 { 8 } else { 10 };
    let columns = (cells.len() as f64).sqrt().ceil() as usize;
    let columns = columns.max(cells.len().min(4)).clamp(1, max_columns);
    PictureGrid {
        title,
        cells,
        columns,
        image_box,
    }
    .into_figure()
}

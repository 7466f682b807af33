//! Figures that teach: training curves, confusion matrices, sample grids, FMP regions,
//! what a trained net sees (feature maps, filters) and HOG's cells.
//!
//! Every figure is a function of the data it shows (a DataFrame, a tensor, a slice) and
//! returns a [`Figure`]. A `Figure` is the last expression of a notebook cell to show it
//! inline (evcxr's display protocol, as a PNG), and renders to SVG and PNG for the diary.
//!
//! Text is drawn with DejaVu Sans, embedded in the library, so a PNG looks the same on
//! every machine, even in a container with no fonts installed.
//!
//! evcxr shows one output per MIME type per cell, so a cell that wants several figures
//! combines them into one picture, as its last expression:
//! ```ignore
//! Figure::row(vec![training_curves(&[("fmp", &history)])?, confusion_matrix(&confusion)?])
//! ```
//! (`Figure::column` stacks them, `Figure::grid(columns, ..)` fills a grid.)

mod bars;
mod canvas;
mod columns;
mod curves;
mod fmp;
mod hog;
mod images;
mod inside;
mod matrix;
mod pixels;

pub(crate) use bars::settings_spread;
pub use bars::{model_comparison, reproduction};
pub use curves::{error_vs_passes, lines, training_curves};
pub use fmp::{RegionPanel, fmp_regions, repeated_fmp};
pub use hog::hog;
pub use images::{bitmap_grid, errors_grid, images};
pub use inside::{activations, feature_maps, filters};
pub use matrix::{MatrixValue, confusion_matrix, matrix_figure};

use anyhow::{Context, Result, bail};
use base64::Engine;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::{Arc, OnceLock};

/// The drawing area a figure paints into, on any backend.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// What a single (leaf) figure knows: how to paint itself on any plotters backend.
///
/// Painters own plain data (vectors, not tensors or DataFrames), checked when the figure
/// is built, so painting only fails if the backend does.
pub(crate) trait Paint: Send + Sync + 'static {
    fn paint<DB: DrawingBackend>(&self, area: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// `Paint` made object safe: one method per backend the library renders to.
trait Painter: Send + Sync {
    fn svg(&self, area: &Area<SVGBackend<'_>>) -> Result<()>;
    fn bitmap(&self, area: &Area<BitMapBackend<'_>>) -> Result<()>;
}

impl<T: Paint> Painter for T {
    fn svg(&self, area: &Area<SVGBackend<'_>>) -> Result<()> {
        self.paint(area)
    }
    fn bitmap(&self, area: &Area<BitMapBackend<'_>>) -> Result<()> {
        self.paint(area)
    }
}

#[derive(Clone)]
enum Layout {
    Leaf(Arc<dyn Painter>),
    Grid { columns: usize, cells: Vec<Figure> },
}

/// A finished figure: shows inline in a notebook, renders to SVG and PNG.
///
/// Cheap to clone (the data is shared). Combine several with [`Figure::row`],
/// [`Figure::column`] or [`Figure::grid`] to show them in one cell.
#[derive(Clone)]
pub struct Figure {
    width: u32,
    height: u32,
    layout: Layout,
}

impl Figure {
    /// A leaf figure of `width` x `height` pixels painted by `painter`.
    pub(crate) fn new(width: u32, height: u32, painter: impl Paint) -> Figure {
        Figure {
            width: width.max(1),
            height: height.max(1),
            layout: Layout::Leaf(Arc::new(painter)),
        }
    }

    /// A figure that says there is nothing to show, and why: used where a figure has no
    /// data (no errors to show, say) instead of failing or panicking.
    pub fn empty(title: &str, reason: &str) -> Figure {
        Figure::new(
            480,
            160,
            canvas::Message {
                title: title.to_string(),
                text: reason.to_string(),
            },
        )
    }

    /// Figures side by side, in one picture (so one notebook cell can show them all).
    pub fn row(figures: Vec<Figure>) -> Figure {
        let columns = figures.len();
        Figure::grid(columns, figures)
    }

    /// Figures one under the other, in one picture.
    pub fn column(figures: Vec<Figure>) -> Figure {
        Figure::grid(1, figures)
    }

    /// Figures in a grid of `columns` columns, filled row by row. Each column is as
    /// wide as its widest figure and each row as tall as its tallest. An empty list gives
    /// an [`empty`](Figure::empty) figure; `columns` of 0 counts as 1.
    pub fn grid(columns: usize, figures: Vec<Figure>) -> Figure {
        if figures.is_empty() {
            return Figure::empty("(no figures)", "the list of figures to combine is empty");
        }
        let columns = columns.clamp(1, figures.len());
        let (widths, heights) = tracks(columns, &figures);
        Figure {
            width: widths.iter().sum(),
            height: heights.iter().sum(),
            layout: Layout::Grid {
                columns,
                cells: figures,
            },
        }
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The figure as an SVG document. Text stays text (font family `sans-serif`);
    /// images are embedded as PNG.
    pub fn to_svg(&self) -> Result<String> {
        register_fonts()?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            root.fill(&WHITE)?;
            paint_tree(self, &root, &|p, a| p.svg(a))?;
            root.present()?;
        }
        Ok(svg)
    }

    /// The figure as PNG bytes (8-bit RGB), text drawn with the embedded font.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        register_fonts()?;
        let (w, h) = self.size();
        let mut rgb = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            paint_tree(self, &root, &|p, a| p.bitmap(a))?;
            root.present()?;
        }
        encode_png(w, h, &rgb)
    }

    /// evcxr's display hook: a `Figure` as the last expression of a cell shows inline
    /// as a PNG. A figure that cannot render shows the reason as text instead.
    pub fn evcxr_display(&self) {
        match self.to_png() {
            Ok(png) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(png);
                println!("EVCXR_BEGIN_CONTENT image/png\n{b64}\nEVCXR_END_CONTENT");
            }
            Err(e) => println!(
                "EVCXR_BEGIN_CONTENT text/plain\nthe figure could not be drawn: {e:#}\nEVCXR_END_CONTENT"
            ),
        }
    }
}

impl std::fmt::Debug for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.layout {
            Layout::Leaf(_) => "figure".to_string(),
            Layout::Grid { columns, cells } => format!("grid of {} ({columns} wide)", cells.len()),
        };
        write!(f, "Figure({kind}, {}x{} px)", self.width, self.height)
    }
}

/// Column widths and row heights of a grid of figures.
fn tracks(columns: usize, figures: &[Figure]) -> (Vec<u32>, Vec<u32>) {
    let rows = figures.len().div_ceil(columns);
    let mut widths = vec![0u32; columns];
    let mut heights = vec![0u32; rows];
    for (i, f) in figures.iter().enumerate() {
        widths[i % columns] = widths[i % columns].max(f.width);
        heights[i / columns] = heights[i / columns].max(f.height);
    }
    (widths, heights)
}

/// Paints one leaf figure on a given backend (picks the backend's `Painter` method).
type PaintLeaf<'f, DB> = dyn Fn(&dyn Painter, &Area<DB>) -> Result<()> + 'f;

/// Paints a figure tree: leaves through `leaf` (which picks the backend's method),
/// grids by giving each cell its own sub-area.
fn paint_tree<DB: DrawingBackend>(
    figure: &Figure,
    area: &Area<DB>,
    leaf: &PaintLeaf<'_, DB>,
) -> Result<()> {
    match &figure.layout {
        Layout::Leaf(p) => leaf(p.as_ref(), area),
        Layout::Grid { columns, cells } => {
            let (widths, heights) = tracks(*columns, cells);
            for (i, cell) in cells.iter().enumerate() {
                let (r, c) = (i / columns, i % columns);
                let x: u32 = widths[..c].iter().sum();
                let y: u32 = heights[..r].iter().sum();
                let sub = area.clone().shrink((x, y), cell.size());
                paint_tree(cell, &sub, leaf)?;
            }
            Ok(())
        }
    }
}

/// Registers the embedded DejaVu Sans as plotters' `sans-serif` (normal and bold), once.
fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let normal = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let bold =
            plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
        normal.is_ok() && bold.is_ok()
    });
    if !ok {
        bail!("the embedded DejaVu Sans font could not be loaded; rebuild the support crate");
    }
    Ok(())
}

/// Encodes 8-bit RGB pixels as a PNG.
pub(crate) fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("cannot start the PNG")?;
        writer
            .write_image_data(rgb)
            .context("cannot encode the PNG pixels")?;
        writer.finish().context("cannot finish the PNG")?;
    }
    Ok(out)
}

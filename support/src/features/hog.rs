//! The histogram of oriented gradients (HOG; Dalal and Triggs, CVPR 2005), written out
//! step by step so that each step can be read and checked by hand:
//!
//! 1. **Gradients** with the centred filter `[-1, 0, 1]`:
//!    `gx = I(y, x+1) - I(y, x-1)` and `gy = I(y-1, x) - I(y+1, x)` (y points up, as in a
//!    plot, so 45° means up and to the right). A border pixel lacks a neighbour on one
//!    side, so its gradient along that axis is 0, as in scikit-image.
//!    Magnitude `m = sqrt(gx² + gy²)`, orientation `θ = atan2(gy, gx)` folded into
//!    [0°, 180°): an edge from dark to bright and one from bright to dark count alike
//!    ("unsigned" gradients).
//! 2. **Cells** of `p x p` pixels (only whole cells; the last rows and columns that do
//!    not fill one are left out, as in scikit-image). Each cell's histogram has `bins`
//!    bins of `180° / bins`; every pixel adds its magnitude to the one bin its θ falls
//!    in (no interpolation between bins or cells: simpler to compute by hand, and what
//!    scikit-image does).
//! 3. **Blocks** of `b x b` cells, one starting at every cell (so they overlap), each
//!    normalised with L1: `v / sum(|v|)`, which makes the descriptor the same for a
//!    faint and a strong stroke. A block without any gradient stays zero.
//! 4. The **descriptor** is the normalised blocks one after another, row by row, each
//!    block's cells row by row: `blocks_y · blocks_x · b² · bins` values, with
//!    `blocks = cells - b + 1` along each side.

use anyhow::{Result, bail, ensure};
use tch::Tensor;

/// HOG's parameters. The default is Dalal and Triggs': 8x8-pixel cells, blocks of 2x2
/// cells, 9 orientation bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HogConfig {
    /// The side of a square cell, in pixels.
    pub pixels_per_cell: usize,
    /// The side of a square block, in cells.
    pub cells_per_block: usize,
    /// Orientation bins over 0°-180°.
    pub bins: usize,
}

impl Default for HogConfig {
    fn default() -> Self {
        HogConfig {
            pixels_per_cell: 8,
            cells_per_block: 2,
            bins: 9,
        }
    }
}

impl HogConfig {
    /// Whole cells along a side of `pixels`.
    pub fn cells(&self, pixels: usize) -> usize {
        pixels / self.pixels_per_cell.max(1)
    }

    /// Blocks along a side of `pixels`: one starting at every cell that leaves room for a
    /// whole block.
    pub fn blocks(&self, pixels: usize) -> usize {
        (self.cells(pixels) + 1).saturating_sub(self.cells_per_block)
    }

    /// The length of the descriptor of a `height x width` image.
    pub fn descriptor_len(&self, height: usize, width: usize) -> usize {
        self.blocks(height) * self.blocks(width) * self.cells_per_block.pow(2) * self.bins
    }

    /// Fails unless an image of `height x width` has at least one whole block.
    fn check(&self, height: usize, width: usize) -> Result<()> {
        ensure!(
            self.pixels_per_cell > 0 && self.cells_per_block > 0 && self.bins > 0,
            "HOG needs at least one pixel per cell, one cell per block and one bin, got {self:?}"
        );
        let (rows, cols) = (self.cells(height), self.cells(width));
        ensure!(
            rows >= self.cells_per_block && cols >= self.cells_per_block,
            "a {height}x{width} image has {rows}x{cols} whole cells of {p}x{p} pixels, too few \
             for one block of {b}x{b} cells; use smaller cells or blocks",
            p = self.pixels_per_cell,
            b = self.cells_per_block
        );
        Ok(())
    }
}

/// An image's HOG: every cell's histogram and the descriptor.
#[derive(Debug, Clone, PartialEq)]
pub struct Hog {
    pub config: HogConfig,
    /// `cells[row][column][bin]`: the summed gradient magnitude of each cell per bin.
    pub cells: Vec<Vec<Vec<f32>>>,
    /// The L1-normalised blocks, concatenated.
    pub descriptor: Vec<f32>,
}

/// The HOG of a one-channel image (`[H, W]`, `[1, H, W]` or `[1, 1, H, W]`, any kind;
/// its values are used as they are). See the module's documentation for the steps.
pub fn hog(image: &Tensor, config: &HogConfig) -> Result<Hog> {
    let (height, width, pixels) = gray_pixels(image)?;
    config.check(height, width)?;
    let cells = cell_histograms(&pixels, height, width, config);
    let descriptor = normalised_blocks(&cells, config.cells_per_block);
    Ok(Hog {
        config: *config,
        cells,
        descriptor,
    })
}

/// The pixels of a one-channel image, row by row, with its height and width.
fn gray_pixels(image: &Tensor) -> Result<(usize, usize, Vec<f32>)> {
    let shape = image.size();
    let (height, width) = match shape[..] {
        [h, w] | [1, h, w] | [1, 1, h, w] => (h as usize, w as usize),
        _ => bail!(
            "HOG reads one image of one channel, [H, W] (or [1, H, W]), got shape {shape:?}; \
             for a colour image, average its channels first"
        ),
    };
    Ok((height, width, crate::layout::flat_values(image)?))
}

/// Each cell's magnitude-weighted orientation histogram (step 2 of the module's docs).
fn cell_histograms(
    pixels: &[f32],
    height: usize,
    width: usize,
    config: &HogConfig,
) -> Vec<Vec<Vec<f32>>> {
    let p = config.pixels_per_cell;
    let (rows, cols) = (config.cells(height), config.cells(width));
    let at = |y: usize, x: usize| pixels[y * width + x];
    let bin_width = 180.0 / config.bins as f32;
    let mut cells = vec![vec![vec![0f32; config.bins]; cols]; rows];
    for y in 0..rows * p {
        for x in 0..cols * p {
            let gx = if x == 0 || x + 1 == width {
                0.0
            } else {
                at(y, x + 1) - at(y, x - 1)
            };
            let gy = if y == 0 || y + 1 == height {
                0.0
            } else {
                at(y - 1, x) - at(y + 1, x)
            };
            let magnitude = gx.hypot(gy);
            let angle = gy.atan2(gx).to_degrees().rem_euclid(180.0);
            let bin = ((angle / bin_width) as usize).min(config.bins - 1);
            cells[y / p][x / p][bin] += magnitude;
        }
    }
    cells
}

/// The blocks of `block x block` cells, each L1-normalised, concatenated (steps 3 and 4).
fn normalised_blocks(cells: &[Vec<Vec<f32>>], block: usize) -> Vec<f32> {
    let (rows, cols) = (cells.len(), cells[0].len());
    let mut descriptor = Vec::new();
    for top in 0..=rows - block {
        for left in 0..=cols - block {
            let values: Vec<f32> = cells[top..top + block]
                .iter()
                .flat_map(|row| row[left..left + block].iter().flatten().copied())
                .collect();
            let total: f32 = values.iter().map(|v| v.abs()).sum();
            let scale = if total > 0.0 { 1.0 / total } else { 0.0 };
            descriptor.extend(values.iter().map(|v| v * scale));
        }
    }
    descriptor
}

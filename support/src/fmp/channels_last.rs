//! The region maxima of a channels-last `f32` CPU tensor (see [`crate::layout`]).
//!
//! In memory a channels-last image is `H` rows of `W x C` values. A row interval's maxima
//! at every column and channel are then the elementwise maxima of its rows, and the
//! maxima of a run of neighbouring columns are the elementwise maxima of slices `C` apart:
//! every pass is one long contiguous loop, and a region's maxima over all channels are a
//! copy of `C` neighbouring values. The passes are those of [`super::cpu`], on rows of
//! `W x C` values instead of `W`.

use super::cpu::{Band, Grid, Plan, extend_runs, grids_width, pick, plans, split_units, wins};
use crate::layout::is_channels_last;
use tch::{Device, Kind, Tensor};

/// Each region's maxima and their positions in the image's memory, `(row * W + col) * C +
/// channel`, for every channel, as two `[N, cells, C]` tensors, for a channels-last `f32`
/// CPU tensor `[N, C, H, W]`; `grids` holds one `(rows, cols)` for all images or one per
/// image. `None` for anything else. A NaN in a region is its maximum.
///
/// Positions in memory order let the caller gather along one contiguous dimension of
/// `[N, H W C]`: libtorch's `gather` and its backward, `scatter_add`, run several times
/// slower along a dimension whose elements lie `C` apart.
pub(super) fn region_max(x: &Tensor, grids: &[Grid]) -> Option<(Tensor, Tensor)> {
    let width = grids_width(grids);
    if x.device() != Device::Cpu
        || x.kind() != Kind::Float
        || !is_channels_last(x)
        || !(1..=3).contains(&width)
    {
        return None;
    }
    let size: Vec<usize> = x.size().iter().map(|&s| s as usize).collect();
    let (n, c, h, w) = (size[0], size[1], size[2], size[3]);
    let cells = grids[0].0.len() * grids[0].1.len();
    let values = Tensor::empty([n, cells, c].map(|s| s as i64), (Kind::Float, Device::Cpu));
    let index = Tensor::empty([n, cells, c].map(|s| s as i64), (Kind::Int64, Device::Cpu));
    if n * cells * c == 0 {
        return Some((values, index));
    }
    let x = x.detach();
    // SAFETY: `x` is a dense channels-last CPU `f32` tensor, so its `n h w c` values lie
    // in `[N, H, W, C]` order from its data pointer; `values` and `index` are fresh
    // contiguous tensors of exactly these sizes that nothing else aliases.
    let (input, out_values, out_index) = unsafe {
        (
            std::slice::from_raw_parts(x.data_ptr() as *const f32, n * h * w * c),
            std::slice::from_raw_parts_mut(values.data_ptr() as *mut f32, n * cells * c),
            std::slice::from_raw_parts_mut(index.data_ptr() as *mut i64, n * cells * c),
        )
    };
    let out = (input, out_values, out_index);
    let per_grid = n / grids.len();
    if width <= 2 {
        pool_images::<2>(out, (h, w, c), &plans(grids, 1), per_grid);
    } else {
        pool_images::<3>(out, (h, w, c), &plans(grids, 1), per_grid);
    }
    Some((values, index))
}

/// Pools every image of `input` into `values` and `index`, the images split over
/// libtorch's threads; `per_plan` neighbouring images share each plan.
fn pool_images<const K: usize>(
    out: (&[f32], &mut [f32], &mut [i64]),
    (h, w, c): (usize, usize, usize),
    plans: &[Plan<K>],
    per_plan: usize,
) {
    let cells = plans[0].0.len() * plans[0].1.len();
    split_units(
        out,
        (h * w * c, cells * c),
        || Band::new(w * c),
        |band, unit, img, v, i| {
            let (rows, cols) = &plans[unit / per_plan];
            pool_image(img, (w, c), (rows, cols), band, v, i)
        },
    );
}

/// The maxima of one image over every region `rows[i] x cols[j]`, region-major with the
/// channels innermost. Earlier positions win ties, row before column.
fn pool_image<const K: usize>(
    img: &[f32],
    (w, c): (usize, usize),
    (rows, cols): (&[[usize; K]], &[(usize, usize)]),
    band: &mut Band,
    values: &mut [f32],
    index: &mut [i64],
) {
    let wc = w * c;
    let mut cell = 0;
    for r in rows {
        let [max1, max2, max3] = &mut band.max;
        let [at1, at2, at3] = &mut band.at;
        max1.copy_from_slice(&img[r[0] * wc..][..wc]);
        for (e, at) in at1.iter_mut().enumerate() {
            *at = r[0] * wc + e;
        }
        for &y in &r[1..] {
            let row = &img[y * wc..][..wc];
            let merged = max1.iter_mut().zip(at1.iter_mut()).zip(row);
            for (e, ((best, at), &v)) in merged.enumerate() {
                let take = wins(v, *best);
                *best = pick(take, v, *best);
                *at ^= (*at ^ (y * wc + e)) & take;
            }
        }
        // Runs of 2 columns are slices `c` apart, runs of 3 add the slice `2 c` on.
        extend_runs((max2, at2), (max1, at1), (&max1[c..], &at1[c..]));
        if K == 3 {
            extend_runs((max3, at3), (max2, at2), (&max1[2 * c..], &at1[2 * c..]));
        }
        for &(first, width) in cols {
            let (from, to) = (first * c, cell * c);
            values[to..to + c].copy_from_slice(&band.max[width - 1][from..from + c]);
            let at = &band.at[width - 1][from..from + c];
            for (o, &a) in index[to..to + c].iter_mut().zip(at) {
                *o = a as i64;
            }
            cell += 1;
        }
    }
}

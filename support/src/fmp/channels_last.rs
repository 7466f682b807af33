//! The region maxima of a channels-last `f32` CPU tensor (see [`crate::layout`]).
//!
//! In memory a channels-last image is `H` rows of `W x C` values. A row interval's maxima
//! at every column and channel are then the elementwise maxima of its rows, and the
//! maxima of a run of neighbouring columns are the elementwise maxima of slices `C` apart:
//! every pass is one long contiguous loop, and a region's maxima over all channels are a
//! copy of `C` neighbouring values. The passes are those of [`super::cpu`], on rows of
//! `W x C` values instead of `W`.

use super::cpu::{
    Band, Grid, Plan, Want, extend_runs, grids_width, pick, plans, split_units, wins,
};
use crate::layout::is_channels_last;
use tch::{Device, Kind, Tensor};

/// Each region's maxima or their positions in the image's memory (`want`), `(row * W +
/// col) * C + channel`, for every channel, as a `[N, cells, C]` tensor, for a
/// channels-last `f32` CPU tensor `[N, C, H, W]`; `grids` holds one `(rows, cols)` for all
/// images or one per image. `None` for anything else. A NaN in a region is its maximum.
///
/// Positions in memory order let the caller gather along one contiguous dimension of
/// `[N, H W C]`: libtorch's `gather` and its backward, `scatter_add`, run several times
/// slower along a dimension whose elements lie `C` apart.
pub(super) fn region_max(x: &Tensor, grids: &[Grid], want: Want) -> Option<Tensor> {
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
    let positions = want == Want::Positions;
    if n * cells * c == 0 {
        return Some(if positions { index } else { values });
    }
    let x = x.detach();
    // SAFETY: `x` is a dense channels-last CPU `f32` tensor, so its `n h w c` values lie
    // in `[N, H, W, C]` order from its data pointer; `values` and `index` are fresh
    // contiguous tensors of exactly these sizes that nothing else aliases (the one not
    // wanted is never written).
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
        pool_images::<2>(out, (h, w, c), &plans(grids, 1), (per_grid, positions));
    } else {
        pool_images::<3>(out, (h, w, c), &plans(grids, 1), (per_grid, positions));
    }
    Some(if positions { index } else { values })
}

/// Pools every image of `input` into `values` or (with `positions`) `index`, the images
/// split over libtorch's threads; `per_plan` neighbouring images share each plan.
fn pool_images<const K: usize>(
    out: (&[f32], &mut [f32], &mut [i64]),
    (h, w, c): (usize, usize, usize),
    plans: &[Plan<K>],
    (per_plan, positions): (usize, bool),
) {
    let cells = plans[0].0.len() * plans[0].1.len();
    split_units(
        out,
        (h * w * c, cells * c),
        || Band::new(w * c),
        |band, unit, img, v, i| {
            let (rows, cols) = &plans[unit / per_plan];
            pool_image(img, (w, c), (rows, cols), band, (v, i, positions))
        },
    );
}

/// The maxima of one image over every region `rows[i] x cols[j]`, region-major with the
/// channels innermost, into `values`, or their positions into `index` (`positions`).
/// Earlier positions win ties, row before column.
fn pool_image<const K: usize>(
    img: &[f32],
    (w, c): (usize, usize),
    (rows, cols): (&[[usize; K]], &[(usize, usize)]),
    band: &mut Band,
    (values, index, positions): (&mut [f32], &mut [i64], bool),
) {
    let wc = w * c;
    let mut cell = 0;
    for r in rows {
        let [max1, max2, max3] = &mut band.max;
        let [at1, at2, at3] = &mut band.at;
        max1.copy_from_slice(&img[r[0] * wc..][..wc]);
        if positions {
            for (e, at) in at1.iter_mut().enumerate() {
                *at = r[0] * wc + e;
            }
        }
        for &y in &r[1..] {
            let row = &img[y * wc..][..wc];
            if positions {
                let merged = max1.iter_mut().zip(at1.iter_mut()).zip(row);
                for (e, ((best, at), &v)) in merged.enumerate() {
                    let take = wins(v, *best);
                    *best = pick(take, v, *best);
                    *at ^= (*at ^ (y * wc + e)) & take;
                }
            } else {
                for (best, &v) in max1.iter_mut().zip(row) {
                    *best = pick(wins(v, *best), v, *best);
                }
            }
        }
        // Runs of 2 columns are slices `c` apart, runs of 3 add the slice `2 c` on.
        extend_runs((max2, at2), (max1, at1), (&max1[c..], &at1[c..]), positions);
        if K == 3 {
            let three = (&max1[2 * c..], &at1[2 * c..]);
            extend_runs((max3, at3), (max2, at2), three, positions);
        }
        for &(first, width) in cols {
            let (from, to) = (first * c, cell * c);
            if positions {
                let at = &band.at[width - 1][from..from + c];
                for (o, &a) in index[to..to + c].iter_mut().zip(at) {
                    *o = a as i64;
                }
            } else {
                values[to..to + c].copy_from_slice(&band.max[width - 1][from..from + c]);
            }
            cell += 1;
        }
    }
}

//! The region maxima on the CPU, computed in Rust straight from the input.
//!
//! On a CPU, finding each region's maximum with tensor ops means copying every region's
//! up-to-9 candidates into a new tensor before reducing it. Reading the input in place
//! instead, plane by plane on libtorch's thread count, skips that copy; the training step
//! then needs only the argmax positions, which [`super::layer`] gathers with autograd.

use super::regions::{Interval, max_width};
use tch::{Device, Kind, Tensor};

/// Each region's maximum and its flat index `row * W + col` within its plane, as two
/// `[planes, cells]` tensors, for an `f32` CPU tensor whose last two dimensions are
/// `H x W`. `grids` holds one `(rows, cols)` for all images, or one per image (each with
/// the same counts). `None` for other kinds and devices, which take the tensor-op path.
/// A NaN in a region is its maximum, as in libtorch's max-pooling.
pub(super) fn region_max(x: &Tensor, grids: &[Grid]) -> Option<(Tensor, Tensor)> {
    let width = grids_width(grids);
    if x.device() != Device::Cpu || x.kind() != Kind::Float || !(1..=3).contains(&width) {
        return None;
    }
    let size = x.size();
    let w = size[size.len() - 1] as usize;
    let plane = size[size.len() - 2] as usize * w;
    let x = x.detach().contiguous();
    let planes = x.numel().checked_div(plane).unwrap_or(0);
    let cells = grids[0].0.len() * grids[0].1.len();
    let values = Tensor::empty([planes as i64, cells as i64], (Kind::Float, Device::Cpu));
    let index = Tensor::empty([planes as i64, cells as i64], (Kind::Int64, Device::Cpu));
    if planes == 0 || cells == 0 {
        return Some((values, index));
    }
    // SAFETY: `x`, `values` and `index` are contiguous CPU tensors of the kinds read here
    // with exactly these element counts; they outlive the slices, and the two outputs are
    // fresh allocations that nothing else aliases.
    let (input, out_values, out_index) = unsafe {
        (
            std::slice::from_raw_parts(x.data_ptr() as *const f32, planes * plane),
            std::slice::from_raw_parts_mut(values.data_ptr() as *mut f32, planes * cells),
            std::slice::from_raw_parts_mut(index.data_ptr() as *mut i64, planes * cells),
        )
    };
    let out = (input, out_values, out_index);
    // Disjoint regions are 1 or 2 wide, overlapping ones 2 or 3.
    let per_grid = planes / grids.len();
    if width <= 2 {
        pool_planes::<2>(out, (plane, w), &plans(grids, w), per_grid);
    } else {
        pool_planes::<3>(out, (plane, w), &plans(grids, w), per_grid);
    }
    Some((values, index))
}

/// What a pooling kernel computes: each region's maximum (evaluation), or the position of
/// that maximum in the image's memory (training, where autograd gathers the values there).
/// Only one is ever used, and leaving out the other saves memory traffic: the unwanted
/// output is allocated but never written, so its memory is never touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Maxima,
    Positions,
}

impl Want {
    /// Positions where `x` will need a gradient, maxima where it will not.
    pub(super) fn for_input(x: &Tensor) -> Want {
        if x.requires_grad() {
            Want::Positions
        } else {
            Want::Maxima
        }
    }
}

/// One draw of pooling regions: the row intervals and the column intervals.
pub(super) type Grid = (Vec<Interval>, Vec<Interval>);

/// The widest region of any grid; 0 when a grid has no regions.
pub(super) fn grids_width(grids: &[Grid]) -> i64 {
    grids
        .iter()
        .map(|(rows, cols)| max_width(rows, cols))
        .max()
        .unwrap_or(0)
}

/// Each grid as its row taps (positions scaled by `row_scale`) and column spans.
pub(super) type Plan<const K: usize> = (Vec<[usize; K]>, Vec<(usize, usize)>);

pub(super) fn plans<const K: usize>(grids: &[Grid], row_scale: usize) -> Vec<Plan<K>> {
    grids
        .iter()
        .map(|(rows, cols)| (taps(rows, row_scale), spans(cols)))
        .collect()
}

/// Each interval's positions as `K` offsets `scale * min(first + a, last)`: a region
/// narrower than `K` repeats its last position, which cannot change a maximum.
pub(super) fn taps<const K: usize>(intervals: &[Interval], scale: usize) -> Vec<[usize; K]> {
    intervals
        .iter()
        .map(|iv| std::array::from_fn(|a| scale * (iv.first + a as i64).min(iv.last) as usize))
        .collect()
}

/// Each interval as `(first, width)`, for the column pass.
pub(super) fn spans(intervals: &[Interval]) -> Vec<(usize, usize)> {
    intervals
        .iter()
        .map(|iv| (iv.first as usize, iv.width() as usize))
        .collect()
}

/// Pools every `plane`-sized (`H x w`) plane of `input` into `values` and `index`, split
/// over libtorch's threads; `per_plan` neighbouring planes share each plan.
fn pool_planes<const K: usize>(
    out: (&[f32], &mut [f32], &mut [i64]),
    (plane, w): (usize, usize),
    plans: &[Plan<K>],
    per_plan: usize,
) {
    let cells = plans[0].0.len() * plans[0].1.len();
    split_units(
        out,
        (plane, cells),
        || Band::new(w),
        |band, unit, p, v, i| {
            let (rows, cols) = &plans[unit / per_plan];
            pool_plane(p, rows, cols, band, v, i)
        },
    );
}

/// Runs `pool` on every unit (a plane, or an image) of `input`, `unit_in` values each, and
/// its `unit_out` values and indices, the units split into one share per libtorch thread
/// ([`crate::parallel::run_parts`]); each share makes its own scratch with `scratch`.
/// `pool` also gets the unit's number.
pub(super) fn split_units<S>(
    (input, values, index): (&[f32], &mut [f32], &mut [i64]),
    (unit_in, unit_out): (usize, usize),
    scratch: impl Fn() -> S + Sync,
    pool: impl Fn(&mut S, usize, &[f32], &mut [f32], &mut [i64]) + Sync,
) {
    let units = input.len() / unit_in;
    let threads = (tch::get_num_threads().max(1) as usize).min(units);
    let per = units.div_ceil(threads);
    let shares: Vec<_> = input
        .chunks(per * unit_in)
        .zip(values.chunks_mut(per * unit_out))
        .zip(index.chunks_mut(per * unit_out))
        .enumerate()
        .collect();
    crate::parallel::run_parts(shares, |(share, ((input, values), index))| {
        let mut state = scratch();
        let units = input
            .chunks(unit_in)
            .zip(values.chunks_mut(unit_out))
            .zip(index.chunks_mut(unit_out));
        for (u, ((x, v), i)) in units.enumerate() {
            pool(&mut state, share * per + u, x, v, i);
        }
    });
}

/// One row interval's maxima at every column (`max[0]`, with the winning flat offset in
/// `at[0]`), and the maxima of each run of 2 and 3 neighbouring columns (`max[1]`,
/// `max[2]`, starting at each column).
pub(super) struct Band {
    pub(super) max: [Vec<f32>; 3],
    pub(super) at: [Vec<usize>; 3],
}

impl Band {
    pub(super) fn new(w: usize) -> Band {
        Band {
            max: std::array::from_fn(|_| vec![0.0; w]),
            at: std::array::from_fn(|_| vec![0; w]),
        }
    }
}

/// The maxima of one plane over every region `rows[i] x cols[j]`, row-major.
///
/// Separably: for each row interval, the maximum of its rows at every column, then the
/// running maxima of 2 and 3 neighbouring columns; a region `first..first + width` of
/// columns is then one read. Every pass is a fixed-length loop over a row whose pick is a
/// bit mask, not a branch, so it compiles to SIMD: on random data a branch here
/// mispredicts so often that it costs more than the reads (docs/speed-history.md,
/// "Measurements behind the code's comments"). Earlier positions win ties, row before
/// column.
fn pool_plane<const K: usize>(
    plane: &[f32],
    rows: &[[usize; K]],
    cols: &[(usize, usize)],
    band: &mut Band,
    values: &mut [f32],
    index: &mut [i64],
) {
    let w = band.max[0].len();
    let mut cell = 0;
    for r in rows {
        let [max1, max2, max3] = &mut band.max;
        let [at1, at2, at3] = &mut band.at;
        max1.copy_from_slice(&plane[r[0]..r[0] + w]);
        for (j, at) in at1.iter_mut().enumerate() {
            *at = r[0] + j;
        }
        for &y in &r[1..] {
            let row = &plane[y..y + w];
            for (j, ((best, at), &v)) in max1.iter_mut().zip(at1.iter_mut()).zip(row).enumerate() {
                let take = wins(v, *best);
                *best = pick(take, v, *best);
                *at ^= (*at ^ (y + j)) & take;
            }
        }
        // Runs of 2 columns from the single columns, runs of 3 from the runs of 2 and the
        // column after them.
        extend_runs((max2, at2), (max1, at1), (&max1[1..], &at1[1..]), true);
        if K == 3 {
            extend_runs((max3, at3), (max2, at2), (&max1[2..], &at1[2..]), true);
        }
        for &(first, width) in cols {
            values[cell] = band.max[width - 1][first];
            index[cell] = band.at[width - 1][first] as i64;
            cell += 1;
        }
    }
}

/// `out[j]` = the later of `run[j]` and `next[j]` if it wins, else `run[j]`, with offsets
/// where `positions` are wanted.
pub(super) fn extend_runs(
    (out, out_at): (&mut [f32], &mut [usize]),
    (run, run_at): (&[f32], &[usize]),
    (next, next_at): (&[f32], &[usize]),
    positions: bool,
) {
    if !positions {
        for (o, (&best, &v)) in out.iter_mut().zip(run.iter().zip(next)) {
            *o = pick(wins(v, best), v, best);
        }
        return;
    }
    let outs = out.iter_mut().zip(out_at.iter_mut());
    let ins = run.iter().zip(run_at).zip(next.iter().zip(next_at));
    for ((o, o_at), ((&best, &at), (&v, &v_at))) in outs.zip(ins) {
        let take = wins(v, best);
        *o = pick(take, v, best);
        *o_at = at ^ ((at ^ v_at) & take);
    }
}

/// All ones when `v` replaces `best` as the maximum, else zero. A NaN wins, and once the
/// best is NaN nothing compares greater, so the NaN stays (as in libtorch's max-pooling).
pub(super) fn wins(v: f32, best: f32) -> usize {
    mask((v > best) | v.is_nan())
}

/// All ones where `keep`, else zero: a [`pick`] by it is a select without a branch, which
/// compiles to SIMD.
pub(super) fn mask(keep: bool) -> usize {
    (keep as usize).wrapping_neg()
}

/// `v` where `take` is all ones, else `best`.
pub(super) fn pick(take: usize, v: f32, best: f32) -> f32 {
    let bits = best.to_bits();
    f32::from_bits(bits ^ ((bits ^ v.to_bits()) & take as u32))
}
